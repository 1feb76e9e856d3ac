import { describe, expect, it } from 'vitest';
import {
  formatCI,
  mean,
  meanCI,
  pairedDifference,
  sampleStd,
  stepsToTarget,
  tQuantile975,
} from '../../src/experiment/stats';

describe('mean and sampleStd', () => {
  it('match hand sums', () => {
    // (1+2+3+4+5+6)/6 = 21/6 = 3.5
    expect(mean([1, 2, 3, 4, 5, 6])).toBe(3.5);
    // mean 5; squared deviations 9,1,1,1,0,0,4,16 sum to 32; 32/7 = 4.571429; sqrt = 2.138090
    expect(sampleStd([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(2.13809, 5);
    // a single value has no spread estimate
    expect(sampleStd([5])).toBe(0);
  });

  it('throw a clear error on empty input', () => {
    expect(() => mean([])).toThrow(/empty/);
    expect(() => sampleStd([])).toThrow(/empty/);
    expect(() => meanCI([])).toThrow(/empty/);
  });
});

describe('tQuantile975', () => {
  it('returns the printed table for df 1..30', () => {
    // Standard two-sided 95% t table (e.g. any statistics textbook appendix).
    const table: [number, number][] = [
      [1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [6, 2.447], [7, 2.365],
      [8, 2.306], [9, 2.262], [10, 2.228], [15, 2.131], [20, 2.086], [25, 2.06], [30, 2.042],
    ];
    for (const [df, t] of table) expect(tQuantile975(df)).toBe(t);
  });

  it('approximates the table beyond df 30 to 1e-3', () => {
    // Printed table: t(40) = 2.021, t(60) = 2.000, t(120) = 1.980, t(1000) = 1.962.
    expect(Math.abs(tQuantile975(40) - 2.021)).toBeLessThan(1e-3);
    expect(Math.abs(tQuantile975(60) - 2.0)).toBeLessThan(1e-3);
    expect(Math.abs(tQuantile975(120) - 1.98)).toBeLessThan(1e-3);
    expect(Math.abs(tQuantile975(1000) - 1.962)).toBeLessThan(1e-3);
    // As df grows, t tends to the normal quantile z_0.975 = 1.959964.
    expect(tQuantile975(1e9)).toBeCloseTo(1.959964, 6);
    // The approximation continues the table downward: t(31) = 2.040 (scipy: 2.039513) < t(30) = 2.042.
    expect(tQuantile975(31)).toBeLessThan(tQuantile975(30));
    expect(Math.abs(tQuantile975(31) - 2.0395)).toBeLessThan(1e-4);
  });

  it('rejects df below 1 and fractional table df', () => {
    expect(() => tQuantile975(0)).toThrow(/df/);
    expect(() => tQuantile975(2.5)).toThrow(/df/);
    expect(() => tQuantile975(NaN)).toThrow(/df/);
  });
});

describe('meanCI', () => {
  it('uses t(n-1) * s / sqrt(n)', () => {
    const ci = meanCI([1, 2, 3, 4, 5, 6]);
    // mean 3.5; squared deviations 6.25,2.25,0.25,0.25,2.25,6.25 sum 17.5; s = sqrt(17.5/5) = sqrt(3.5) = 1.870829
    // halfWidth = t(5) * s / sqrt(6) = 2.571 * sqrt(3.5/6) = 2.571 * 0.7637626 = 1.963634
    expect(ci.mean).toBe(3.5);
    expect(ci.n).toBe(6);
    expect(ci.halfWidth).toBeCloseTo(1.963634, 5);
    expect(ci.low).toBeCloseTo(3.5 - 1.963634, 5); // 1.536366
    expect(ci.high).toBeCloseTo(3.5 + 1.963634, 5); // 5.463634
  });

  it('for two values is t(1) wide', () => {
    // [0, 2]: mean 1, s = sqrt((1 + 1) / 1) = sqrt(2), halfWidth = 12.706 * sqrt(2) / sqrt(2) = 12.706
    const ci = meanCI([0, 2]);
    expect(ci.halfWidth).toBeCloseTo(12.706, 9);
    expect(ci.low).toBeCloseTo(1 - 12.706, 9);
  });

  it('is unbounded for a single value', () => {
    expect(meanCI([0.7])).toEqual({ mean: 0.7, low: -Infinity, high: Infinity, halfWidth: Infinity, n: 1 });
  });
});

describe('pairedDifference', () => {
  it('is the CI of the per-index differences', () => {
    // a - b = [3-1, 5-4, 4-4, 6-3] = [2, 1, 0, 3]; mean 1.5
    // squared deviations 0.25, 0.25, 2.25, 2.25 sum 5; s = sqrt(5/3) = 1.290994
    // halfWidth = t(3) * s / sqrt(4) = 3.182 * 0.645497 = 2.053972
    const d = pairedDifference([3, 5, 4, 6], [1, 4, 4, 3]);
    expect(d.pairs).toBe(4);
    expect(d.n).toBe(4);
    expect(d.mean).toBe(1.5);
    expect(d.halfWidth).toBeCloseTo(2.053972, 5);
    expect(d.low).toBeCloseTo(1.5 - 2.053972, 5); // -0.553972
    expect(d.high).toBeCloseTo(1.5 + 2.053972, 5); // 3.553972
  });

  it('throws when the lengths differ', () => {
    expect(() => pairedDifference([1, 2], [1])).toThrow(/lengths differ/);
  });

  it('is unbounded for a single pair', () => {
    const d = pairedDifference([0.9], [0.6]);
    expect(d.mean).toBeCloseTo(0.3, 12); // 0.9 - 0.6
    expect(d.halfWidth).toBe(Infinity);
    expect(d.pairs).toBe(1);
  });
});

describe('stepsToTarget', () => {
  const curve = [
    { step: 0, value: 0.1 },
    { step: 10, value: 0.5 },
    { step: 20, value: 0.8 },
    { step: 30, value: 0.7 },
    { step: 40, value: 0.9 },
  ];

  it('returns the first step whose value reaches the target (inclusive)', () => {
    expect(stepsToTarget(curve, 0.8)).toBe(20); // 0.8 >= 0.8 at step 20; the dip at 30 does not matter
    expect(stepsToTarget(curve, 0.5)).toBe(10);
    expect(stepsToTarget(curve, 0.85)).toBe(40);
    expect(stepsToTarget([...curve].reverse(), 0.8)).toBe(20); // earliest step, not first in the array
  });

  it('returns null when the target is never reached', () => {
    expect(stepsToTarget(curve, 0.95)).toBeNull();
    expect(stepsToTarget([], 0)).toBeNull();
  });
});

describe('formatCI', () => {
  it('prints mean ± half-width, or n=1', () => {
    // halfWidth 1.963634 from the meanCI example above
    expect(formatCI(meanCI([1, 2, 3, 4, 5, 6]))).toBe('3.500 ± 1.964');
    expect(formatCI(meanCI([1, 2, 3, 4, 5, 6]), 2)).toBe('3.50 ± 1.96');
    expect(formatCI(meanCI([0.812]))).toBe('0.812 (n=1)');
  });
});
