// @vitest-environment jsdom
// The charts name their metrics by registry key (a typo is a compile error; this also checks the
// values at run time) and take their titles, legends and number formats from the registry.

import { describe, expect, it } from 'vitest';
import { isMetricKey, metricTitle } from '../../src/core/metrics';
import { CHARTS as COMPARE_CHARTS } from '../../src/app/panels/Compare';
import { CHARTS as CURVE_CHARTS } from '../../src/app/panels/Curves';
import { unitFormat } from '../../src/app/panels/chartParts';

describe('chart specs', () => {
  it('reference registry keys only', () => {
    const charted: string[] = [
      ...CURVE_CHARTS.flatMap((chart) => chart.series.map((series) => series.key)),
      ...COMPARE_CHARTS.map((chart) => chart.metric),
    ];
    expect(charted.length).toBeGreaterThan(0);
    expect(charted.filter((key) => !isMetricKey(key))).toEqual([]);
  });

  it('title the comparison charts as before, from the registry', () => {
    expect(COMPARE_CHARTS.map((chart) => metricTitle(chart.metric))).toEqual([
      'Training reward (accuracy)',
      'Held-out sampled accuracy',
      'Entropy, all policy tokens (nats)',
      'Entropy, post-tool tokens (nats)',
      'Tool calls failed',
      'Kept trajectories',
    ]);
  });

  it('format an axis by its unit', () => {
    expect(unitFormat('fraction')(0.426)).toBe('43%');
    expect(unitFormat('nats')(1.234)).toBe('1.23');
    expect(unitFormat('tokens/s')(5120)).toBe('5.1k');
    expect(unitFormat('loss')(0.00042)).toBe('4.2e-4');
  });
});
