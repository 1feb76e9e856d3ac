// The update's buckets: rows cut to their weighted positions, grouped by length, each bucket's
// means over the whole batch's weight, so that their losses, metrics and gradients add up to the
// whole batch's (computed in one pass by policyLoss, which loss.test.ts checks by hand).

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_SCALES } from '../../../src/core/model/config';
import { disposePolicy, initPolicy, namedWeights, type Policy } from '../../../src/core/model/transformer';
import { policyLoss, type LossBatch, type LossOptions, type LossParts } from '../../../src/core/tao/loss';
import { lossBuckets, splitPoints, usedPositions } from '../../../src/core/tao/lossBuckets';
import { EMITTABLE } from '../../../src/core/tokenizer';
import { randomLossBatch } from '../model/lossBatch';

const EMITTABLE_IDS = EMITTABLE.flatMap((ok, id) => (ok ? [id] : []));

/**
 * A batch of B rows whose row b has weighted positions up to lengths[b] (0: none), the rest
 * weight 0; tokens the policy may write, so that log-probs and ratios are ordinary numbers.
 */
function batchWithLengths(lengths: number[], T: number, seed: number): LossBatch {
  const batch = randomLossBatch(lengths.length, T, seed);
  batch.tokens.forEach((id, i) => (batch.tokens[i] = EMITTABLE_IDS[id % EMITTABLE_IDS.length]));
  lengths.forEach((length, b) => {
    for (let t = 0; t < T; t++) {
      const at = b * T + t;
      if (t >= length) batch.lossWeight[at] = 0;
      else if (t === length - 1) batch.lossWeight[at] = 1; // the last weighted position is length - 1
    }
  });
  return batch;
}

describe('splitPoints', () => {
  it('picks the cheapest runs by hand: lengths 10, 9, 3, 2 with a run costing 5 positions', () => {
    // One run: 4 x 10 + 5 = 45. Two: {10, 9} {3, 2} = 20 + 5 + 6 + 5 = 36, the cheapest;
    // {10} {9, 3, 2} = 47; {10, 9, 3} {2} = 42. Three: at best 40 ({10, 9} {3} {2}), dearer than 36.
    expect(splitPoints([10, 9, 3, 2], { maxBuckets: 1, bucketCostPositions: 5 })).toEqual([0]);
    expect(splitPoints([10, 9, 3, 2], { maxBuckets: 2, bucketCostPositions: 5 })).toEqual([0, 2]);
    expect(splitPoints([10, 9, 3, 2], { maxBuckets: 3, bucketCostPositions: 5 })).toEqual([0, 2]);
    // Free runs: every change of length starts one, up to the limit.
    expect(splitPoints([10, 9, 3, 2], { maxBuckets: 4, bucketCostPositions: 0 })).toEqual([0, 1, 2, 3]);
    // A dear run: one bucket.
    expect(splitPoints([10, 9, 3, 2], { maxBuckets: 4, bucketCostPositions: 100 })).toEqual([0]);
    expect(splitPoints([], { maxBuckets: 4, bucketCostPositions: 5 })).toEqual([]);
  });
});

describe('lossBuckets', () => {
  it('drops rows with no weighted token, cuts each row after its last one, and sorts longest first', () => {
    const batch = batchWithLengths([3, 0, 7, 5], 8, 1);
    expect(usedPositions(batch)).toEqual([3, 0, 7, 5]);
    const [bucket] = lossBuckets(batch, { maxBuckets: 1, bucketCostPositions: 0 });
    expect([bucket.B, bucket.T]).toEqual([3, 7]);
    // Rows 2, 3, 0 in that order; row 2's tokens 0..7 and weights 0..6 as they were.
    expect([...bucket.tokens.subarray(0, 8)]).toEqual([...batch.tokens.subarray(2 * 9, 2 * 9 + 8)]);
    expect([...bucket.lossWeight.subarray(7, 14)]).toEqual([...batch.lossWeight.subarray(3 * 8, 3 * 8 + 7)]);
    expect([...bucket.advantage.subarray(14, 21)]).toEqual([...batch.advantage.subarray(0, 7)]);
    const buckets = lossBuckets(batch, { maxBuckets: 3, bucketCostPositions: 0 });
    expect(buckets.map((b) => [b.B, b.T])).toEqual([
      [1, 7],
      [1, 5],
      [1, 3],
    ]);
  });

  describe('adds up to the whole batch (cpu)', () => {
    let policy: Policy;
    beforeAll(async () => {
      await tf.setBackend('cpu');
      policy = initPolicy(MODEL_SCALES.tiny, 3);
    });
    afterAll(() => disposePolicy(policy));

    const options: LossOptions = { temperature: 1, clipLow: 0.2, clipHigh: 0.28, dualClip: 3, entropyCoef: 0.01, klCoef: 0, liveBonusCoef: null };
    const partNames: (keyof LossParts)[] = ['loss', 'policyLoss', 'clipFraction', 'clipLowFraction', 'clipHighFraction', 'dualClipFraction', 'approxKl', 'entropyMean'];

    function lossAndGrads(batch: LossBatch, weightTotal?: number): { parts: number[]; grads: Map<string, Float32Array> } {
      const variables = namedWeights(policy.weights);
      let parts: number[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const lossParts = policyLoss(policy, batch, { ...options, weightTotal });
        parts = partNames.map((name) => lossParts[name].dataSync()[0]);
        return lossParts.loss;
      }, variables.map(([, variable]) => variable));
      value.dispose();
      const byName = new Map(variables.map(([name, variable]) => [name, grads[variable.name].dataSync() as Float32Array]));
      tf.dispose(grads);
      return { parts, grads: byName };
    }

    it('loss, metrics and every gradient within 1e-6 of the one-pass values, over 3 buckets of rows 2 to 30 long', () => {
      const lengths = [30, 2, 17, 0, 29, 5, 11, 30, 8, 0, 23, 3];
      const batch = batchWithLengths(lengths, 30, 7);
      const whole = lossAndGrads(batch);
      const buckets = lossBuckets(batch, { maxBuckets: 3, bucketCostPositions: 10 });
      expect(buckets.length).toBe(3);
      const weightTotal = batch.lossWeight.reduce((sum, w) => sum + w, 0);
      const parts = buckets.map((bucket) => lossAndGrads(bucket, weightTotal));
      partNames.forEach((name, i) => {
        const summed = parts.reduce((sum, part) => sum + part.parts[i], 0);
        expect(Math.abs(summed - whole.parts[i]), name).toBeLessThan(1e-6);
      });
      let largest = 0;
      let compared = 0;
      for (const [name, reference] of whole.grads) {
        reference.forEach((value, j) => {
          const summed = parts.reduce((sum, part) => sum + part.grads.get(name)![j], 0);
          largest = Math.max(largest, Math.abs(summed - value));
          compared++;
        });
      }
      expect(compared).toBeGreaterThan(100_000); // every parameter of tiny (107k)
      expect(largest).toBeLessThan(1e-6);
      // Fewer positions than the padded batch: 12 x 30 = 360 against the buckets' own.
      expect(buckets.reduce((n, bucket) => n + bucket.B * bucket.T, 0)).toBeLessThan(0.75 * 360);
    });

    it('refuses buckets with the live bonus, whose entropy statistics need every row at once', () => {
      const batch = batchWithLengths([4, 6], 6, 2);
      expect(() => tf.tidy(() => void policyLoss(policy, batch, { ...options, liveBonusCoef: 1, weightTotal: 5 }))).toThrow(/whole batch/);
    });
  });
});
