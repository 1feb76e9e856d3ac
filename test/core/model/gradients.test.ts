// Gradients of the policy against central finite differences (src/core/model/transformer.ts with
// its hand-written matmul gradient, src/core/tao/loss.ts), on the cpu backend in float32.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../src/core/model/config';
import { disposePolicy, initPolicy, namedWeights, type Policy } from '../../../src/core/model/transformer';
import { Rng } from '../../../src/core/rng';
import { policyLoss, tokenLogprobsAndEntropy, type LossBatch } from '../../../src/core/tao/loss';
import { encode, VOCAB_SIZE } from '../../../src/core/tokenizer';

const MODEL: ModelConfig = { vocabSize: VOCAB_SIZE, contextLength: 8, layers: 1, width: 8, heads: 2, mlpRatio: 2 };
const EPSILON = 1e-2;
// A ReLU kink within 1e-2 of the probed point bends the central difference (seen on one ln2Gain
// entry: 0.0912 at 1e-2, 0.0938 at 5e-3 and below, analytic 0.0938); such entries are probed again
// at this smaller step. A wrong gradient fails at both.
const SMALL_EPSILON = 3e-3;
// Weight tensors probed, and entries per tensor.
const PROBED = [
  'tokenEmbedding',
  'positionEmbedding',
  'blocks.0.ln1Gain',
  'blocks.0.qkvWeight',
  'blocks.0.qkvBias',
  'blocks.0.projWeight',
  'blocks.0.ln2Gain',
  'blocks.0.fcWeight',
  'blocks.0.outWeight',
  'lnFinalGain',
];

// Two rows of 7 tokens (T = 6 predicted positions each), from transcripts the model could see.
const TOKENS = new Int32Array([...encode('<bos>3+4=<answer>7'), ...encode('<bos>9*9=<call>9')]);
const B = 2;
const T = 6;

let policy: Policy;
let variables: Map<string, tf.Variable>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  policy = initPolicy(MODEL, 11);
  variables = new Map(namedWeights(policy.weights));
  // Move every weight away from its init (gains exactly 1, biases exactly 0, tiny embeddings) so
  // that no gradient is trivially zero or symmetric.
  let k = 0;
  for (const variable of variables.values()) {
    k += 1;
    tf.tidy(() => variable.assign(variable.add(tf.randomNormal(variable.shape, 0, 0.3, 'float32', 100 + k))));
  }
});

afterAll(() => disposePolicy(policy));

/** Analytic gradients of `loss` at the current weights, by name. */
function analyticGradients(loss: () => tf.Scalar): Map<string, Float32Array> {
  const { grads } = tf.variableGrads(loss, [...variables.values()]);
  const byName = new Map<string, Float32Array>();
  for (const [name, variable] of variables) byName.set(name, grads[variable.name].dataSync() as Float32Array);
  tf.dispose(grads);
  return byName;
}

/** The loss with one weight entry moved by delta, restored afterwards. */
function lossWithEntry(loss: () => tf.Scalar, name: string, index: number, delta: number): number {
  const variable = variables.get(name)!;
  const original = variable.dataSync().slice() as Float32Array;
  const moved = original.slice();
  moved[index] += delta;
  tf.tidy(() => variable.assign(tf.tensor(moved, variable.shape)));
  const value = tf.tidy(() => loss().dataSync()[0]);
  tf.tidy(() => variable.assign(tf.tensor(original, variable.shape)));
  return value;
}

function checkAgainstFiniteDifferences(loss: () => tf.Scalar, seed: number): void {
  const analytic = analyticGradients(loss);
  const rng = new Rng(seed);
  const rows: string[] = [];
  let largest = 0;
  for (const name of PROBED) {
    const size = variables.get(name)!.size;
    const index = rng.int(size);
    const exact = analytic.get(name)![index];
    const numericAt = (step: number) =>
      (lossWithEntry(loss, name, index, step) - lossWithEntry(loss, name, index, -step)) / (2 * step);
    const agrees = (numeric: number) => {
      const absError = Math.abs(numeric - exact);
      const relError = absError / Math.max(Math.abs(numeric), Math.abs(exact), 1e-12);
      return relError < 2e-2 || absError < 1e-3;
    };
    const numeric = numericAt(EPSILON);
    largest = Math.max(largest, Math.abs(numeric));
    if (!agrees(numeric)) {
      const closer = numericAt(SMALL_EPSILON);
      if (!agrees(closer)) rows.push(`${name}[${index}]: analytic ${exact}, numeric ${numeric} (step 1e-2), ${closer} (step 3e-3)`);
    }
  }
  expect(rows).toEqual([]);
  expect(largest).toBeGreaterThan(1e-2); // the probes saw real gradients, not only zeros
  // restoring left the weights exactly as they were: the gradient is unchanged
  const again = analyticGradients(loss);
  for (const name of PROBED) expect(Array.from(again.get(name)!)).toEqual(Array.from(analytic.get(name)!));
}

describe('gradients vs central finite differences (epsilon 1e-2, float32)', () => {
  it('supervised loss: -mean log-prob of the next tokens', () => {
    const loss = () =>
      tf.tidy(() => {
        const { logprob } = tokenLogprobsAndEntropy(policy, tf.tensor2d(TOKENS, [B, T + 1], 'int32'), 1);
        return logprob.mean().neg() as tf.Scalar;
      });
    checkAgainstFiniteDifferences(loss, 1);
  });

  it('policy loss with mixed advantages, an entropy term and the live bonus', () => {
    // Old log-probs: the current ones shifted a little, so ratios sit inside (0.8, 1.28), away from the kinks.
    const current = tf.tidy(() =>
      Array.from(tokenLogprobsAndEntropy(policy, tf.tensor2d(TOKENS, [B, T + 1], 'int32'), 1).logprob.dataSync()),
    );
    const shifts = [0.05, -0.03, 0.02, -0.06, 0.04, 0.01, -0.02, 0.03, -0.04, 0.05, 0.02, -0.01];
    const batch: LossBatch = {
      tokens: TOKENS,
      B,
      T,
      oldLogprob: Float32Array.from(current.map((lp, i) => lp + shifts[i])),
      advantage: Float32Array.from([0.5, -1, 1.5, 0.3, -0.7, 1, -0.4, 0.9, -1.2, 0.6, 0.2, -0.5]),
      baseAdvantage: Float32Array.from([0.5, -1, 1.5, 0.3, -0.7, 1, -0.4, 0.9, -1.2, 0.6, 0.2, -0.5]),
      bonusEligible: Float32Array.from([0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0]),
      lossWeight: Float32Array.from([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0.5, 1]),
    };
    for (const liveBonusCoef of [null, 0.5]) {
      const loss = () =>
        tf.tidy(
          () =>
            policyLoss(policy, batch, {
              temperature: 1,
              clipLow: 0.2,
              clipHigh: 0.28,
              dualClip: 3,
              entropyCoef: 0.1,
              klCoef: 0,
              liveBonusCoef,
            }).loss,
        );
      checkAgainstFiniteDifferences(loss, liveBonusCoef === null ? 2 : 3);
    }
  });
});
