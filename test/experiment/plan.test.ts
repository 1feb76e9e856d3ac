// What an experiment or a sweep runs (src/experiment/plan.ts).

import { describe, expect, it } from 'vitest';
import { conditionName, overrideAt, planExperiment, type PlanOptions } from '../../src/experiment/plan';

const base: Omit<PlanOptions, 'kind'> = {
  condition: { task: 'arithmetic', flaky: 0.2 },
  seeds: 3,
  firstSeed: 1,
  steps: 10,
  scale: 'tiny',
  checkpoint: 'public/models/tiny',
  backend: 'wasm',
  common: { evalPrompts: 32 },
};

describe('experiment plan', () => {
  it('names conditions by task and flakiness', () => {
    expect(conditionName({ task: 'arithmetic', flaky: 0 })).toBe('arithmetic');
    expect(conditionName({ task: 'arithmetic', flaky: 0.4 })).toBe('arithmetic-flaky0.4');
  });

  it('runs every preset for every seed, seeds shared across presets', () => {
    const plan = planExperiment({ ...base, kind: 'experiment', presets: ['tao-rl', 'grpo'] });
    expect(plan.runs.map((r) => r.id)).toEqual(['tao-rl-seed1', 'tao-rl-seed2', 'tao-rl-seed3', 'grpo-seed1', 'grpo-seed2', 'grpo-seed3']);
    expect(plan.baseline).toBe('grpo');
    expect(plan.condition).toBe('arithmetic-flaky0.2');
    for (const run of plan.runs) {
      expect(run.config.seed).toBe(run.seed);
      expect(run.config.preset).toBe(run.variant);
      expect(run.config.flakyProbability).toBe(0.2);
      expect(run.config.evalPrompts).toBe(32);
    }
    // The presets differ in their shaping: grpo has no filter, tao-rl filters failed tool calls.
    expect(plan.runs[0].config.shape.toolFailFilter).toBe(true);
    expect(plan.runs[3].config.shape.toolFailFilter).toBe(false);
  });

  it('makes one variant per value of a swept setting', () => {
    const plan = planExperiment({ ...base, kind: 'sweep', sweep: { preset: 'tao-rl', param: 'bonus.coef', values: [0, 0.1] } });
    expect(plan.variants).toEqual(['bonus.coef=0', 'bonus.coef=0.1']);
    expect(plan.baseline).toBe('bonus.coef=0');
    expect(plan.runs.map((r) => r.config.shape.bonus.coef)).toEqual([0, 0, 0, 0.1, 0.1, 0.1]);
    expect(plan.runs.every((r) => r.config.preset === 'tao-rl')).toBe(true);
  });

  it('turns a setting path into an override', () => {
    expect(overrideAt('bonus.coef', 0.3)).toEqual({ shape: { bonus: { coef: 0.3 } } });
    expect(overrideAt('shape.bonus.coef', 0.3)).toEqual({ shape: { bonus: { coef: 0.3 } } });
    expect(overrideAt('learningRate', 1e-4)).toEqual({ learningRate: 1e-4 });
    expect(() => overrideAt('nonsense.x', 1)).toThrow('"nonsense.x" is not a setting');
  });

  it('refuses an out-of-range value before anything trains', () => {
    expect(() => planExperiment({ ...base, kind: 'sweep', sweep: { preset: 'tao-rl', param: 'learningRate', values: [1e-4, 5] } })).toThrow(/learningRate/);
  });
});

describe('evidence plan: warm starts, A/A control, comparisons named before running', () => {
  const evidence: Omit<PlanOptions, 'kind'> = {
    ...base,
    condition: { task: 'retry', flaky: 0 },
    seeds: 5,
    checkpoint: undefined,
    checkpoints: ['models/a', 'models/b', 'models/c'],
    finalEvalPrompts: 512,
    primary: [{ variant: 'tao-rl', baseline: 'grpo-2x' }],
    aa: 'grpo-2x',
  };

  it('spreads seeds over the warm starts in turn; runs of one seed share theirs', () => {
    const plan = planExperiment({ ...evidence, kind: 'experiment', presets: ['grpo-2x', 'tao-rl'] });
    const bySeed = (variant: string) => plan.runs.filter((r) => r.variant === variant).map((r) => [r.seed, r.warmStart, r.checkpoint]);
    const expected = [[1, 0, 'models/a'], [2, 1, 'models/b'], [3, 2, 'models/c'], [4, 0, 'models/a'], [5, 1, 'models/b']];
    expect(bySeed('tao-rl')).toEqual(expected);
    expect(bySeed('grpo-2x')).toEqual(expected);
    expect(bySeed('grpo-2x~aa')).toEqual(expected);
    expect(plan.finalEvalPrompts).toBe(512);
  });

  it('the A/A copy has the same configuration under other seeds, and its comparison joins the primary family', () => {
    const plan = planExperiment({ ...evidence, kind: 'experiment', presets: ['grpo-2x', 'tao-rl'] });
    const original = plan.runs.find((r) => r.id === 'grpo-2x-seed2')!;
    const copy = plan.runs.find((r) => r.id === 'grpo-2x~aa-seed2')!;
    expect(copy.config.seed).toBe(1002);
    expect({ ...copy.config, seed: 0 }).toEqual({ ...original.config, seed: 0 });
    expect(plan.comparisons).toEqual([
      { variant: 'tao-rl', baseline: 'grpo-2x', primary: true },
      { variant: 'grpo-2x~aa', baseline: 'grpo-2x', primary: true },
    ]);
  });

  it('grpo-2x generates as many trajectories per step as the over-sampled presets: 16 prompts, no filter', () => {
    const plan = planExperiment({ ...evidence, kind: 'experiment', presets: ['grpo-2x', 'tao-rl', 'tool-fail-filter'] });
    const config = (variant: string) => plan.runs.find((r) => r.variant === variant)!.config;
    expect(config('grpo-2x').promptsPerStep).toBe(16);
    expect(config('grpo-2x').shape.groupFilter).toBe(false);
    expect(config('tao-rl').promptsPerStep * config('tao-rl').overSample).toBe(16);
    expect(config('tool-fail-filter').shape).toMatchObject({ groupFilter: false, toolFailFilter: true, bonus: { mode: 'off' } });
  });

  it('refuses a comparison naming a variant it does not run', () => {
    expect(() => planExperiment({ ...evidence, kind: 'experiment', presets: ['grpo-2x'], primary: [{ variant: 'dapo', baseline: 'grpo-2x' }] })).toThrow(
      /names "dapo", which is not a variant/,
    );
  });
});
