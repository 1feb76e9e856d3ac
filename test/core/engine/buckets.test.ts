// The update in buckets by length (lossBuckets.ts) trains what the update in one pass trains: two
// trainers from the same weights and seed, one splitting every batch into up to four buckets and
// one not, sample the same trajectories, report the same step metrics and end with the same weights.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../src/core/backend';
import { resolveConfig } from '../../../src/core/config';
import { disposePolicy, namedWeights } from '../../../src/core/model/transformer';
import { ONE_BUCKET } from '../../../src/core/tao/lossBuckets';
import { Trainer, type StepReport } from '../../../src/core/trainer';
import { loadBundledTiny } from './bundled';

async function run(plan: typeof ONE_BUCKET): Promise<{ reports: StepReport[]; shapes: { rows: number; positions: number }[][]; weights: Map<string, Float32Array> }> {
  const policy = loadBundledTiny();
  const trainer = new Trainer(resolveConfig({ preset: 'tao-rl', seed: 11, groupSize: 8, promptsPerStep: 4 }), policy);
  trainer.bucketPlan = plan;
  const reports: StepReport[] = [];
  const shapes: { rows: number; positions: number }[][] = [];
  for (let i = 0; i < 3; i++) {
    reports.push(await trainer.runStep());
    shapes.push(trainer.lastUpdateShapes);
  }
  const weights = new Map(namedWeights(policy.weights).map(([name, variable]) => [name, variable.dataSync() as Float32Array]));
  trainer.dispose();
  disposePolicy(policy);
  return { reports, shapes, weights };
}

describe('the update in buckets by length', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('gives the one-pass update\'s metrics within 1e-5 and its weights within 1e-4 after 3 steps', { timeout: 120_000 }, async () => {
    const whole = await run(ONE_BUCKET);
    const split = await run({ maxBuckets: 4, bucketCostPositions: 0 });
    // Buckets were used: some update ran more than one pass, and fewer positions than one pass's.
    expect(split.shapes.some((buckets) => buckets.length > 1)).toBe(true);
    split.shapes.forEach((buckets, i) => {
      if (buckets.length === 0) return; // a skipped step
      const positions = (shapes: { rows: number; positions: number }[]) => shapes.reduce((n, s) => n + s.rows * s.positions, 0);
      expect(positions(buckets)).toBeLessThanOrEqual(positions(whole.shapes[i]));
      expect(buckets.reduce((n, s) => n + s.rows, 0)).toBe(whole.shapes[i][0].rows);
    });
    expect(split.reports.filter((r) => !r.skipped).length).toBeGreaterThan(0);
    split.reports.forEach((report, i) => {
      expect(report.trajectories.map((t) => t.segments)).toEqual(whole.reports[i].trajectories.map((t) => t.segments));
      for (const key of ['loss/total', 'loss/policy', 'grad_norm', 'actor/entropy', 'actor/ppo_kl', 'actor/pg_clipfrac'] as const) {
        expect(Math.abs((report.metrics[key] ?? NaN) - (whole.reports[i].metrics[key] ?? NaN)), `step ${i + 1} ${key}`).toBeLessThan(1e-5);
      }
    });
    let largest = 0;
    for (const [name, values] of whole.weights) values.forEach((value, j) => (largest = Math.max(largest, Math.abs(split.weights.get(name)![j] - value))));
    // Adam divides by the root of each parameter's squared-gradient average: where a gradient is
    // near 0, float noise in it moves the step by up to the learning rate (3e-4). A bucket lost or
    // counted twice would move every weight by about that much.
    expect(largest).toBeLessThan(1e-4);
    expect(tf.getBackend()).toBe('wasm');
  });
});
