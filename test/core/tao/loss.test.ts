// The policy loss (src/core/tao/loss.ts; docs/algorithm.md §5): PPO clipped surrogate with
// clip-higher and dual clip, token-level mean over the batch (DAPO).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../src/core/model/config';
import { clonePolicy, disposePolicy, initPolicy, type Policy } from '../../../src/core/model/transformer';
import { entropyStats, shapedTokens } from '../../../src/core/tao/bonus';
import { bonusThroughEntropy, clippedSurrogate, policyLoss, tokenLogprobsAndEntropy, type LossBatch, type LossOptions } from '../../../src/core/tao/loss';
import { DEFAULT_SHAPE_CONFIG } from '../../../src/core/tao/shape';
import { encode, VOCAB_SIZE } from '../../../src/core/tokenizer';

const CLIP = { clipLow: 0.2, clipHigh: 0.28, dualClip: 3 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** clippedSurrogate for one token with ratio r (logprob ln r, old logprob 0) and advantage A. */
function surrogate(ratio: number, advantage: number): { loss: number; clipped: number; low: number; high: number; dual: number } {
  return tf.tidy(() => {
    const { perToken, clipped, clippedLow, clippedHigh, dualClipped } = clippedSurrogate(
      tf.tensor1d([Math.log(ratio)]),
      tf.tensor1d([0]),
      tf.tensor1d([advantage]),
      CLIP,
    );
    const at = (t: tf.Tensor) => t.dataSync()[0];
    return { loss: at(perToken), clipped: at(clipped), low: at(clippedLow), high: at(clippedHigh), dual: at(dualClipped) };
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

  it('flags which bound cut: low (A < 0, r < .8), high (A > 0, r > 1.28), dual (A < 0, r > 3)', () => {
    // [ratio, A] -> [clipped, low, high, dual], as TRL's clip_ratio/* and verl's pg_clipfrac(_lower) count them
    const cases: [number, number, number[]][] = [
      [1.5, 1, [1, 0, 1, 0]],
      [0.5, 1, [0, 0, 0, 0]],
      [0.5, -1, [1, 1, 0, 0]],
      [5, -1, [0, 0, 0, 1]],
      [2, -1, [0, 0, 0, 0]],
      [5, 1, [1, 0, 1, 0]],
      [1, 1, [0, 0, 0, 0]],
    ];
    for (const [ratio, advantage, flags] of cases) {
      const { clipped, low, high, dual } = surrogate(ratio, advantage);
      expect([clipped, low, high, dual], `r ${ratio}, A ${advantage}`).toEqual(flags);
    }
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

describe('the multiplicative bonus, detached (default) and through the entropy', () => {
  // Three trajectories of one policy token each ([3, 1]), weight 1, ratio 1 (log-prob = old = 0):
  // entropies H [1, 2, 3], advantages A [1, 2, -1], the first two post-tool, a = 0.5, and an
  // entropy regulariser beta 0.3 so that the entropy is in both graphs.
  // Statistics: mean 2, population std s = sqrt(2/3) = 0.8164966; Hhat = [-1.2247449, 0, 1.2247449].
  // A~ = [1 (1 - 0.5 * 1.2247449), 2 (1 + 0), -1 (not post-tool)] = [0.3876276, 2, -1].
  // Per-token loss at ratio 1 is -A~ (for A~ = -1 the dual clip min(3, 1) does not bind):
  // L = (-0.3876276 - 2 + 1) / 3 - 0.3 * 2 = -0.4625425 - 0.6 = -1.0625425 in both forms.
  // dL/dlogprob = -A~ / 3 = [-0.1292092, -0.6666667, 0.3333333] in both forms.
  // dL/dH detached: the regulariser only, -0.3 / 3 = -0.1 per token. Through the entropy, add
  // -(1/3) dJ/dH, J = sum A~ = const + sum_i u_i Hhat_i with u = a A [post-tool] = [0.5, 1, 0]:
  //   dHhat_i/dH_j = (delta_ij - 1/3) / s - Hhat_i (H_j - 2) / (3 s^2), 3 s^2 = 2, and
  //   sum_i u_i Hhat_i = -0.6123724, so dJ/dH_j = (u_j - 0.5) / s + 0.6123724 (H_j - 2) / 2
  //   = [0 - 0.3061862, 0.5 / 0.8164966, -0.6123724 + 0.3061862] = [-0.3061862, 0.6123724, -0.3061862]
  //   (summing to 0: shifting every H leaves Hhat unchanged);
  //   dL/dH = [-0.1 + 0.1020621, -0.1 - 0.2041241, -0.1 + 0.1020621] = [0.0020621, -0.3041241, 0.0020621].
  const entropies = [1, 2, 3];
  const advantages = [1, 2, -1];
  const postTool: (0 | 1)[] = [1, 1, 0];
  const a = 0.5;
  const beta = 0.3;

  /** The detached bonus as the trainer computes it by default: bonus.ts on recorded entropies. */
  function detachedAdvantages(): number[] {
    const tokens = entropies.map((entropy) => [{ kind: 'policy' as const, entropy }]);
    const weights = tokens.map(() => [1]);
    const stats = entropyStats(tokens, weights);
    const bonus = { ...DEFAULT_SHAPE_CONFIG.bonus, mode: 'multiplicative' as const, coef: a, scope: 'post_tool' as const };
    return tokens.map((trajectory, i) => shapedTokens(trajectory, advantages[i], weights[i], [postTool[i]], bonus, stats)[0].advantage);
  }

  /** Loss value and its gradients with respect to the log-probs and the entropies. */
  function lossAndGradients(shaped: (entropy: tf.Tensor) => tf.Tensor): { loss: number; dLogprob: number[]; dEntropy: number[] } {
    return tf.tidy(() => {
      const weight = tf.ones([3, 1]);
      const loss = (logprob: tf.Tensor, entropy: tf.Tensor) => {
        const { perToken } = clippedSurrogate(logprob, tf.zeros([3, 1]), shaped(entropy), CLIP);
        const policyTerm = perToken.mul(weight).sum().div(weight.sum());
        return policyTerm.sub(entropy.mul(weight).sum().div(weight.sum()).mul(beta)) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(loss)([tf.zeros([3, 1]), tf.tensor2d(entropies, [3, 1])]);
      return {
        loss: value.dataSync()[0],
        dLogprob: Array.from(grads[0].dataSync()),
        dEntropy: Array.from(grads[1].dataSync()),
      };
    });
  }

  it('gives the same shaped advantages and the same loss value', () => {
    const detached = detachedAdvantages();
    [0.3876276, 2, -1].forEach((expected, i) => expect(detached[i]).toBeCloseTo(expected, 6));
    const live = tf.tidy(() =>
      Array.from(
        bonusThroughEntropy(tf.tensor2d(advantages, [3, 1]), tf.tensor2d(entropies, [3, 1]), tf.ones([3, 1]), tf.tensor2d(postTool, [3, 1]), a).dataSync(),
      ),
    );
    [0.3876276, 2, -1].forEach((expected, i) => expect(live[i]).toBeCloseTo(expected, 5));
    expect(lossAndGradients(() => tf.tensor2d(detached, [3, 1])).loss).toBeCloseTo(-1.0625425, 5);
    expect(
      lossAndGradients((entropy) => bonusThroughEntropy(tf.tensor2d(advantages, [3, 1]), entropy, tf.ones([3, 1]), tf.tensor2d(postTool, [3, 1]), a)).loss,
    ).toBeCloseTo(-1.0625425, 5);
  });

  it('differs only in the gradient that flows through the entropy', () => {
    const detached = lossAndGradients(() => tf.tensor2d(detachedAdvantages(), [3, 1]));
    const live = lossAndGradients((entropy) =>
      bonusThroughEntropy(tf.tensor2d(advantages, [3, 1]), entropy, tf.ones([3, 1]), tf.tensor2d(postTool, [3, 1]), a),
    );
    for (const { dLogprob } of [detached, live]) {
      [-0.1292092, -0.6666667, 0.3333333].forEach((expected, i) => expect(dLogprob[i]).toBeCloseTo(expected, 5));
    }
    [-0.1, -0.1, -0.1].forEach((expected, i) => expect(detached.dEntropy[i]).toBeCloseTo(expected, 5));
    [0.0020621, -0.3041241, 0.0020621].forEach((expected, i) => expect(live.dEntropy[i]).toBeCloseTo(expected, 5));
  });
});
