// Tool-aware entropy-guided advantage bonus (ALGORITHM.md sections 4 and 8 "Bonus").
// Works on detached entropies: the numbers the loss uses and the UI shows.

import type { ShapeConfig, ShapedToken, TokenKind } from './types';

/** Keeps H^ finite when every weighted entropy is equal (section 8). */
export const ENTROPY_STD_EPSILON = 1e-8;

/** Batch entropy statistics the multiplicative bonus normalises with. */
export interface EntropyStats {
  mean: number;
  /** Population std (divide by n). */
  std: number;
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

/** TAO-RL's shaped advantage A~ = A * (1 + coef * H^), H^ = (H - mean) / (std + 1e-8). */
export function multiplicativeBonus(
  advantage: number,
  entropy: number,
  stats: EntropyStats,
  coef: number,
): number {
  const normalisedEntropy = (entropy - stats.mean) / (stats.std + ENTROPY_STD_EPSILON);
  return advantage * (1 + coef * normalisedEntropy);
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
