// The policy loss (src/core/tao/loss.ts; docs/algorithm.md §5): PPO clipped surrogate with
// clip-higher and dual clip, token-level mean over the batch (DAPO).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../src/core/model/config';
import { clonePolicy, disposePolicy, initPolicy, type Policy } from '../../../src/core/model/transformer';
import { clippedSurrogate, policyLoss, tokenLogprobsAndEntropy, type LossBatch, type LossOptions } from '../../../src/core/tao/loss';
import { encode, VOCAB_SIZE } from '../../../src/core/tokenizer';

const CLIP = { clipLow: 0.2, clipHigh: 0.28, dualClip: 3 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** clippedSurrogate for one token with ratio r (logprob ln r, old logprob 0) and advantage A. */
function surrogate(ratio: number, advantage: number): { loss: number; clipped: number } {
  return tf.tidy(() => {
    const { perToken, clipped } = clippedSurrogate(
      tf.tensor1d([Math.log(ratio)]),
      tf.tensor1d([0]),
      tf.tensor1d([advantage]),
      CLIP,
    );
    return { loss: perToken.dataSync()[0], clipped: clipped.dataSync()[0] };
  });
}

describe('clippedSurrogate (eps_low .2, eps_high .28, dual clip 3)', () => {
  it('A = +1, ratio 1.5: clipped at 1.28', () => {
    // max(-1 * 1.5, -1 * clip(1.5, .8, 1.28)) = max(-1.5, -1.28) = -1.28; clipped term larger: flag 1
    const { loss, clipped } = surrogate(1.5, 1);
    expect(loss).toBeCloseTo(-1.28, 5);
    expect(clipped).toBe(1);
  });

  it('A = +1, ratio 0.5: unclipped', () => {
    // max(-.5, -.8) = -.5; flag 0
    const { loss, clipped } = surrogate(0.5, 1);
    expect(loss).toBeCloseTo(-0.5, 5);
    expect(clipped).toBe(0);
  });

  it('A = -1, ratio 0.5: clipped at 0.8', () => {
    // max(.5, .8) = .8, then min(3, .8) = .8; flag 1
    const { loss, clipped } = surrogate(0.5, -1);
    expect(loss).toBeCloseTo(0.8, 5);
    expect(clipped).toBe(1);
  });

  it('A = -1, ratio 5: dual clip caps the loss at c = 3', () => {
    // max(5, 1.28) = 5, then min(3 * 1, 5) = 3; the PPO clip itself did not bind: flag 0
    const { loss, clipped } = surrogate(5, -1);
    expect(loss).toBeCloseTo(3, 5);
    expect(clipped).toBe(0);
  });

  it('A = -1, ratio 2: below c, unclipped', () => {
    // max(2, 1.28) = 2, min(3, 2) = 2
    expect(surrogate(2, -1).loss).toBeCloseTo(2, 5);
  });

  it('A = -2, ratio 5: the dual bound scales with |A|', () => {
    // max(10, 2.56) = 10, min(3 * 2, 10) = 6
    expect(surrogate(5, -2).loss).toBeCloseTo(6, 4);
  });

  it('A = 0: zero loss whatever the ratio', () => {
    for (const ratio of [0.1, 1, 5]) expect(surrogate(ratio, 0).loss).toBeCloseTo(0, 7);
  });

  it('A = +1, ratio 5: no dual clip for positive advantages', () => {
    // max(-5, -1.28) = -1.28
    expect(surrogate(5, 1).loss).toBeCloseTo(-1.28, 5);
  });
});

describe('policyLoss', () => {
  const MODEL: ModelConfig = { vocabSize: VOCAB_SIZE, contextLength: 8, layers: 1, width: 8, heads: 2, mlpRatio: 2 };
  let policy: Policy;
  // Two rows of 4 tokens: T = 3 predicted positions each.
  const tokens = new Int32Array([...encode('<bos>3+4'), ...encode('<bos>12=')]);
  const B = 2;
  const T = 3;
  let logprob: number[];
  let entropy: number[];

  const options = (overrides: Partial<LossOptions> = {}): LossOptions => ({
    temperature: 1,
    ...CLIP,
    entropyCoef: 0,
    klCoef: 0,
    liveBonusCoef: null,
    ...overrides,
  });

  const batch = (fields: { advantage: number[]; lossWeight: number[]; oldLogprob?: number[]; baseAdvantage?: number[]; bonusEligible?: number[] }): LossBatch => ({
    tokens,
    B,
    T,
    oldLogprob: Float32Array.from(fields.oldLogprob ?? logprob),
    advantage: Float32Array.from(fields.advantage),
    baseAdvantage: Float32Array.from(fields.baseAdvantage ?? fields.advantage),
    bonusEligible: Float32Array.from(fields.bonusEligible ?? new Array(B * T).fill(0)),
    lossWeight: Float32Array.from(fields.lossWeight),
  });

  function run(lossBatch: LossBatch, lossOptions: LossOptions): Record<string, number> {
    return tf.tidy(() => {
      const parts = policyLoss(policy, lossBatch, lossOptions);
      return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, (v as tf.Tensor).dataSync()[0]]));
    });
  }

  beforeAll(() => {
    policy = initPolicy(MODEL, 4);
    // Scale the tied embedding up so that the distributions are far from uniform and their
    // entropies differ from token to token (a fresh init gives H = ln 22 almost everywhere).
    const embedding = policy.weights.tokenEmbedding;
    tf.tidy(() => embedding.assign(embedding.mul(40)));
    tf.tidy(() => {
      const out = tokenLogprobsAndEntropy(policy, tf.tensor2d(tokens, [B, T + 1], 'int32'), 1);
      logprob = Array.from(out.logprob.dataSync());
      entropy = Array.from(out.entropy.dataSync());
    });
  });

  afterAll(() => disposePolicy(policy));

  it('sees its own log-probs: valid, and entropy within (0, ln 22]', () => {
    for (const lp of logprob) expect(lp).toBeLessThan(0);
    for (const h of entropy) {
      expect(h).toBeGreaterThan(0);
      expect(h).toBeLessThanOrEqual(Math.log(22) + 1e-5);
    }
  });

  it('averages over all weighted tokens of the batch, not per sequence', () => {
    // Row 0: weights [1, 1, 1], A [1, 1, 1]; row 1: weights [1, 0, 0], A [-1, 5, 5] (the 5s unweighted).
    // At ratio 1 the per-token loss is -A (dual clip min(3, 1) = 1 leaves A = -1 alone).
    // Token mean: -(1 + 1 + 1 - 1) / 4 = -0.5. Per-sequence mean would be (-1 + 1) / 2 = 0.
    const parts = run(batch({ advantage: [1, 1, 1, -1, 5, 5], lossWeight: [1, 1, 1, 1, 0, 0] }), options());
    expect(parts.policyLoss).toBeCloseTo(-0.5, 6);
    expect(parts.loss).toBeCloseTo(-0.5, 6);
    expect(parts.clipFraction).toBe(0);
    expect(parts.approxKl).toBeCloseTo(0, 7);
    expect(parts.klToReference).toBe(0);
    // entropy mean over the same 4 weighted tokens
    const hMean = (entropy[0] + entropy[1] + entropy[2] + entropy[3]) / 4;
    expect(parts.entropyMean).toBeCloseTo(hMean, 5);
  });

  it('weights tokens by their loss weight', () => {
    // Weights [1, .5, 0 | .5, 0, 0], A [2, -1, 9 | 1, 9, 9]:
    // -(1 * 2 + .5 * -1 + .5 * 1) / (1 + .5 + .5) = -2 / 2 = -1
    const parts = run(batch({ advantage: [2, -1, 9, 1, 9, 9], lossWeight: [1, 0.5, 0, 0.5, 0, 0] }), options());
    expect(parts.policyLoss).toBeCloseTo(-1, 6);
  });

  it('clips every token at ratio 1.5 with A = +1 and reports the clip fraction and approx KL', () => {
    // old log-prob = new - ln 1.5, so the ratio is 1.5 everywhere: loss -1.28 per token, all clipped;
    // approx_kl = mean(old - new) = -ln 1.5 = -0.4054651
    const parts = run(
      batch({ advantage: [1, 1, 1, 1, 1, 1], lossWeight: [1, 1, 1, 1, 1, 1], oldLogprob: logprob.map((lp) => lp - Math.log(1.5)) }),
      options(),
    );
    expect(parts.policyLoss).toBeCloseTo(-1.28, 5);
    expect(parts.clipFraction).toBeCloseTo(1, 6);
    expect(parts.approxKl).toBeCloseTo(-0.4054651, 5);
  });

  it('subtracts entropyCoef times the weighted entropy mean', () => {
    const parts = run(batch({ advantage: [1, 1, 1, -1, 5, 5], lossWeight: [1, 1, 1, 1, 0, 0] }), options({ entropyCoef: 0.1 }));
    const hMean = (entropy[0] + entropy[1] + entropy[2] + entropy[3]) / 4;
    // loss = -0.5 - 0.1 * mean H
    expect(parts.loss).toBeCloseTo(-0.5 - 0.1 * hMean, 5);
    expect(parts.policyLoss).toBeCloseTo(-0.5, 6);
  });

  it('adds a zero KL to an identical reference policy, and needs a reference when klCoef > 0', () => {
    const reference = clonePolicy(policy);
    try {
      const parts = run(batch({ advantage: [1, 1, 1, -1, 5, 5], lossWeight: [1, 1, 1, 1, 0, 0] }), options({ klCoef: 0.5, reference }));
      // k3 at log-ratio 0: e^0 - 0 - 1 = 0
      expect(parts.klToReference).toBeCloseTo(0, 6);
      expect(parts.loss).toBeCloseTo(-0.5, 6);
    } finally {
      disposePolicy(reference);
    }
    expect(() => run(batch({ advantage: [1, 1, 1, 1, 1, 1], lossWeight: [1, 1, 1, 1, 1, 1] }), options({ klCoef: 0.5 }))).toThrow(/reference/);
  });

  it('with the live bonus, shapes A as A (1 + a Hhat) on eligible tokens, Hhat over weighted tokens', () => {
    // Weighted tokens 0..3 (weight 1); eligible 1 and 3; base A [1, 1, -1, 2, 0, 0]; a = 0.5.
    const weights = [1, 1, 1, 1, 0, 0];
    const base = [1, 1, -1, 2, 0, 0];
    const eligible = [0, 1, 0, 1, 0, 0];
    const a = 0.5;
    // Statistics over the 4 weighted tokens, population std, epsilon 1e-8 (section 8).
    const h = entropy.slice(0, 4);
    const mean = h.reduce((s, x) => s + x, 0) / 4;
    const std = Math.sqrt(h.reduce((s, x) => s + (x - mean) ** 2, 0) / 4);
    const shaped = base.map((A, i) => (eligible[i] ? A * (1 + (a * (entropy[i] - mean)) / (std + 1e-8)) : A));
    // ratio 1: loss = -sum(w A~) / sum(w)
    const expected = -shaped.slice(0, 4).reduce((s, x) => s + x, 0) / 4;
    const parts = run(
      batch({ advantage: [0, 0, 0, 0, 0, 0], baseAdvantage: base, bonusEligible: eligible, lossWeight: weights }),
      options({ liveBonusCoef: a }),
    );
    expect(std).toBeGreaterThan(0.05); // entropies spread enough for float32 to resolve Hhat
    expect(parts.policyLoss).toBeCloseTo(expected, 4);
    // sanity: the bonus moved the loss away from the unshaped -(1 + 1 - 1 + 2) / 4 = -0.75
    expect(Math.abs(expected + 0.75)).toBeGreaterThan(1e-4);
  });
});
