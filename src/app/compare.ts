// Comparing finished or running runs: which settings differ between them, and one metric of each
// run side by side as rows a chart can draw (one column per run). Pure: no React, no store.

import type { Config } from '../core/config';
import type { Evaluation } from '../core/evaluate';
import { leavesOf, sameLeaf } from '../core/settings';

/** A run as the compare view needs it, whatever it came from (this browser, a file, a folder). */
export interface ComparedRun {
  /** Unique among the compared runs: the column key of its values in overlay rows. */
  id: string;
  /** What legends and table headers call the run. */
  name: string;
  config: Config;
  steps: { step: number; metrics: Record<string, number> }[];
  evaluations: { step: number; evaluation: Evaluation }[];
}

/** Held-out sampled accuracy (mean@k), a pseudo-metric taken from the run's evaluations. */
export const HELD_OUT_SAMPLED = 'held_out/sampled_accuracy';

/** Most rows of one overlay; longer runs are strided (each run's last step is always kept). */
export const MAX_OVERLAY_ROWS = 500;

/** One step: run id -> that run's value of the metric; null where the run has none there. */
export type OverlayRow = { step: number } & Record<string, number | null>;

export interface ConfigDifference {
  /** Dotted path of the field, e.g. `shape.bonus.coef`. */
  field: string;
  /** The field's value in each config, formatted for reading, in the configs' order. */
  values: string[];
}

// ---------------------------------------------------------------------------------------------
// Settings that differ

/** A leaf as a person reads it in the table. */
function formatLeaf(value: unknown): string {
  if (value === undefined) return '—'; // a config from an older file may lack a newer field
  if (value === null) return 'none';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number' || typeof value === 'string') return String(value);
  return JSON.stringify(value);
}

/**
 * The fields whose values are not all equal across the configs, in the first config's field order
 * (fields only later configs have come after, in their order), each with its readable values.
 */
export function configDifferences(configs: Config[]): ConfigDifference[] {
  // Every leaf, not only the registry's: a config from a file may carry fields this version lacks.
  const flat = configs.map((config) => new Map(leavesOf(config)));
  const fields = [...new Set(flat.flatMap((fieldsOfOne) => [...fieldsOfOne.keys()]))];
  const differences: ConfigDifference[] = [];
  for (const field of fields) {
    const leaves = flat.map((fieldsOfOne) => fieldsOfOne.get(field));
    if (leaves.some((leaf) => !sameLeaf(leaf, leaves[0]))) differences.push({ field, values: leaves.map(formatLeaf) });
  }
  return differences;
}

// ---------------------------------------------------------------------------------------------
// Curves overlaid

/** Step -> value of one metric in one run, finite values only, in step order. */
function metricByStep(run: ComparedRun, metric: string): Map<number, number> {
  const values = new Map<number, number>();
  if (metric === HELD_OUT_SAMPLED) {
    for (const { step, evaluation } of run.evaluations) {
      if (Number.isFinite(evaluation.sampledAccuracy)) values.set(step, evaluation.sampledAccuracy);
    }
  } else {
    for (const { step, metrics } of run.steps) {
      const value = metrics[metric];
      if (value !== undefined && Number.isFinite(value)) values.set(step, value);
    }
  }
  return new Map([...values].sort(([a], [b]) => a - b));
}

/**
 * One row per step at which any run has a value of `metric`, one column per run id (null where
 * that run has none). Past MAX_OVERLAY_ROWS steps, every stride-th step of the union is kept, so
 * runs that log the same steps stay aligned, plus each run's last step, so every line reaches its end.
 */
export function overlayRows(runs: ComparedRun[], metric: string): OverlayRow[] {
  const byRun = runs.map((run) => metricByStep(run, metric));
  const steps = [...new Set(byRun.flatMap((values) => [...values.keys()]))].sort((a, b) => a - b);
  const stride = Math.max(1, Math.ceil(steps.length / MAX_OVERLAY_ROWS));
  const kept = new Set(steps.filter((_, i) => i % stride === 0));
  for (const values of byRun) {
    const last = [...values.keys()].at(-1);
    if (last !== undefined) kept.add(last);
  }
  return steps
    .filter((step) => kept.has(step))
    .map((step) => {
      const row: OverlayRow = { step };
      runs.forEach((run, i) => (row[run.id] = byRun[i].get(step) ?? null));
      return row;
    });
}
