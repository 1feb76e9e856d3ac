// Tool-aware entropy-guided advantage bonus (docs/algorithm.md §4, conventions §8.6), both forms
// computed here only. The multiplicative form is written over an arithmetic: numbers for the
// default, detached bonus (recorded entropies: the numbers the loss uses and the page shows),
// tensors in the loss graph when gradient flows through the entropy (`detachEntropy: false`,
// src/core/tao/loss.ts), so the detached bonus is the same function with the entropy's gradient
// stopped. The additive form's entropy is always detached (§4.3): numbers only.

import type { ShapeConfig, ShapedToken, TokenKind } from './types';

/**
 * What the multiplicative bonus computes with: plain numbers here, tensors in the loss graph
 * (where a scalar statistic broadcasts against [B, T] entropies).
 */
export interface BonusArithmetic<T> {
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  div(a: T, b: T): T;
  constant(value: number): T;
}

export const numberArithmetic: BonusArithmetic<number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  constant: (value) => value,
};

/** Keeps H^ finite when every weighted entropy is equal (section 8). */
export const ENTROPY_STD_EPSILON = 1e-8;

/** Batch entropy statistics the multiplicative bonus normalises with. */
export interface EntropyStats<T = number> {
  mean: T;
  /** Population std (divide by n). */
  std: T;
}

/**
 * Unweighted mean and population std of H over the batch's policy tokens with loss weight > 0
 * (section 8); mean 0 and std 1 when there are none. Not restricted to post-tool tokens: TAO-RL
 * normalises against the whole batch.
 */
export function entropyStats(
  tokens: readonly (readonly { kind: TokenKind; entropy: number }[])[],
  lossWeights: readonly (readonly number[])[],
): EntropyStats {
  let count = 0;
  let sum = 0;
  tokens.forEach((trajectory, i) =>
    trajectory.forEach((token, t) => {
      if (token.kind === 'policy' && lossWeights[i][t] > 0) {
        count += 1;
        sum += token.entropy;
      }
    }),
  );
  if (count === 0) return { mean: 0, std: 1 };
  const mean = sum / count;
  let squares = 0;
  tokens.forEach((trajectory, i) =>
    trajectory.forEach((token, t) => {
      if (token.kind === 'policy' && lossWeights[i][t] > 0) squares += (token.entropy - mean) ** 2;
    }),
  );
  return { mean, std: Math.sqrt(squares / count) };
}

/**
 * TAO-RL's shaped advantage A~ = A * (1 + coef * H^), H^ = (H - mean) / (std + 1e-8), on numbers
 * or, given their arithmetic, on tensors.
 */
export function multiplicativeBonus(advantage: number, entropy: number, stats: EntropyStats, coef: number): number;
export function multiplicativeBonus<T>(
  advantage: T,
  entropy: T,
  stats: EntropyStats<T>,
  coef: T,
  arithmetic: BonusArithmetic<T>,
): T;
export function multiplicativeBonus<T>(
  advantage: T,
  entropy: T,
  stats: EntropyStats<T>,
  coef: T,
  arithmetic = numberArithmetic as unknown as BonusArithmetic<T>,
): T {
  const { add, sub, mul, div, constant } = arithmetic;
  const normalisedEntropy = div(sub(entropy, stats.mean), add(stats.std, constant(ENTROPY_STD_EPSILON)));
  return mul(advantage, add(constant(1), mul(coef, normalisedEntropy)));
}

/** Cheng et al. (2025) shaped advantage A~ = A + min(coef * H, |A| / kappa); the clip bounds the bonus by |A|. */
export function additiveBonus(
  advantage: number,
  entropy: number,
  coef: number,
  kappa: number,
): number {
  return advantage + Math.min(coef * entropy, Math.abs(advantage) / kappa);
}

/** Post-tool policy tokens (TAO-RL) or every policy token (AEPO / Cheng), trained on at all. */
export function isBonusEligible(
  kind: TokenKind,
  lossWeight: number,
  postTool: 0 | 1,
  scope: ShapeConfig['bonus']['scope'],
): boolean {
  return kind === 'policy' && lossWeight > 0 && (scope === 'all' || postTool === 1);
}

/** Shaped advantage of one eligible token under the configured bonus form. */
export function shapedAdvantage(
  advantage: number,
  entropy: number,
  bonus: ShapeConfig['bonus'],
  stats: EntropyStats,
): number {
  switch (bonus.mode) {
    case 'multiplicative':
      return multiplicativeBonus(advantage, entropy, stats, bonus.coef);
    case 'additive':
      return additiveBonus(advantage, entropy, bonus.coef, bonus.kappa);
    case 'off':
      return advantage;
  }
}

/**
 * What each token of one trajectory reports (section 8): prompt and tool tokens advantage 0,
 * bonus 0; policy tokens with loss weight 0 the trajectory's A, bonus 0; other policy tokens
 * the shaped advantage and bonus = shaped - A (A itself when not eligible).
 */
export function shapedTokens(
  tokens: readonly { kind: TokenKind; entropy: number }[],
  advantage: number,
  lossWeights: readonly number[],
  postTool: readonly (0 | 1)[],
  bonus: ShapeConfig['bonus'],
  stats: EntropyStats,
): ShapedToken[] {
  return tokens.map((token, t) => {
    const lossWeight = lossWeights[t];
    let shaped = token.kind === 'policy' ? advantage : 0;
    if (isBonusEligible(token.kind, lossWeight, postTool[t], bonus.scope)) {
      shaped = shapedAdvantage(advantage, token.entropy, bonus, stats);
    }
    // One object literal shape for every token keeps this hot loop fast (called per slider move).
    const tokenBonus = token.kind === 'policy' ? shaped - advantage : 0;
    return { postTool: postTool[t], lossWeight, advantage: shaped, bonus: tokenBonus };
  });
}
