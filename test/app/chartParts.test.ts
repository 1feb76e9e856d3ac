// The live charts' x extent: the last step rounded up to a round step of about half the span.

import { describe, expect, it } from 'vitest';
import { liveStepDomain, stepTicks } from '../../src/app/panels/chartParts';

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
