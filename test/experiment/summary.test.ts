// An experiment summary from hand-made run files: every expected number is worked out by hand in
// the comment beside it (src/experiment/summary.ts, report.ts).

import { describe, expect, it } from 'vitest';
import { planExperiment } from '../../src/experiment/plan';
import { differenceText, summaryMarkdown, summaryPlots } from '../../src/experiment/report';
import { parseRunFile, summarise, type RunFile } from '../../src/experiment/summary';

const plan = planExperiment({
  kind: 'experiment',
  presets: ['grpo', 'tao-rl'],
  condition: { task: 'arithmetic', flaky: 0 },
  seeds: 3,
  firstSeed: 1,
  steps: 20,
  scale: 'tiny',
  checkpoint: 'public/models/tiny',
  backend: 'wasm',
  common: { evalPrompts: 64, evalSamples: 4 },
});

function evaluation(step: number, sampledAccuracy: number, passAtK: number) {
  return {
    type: 'evaluation', step, prompts: 64, samples: 4, sampledAccuracy, passAtK, greedyAccuracy: null,
    callRate: 0.5, callFailureRate: 0.2, environmentFailureRate: 0.05, allCallsFailedRate: 0.1, mixedGroups: 0.5, byKind: {},
  };
}

function step(n: number, allToolsFailed: number, entropy: number) {
  return {
    type: 'step', step: n, skipped: false, trajectories: [],
    metrics: { 'filter/all_tools_failed': allToolsFailed, 'filter/group_all_correct': 0, 'filter/group_all_wrong': 0, 'entropy/mean': entropy, 'entropy/post_tool_mean': entropy, 'tools/failure_policy': 0.1 },
  };
}

/** A run file: evaluations at 0, 10 and 20 with the given accuracies (pass@4 = accuracy + 0.1). */
function runText(accuracies: [number, number, number], allToolsFailed: number, finished = true): string {
  const lines: object[] = [{ type: 'run', id: 'x' }];
  lines.push(evaluation(0, accuracies[0], accuracies[0] + 0.1));
  for (let n = 1; n <= 20; n++) {
    lines.push(step(n, allToolsFailed, 1));
    if (n % 10 === 0) lines.push(evaluation(n, accuracies[n / 10], accuracies[n / 10] + 0.1));
  }
  if (finished) lines.push({ type: 'end', wallSeconds: 30 });
  return lines.map((line) => JSON.stringify(line)).join('\n');
}

const files = new Map<string, RunFile>([
  // grpo final accuracies .60, .70, .80; tao-rl .62, .74, .80 (differences .02, .04, .00)
  ['grpo-seed1', parseRunFile(runText([0.4, 0.5, 0.6], 0))],
  ['grpo-seed2', parseRunFile(runText([0.4, 0.6, 0.7], 0))],
  ['grpo-seed3', parseRunFile(runText([0.4, 0.8, 0.8], 0))],
  ['tao-rl-seed1', parseRunFile(runText([0.4, 0.5, 0.62], 0.1))],
  ['tao-rl-seed2', parseRunFile(runText([0.4, 0.6, 0.74], 0.2))],
  ['tao-rl-seed3', parseRunFile(runText([0.4, 0.9, 0.8], 0.3))],
]);

describe('experiment summary', () => {
  const summary = summarise(plan, files, { target: 0.75 });
  const [grpo, tao] = summary.variants;

  it('gives each variant its final accuracy with a t interval over seeds', () => {
    // grpo: mean (.6 + .7 + .8) / 3 = .7; s = sqrt((.01 + 0 + .01) / 2) = .1; half width
    // t(2) x s / sqrt(3) = 4.303 x .1 / 1.7320508 = .2484337
    expect(grpo.finalAccuracy.mean).toBeCloseTo(0.7, 10);
    expect(grpo.finalAccuracy.halfWidth).toBeCloseTo(0.2484337, 6);
    expect(grpo.finalAccuracy.n).toBe(3);
    // pass@4 is accuracy + .1 everywhere: mean .8, same spread
    expect(grpo.finalPassAtK.mean).toBeCloseTo(0.8, 10);
    expect(grpo.finalPassAtK.halfWidth).toBeCloseTo(0.2484337, 6);
  });

  it('averages accuracy over the evaluations after step 0', () => {
    // grpo runs: (.5 + .6) / 2 = .55, (.6 + .7) / 2 = .65, (.8 + .8) / 2 = .8; mean 2.0 / 3 = .6666667
    expect(grpo.meanAccuracy.mean).toBeCloseTo(0.6666667, 6);
  });

  it('pairs each variant with the baseline by seed', () => {
    // differences .02, .04, .00: mean .02; s = sqrt((0 + .0004 + .0004) / 2) = .02;
    // half width 4.303 x .02 / 1.7320508 = .0496867
    expect(tao.vsBaseline!.finalAccuracy.mean).toBeCloseTo(0.02, 10);
    expect(tao.vsBaseline!.finalAccuracy.halfWidth).toBeCloseTo(0.0496867, 6);
    expect(grpo.vsBaseline).toBeNull();
    // In points: +2.0 ± 5.0, and the interval contains 0, so no mark.
    expect(differenceText(tao.vsBaseline!.finalAccuracy)).toBe('+2.0 ± 5.0');
  });

  it('counts the runs that reach the target and the mean step they reach it at', () => {
    // target .75: grpo seed 3 at step 10 (.8), seeds 1 and 2 never (.6, .7) -> 1 of 3, step 10
    expect(grpo.stepsToTarget).toEqual({ reached: 1, meanStep: 10 });
    // tao-rl: seed 3 at 10 (.9), seed 2 at 20 (.74 < .75: never), seed 1 never -> 1, step 10
    expect(tao.stepsToTarget).toEqual({ reached: 1, meanStep: 10 });
  });

  it('averages the discard fractions over steps, then over seeds', () => {
    // tao-rl runs drop .1, .2, .3 of trajectories at every step: mean .2
    expect(tao.discarded.all_tools_failed.mean).toBeCloseTo(0.2, 10);
    expect(grpo.discarded.all_tools_failed.mean).toBe(0);
  });

  it('splits call failures by cause at the last evaluation', () => {
    // failures .2 of calls, .05 the environment's: the policy's .15
    expect(tao.policyFailureRate.mean).toBeCloseTo(0.15, 10);
    expect(tao.environmentFailureRate.mean).toBeCloseTo(0.05, 10);
  });

  it('draws the learning curve from the per-step means', () => {
    // grpo at step 10: (.5 + .6 + .8) / 3 = .6333333
    expect(grpo.curve.map((p) => p.step)).toEqual([0, 10, 20]);
    expect(grpo.curve[1].accuracy.mean).toBeCloseTo(0.6333333, 6);
  });

  it('leaves out and lists a run that did not finish', () => {
    const partial = new Map(files);
    partial.set('tao-rl-seed3', parseRunFile(runText([0.4, 0.9, 0.8], 0.3, false)));
    partial.delete('grpo-seed2');
    const result = summarise(plan, partial, { target: 0.75, failures: new Map([['grpo-seed2', 'the worker crashed: out of memory']]) });
    expect(result.missing).toEqual([
      { id: 'grpo-seed2', reason: 'the worker crashed: out of memory' },
      { id: 'tao-rl-seed3', reason: 'unfinished' },
    ]);
    // Paired over the seeds both finished (1 only): .62 - .60 = .02
    expect(result.variants[1].vsBaseline!.finalAccuracy.n).toBe(1);
    expect(result.variants[1].vsBaseline!.finalAccuracy.mean).toBeCloseTo(0.02, 10);
    expect(summaryMarkdown(result)).toContain('- grpo-seed2: the worker crashed: out of memory');
  });

  it('writes tables and names its plots', () => {
    const markdown = summaryMarkdown(summary, 'npm run experiment -- --presets grpo,tao-rl');
    expect(markdown).toContain('| **grpo** (baseline) | 3 | 0.700 ± 0.248 | 0.800 ± 0.248 |');
    expect(markdown).toContain('![accuracy.svg](accuracy.svg)');
    expect([...summaryPlots(summary).keys()]).toEqual(['accuracy.svg', 'final.svg', 'pass.svg']);
  });

  it('rejects a run file line that is not JSON, naming the line', () => {
    expect(() => parseRunFile('{"type":"run"}\n{"type":')).toThrow('line 2 is not JSON');
  });
});

describe('differenceText', () => {
  it('marks an interval that excludes zero', () => {
    // mean -.05, half width .03: -5.0 ± 3.0, interval [-8, -2] excludes 0
    expect(differenceText({ mean: -0.05, low: -0.08, high: -0.02, halfWidth: 0.03, n: 4, pairs: 4 })).toBe('-5.0 ± 3.0 *');
  });
});
