// An evidence plan resumes from its evals.csv alone (a committed folder carried to another machine).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordedRuns } from '../../src/cli/experimentRunner';
import { EVAL_COLUMNS, evalsCsv, type EvalRow } from '../../src/experiment/evidence';
import { planExperiment } from '../../src/experiment/plan';

function row(variant: string, seed: number, warmStart: number, step: number): EvalRow {
  const blank = Object.fromEntries(EVAL_COLUMNS.map((c) => [c, null])) as unknown as EvalRow;
  return { ...blank, variant, seed, warm_start: warmStart, step, accuracy: 0.5 };
}

describe('recordedRuns', () => {
  it('counts a run as done only when evals.csv holds its last step, under its own seed and warm start', () => {
    const plan = planExperiment({
      kind: 'experiment', presets: ['grpo-2x', 'tao-rl'], condition: { task: 'retry', flaky: 0 }, seeds: 2, firstSeed: 1, steps: 60,
      scale: 'tiny', checkpoints: ['a', 'b'], backend: 'wasm', common: {},
    });
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'evidence-'));
    expect(recordedRuns(out, plan).size).toBe(0);
    fs.writeFileSync(path.join(out, 'evals.csv'), evalsCsv([
      row('grpo-2x', 1, 0, 0), row('grpo-2x', 1, 0, 60), // finished
      row('tao-rl', 1, 0, 0), row('tao-rl', 1, 0, 20), // stopped part way
      row('grpo-2x', 2, 0, 60), // seed 2 starts from warm start 1, not 0: not this plan's run
    ]));
    expect([...recordedRuns(out, plan)]).toEqual(['grpo-2x-seed1']);
  });
});
