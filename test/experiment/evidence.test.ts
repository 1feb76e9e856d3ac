import { describe, expect, it } from 'vitest';
import { passAtKUnbiased } from '../../src/core/evaluate';
import { compare, evalsCsv, parseEvalsCsv, type EvalRow } from '../../src/experiment/evidence';
import { holm, pairedPermutationP } from '../../src/experiment/stats';

describe('pairedPermutationP (sign flips, worked by hand)', () => {
  it('[1, 2, 3]: of the 8 sign patterns only +6 and -6 reach |6|, so p = 2/8', () => {
    expect(pairedPermutationP([1, 2, 3])).toBe(0.25);
  });
  it('five equal differences: p = 2/32', () => {
    expect(pairedPermutationP([1, 1, 1, 1, 1])).toBe(0.0625);
  });
  it('[2, -1]: every pattern has |sum| >= 1, p = 1', () => {
    expect(pairedPermutationP([2, -1])).toBe(1);
  });
  it('all differences zero: p = 1', () => {
    expect(pairedPermutationP([0, 0, 0, 0])).toBe(1);
  });
  it('beyond the exact limit a fixed-seed Monte Carlo: 24 equal differences give about 2/2^24, and the same p twice', () => {
    const diffs = new Array(24).fill(0.1);
    const p = pairedPermutationP(diffs);
    expect(p).toBeLessThan(1e-4);
    expect(pairedPermutationP(diffs)).toBe(p);
    // Half positive, half negative and equal in size: the observed mean is 0, so p = 1.
    expect(pairedPermutationP([...new Array(12).fill(1), ...new Array(12).fill(-1)])).toBe(1);
  });
});

describe('holm', () => {
  it('[.01, .04, .03]: .01x3 = .03, .03x2 = .06, .04x1 = .04 raised to .06 (monotone)', () => {
    const adjusted = holm([0.01, 0.04, 0.03]);
    expect(adjusted[0]).toBeCloseTo(0.03, 12);
    expect(adjusted[1]).toBeCloseTo(0.06, 12);
    expect(adjusted[2]).toBeCloseTo(0.06, 12);
  });
  it('caps at 1 and keeps the given order', () => {
    expect(holm([0.5, 0.001])).toEqual([0.5, 0.002]);
    expect(holm([0.6, 0.7])).toEqual([1, 1]);
  });
});

describe('passAtKUnbiased (1 - C(n-c, k) / C(n, k))', () => {
  it('n = 4, c = 1, k = 2: 1 - 3/6 = .5', () => expect(passAtKUnbiased(4, 1, 2)).toBeCloseTo(0.5, 12));
  it('n = 16, c = 1, k = 8: 1 - C(15,8)/C(16,8) = 1 - 8/16', () => expect(passAtKUnbiased(16, 1, 8)).toBeCloseTo(0.5, 12));
  it('n = 16, c = 2, k = 4: 1 - 1001/1820', () => expect(passAtKUnbiased(16, 2, 4)).toBeCloseTo(1 - 1001 / 1820, 12));
  it('k = 1 is c/n; none right is 0; too few wrong to fill k is 1', () => {
    expect(passAtKUnbiased(16, 5, 1)).toBeCloseTo(5 / 16, 12);
    expect(passAtKUnbiased(16, 0, 8)).toBe(0);
    expect(passAtKUnbiased(16, 9, 8)).toBe(1);
  });
  it('k above n is refused', () => expect(() => passAtKUnbiased(4, 1, 8)).toThrow(/pass@8 needs at least 8 samples/));
});

function row(variant: string, seed: number, step: number, accuracy: number): EvalRow {
  return {
    variant, seed, warm_start: seed % 3, step, trajectories: step * 128, prompts: 128, samples: 16, accuracy,
    pass_at_1: accuracy, pass_at_4: null, pass_at_8: null, call_rate: 1, call_failure_rate: 0.5, malformed_call_rate: 0.1,
    environment_failure_rate: 0.5, first_post_tool_entropy: 0.2, train_post_tool_entropy: step === 0 ? null : 0.3,
    train_policy_failure_rate: null, discard_all_tools_failed: null, discard_group_all_correct: null, discard_group_all_wrong: null,
  };
}

describe('compare', () => {
  // Baseline accuracy .2 at steps 10 and 20; the variant .25 and .35 in every seed: accuracy_avg
  // (mean after step 0) differs by (.05 + .15) / 2 = .10 in every pair.
  const seeds = [1, 2, 3, 4, 5, 6];
  const equalPairs = seeds.flatMap((seed) => [
    row('base', seed, 0, 0.1), row('base', seed, 10, 0.2), row('base', seed, 20, 0.2),
    row('var', seed, 0, 0.1), row('var', seed, 10, 0.25), row('var', seed, 20, 0.35),
  ]);

  it('a zero-width interval is "all pairs equal", never significant, whatever p says', () => {
    const [c] = compare(equalPairs, [{ variant: 'var', baseline: 'base', primary: true }]);
    expect(c.measure).toBe('accuracy_avg');
    expect(c.n).toBe(6);
    expect(c.diff).toBeCloseTo(0.1, 12);
    expect(c.ci_low).toBeCloseTo(0.1, 12);
    expect(c.ci_high).toBeCloseTo(0.1, 12);
    expect(c.p).toBeCloseTo(2 / 64, 12);
    expect(c.all_pairs_equal).toBe(true);
    expect(c.significant).toBe(false);
  });

  it('Holm runs over the primary family only; secondary measures are never significant', () => {
    // Differences .10, .12, ..., .20 across seeds: all positive, so p = 2/64 = .03125 for each primary comparison.
    const rows = seeds.flatMap((seed, i) => [
      row('base', seed, 10, 0.2), row('a', seed, 10, 0.3 + 0.02 * i), row('b', seed, 10, 0.3 + 0.02 * i),
    ]);
    const out = compare(rows, [
      { variant: 'a', baseline: 'base', primary: true },
      { variant: 'b', baseline: 'base', primary: true },
    ], ['accuracy_final']);
    const primary = out.filter((c) => c.primary);
    expect(primary).toHaveLength(2);
    for (const c of primary) {
      expect(c.p).toBeCloseTo(0.03125, 12);
      expect(c.p_holm).toBeCloseTo(0.0625, 12); // 2 x .03125, then monotone
      expect(c.significant).toBe(false);
    }
    const secondary = out.filter((c) => !c.primary);
    expect(secondary.map((c) => c.measure)).toEqual(['accuracy_final', 'accuracy_final']);
    expect(secondary.every((c) => c.p_holm === null && !c.significant)).toBe(true);
  });

  it('only pairs sharing seed and warm start count', () => {
    const rows = [row('base', 1, 10, 0.2), row('var', 1, 10, 0.3), row('var', 2, 10, 0.9)];
    const [c] = compare(rows, [{ variant: 'var', baseline: 'base', primary: true }]);
    expect(c.n).toBe(1);
    expect(c.diff).toBeCloseTo(0.1, 12);
  });
});

describe('evals.csv', () => {
  it('round-trips rows, empty cells as null', () => {
    const rows = [row('tao-rl', 3, 0, 0.125), row('grpo-2x~aa', 3, 60, 0.5)];
    expect(parseEvalsCsv(evalsCsv(rows))).toEqual(rows);
  });
  it('names the line of a bad cell', () => {
    const text = evalsCsv([row('x', 1, 0, 0.1)]).replace(',0.1,', ',zero,');
    expect(() => parseEvalsCsv(text)).toThrow(/line 2: accuracy "zero" is not a number/);
  });
});

describe('combineEvalRows', () => {
  it('takes the union of folders and refuses a run and step found twice', async () => {
    const { combineEvalRows } = await import('../../src/experiment/evidence');
    const a = [row('tao-filter', 1, 0, 0.1), row('tao-filter', 1, 20, 0.5)];
    const b = [row('bonus.coef=1', 1, 0, 0.1), row('bonus.coef=1', 1, 20, 0.6)];
    expect(combineEvalRows([{ file: 'a', rows: a }, { file: 'b', rows: b }])).toEqual([...a, ...b]);
    expect(() => combineEvalRows([{ file: 'a', rows: a }, { file: 'b', rows: [a[1]] }])).toThrow('tao-filter seed 1 step 20 is in both a and b');
  });
});

describe('isMalformedCall', () => {
  it('a policy failure is malformed, a timeout is judged by the tool, a success never is', async () => {
    const { isMalformedCall } = await import('../../src/core/evaluate');
    const { evaluateExpression } = await import('../../src/core/tools/calculator');
    const rejects = (expression: string) => !evaluateExpression(expression).ok;
    expect(isMalformedCall({ expression: '12*3', ok: true, value: '36' }, rejects)).toBe(false);
    expect(isMalformedCall({ expression: '12*3', ok: false, error: 'timeout', cause: 'environment' }, rejects)).toBe(false);
    expect(isMalformedCall({ expression: '12*', ok: false, error: 'timeout', cause: 'environment' }, rejects)).toBe(true);
    // "12*<eos>3" reads "12*3" once the special token drops out: the tool would accept the text.
    expect(isMalformedCall({ expression: '12*3', ok: false, error: 'syntax', cause: 'policy' }, rejects)).toBe(true);
  });
});
