// Entropy bonus (docs/algorithm.md §4 and §8.6).
import { describe, expect, it } from 'vitest';
import {
  additiveBonus,
  entropyStats,
  multiplicativeBonus,
  shapedTokens,
} from '../../../src/core/tao/bonus';
import { DEFAULT_SHAPE_CONFIG } from '../../../src/core/tao/shape';
import type { ShapeConfig, TokenKind } from '../../../src/core/tao/types';

const token = (kind: TokenKind, entropy: number) => ({ kind, entropy });
const bonusConfig = (overrides: Partial<ShapeConfig['bonus']>): ShapeConfig['bonus'] => ({
  ...DEFAULT_SHAPE_CONFIG.bonus,
  ...overrides,
});

// Weighted policy entropies [1, 3, 5, 7]: mean 4, squared deviations 9 + 1 + 1 + 9 = 20,
// population variance 20 / 4 = 5, std sqrt(5) = 2.2360680 (the sample std would be sqrt(20/3) = 2.58).
const stats = { mean: 4, std: Math.sqrt(5) };
// H = 7: H^ = 3 / (2.2360680 + 1e-8) = 1.3416408; H = 1: H^ = -1.3416408
const hHat = 3 / (Math.sqrt(5) + 1e-8);

describe('entropyStats', () => {
  it('takes mean and population std over policy tokens with loss weight > 0', () => {
    const tokens = [
      [token('prompt', 100), token('policy', 1), token('tool', 9), token('policy', 3)],
      [token('policy', 50), token('policy', 5), token('policy', 7)],
    ];
    const weights = [
      [0, 1, 0, 0.5],
      [0, 1, 1],
    ];
    const s = entropyStats(tokens, weights);
    expect(s.mean).toBeCloseTo(4, 12);
    expect(s.std).toBeCloseTo(2.2360680, 6);
  });

  it('falls back to mean 0 and std 1 with no weighted policy token', () => {
    expect(entropyStats([[token('policy', 3), token('tool', 2)]], [[0, 0]])).toEqual({ mean: 0, std: 1 });
    expect(entropyStats([], [])).toEqual({ mean: 0, std: 1 });
  });
});

describe('multiplicativeBonus', () => {
  it('scales A by 1 + coef * H^', () => {
    expect(hHat).toBeCloseTo(1.3416408, 6);
    // A = .5, H = 7, coef .1: .5 * (1 + .13416408) = .5670820
    expect(multiplicativeBonus(0.5, 7, stats, 0.1)).toBeCloseTo(0.5670820, 6);
    // A = .5, H = 1: .5 * (1 - .13416408) = .4329180
    expect(multiplicativeBonus(0.5, 1, stats, 0.1)).toBeCloseTo(0.4329180, 6);
  });

  it('keeps the sign of negative advantages and scales them the same way', () => {
    // A = -.5, H = 7: -.5 * 1.13416408 = -.5670820; H = 1: -.5 * .86583592 = -.4329180
    expect(multiplicativeBonus(-0.5, 7, stats, 0.1)).toBeCloseTo(-0.5670820, 6);
    expect(multiplicativeBonus(-0.5, 1, stats, 0.1)).toBeCloseTo(-0.4329180, 6);
  });
});

describe('additiveBonus', () => {
  it('adds coef * H when below the clip', () => {
    // A = 1, H = 2, coef .1, kappa 2: min(.2, 1/2 = .5) = .2 -> 1.2
    expect(additiveBonus(1, 2, 0.1, 2)).toBeCloseTo(1.2, 12);
  });

  it('clips the bonus to |A| / kappa', () => {
    // A = .2, H = 2, coef .4, kappa 2: min(.8, .1) = .1 -> .3
    expect(additiveBonus(0.2, 2, 0.4, 2)).toBeCloseTo(0.3, 12);
  });

  it('adds a positive bonus to negative advantages too, never flipping the sign', () => {
    // A = -1, H = 2, coef .1: min(.2, .5) = .2 -> -.8; A = -.2, coef .4: min(.8, .1) = .1 -> -.1
    expect(additiveBonus(-1, 2, 0.1, 2)).toBeCloseTo(-0.8, 12);
    expect(additiveBonus(-0.2, 2, 0.4, 2)).toBeCloseTo(-0.1, 12);
    // A = 0: min(.8, 0) = 0
    expect(additiveBonus(0, 2, 0.4, 2)).toBe(0);
  });
});

describe('shapedTokens reporting', () => {
  // prompt, policy (not post-tool, H 7), tool, policy (post-tool, H 7), policy (post-tool, H 1)
  const tokens = [token('prompt', 3), token('policy', 7), token('tool', 3), token('policy', 7), token('policy', 1)];
  const postTool: (0 | 1)[] = [0, 0, 0, 1, 1];
  const weights = [0, 1, 0, 1, 1];
  const up = 0.5 * 0.1 * hHat; // .5 * .1 * 1.3416408 = .0670820

  it('scope post_tool shapes only post-tool tokens; prompt and tool report 0', () => {
    const out = shapedTokens(tokens, 0.5, weights, postTool, bonusConfig({ coef: 0.1 }), stats);
    expect(up).toBeCloseTo(0.067082, 6);
    expect(out[0]).toEqual({ postTool: 0, lossWeight: 0, advantage: 0, bonus: 0 });
    expect(out[1]).toEqual({ postTool: 0, lossWeight: 1, advantage: 0.5, bonus: 0 });
    expect(out[2]).toEqual({ postTool: 0, lossWeight: 0, advantage: 0, bonus: 0 });
    expect(out[3].advantage).toBeCloseTo(0.5 + up, 12); // .5670820
    expect(out[3].bonus).toBeCloseTo(up, 12);
    expect(out[4].advantage).toBeCloseTo(0.5 - up, 12); // .4329180
    expect(out[4].bonus).toBeCloseTo(-up, 12);
  });

  it('scope all shapes every weighted policy token without changing the mask', () => {
    const out = shapedTokens(tokens, 0.5, weights, postTool, bonusConfig({ coef: 0.1, scope: 'all' }), stats);
    expect(out[1].postTool).toBe(0);
    expect(out[1].advantage).toBeCloseTo(0.5 + up, 12);
    expect(out[1].bonus).toBeCloseTo(up, 12);
    expect(out[0].advantage).toBe(0); // prompt still 0
  });

  it('policy tokens with loss weight 0 report A and no bonus', () => {
    const out = shapedTokens(tokens, -0.5, [0, 0, 0, 0, 0], postTool, bonusConfig({ coef: 0.1, scope: 'all' }), stats);
    expect(out.map((t) => t.advantage)).toEqual([0, -0.5, 0, -0.5, -0.5]);
    expect(out.map((t) => t.bonus)).toEqual([0, 0, 0, 0, 0]);
  });

  it('mode off gives A with no bonus', () => {
    const out = shapedTokens(tokens, 0.5, weights, postTool, bonusConfig({ mode: 'off', coef: 0.1 }), stats);
    expect(out.map((t) => t.advantage)).toEqual([0, 0.5, 0, 0.5, 0.5]);
    expect(out.map((t) => t.bonus)).toEqual([0, 0, 0, 0, 0]);
  });

  it('additive mode clips per token', () => {
    // A = .2, coef .4, kappa 2: H 7 -> min(2.8, .1) = .1 (clipped); a token with H .1 -> min(.04, .1) = .04
    const few = [token('policy', 7), token('policy', 0.1)];
    const out = shapedTokens(few, 0.2, [1, 1], [1, 1], bonusConfig({ mode: 'additive', coef: 0.4, kappa: 2 }), stats);
    expect(out[0].advantage).toBeCloseTo(0.3, 12);
    expect(out[0].bonus).toBeCloseTo(0.1, 12);
    expect(out[1].advantage).toBeCloseTo(0.24, 12);
    expect(out[1].bonus).toBeCloseTo(0.04, 12);
  });
});
