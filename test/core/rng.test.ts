// Seeded, splittable random numbers (src/core/rng.ts).
import { describe, expect, it } from 'vitest';
import { hashString, Rng } from '../../src/core/rng';

const draws = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.next());

describe('hashString', () => {
  it('is 32-bit FNV-1a (published test vectors)', () => {
    // Vectors from the FNV reference (isthe.com/chongo/tech/comp/fnv): offset basis for "",
    // FNV-1a 32 of "a" = 0xe40c292c, of "foobar" = 0xbf9cf968.
    expect(hashString('')).toBe(0x811c9dc5);
    expect(hashString('a')).toBe(0xe40c292c);
    expect(hashString('foobar')).toBe(0xbf9cf968);
  });
});

describe('Rng', () => {
  it('gives the same stream for the same seed and a different one for another seed', () => {
    expect(draws(new Rng(42), 100)).toEqual(draws(new Rng(42), 100));
    expect(draws(new Rng(42), 100)).not.toEqual(draws(new Rng(43), 100));
  });

  it('draws uniform numbers in [0, 1)', () => {
    const xs = draws(new Rng(7), 20000);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    // mean of U(0,1) is 1/2, sd of the mean sqrt(1/12 / 20000) = .00204; 4 sd = .0082
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.0082);
  });

  it('forks streams that do not depend on how much the parent was used', () => {
    const fresh = new Rng(5);
    const used = new Rng(5);
    draws(used, 1000);
    expect(draws(used.fork('env'), 50)).toEqual(draws(fresh.fork('env'), 50));
    // forking draws nothing from the parent either
    const a = new Rng(5);
    const b = new Rng(5);
    a.fork('x');
    expect(draws(a, 20)).toEqual(draws(b, 20));
  });

  it('forks different streams for different labels and seeds, unlike the parent', () => {
    const parent = draws(new Rng(5), 50);
    const env = draws(new Rng(5).fork('env'), 50);
    const prompts = draws(new Rng(5).fork('prompts'), 50);
    const otherSeed = draws(new Rng(6).fork('env'), 50);
    expect(env).not.toEqual(parent);
    expect(env).not.toEqual(prompts);
    expect(env).not.toEqual(otherSeed);
    // a fork of a fork is reproducible too
    expect(draws(new Rng(5).fork('a').fork('b'), 10)).toEqual(draws(new Rng(5).fork('a').fork('b'), 10));
  });

  it('int(n) covers [0, n) evenly and range(lo, hi) is inclusive', () => {
    const rng = new Rng(11);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60000; i++) {
      counts[rng.int(6)] += 1; // a value out of [0, 6) or not an integer would add a slot
    }
    expect(counts).toHaveLength(6);
    // expected 10000 each; sd sqrt(60000 * 1/6 * 5/6) = 91.3; 5 sd = 456
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(456);

    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      seen.add(rng.range(10, 14));
    }
    expect([...seen].sort()).toEqual([10, 11, 12, 13, 14]);
    expect(rng.range(3, 3)).toBe(3);
  });

  it('bernoulli(p) fires at rate p', () => {
    const rng = new Rng(3);
    let hits = 0;
    for (let i = 0; i < 20000; i++) if (rng.bernoulli(0.3)) hits += 1;
    // sd sqrt(.3 * .7 / 20000) = .00324; 4 sd = .013
    expect(Math.abs(hits / 20000 - 0.3)).toBeLessThan(0.013);
    expect(new Rng(3).bernoulli(0)).toBe(false);
    expect(new Rng(3).bernoulli(1)).toBe(true);
  });

  it('shuffle returns the same array, a permutation of it, reproducibly', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = new Rng(9).shuffle(items);
    expect(shuffled).toBe(items); // in place
    expect([...shuffled].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffled).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new Rng(9).shuffle(Array.from({ length: 50 }, (_, i) => i))).toEqual(shuffled);
  });

  it('shuffle puts each element in each slot about equally often', () => {
    // 3 elements, 6 permutations: each should appear 1/6 of the time (Fisher-Yates is unbiased).
    const rng = new Rng(21);
    const counts = new Map<string, number>();
    for (let i = 0; i < 12000; i++) {
      const key = rng.shuffle(['a', 'b', 'c']).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    // expected 2000 each; sd sqrt(12000 * 1/6 * 5/6) = 40.8; 5 sd = 204
    for (const c of counts.values()) expect(Math.abs(c - 2000)).toBeLessThan(204);
  });
});
