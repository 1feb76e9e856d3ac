// metrics.csv: one row per step, one column per step metric of the registry (core/metrics.ts), in
// its order, so `pandas.read_csv("metrics.csv")` reads it as it is: a header row, numbers in
// plain decimal, an empty field where a step has no value (a skipped update, a WebGPU-only metric,
// NaN). Leading columns (an experiment's variant and seed) come before `step`.
// Written by `train --csv`, the experiment runner and the page's Runs panel.

import { currentStepMetrics, STEP_METRICS, type StepMetricKey, type StepMetrics } from '../core/metrics';

/** Every step metric, in the registry's order: the columns after `step`. */
export const METRIC_COLUMNS = Object.keys(STEP_METRICS) as StepMetricKey[];

export type CsvValue = string | number | null | undefined;

/** A field as CSV writes it: quoted when it holds a comma, a quote or a line break. */
function field(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(Number.isInteger(value) ? value : Number(value.toPrecision(8))) : '';
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** The header line: the leading columns, `step`, then every metric. */
export function metricsCsvHeader(leading: readonly string[] = []): string {
  return `${[...leading, 'step', ...METRIC_COLUMNS].map(field).join(',')}\n`;
}

/** One step's line; `metrics` may use an older file's names (they are renamed). */
export function metricsCsvLine(step: number, metrics: StepMetrics | Record<string, number>, leading: readonly CsvValue[] = []): string {
  const current = currentStepMetrics(metrics as Record<string, number>);
  return `${[...leading, step, ...METRIC_COLUMNS.map((key) => current[key])].map(field).join(',')}\n`;
}

/** A whole run's metrics.csv. */
export function metricsCsv(steps: readonly { step: number; metrics: StepMetrics }[]): string {
  return metricsCsvHeader() + steps.map((s) => metricsCsvLine(s.step, s.metrics)).join('');
}
