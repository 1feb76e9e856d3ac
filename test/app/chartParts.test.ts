// The live charts' x extent: the last step rounded up to a round step of about half the span.

import { describe, expect, it } from 'vitest';
import { liveStepDomain, stepTicks, yAxisScale } from '../../src/app/panels/chartParts';

describe('liveStepDomain', () => {
  it('rounds the last step up to a round step of about half the span', () => {
    // span 12, half 6: nearest round step 5 -> 13 rounds up to 15
    expect(liveStepDomain(1, 13)).toEqual([1, 15]);
    expect(liveStepDomain(1, 15)).toEqual([1, 15]);
    // span 15, half 7.5: nearest round step 10 -> 20
    expect(liveStepDomain(1, 16)).toEqual([1, 20]);
    // span 6, half 3: round step 2 -> 7 rounds up to 8
    expect(liveStepDomain(1, 7)).toEqual([1, 8]);
    // span 199, half 99.5: round step 100 -> 200
    expect(liveStepDomain(1, 200)).toEqual([1, 200]);
    expect(liveStepDomain(1, 201)).toEqual([1, 300]);
  });

  it('stays put while steps arrive within a round step', () => {
    const extents = [21, 22, 23, 24, 25].map((last) => liveStepDomain(1, last));
    // span 20-24, half 10-12: step 10 -> every last step in 21..25 rounds up to 30
    expect(new Set(extents.map(String))).toEqual(new Set(['1,30']));
  });

  it('gives a single step a width of one', () => {
    expect(liveStepDomain(1, 1)).toEqual([1, 2]);
    expect(stepTicks(1, 2)).toEqual([1, 2]);
  });
});

describe('yAxisScale', () => {
  it('gives a from-zero axis whose values are all zero the range [0, 1], not -1..1', () => {
    const rows = [{ step: 1, clip: 0 }, { step: 2, clip: 0 }];
    expect(yAxisScale(rows, ['clip'], undefined, true)).toEqual({ domain: [0, 1], ticks: [0, 0.2, 0.4, 0.6, 0.8, 1] });
  });

  it('widens other ranges to round numbers from zero', () => {
    // 0..0.03 over about 4 ticks: step 0.01 (0.0075 rounds to 0.01), domain [0, 0.03]
    expect(yAxisScale([{ step: 1, clip: 0.03 }, { step: 2, clip: 0.012 }], ['clip'], undefined, true).domain).toEqual([0, 0.03]);
  });
});
