// One RL step end to end (src/core/trainer.ts): how many prompts a step generates (docs/algorithm.md
// §2.3), the weight a trajectory whose tool calls all failed is trained with (§2.2, §8.2), and
// where DAPO's extra generation stops (§2.3). Small groups on the committed tiny checkpoint, or on
// an untrained policy of the same size, keep each step well under a second.

import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/core/backend';
import { resolveConfig } from '../../src/core/config';
import { MODEL_SCALES } from '../../src/core/model/config';
import { disposePolicy, initPolicy, type Policy } from '../../src/core/model/transformer';
import { Trainer, type StepReport } from '../../src/core/trainer';
import { loadBundledTiny } from './engine/bundled';

/** `steps` step reports of a fresh trainer on `policy` (the tiny checkpoint by default). */
async function runSteps(overrides: Record<string, unknown>, steps: number, policy: Policy = loadBundledTiny()): Promise<StepReport[]> {
  const trainer = new Trainer(resolveConfig(overrides), policy);
  try {
    const reports: StepReport[] = [];
    for (let i = 0; i < steps; i++) reports.push(await trainer.runStep());
    return reports;
  } finally {
    trainer.dispose();
    disposePolicy(policy);
  }
}

/** Prompts (groups) a step generated: every generated trajectory is in its report. */
function promptsGenerated(report: StepReport): number {
  return new Set(report.trajectories.map((t) => t.group)).size;
}

describe('Trainer.runStep', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('over-samples prompts x2 only with the group filter on', async () => {
    // promptsPerStep 3, groupSize 2, overSample 2 (the reference default), fill 'duplicate' (one
    // generation batch). Filter on: 3 x 2 = 6 prompts, 12 trajectories; the batch keeps 3 groups
    // (or none when no group survives). Filter off: 3 prompts, 6 trajectories, all 3 trained on.
    const expected = [
      { groupFilter: true, prompts: 6 },
      { groupFilter: false, prompts: 3 },
    ];
    for (const { groupFilter, prompts } of expected) {
      const reports = await runSteps({ preset: 'tao-rl', seed: 2, groupSize: 2, promptsPerStep: 3, overSample: 2, shape: { groupFilter } }, 2);
      for (const report of reports) {
        expect(report.metrics.gen_batches).toBe(1);
        expect(promptsGenerated(report)).toBe(prompts);
        expect(report.trajectories).toHaveLength(prompts * 2);
        expect(report.metrics['batch/groups']).toBe(groupFilter && report.skipped ? 0 : 3);
      }
    }
  });

  it('trains the policy tokens of a trajectory whose tool calls all failed with weight 1 - strength', async () => {
    // flakyProbability 1: every call times out, so every trajectory that calls is marked
    // all_tools_failed; the group filter is off (preset tool-fail-filter), so every trajectory is
    // trained once. toolFailStrength 0.25: the marked trajectories' policy tokens weigh
    // 1 - 0.25 = 0.75, those of trajectories without a call 1, prompt and tool tokens 0.
    const [report] = await runSteps(
      { preset: 'tool-fail-filter', seed: 3, groupSize: 2, promptsPerStep: 3, flakyProbability: 1, shape: { toolFailStrength: 0.25 } },
      1,
    );
    const calling = report.trajectories.filter((t) => t.toolCalls.length > 0);
    expect(calling.length).toBeGreaterThan(0);
    expect(calling.length).toBeLessThan(report.trajectories.length); // both kinds in the batch
    let weightSum = 0;
    let weightedEntropy = 0;
    let entropySum = 0;
    let policyTokens = 0;
    for (const trajectory of report.trajectories) {
      const failed = trajectory.toolCalls.length > 0;
      expect(trajectory.trainedCopies).toBe(1);
      expect(trajectory.reason).toBe(failed ? 'all_tools_failed' : null);
      trajectory.tokens.kind.forEach((kind, t) => {
        const weight = trajectory.tokens.lossWeight[t];
        expect(weight).toBe(kind === 'policy' ? (failed ? 0.75 : 1) : 0);
        if (kind !== 'policy') return;
        policyTokens += 1;
        weightSum += weight;
        weightedEntropy += weight * trajectory.tokens.entropy[t];
        entropySum += trajectory.tokens.entropy[t];
      });
    }
    // The loss batch carried those weights: every policy token counts (weight > 0), and the
    // loss's entropy mean is the 0.75 / 1 weighted mean of the entropies recorded at sampling
    // (the loss recomputes them from the same, not yet updated, weights).
    expect(report.metrics['batch/tokens']).toBe(policyTokens);
    expect(report.metrics['actor/entropy']).toBeCloseTo(weightedEntropy / weightSum, 4);
    expect(Math.abs(weightedEntropy / weightSum - entropySum / policyTokens)).toBeGreaterThan(1e-3);
  });

  it('DAPO (fill resample) stops generating at maxGenBatches when every group is all-equal', async () => {
    // An untrained policy answers nothing correctly, so every group is all-wrong and the filter
    // keeps none: DAPO generates maxGenBatches = 3 batches of promptsPerStep 2 x overSample 2
    // prompts, 3 x 4 = 12 prompts and 24 trajectories, and trains on nothing (the step is skipped).
    // Fill 'duplicate' stops after the first batch: 4 prompts.
    const expected = [
      { fill: 'resample', genBatches: 3 },
      { fill: 'duplicate', genBatches: 1 },
    ];
    for (const { fill, genBatches } of expected) {
      const reports = await runSteps(
        { preset: 'dapo', seed: 1, fill, groupSize: 2, promptsPerStep: 2, overSample: 2, maxGenBatches: 3 },
        2,
        initPolicy(MODEL_SCALES.tiny, 1),
      );
      for (const report of reports) {
        expect(report.trajectories.every((t) => t.reward === 0)).toBe(true); // the premise
        expect(report.trajectories.every((t) => t.reason === 'group_all_wrong')).toBe(true);
        expect(report.metrics.gen_batches).toBe(genBatches);
        expect(promptsGenerated(report)).toBe(genBatches * 4);
        expect(report.trajectories).toHaveLength(genBatches * 4 * 2);
        expect(report.skipped).toBe(true);
        expect(report.metrics['batch/groups']).toBe(0);
      }
    }
  });
});
