// Same seed, same backend: same numbers. Two trainers from the same weights and config must
// produce identical step reports (timings aside); a different seed must not.

import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../src/core/backend';
import { resolveConfig } from '../../../src/core/config';
import { disposePolicy } from '../../../src/core/model/transformer';
import { Trainer, type StepReport } from '../../../src/core/trainer';
import { loadBundledTiny } from './bundled';

function withoutTimings(report: StepReport): StepReport {
  const metrics = Object.fromEntries(Object.entries(report.metrics).filter(([key]) => !key.startsWith('time/') && !key.startsWith('perf/')));
  return { ...report, metrics };
}

async function run(seed: number): Promise<StepReport[]> {
  const policy = loadBundledTiny();
  const trainer = new Trainer(resolveConfig({ preset: 'tao-rl', seed, groupSize: 4, promptsPerStep: 2, flakyProbability: 0.2 }), policy);
  const reports: StepReport[] = [];
  for (let i = 0; i < 3; i++) reports.push(withoutTimings(await trainer.runStep()));
  trainer.dispose();
  disposePolicy(policy);
  return reports;
}

describe('determinism', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('same seed gives identical step reports, another seed does not', async () => {
    const first = await run(5);
    const second = await run(5);
    expect(second).toEqual(first);
    const other = await run(6);
    expect(other.map((r) => r.trajectories.map((t) => t.segments))).not.toEqual(first.map((r) => r.trajectories.map((t) => t.segments)));
  });
});
