// The evidence of an experiment as a table a reader can recompute: evals.csv (one row per run and
// held-out evaluation) and the comparisons named in the plan, each a paired difference by seed and
// warm start with a 95% t-interval, a paired permutation p and Holm's correction over the primary
// family. summary.json, summary.md and the plots come from evals.csv alone (`npm run summarize`).

import type { Evaluation } from '../core/evaluate';
import type { PlannedComparison } from './plan';
import { holm, mean, meanCI, pairedPermutationP } from './stats';

/** The columns of evals.csv, in order. */
export const EVAL_COLUMNS = [
  'variant',
  'seed',
  'warm_start',
  'step',
  'trajectories',
  'prompts',
  'samples',
  'accuracy',
  'pass_at_1',
  'pass_at_4',
  'pass_at_8',
  'call_rate',
  'call_failure_rate',
  'malformed_call_rate',
  'environment_failure_rate',
  'first_post_tool_entropy',
  // Training since the previous evaluation (empty at step 0): means over those steps' reports.
  'train_post_tool_entropy',
  'train_policy_failure_rate',
  'discard_all_tools_failed',
  'discard_group_all_correct',
  'discard_group_all_wrong',
] as const;

export type EvalColumn = (typeof EVAL_COLUMNS)[number];
type KeyColumn = 'variant' | 'seed' | 'warm_start' | 'step';
/** One row: variant is text, seed, warm start and step numbers, every other column a number or null (not measured). */
export type EvalRow = { variant: string; seed: number; warm_start: number; step: number } & {
  [K in Exclude<EvalColumn, KeyColumn>]: number | null;
};

/** The step-report metrics the training columns average. */
const TRAINING_COLUMNS: [EvalColumn, string][] = [
  ['train_post_tool_entropy', 'entropy/post_tool_mean'],
  ['train_policy_failure_rate', 'tools/failure_policy'],
  ['discard_all_tools_failed', 'filter/all_tools_failed'],
  ['discard_group_all_correct', 'filter/group_all_correct'],
  ['discard_group_all_wrong', 'filter/group_all_wrong'],
];

/** A finished run as the rows of evals.csv. */
export function runEvalRows(
  run: { variant: string; seed: number; warmStart: number },
  steps: { step: number; metrics: Record<string, number> }[],
  evaluations: ({ step: number; trajectories?: number } & Evaluation)[],
): EvalRow[] {
  let previous = 0;
  return evaluations.map((evaluation) => {
    const since = steps.filter((s) => s.step > previous && s.step <= evaluation.step);
    previous = evaluation.step;
    const training = Object.fromEntries(
      TRAINING_COLUMNS.map(([column, metric]) => {
        const values = since.map((s) => s.metrics[metric]).filter((v) => typeof v === 'number' && Number.isFinite(v));
        return [column, values.length === 0 ? null : mean(values)];
      }),
    );
    return {
      variant: run.variant,
      seed: run.seed,
      warm_start: run.warmStart,
      step: evaluation.step,
      trajectories: evaluation.trajectories ?? null,
      prompts: evaluation.prompts,
      samples: evaluation.samples,
      accuracy: evaluation.sampledAccuracy,
      pass_at_1: evaluation.passAt?.['1'] ?? null,
      pass_at_4: evaluation.passAt?.['4'] ?? null,
      pass_at_8: evaluation.passAt?.['8'] ?? null,
      call_rate: evaluation.callRate,
      call_failure_rate: evaluation.callFailureRate,
      malformed_call_rate: evaluation.malformedCallRate ?? null,
      environment_failure_rate: evaluation.environmentFailureRate,
      first_post_tool_entropy: evaluation.firstPostToolEntropy ?? null,
      ...training,
    } as EvalRow;
  });
}

function cell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'string') return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(8)));
}

export function evalsCsv(rows: EvalRow[]): string {
  const lines = [EVAL_COLUMNS.join(',')];
  for (const row of rows) lines.push(EVAL_COLUMNS.map((column) => cell(row[column])).join(','));
  return `${lines.join('\n')}\n`;
}

/** Reads evals.csv; a row of the wrong width or a non-number names its line. */
export function parseEvalsCsv(text: string): EvalRow[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length === 0) throw new Error('evals.csv is empty');
  const header = lines[0].split(',');
  const missing = EVAL_COLUMNS.filter((column) => !header.includes(column));
  if (missing.length > 0) throw new Error(`evals.csv: the header lacks ${missing.join(', ')}`);
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    if (cells.length !== header.length) throw new Error(`evals.csv line ${i + 2}: ${cells.length} cells, the header has ${header.length}`);
    const row: Record<string, string | number | null> = {};
    header.forEach((column, c) => {
      const raw = cells[c];
      if (column === 'variant') row[column] = raw;
      else if (raw === '' && !['seed', 'warm_start', 'step'].includes(column)) row[column] = null;
      else {
        const value = Number(raw);
        if (raw === '' || !Number.isFinite(value)) throw new Error(`evals.csv line ${i + 2}: ${column} "${raw}" is not a number`);
        row[column] = value;
      }
    });
    return row as EvalRow;
  });
}

/**
 * The union of several folders' rows (variants that ran in separate experiments on the same seeds
 * and warm starts); the same variant, seed and step twice would be counted twice, so it is refused.
 */
export function combineEvalRows(sources: { file: string; rows: EvalRow[] }[]): EvalRow[] {
  const seen = new Map<string, string>();
  const rows: EvalRow[] = [];
  for (const { file, rows: fileRows } of sources) {
    for (const row of fileRows) {
      const key = `${row.variant} seed ${row.seed} step ${row.step}`;
      const before = seen.get(key);
      if (before) throw new Error(`${key} is in both ${before} and ${file}`);
      seen.set(key, file);
      rows.push(row);
    }
  }
  return rows;
}

/** The measures a comparison can be made on, from a run's rows. */
export const MEASURES = {
  /** Primary: mean sampled accuracy over the evaluations after step 0. */
  accuracy_avg: (rows: EvalRow[]) => mean(rows.filter((r) => r.step > 0).map((r) => r.accuracy!)),
  accuracy_final: (rows: EvalRow[]) => last(rows).accuracy!,
  pass_at_1_final: (rows: EvalRow[]) => last(rows).pass_at_1,
  pass_at_4_final: (rows: EvalRow[]) => last(rows).pass_at_4,
  pass_at_8_final: (rows: EvalRow[]) => last(rows).pass_at_8,
  malformed_call_rate_final: (rows: EvalRow[]) => last(rows).malformed_call_rate,
  first_post_tool_entropy_final: (rows: EvalRow[]) => last(rows).first_post_tool_entropy,
} satisfies Record<string, (rows: EvalRow[]) => number | null>;

export type Measure = keyof typeof MEASURES;
export const PRIMARY_MEASURE: Measure = 'accuracy_avg';

function last(rows: EvalRow[]): EvalRow {
  return rows.reduce((a, b) => (b.step > a.step ? b : a));
}

export interface Comparison {
  variant: string;
  baseline: string;
  measure: Measure;
  /** Mean paired difference, variant minus baseline. */
  diff: number;
  ci_low: number;
  ci_high: number;
  /** Two-sided paired permutation (sign-flip) p. */
  p: number;
  /** Holm-adjusted over the primary comparisons of the summary; null for secondary rows. */
  p_holm: number | null;
  /** Pairs (seed and warm start shared by both runs). */
  n: number;
  primary: boolean;
  significant: boolean;
  /** Every pair differs by the same amount (often 0): no spread, never called significant. */
  all_pairs_equal: boolean;
}

/** Each run's rows, keyed by variant then "seed/warm_start". */
export function rowsByRun(rows: EvalRow[]): Map<string, Map<string, EvalRow[]>> {
  const byVariant = new Map<string, Map<string, EvalRow[]>>();
  for (const row of rows) {
    const runs = byVariant.get(row.variant) ?? new Map<string, EvalRow[]>();
    const key = `${row.seed}/${row.warm_start}`;
    runs.set(key, [...(runs.get(key) ?? []), row]);
    byVariant.set(row.variant, runs);
  }
  return byVariant;
}

/** The paired differences of one measure for one planned comparison (pairs where both runs have it). */
function pairedValues(runs: Map<string, Map<string, EvalRow[]>>, comparison: { variant: string; baseline: string }, measure: Measure): [number, number][] {
  const a = runs.get(comparison.variant) ?? new Map();
  const b = runs.get(comparison.baseline) ?? new Map();
  const pairs: [number, number][] = [];
  for (const [key, rowsA] of a) {
    const rowsB = b.get(key);
    if (!rowsB) continue;
    const x = MEASURES[measure](rowsA);
    const y = MEASURES[measure](rowsB);
    if (x !== null && y !== null && Number.isFinite(x) && Number.isFinite(y)) pairs.push([x, y]);
  }
  return pairs;
}

/**
 * Every planned comparison on the primary measure (primary rows, Holm over them) and on the
 * secondary measures (p unadjusted, never called significant: they describe, they do not test).
 */
export function compare(rows: EvalRow[], planned: PlannedComparison[], secondary: Measure[] = []): Comparison[] {
  const runs = rowsByRun(rows);
  const rowsOut: Comparison[] = [];
  for (const comparison of planned) {
    for (const measure of [PRIMARY_MEASURE, ...secondary]) {
      const pairs = pairedValues(runs, comparison, measure);
      if (pairs.length === 0) continue;
      const diffs = pairs.map(([x, y]) => x - y);
      const ci = meanCI(diffs);
      const allEqual = diffs.every((d) => Math.abs(d - diffs[0]) < 1e-12);
      rowsOut.push({
        variant: comparison.variant,
        baseline: comparison.baseline,
        measure,
        diff: ci.mean,
        ci_low: allEqual ? ci.mean : ci.low,
        ci_high: allEqual ? ci.mean : ci.high,
        p: pairedPermutationP(diffs),
        p_holm: null,
        n: diffs.length,
        primary: comparison.primary && measure === PRIMARY_MEASURE,
        significant: false,
        all_pairs_equal: allEqual,
      });
    }
  }
  const primary = rowsOut.filter((c) => c.primary);
  const adjusted = holm(primary.map((c) => c.p));
  primary.forEach((c, i) => {
    c.p_holm = adjusted[i];
    c.significant = !c.all_pairs_equal && adjusted[i] < 0.05;
  });
  return rowsOut;
}
