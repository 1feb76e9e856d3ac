// The policy loss (docs/algorithm.md §5): PPO clipped surrogate with clip-higher and dual clip,
// token-mean over loss-weighted tokens (DAPO), optional entropy regulariser and KL penalty, and
// the multiplicative bonus evaluated in the graph when its entropy is not detached
// (docs/algorithm.md §4: bonus.ts's formula on tensors).
//
// Shapes: B trajectories, T positions (the longest trajectory minus one: position t predicts
// token t + 1), V vocabulary.

import * as tf from '@tensorflow/tfjs';
import { forward, type Policy } from '../model/transformer';
import { EMITTABLE } from '../tokenizer';
import { multiplicativeBonus, type BonusArithmetic } from './bonus';

/** Per-token inputs of the loss, flattened row-major [B, T]. */
export interface LossBatch {
  /** Trajectory tokens padded to T + 1: [B, T + 1] ids. */
  tokens: Int32Array;
  B: number;
  T: number;
  /** Behaviour-policy log-prob of token t + 1. */
  oldLogprob: Float32Array;
  /** Shaped advantage of token t + 1 (used when the bonus is not computed in the graph). */
  advantage: Float32Array;
  /** Unshaped GRPO advantage of token t + 1. */
  baseAdvantage: Float32Array;
  /** 1 where token t + 1 may take the bonus (policy, weight > 0, in scope). */
  bonusEligible: Float32Array;
  /** Loss weight of token t + 1 after filtering (0 for prompt, tool and padding). */
  lossWeight: Float32Array;
}

export interface LossOptions {
  temperature: number;
  clipLow: number;
  clipHigh: number;
  dualClip: number;
  entropyCoef: number;
  klCoef: number;
  /** When set, the multiplicative bonus is computed here with gradient through entropy. */
  liveBonusCoef: number | null;
  /** Frozen starting policy for the KL penalty (required when klCoef > 0). */
  reference?: Policy;
  /**
   * Sum of the loss weights of the whole batch when `batch` is one bucket of it (lossBuckets.ts):
   * every mean is then taken over the whole batch's weight, so the buckets' parts add up to the
   * batch's. Not with the live bonus, whose entropy statistics need every row at once.
   */
  weightTotal?: number;
}

export interface LossParts {
  loss: tf.Scalar;
  policyLoss: tf.Scalar;
  /** Share of trained tokens the clip cut (verl's pg_clipfrac), and its two sides. */
  clipFraction: tf.Scalar;
  clipLowFraction: tf.Scalar;
  clipHighFraction: tf.Scalar;
  /** Share of trained tokens whose loss the dual clip bounded (verl's pg_clipfrac_lower). */
  dualClipFraction: tf.Scalar;
  approxKl: tf.Scalar;
  entropyMean: tf.Scalar;
  klToReference: tf.Scalar;
}

const MASKED_LOGIT = -1e9; // not -Infinity: 0 * -Infinity would put NaN in the entropy

/** [V] additive mask: 0 for emittable tokens, MASKED_LOGIT for the rest. */
function emittableBias(): tf.Tensor1D {
  return tf.tensor1d(EMITTABLE.map((ok) => (ok ? 0 : MASKED_LOGIT)));
}

/**
 * Log-probs of the next tokens and the entropy at each position, over the emittable vocabulary
 * at the sampling temperature, as the sampler computes them: [B, T] each.
 */
export function tokenLogprobsAndEntropy(
  policy: Policy,
  tokens: tf.Tensor2D,
  temperature: number,
): { logprob: tf.Tensor2D; entropy: tf.Tensor2D } {
  const [B, T1] = tokens.shape;
  const T = T1 - 1;
  const inputs = tokens.slice([0, 0], [B, T]);
  const targets = tokens.slice([0, 1], [B, T]);
  const logits = forward(policy, inputs).div(temperature).add(emittableBias()); // [B, T, V]
  const logProbs = tf.logSoftmax(logits); // [B, T, V]
  const V = logits.shape[2] as number;
  const logprob = logProbs.mul(tf.oneHot(targets, V)).sum(-1) as tf.Tensor2D; // [B, T]
  const entropy = logProbs.exp().mul(logProbs).sum(-1).neg() as tf.Tensor2D; // [B, T]
  return { logprob, entropy };
}

/** bonus.ts's multiplicative formula on tensors, so the graph computes the same A~ as the detached path. */
const tensorArithmetic: BonusArithmetic<tf.Tensor> = {
  add: (a, b) => a.add(b),
  sub: (a, b) => a.sub(b),
  mul: (a, b) => a.mul(b),
  div: (a, b) => a.div(b),
  constant: (value) => tf.scalar(value),
};

/**
 * The multiplicative bonus with gradient through the entropy and its batch statistics (the
 * reference code; `detachEntropy: false`; docs/algorithm.md §4): A~ = A (1 + a Hhat), Hhat from
 * the current policy's entropy, mean and population std over tokens with weight > 0. The default
 * evaluates the same `multiplicativeBonus` on recorded entropies, outside the graph. [B, T].
 */
export function bonusThroughEntropy(
  baseAdvantage: tf.Tensor,
  entropy: tf.Tensor,
  weight: tf.Tensor,
  eligible: tf.Tensor,
  coef: number,
): tf.Tensor {
  const trained = weight.greater(0).toFloat();
  const count = trained.sum();
  const mean = entropy.mul(trained).sum().div(count);
  const std = entropy.sub(mean).square().mul(trained).sum().div(count).sqrt();
  // Coefficient a on eligible tokens and 0 elsewhere, where A (1 + 0 Hhat) = A.
  return multiplicativeBonus(baseAdvantage, entropy, { mean, std }, eligible.mul(coef), tensorArithmetic);
}

/** Mean of x over tokens with weight: sum(x * w) / sum(w). */
function weightedMean(x: tf.Tensor, weight: tf.Tensor, weightSum: tf.Scalar): tf.Scalar {
  return x.mul(weight).sum().div(weightSum) as tf.Scalar;
}

/**
 * PPO's clipped surrogate per token with clip-higher (DAPO) and dual clip for negative
 * advantages, as verl's compute_policy_loss: loss = max(-A r, -A clip(r, 1 - eps_low, 1 + eps_high)),
 * and for A < 0 at most -A c. `clipped` is 1 where the clipped term is the larger (verl's pg_clipfrac):
 * `clippedLow` (A < 0, r < 1 - eps_low) or `clippedHigh` (A > 0, r > 1 + eps_high), TRL's split;
 * `dualClipped` is 1 where A < 0 and -A c is the smaller (verl's pg_clipfrac_lower).
 */
export function clippedSurrogate(
  logprob: tf.Tensor,
  oldLogprob: tf.Tensor,
  advantage: tf.Tensor,
  clip: { clipLow: number; clipHigh: number; dualClip: number },
): { perToken: tf.Tensor; clipped: tf.Tensor; clippedLow: tf.Tensor; clippedHigh: tf.Tensor; dualClipped: tf.Tensor } {
  const ratio = logprob.sub(oldLogprob).exp();
  const unclipped = advantage.neg().mul(ratio);
  const clippedTerm = advantage.neg().mul(ratio.clipByValue(1 - clip.clipLow, 1 + clip.clipHigh));
  const pessimistic = tf.maximum(unclipped, clippedTerm);
  const dualBound = advantage.neg().mul(clip.dualClip);
  const dualClipped = tf.minimum(dualBound, pessimistic);
  // A 0/1 mask from tf.step rather than tf.where(advantage < 0): comparisons have no gradient in
  // tfjs, and the advantage depends on the weights when the bonus's entropy is not detached.
  const negative = tf.step(advantage.neg());
  return {
    perToken: negative.mul(dualClipped).add(tf.scalar(1).sub(negative).mul(pessimistic)),
    clipped: clippedTerm.greater(unclipped).toFloat(),
    clippedLow: ratio.less(1 - clip.clipLow).logicalAnd(advantage.less(0)).toFloat(),
    clippedHigh: ratio.greater(1 + clip.clipHigh).logicalAnd(advantage.greater(0)).toFloat(),
    dualClipped: pessimistic.greater(dualBound).logicalAnd(advantage.less(0)).toFloat(),
  };
}

export function policyLoss(policy: Policy, batch: LossBatch, options: LossOptions): LossParts {
  const { B, T } = batch;
  const tokens = tf.tensor2d(batch.tokens, [B, T + 1], 'int32');
  const oldLogprob = tf.tensor2d(batch.oldLogprob, [B, T]);
  const weight = tf.tensor2d(batch.lossWeight, [B, T]);
  if (options.weightTotal !== undefined && options.liveBonusCoef !== null) throw new Error('the live bonus needs the whole batch at once, not buckets');
  const weightSum = (options.weightTotal !== undefined ? tf.scalar(options.weightTotal) : weight.sum()) as tf.Scalar;
  const { logprob, entropy } = tokenLogprobsAndEntropy(policy, tokens, options.temperature);

  const advantage =
    options.liveBonusCoef === null
      ? tf.tensor2d(batch.advantage, [B, T])
      : bonusThroughEntropy(
          tf.tensor2d(batch.baseAdvantage, [B, T]),
          entropy,
          weight,
          tf.tensor2d(batch.bonusEligible, [B, T]),
          options.liveBonusCoef,
        );

  const { perToken, clipped, clippedLow, clippedHigh, dualClipped } = clippedSurrogate(logprob, oldLogprob, advantage, options);
  const policyTerm = weightedMean(perToken, weight, weightSum);

  const entropyMean = weightedMean(entropy, weight, weightSum);
  let loss = policyTerm.sub(entropyMean.mul(options.entropyCoef)) as tf.Scalar;

  let klToReference = tf.scalar(0);
  if (options.klCoef > 0) {
    if (!options.reference) throw new Error('klCoef > 0 needs a reference policy');
    const reference = tf.tidy(() => tokenLogprobsAndEntropy(options.reference!, tokens, options.temperature).logprob);
    const logRatio = reference.sub(logprob); // k3 estimator (Schulman), verl's low_var_kl
    klToReference = weightedMean(logRatio.exp().sub(logRatio).sub(1), weight, weightSum);
    loss = loss.add(klToReference.mul(options.klCoef));
  }

  return {
    loss,
    policyLoss: policyTerm,
    clipFraction: weightedMean(clipped, weight, weightSum),
    clipLowFraction: weightedMean(clippedLow, weight, weightSum),
    clipHighFraction: weightedMean(clippedHigh, weight, weightSum),
    dualClipFraction: weightedMean(dualClipped, weight, weightSum),
    approxKl: weightedMean(oldLogprob.sub(logprob), weight, weightSum),
    entropyMean,
    klToReference,
  };
}
