// Batch filling (src/core/trainer.ts `fillBatch`; docs/algorithm.md §2.3).
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/core/rng';
import { fillBatch } from '../../src/core/trainer';

const count = (values: number[]) => {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
};

describe('fillBatch', () => {
  it('with the group filter off, trains on every group', () => {
    const groups = [0, 1, 2, 3, 4, 5, 6, 7];
    expect(fillBatch(groups, 8, 'duplicate', false, new Rng(1))).toEqual(groups);
    expect(fillBatch(groups, 8, 'resample', false, new Rng(1))).toEqual(groups);
  });

  it('with a surplus, keeps a random subset of exactly `needed` survivors, sorted', () => {
    const survivors = [0, 2, 3, 5, 8, 9, 11, 12, 14, 15];
    const seenSubsets = new Set<string>();
    for (let seed = 0; seed < 30; seed++) {
      for (const fill of ['duplicate', 'resample'] as const) {
        const chosen = fillBatch(survivors, 4, fill, true, new Rng(seed));
        expect(chosen).toHaveLength(4);
        expect(new Set(chosen).size).toBe(4); // no group twice
        expect(chosen.every((g) => survivors.includes(g))).toBe(true);
        expect(chosen).toEqual([...chosen].sort((a, b) => a - b));
        seenSubsets.add(chosen.join(','));
      }
    }
    expect(seenSubsets.size).toBeGreaterThan(10); // random, not the first four every time
    // exactly as many survivors as needed: all of them
    expect(fillBatch([1, 4, 6], 3, 'duplicate', true, new Rng(1))).toEqual([1, 4, 6]);
  });

  it('does not modify the survivors it was given', () => {
    const survivors = [9, 3, 7, 1, 5];
    fillBatch(survivors, 2, 'duplicate', true, new Rng(2));
    fillBatch(survivors, 9, 'duplicate', true, new Rng(2));
    expect(survivors).toEqual([9, 3, 7, 1, 5]);
  });

  it("with a shortage and 'duplicate', keeps every survivor and duplicates survivors up to `needed`", () => {
    for (let seed = 0; seed < 10; seed++) {
      const chosen = fillBatch([2, 5, 7], 8, 'duplicate', true, new Rng(seed));
      expect(chosen).toHaveLength(8);
      expect(chosen.slice(0, 3)).toEqual([2, 5, 7]); // all survivors first
      expect(chosen.every((g) => [2, 5, 7].includes(g))).toBe(true);
      // 8 = 3 originals + 5 copies taken in turn over a shuffled order: each group 2 or 3 times
      for (const n of count(chosen).values()) expect(n === 2 || n === 3).toBe(true);
    }
    // one survivor fills the whole batch
    expect(fillBatch([4], 3, 'duplicate', true, new Rng(1))).toEqual([4, 4, 4]);
  });

  it("with a shortage and 'resample', returns the survivors only", () => {
    expect(fillBatch([2, 5, 7], 8, 'resample', true, new Rng(1))).toEqual([2, 5, 7]);
  });

  it('with no survivor, returns no group (the step is skipped)', () => {
    expect(fillBatch([], 8, 'duplicate', true, new Rng(1))).toEqual([]);
    expect(fillBatch([], 8, 'resample', true, new Rng(1))).toEqual([]);
  });

  it('is reproducible for a seed', () => {
    const survivors = Array.from({ length: 16 }, (_, i) => i);
    expect(fillBatch(survivors, 8, 'duplicate', true, new Rng(3))).toEqual(fillBatch(survivors, 8, 'duplicate', true, new Rng(3)));
  });
});
