// metrics.csv: a header of `step` and every registry step metric, one line per step, empty fields
// where a step has no value, and an older file's metric names renamed.

import { describe, expect, it } from 'vitest';
import { STEP_METRICS } from '../../src/core/metrics';
import { METRIC_COLUMNS, metricsCsv, metricsCsvHeader, metricsCsvLine } from '../../src/runs/metricsCsv';

const columnOf = (header: string, name: string) => header.trimEnd().split(',').indexOf(name);

describe('metrics.csv', () => {
  it('has one column per step metric of the registry, after step', () => {
    expect(METRIC_COLUMNS).toEqual(Object.keys(STEP_METRICS));
    expect(metricsCsvHeader()).toBe(`step,${METRIC_COLUMNS.join(',')}\n`);
    expect(metricsCsvHeader(['variant', 'seed'])).toMatch(/^variant,seed,step,critic\/score\/mean,/);
  });

  it('writes one line per step, blank where a value is missing or not finite', () => {
    const text = metricsCsv([
      { step: 1, metrics: { 'critic/score/mean': 0.25, 'actor/pg_clipfrac': 0.125 } },
      { step: 2, metrics: { 'critic/score/mean': 0.5, 'actor/pg_clipfrac': NaN } },
    ]);
    const [header, first, second, end] = text.split('\n');
    expect(end).toBe('');
    const fields = (line: string) => line.split(',');
    expect(fields(first)).toHaveLength(METRIC_COLUMNS.length + 1);
    expect(fields(first)[0]).toBe('1');
    expect(fields(first)[columnOf(header, 'critic/score/mean')]).toBe('0.25');
    expect(fields(first)[columnOf(header, 'actor/pg_clipfrac')]).toBe('0.125');
    expect(fields(second)[columnOf(header, 'actor/pg_clipfrac')]).toBe('');
    expect(fields(second)[columnOf(header, 'grad_norm')]).toBe('');
  });

  it('renames an older report, quotes a leading field with a comma, and rounds to 8 digits', () => {
    const header = metricsCsvHeader(['variant']);
    const line = metricsCsvLine(3, { 'reward/mean': 1 / 3, 'tools/call_frequency': 0.5, 'tools/calls_per_trajectory': 2 }, ['a,b']);
    expect(line.startsWith('"a,b",3,')).toBe(true);
    const fields = line.trimEnd().replace('"a,b"', 'a;b').split(',');
    expect(fields[columnOf(header, 'critic/score/mean')]).toBe('0.33333333');
    expect(fields[columnOf(header, 'tools/call_frequency')]).toBe('2');
    expect(fields[columnOf(header, 'tools/call_rate')]).toBe('0.5');
  });
});
