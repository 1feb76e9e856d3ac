// Drawing a token from logits, as every decoding path must (docs/algorithm.md §1): softmax of
// logits / temperature over the emittable tokens, the first token whose cumulative probability
// exceeds the uniform u, its log-probability and the entropy of the distribution it came from.
// The fused head kernel (fusedKernels.ts) computes the same on the GPU.

import { EMITTABLE, VOCAB_SIZE } from '../tokenizer';

export interface DrawnToken {
  id: number;
  /** Log-probability at the temperature (0 when greedy). */
  logprob: number;
  /** Entropy of the emittable distribution, in nats (0 when greedy). */
  entropy: number;
}

/** Row `row` of flat [B * V] logits; temperature 0 is greedy (argmax, first on ties). */
export function drawToken(logits: ArrayLike<number>, row: number, temperature: number, u: number): DrawnToken {
  const offset = row * VOCAB_SIZE;
  if (temperature === 0) {
    let best = -1;
    for (let v = 0; v < VOCAB_SIZE; v++) {
      if (EMITTABLE[v] && (best < 0 || logits[offset + v] > logits[offset + best])) best = v;
    }
    return { id: best, logprob: 0, entropy: 0 };
  }
  const { logProbs, entropy } = emittableLogSoftmax(logits, offset, temperature);
  let cumulative = 0;
  let chosen = -1;
  for (let v = 0; v < VOCAB_SIZE; v++) {
    if (!EMITTABLE[v]) continue;
    chosen = v;
    cumulative += Math.exp(logProbs[v]);
    if (u < cumulative) break;
  }
  return { id: chosen, logprob: logProbs[chosen], entropy };
}

/** Log-softmax over emittable tokens of logits / temperature (non-emittable get -Infinity). */
export function emittableLogSoftmax(
  logits: ArrayLike<number>,
  offset: number,
  temperature: number,
): { logProbs: Float64Array; entropy: number } {
  const logProbs = new Float64Array(VOCAB_SIZE).fill(-Infinity);
  let max = -Infinity;
  for (let v = 0; v < VOCAB_SIZE; v++) {
    if (EMITTABLE[v]) max = Math.max(max, logits[offset + v] / temperature);
  }
  let sum = 0;
  for (let v = 0; v < VOCAB_SIZE; v++) {
    if (EMITTABLE[v]) sum += Math.exp(logits[offset + v] / temperature - max);
  }
  const logZ = max + Math.log(sum);
  let entropy = 0;
  for (let v = 0; v < VOCAB_SIZE; v++) {
    if (!EMITTABLE[v]) continue;
    logProbs[v] = logits[offset + v] / temperature - logZ;
    entropy -= Math.exp(logProbs[v]) * logProbs[v];
  }
  return { logProbs, entropy };
}
