// A loss batch of pseudo-random tokens, log-probs, advantages and masks, for comparing the
// policy loss's gradients between kernel paths.

import { Rng } from '../../../src/core/rng';
import type { LossBatch } from '../../../src/core/tao/loss';

/** B trajectories of T positions: tokens among the first 20 after the specials, 30% bonus-eligible, 80% weighted. */
export function randomLossBatch(B: number, T: number, seed: number): LossBatch {
  const rng = new Rng(seed);
  return {
    tokens: Int32Array.from({ length: B * (T + 1) }, () => 3 + Math.floor(rng.next() * 20)),
    B,
    T,
    oldLogprob: Float32Array.from({ length: B * T }, () => -1 - rng.next()),
    advantage: Float32Array.from({ length: B * T }, () => rng.next() - 0.5),
    baseAdvantage: Float32Array.from({ length: B * T }, () => rng.next() - 0.5),
    bonusEligible: Float32Array.from({ length: B * T }, () => (rng.next() < 0.3 ? 1 : 0)),
    lossWeight: Float32Array.from({ length: B * T }, () => (rng.next() < 0.8 ? 1 : 0)),
  };
}
