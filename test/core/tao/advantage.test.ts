// GRPO advantages (docs/algorithm.md §3 and §8.3), expected values worked out by hand.
import { describe, expect, it } from 'vitest';
import {
  groupAdvantages,
  groupMembers,
  populationStd,
  sampleStd,
} from '../../../src/core/tao/advantage';

const all = (n: number) => new Array<boolean>(n).fill(true);

describe('group statistics', () => {
  it('divides by n for the population std and n - 1 for the sample std', () => {
    // [1, 0, 0, 1]: mean .5, squared deviations .25 each, sum 1
    expect(populationStd([1, 0, 0, 1])).toBeCloseTo(0.5, 12); // sqrt(1/4) = .5
    expect(sampleStd([1, 0, 0, 1])).toBeCloseTo(Math.sqrt(1 / 3), 12); // sqrt(1/3) = .57735
    expect(sampleStd([4])).toBe(0); // fewer than two values
  });

  it('lists members per group in order of first appearance', () => {
    expect([...groupMembers([3, 1, 3, 1, 2]).entries()]).toEqual([
      [3, [0, 2]],
      [1, [1, 3]],
      [2, [4]],
    ]);
  });
});

describe('groupAdvantages (GRPO)', () => {
  it('normalises by the sample std plus 1e-6', () => {
    // rewards [1,0,0,1]: mean .5, sample std sqrt(1/3) = .5773503
    // A = +-.5 / (.5773503 + 1e-6) = +-.8660239
    const a = groupAdvantages([1, 0, 0, 1], [0, 0, 0, 0], all(4), true);
    const expected = 0.5 / (Math.sqrt(1 / 3) + 1e-6);
    expect(expected).toBeCloseTo(0.866024, 6);
    expect(a[0]).toBeCloseTo(expected, 12);
    expect(a[1]).toBeCloseTo(-expected, 12);
    expect(a[2]).toBeCloseTo(-expected, 12);
    expect(a[3]).toBeCloseTo(expected, 12);
  });

  it('keeps groups separate, interleaved or not', () => {
    // group 0 = [1, 0]: mean .5, sample std sqrt(.5) = .7071068, A = +-.5 / .7071078 = +-.7071058
    // group 1 = [1, 1, 0]: mean 2/3, squared deviations 1/9 + 1/9 + 4/9 = 2/3, / 2 -> std sqrt(1/3)
    //   A(1) = (1/3) / (.5773503 + 1e-6) = .5773493, A(0) = (-2/3) / (.5773513) = -1.1546985
    const a = groupAdvantages([1, 1, 0, 1, 0], [0, 1, 0, 1, 1], all(5), true);
    const g0 = 0.5 / (Math.sqrt(0.5) + 1e-6);
    const g1 = Math.sqrt(1 / 3) + 1e-6;
    expect(g0).toBeCloseTo(0.7071058, 6);
    expect(a[0]).toBeCloseTo(g0, 12);
    expect(a[2]).toBeCloseTo(-g0, 12);
    expect(a[1]).toBeCloseTo(1 / 3 / g1, 12);
    expect(a[3]).toBeCloseTo(1 / 3 / g1, 12);
    expect(a[4]).toBeCloseTo(-2 / 3 / g1, 12);
    expect(-2 / 3 / g1).toBeCloseTo(-1.1546985, 6);
  });

  it('gives 0 to a group whose rewards are all equal', () => {
    // mean 1, std 0: (1 - 1) / (0 + 1e-6) = 0
    expect(groupAdvantages([1, 1, 1], [0, 0, 0], all(3), true)).toEqual([0, 0, 0]);
  });

  it('exclude baseline: a left-out trajectory still gets its A from the others', () => {
    // rewards [1,0,0,1], trajectory 2 left out: baseline [1,0,1], mean 2/3, sample std sqrt(1/3)
    // A(1) = (1/3) / (.5773503 + 1e-6) = .5773493; A(0) = (-2/3) / .5773513 = -1.1546985
    const a = groupAdvantages([1, 0, 0, 1], [0, 0, 0, 0], [true, true, false, true], true);
    const scale = Math.sqrt(1 / 3) + 1e-6;
    expect(a[0]).toBeCloseTo(1 / 3 / scale, 12);
    expect(a[1]).toBeCloseTo(-2 / 3 / scale, 12);
    expect(a[2]).toBeCloseTo(-2 / 3 / scale, 12); // the excluded one, same formula
    expect(a[3]).toBeCloseTo(1 / 3 / scale, 12);
  });

  it('a baseline of exactly one uses mean 0 and std 1', () => {
    // baseline [1] -> A = r / (1 + 1e-6): 1 / 1.000001 = .999999, 0 / 1.000001 = 0
    const a = groupAdvantages([1, 0, 1], [0, 0, 0], [true, false, false], true);
    expect(a[0]).toBeCloseTo(1 / 1.000001, 12);
    expect(a[1]).toBe(0);
    expect(a[2]).toBeCloseTo(1 / 1.000001, 12);
    // a group of one (group filter off) is the same case: 1 / (1 + 1e-6) = .999999000001
    expect(groupAdvantages([1], [7], [true], true)[0]).toBeCloseTo(0.999999000001, 12);
  });

  it('an empty baseline set gives A = 0', () => {
    expect(groupAdvantages([1, 0, 1], [0, 0, 0], [false, false, false], true)).toEqual([0, 0, 0]);
  });
});

describe('groupAdvantages (Dr. GRPO, no std division)', () => {
  it('is r - mean', () => {
    // [1,0,0,1]: mean .5 -> +-.5; [2, .5, .5]: mean 1 -> 1, -.5, -.5
    expect(groupAdvantages([1, 0, 0, 1], [0, 0, 0, 0], all(4), false)).toEqual([0.5, -0.5, -0.5, 0.5]);
    expect(groupAdvantages([2, 0.5, 0.5], [1, 1, 1], all(3), false)).toEqual([1, -0.5, -0.5]);
  });

  it('a one-member baseline gives r - 0 = r; an empty one gives 0', () => {
    expect(groupAdvantages([1, 0], [0, 0], [true, false], false)).toEqual([1, 0]);
    expect(groupAdvantages([1, 0], [0, 0], [false, false], false)).toEqual([0, 0]);
  });
});
