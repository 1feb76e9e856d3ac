// Training curves as small multiples, x = step, drawn by LiveChart (recharts' drawing components
// without its chart store, so that a redraw stays a few milliseconds while training runs). Rows
// are rebuilt only when a step, an evaluation or a live change arrives. A live change never
// resets a chart; it marks every chart with a vertical line at the first step that ran with the
// new value.

import { memo, useDeferredValue, useMemo, useRef } from 'react';
import type { Evaluation } from '../../core/evaluate';
import { evaluationValue, isEvaluationMetric, METRICS, type MetricKey, type StepMetricKey } from '../../core/metrics';
import type { StepReport } from '../../core/trainer';
import type { SettingChange } from '../../worker/protocol';
import { useQueuedValue } from '../frameQueue';
import { useNear } from '../useNear';
import { useWorkbench } from '../store';
import { CHART_HEIGHT, LineLegend, liveStepDomain, placeMarks, stepTicks, strideIndices, unitFormat, yAxisScale, type ChangeMark } from './chartParts';
import { AddedCharts } from './AddedCharts';
import { LiveChart, type LiveSeries } from './LiveChart';

/** Most points drawn per series; longer runs are strided (the latest step is always drawn). */
const MAX_POINTS = 500;

/** One x position: metric -> value; null where the step has no such value (a gap). */
type CurveRow = { step: number } & { [K in MetricKey]?: number | null };

/** One line of a chart: a metric, named by its registry label; evaluation metrics are drawn as dots. */
interface ChartSeries {
  key: MetricKey;
  color: string;
  /** Which y axis (left by default); each axis is formatted by the unit of its first series. */
  axis?: 'left' | 'right';
  dashed?: boolean;
}

export interface ChartSpec {
  id: string;
  title: string;
  series: ChartSeries[];
  /** Fixed range of the left y axis; otherwise round numbers around the values. */
  domain?: [number, number];
}

// Okabe-Ito: distinguishable with the common colour-vision deficiencies.
const BLUE = '#0072b2';
const ORANGE = '#e69f00';
const GREEN = '#009e73';
const VERMILLION = '#d55e00';
const PURPLE = '#cc79a7';
const SKY = '#56b4e9';

export const CHARTS: ChartSpec[] = [
  {
    id: 'reward',
    title: 'Reward and accuracy',
    domain: [0, 1],
    series: [
      // Rewards are binary here, so the mean reward is the training accuracy.
      { key: 'critic/score/mean', color: BLUE },
      { key: 'held_out/sampled_accuracy', color: VERMILLION },
      { key: 'held_out/greedy_accuracy', color: GREEN, dashed: true },
      { key: 'held_out/pass_at_k', color: PURPLE, dashed: true },
    ],
  },
  {
    id: 'entropy',
    title: 'Entropy (nats per token)',
    series: [
      { key: 'entropy/mean', color: BLUE },
      { key: 'entropy/post_tool_mean', color: ORANGE },
    ],
  },
  {
    id: 'filter',
    title: 'Kept and discarded trajectories',
    domain: [0, 1],
    series: [
      { key: 'filter/kept_trajectories', color: GREEN },
      { key: 'filter/group_all_correct', color: SKY },
      { key: 'filter/group_all_wrong', color: PURPLE },
      { key: 'filter/all_tools_failed', color: VERMILLION },
    ],
  },
  {
    id: 'tools',
    title: 'Tool calls and failures',
    domain: [0, 1],
    series: [
      { key: 'tools/call_rate', color: BLUE },
      { key: 'tools/failure_frequency', color: VERMILLION },
      { key: 'tools/failure_environment', color: ORANGE, dashed: true },
    ],
  },
  {
    id: 'loss',
    title: 'Loss, clip fraction, approximate KL',
    // Skipped steps (no group survived the filter) have no loss: they show as gaps.
    series: [
      { key: 'loss/policy', color: BLUE },
      { key: 'actor/ppo_kl', color: PURPLE },
      { key: 'actor/pg_clipfrac', color: ORANGE, axis: 'right' },
    ],
  },
  {
    id: 'throughput',
    title: 'Throughput (tokens/s)',
    series: [
      { key: 'perf/sampled_tokens_per_s', color: BLUE },
      { key: 'perf/trained_tokens_per_s', color: GREEN },
    ],
  },
];

const CHARTED = [...new Set(CHARTS.flatMap((chart) => chart.series.map((series) => series.key)))];
/** Charted step metrics, copied from each step report into its row. */
const CHARTED_STEP_METRICS = CHARTED.filter((key): key is StepMetricKey => !isEvaluationMetric(key));
/** Charted evaluation metrics, copied from each evaluation into the row of its step. */
const CHARTED_EVALUATION_METRICS = CHARTED.filter(isEvaluationMetric);

/** The series as LiveChart draws them: the registry's label, "(right)" on the right axis, evaluations as dots; hovering the legend says the meaning. */
function liveSeries(series: ChartSeries[]): (LiveSeries & { key: MetricKey; title: string })[] {
  return series.map((line) => ({
    ...line,
    name: METRICS[line.key].label + (line.axis === 'right' ? ' (right)' : ''),
    sparse: isEvaluationMetric(line.key),
    title: METRICS[line.key].meaning,
  }));
}

/** What hovering a chart's title says: each of its metrics with its one-line meaning. */
export function chartMeaning(keys: MetricKey[]): string {
  return keys.map((key) => `${METRICS[key].label}: ${METRICS[key].meaning}`).join('\n');
}

/** The tick format of an axis: that of the unit of its first series. */
function axisFormat(series: ChartSeries[], axis: 'left' | 'right'): ((value: number) => string) | null {
  const first = series.find((line) => (line.axis ?? 'left') === axis);
  return first ? unitFormat(METRICS[first.key].unit) : null;
}

export { strideIndices };

function finiteOrNull(value: number | undefined): number | null {
  return value !== undefined && Number.isFinite(value) ? value : null;
}

function rowOf(report: StepReport): CurveRow {
  const row: CurveRow = { step: report.step };
  for (const key of CHARTED_STEP_METRICS) row[key] = finiteOrNull(report.metrics[key]);
  return row;
}

/** The report of `step`; reports are consecutive steps, so look there first. */
function reportAt(reports: StepReport[], step: number): StepReport | undefined {
  const guess = reports[step - (reports[0]?.step ?? 0)];
  return guess?.step === step ? guess : reports.find((report) => report.step === step);
}

/** Strided step rows, plus a row at every evaluation so no held-out point is dropped. */
function curveRows(reports: StepReport[], evaluations: { step: number; evaluation: Evaluation }[]): CurveRow[] {
  const rows = new Map<number, CurveRow>();
  for (const i of strideIndices(reports.length, MAX_POINTS)) rows.set(reports[i].step, rowOf(reports[i]));
  for (const { step, evaluation } of evaluations) {
    let row = rows.get(step);
    if (!row) {
      const report = reportAt(reports, step);
      row = report ? rowOf(report) : { step };
      rows.set(step, row);
    }
    for (const key of CHARTED_EVALUATION_METRICS) row[key] = evaluationValue(evaluation, key);
  }
  return [...rows.values()].sort((a, b) => a.step - b.step);
}

/** A changed value as a person reads it: numbers to 4 significant digits, flags as on/off. */
function formatSettingValue(value: unknown): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value === 0) return String(value);
    // Learning rates read better as 3e-4 than 0.0003.
    if (Math.abs(value) < 1e-3) return value.toExponential(3).replace(/\.?0+e/, 'e');
    return String(Number(value.toPrecision(4)));
  }
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'string') return value;
  const json = JSON.stringify(value);
  return json.length > 24 ? `${json.slice(0, 23)}…` : json;
}

/** Short names for the chart marks, where a field's own name is long. */
const SHORT_FIELDS: Record<string, string> = {
  learningRate: 'lr',
  temperature: 'temp',
  entropyCoef: 'entropy reg',
  klCoef: 'kl coef',
  gradClip: 'grad clip',
  clipLow: 'clip low',
  clipHigh: 'clip high',
  dualClip: 'dual clip',
  flakyProbability: 'flaky',
  afterSuccessOnly: 'after success',
  groupFilter: 'group filter',
  toolFailFilter: 'tool-fail filter',
};

/** "shape.bonus.coef" -> "coef": the last part names the knob. */
function shortField(field: string): string {
  const last = field.split('.').at(-1) ?? field;
  return SHORT_FIELDS[last] ?? last;
}

export function changeLabel(change: SettingChange): string {
  const field = shortField(change.field);
  // A null post-tool window means the whole turn after a tool result.
  const value = (v: unknown) => (field === 'window' && v === null ? 'whole turn' : formatSettingValue(v));
  return `${field} ${value(change.from)} → ${value(change.to)}`;
}

/** One mark per step; changes applied at the same step share it. */
export function changeMarks(changes: SettingChange[]): ChangeMark[] {
  const byStep = new Map<number, string[]>();
  for (const change of changes) byStep.set(change.step, [...(byStep.get(change.step) ?? []), changeLabel(change)]);
  return [...byStep].sort(([a], [b]) => a - b).map(([step, labels]) => ({ step, label: labels.join(', ') }));
}

interface CurveChartProps {
  spec: ChartSpec;
  rows: CurveRow[];
  marks: ChangeMark[];
  /** Step the timeline shows when it does not follow live; marked on every chart. */
  viewedStep: number | null;
}

/** The same array as last render while its items are the same, so the memoized chart keeps it. */
function useStableArray<T extends unknown[]>(values: T): T {
  const kept = useRef(values);
  const same = kept.current.length === values.length && kept.current.every((v, i) => v === values[i]);
  if (!same) kept.current = values;
  return kept.current;
}

/**
 * One chart: its axes (x grows in round steps, y round numbers around the values), the series
 * that have values, and the change marks with their labels placed; LiveChart draws them.
 */
const CurveChart = memo(function CurveChart({ spec, rows, marks, viewedStep }: CurveChartProps) {
  const headingId = `curve-${spec.id}`;
  const firstStep = Math.min(rows[0]?.step ?? 1, marks[0]?.step ?? Infinity);
  const lastStep = Math.max(rows.at(-1)?.step ?? 1, marks.at(-1)?.step ?? -Infinity);
  const allSeries = useMemo(() => liveSeries(spec.series), [spec]);
  // Held-out series appear once there is a value to show (greedy accuracy may never be measured).
  const series = useStableArray(allSeries.filter((s) => !s.sparse || rows.some((row) => row[s.key] !== null && row[s.key] !== undefined)));
  const leftFormat = axisFormat(spec.series, 'left')!;
  const rightFormat = axisFormat(spec.series, 'right');
  const leftScale = yAxisScale(rows, series.filter((s) => s.axis !== 'right').map((s) => s.key), spec.domain);
  const rightScale = rightFormat ? yAxisScale(rows, series.filter((s) => s.axis === 'right').map((s) => s.key), undefined, true) : null;
  const xDomain = liveStepDomain(firstStep, lastStep);
  const x = { domain: xDomain, ticks: stepTicks(xDomain[0], xDomain[1]) };
  const left = { ...leftScale, format: leftFormat };
  const right = rightFormat && rightScale ? { ...rightScale, format: rightFormat } : undefined;
  const placedMarks = placeMarks(marks, xDomain);
  return (
    <figure className="curve" aria-labelledby={headingId}>
      <h3 id={headingId} title={chartMeaning(spec.series.map((line) => line.key))}>
        {spec.title}
      </h3>
      <LiveChart rows={rows} series={series} x={x} left={left} right={right} marks={placedMarks} viewedStep={viewedStep} height={CHART_HEIGHT} />
      <LineLegend items={series} />
    </figure>
  );
});

/** A chart redraws at most this often while steps stream in (a step can take 0.2 s). */
const MIN_REDRAW_MS = 500;

/** How far off screen (px) a chart still counts as on screen. */
const ON_SCREEN_MARGIN_PX = 200;

/**
 * A chart that takes new rows through the page's frame queue (one job per frame), at most once
 * per MIN_REDRAW_MS, and only while on screen. The six redraws of a step are spread over six
 * frames, so they share no task with each other or with the inspector's cards. A chart scrolled
 * back into view catches up at once.
 */
function QueuedChart({ rows, ...rest }: CurveChartProps) {
  const frame = useRef<HTMLDivElement>(null);
  const onScreen = useNear(frame, ON_SCREEN_MARGIN_PX);
  const shownRows = useQueuedValue(rows, { minIntervalMs: MIN_REDRAW_MS, paused: !onScreen });
  return (
    <div ref={frame}>
      <CurveChart rows={shownRows} {...rest} />
    </div>
  );
}

export function Curves() {
  // Deferred, like the inspector: redrawing six charts each step must not block the page.
  const reports = useDeferredValue(useWorkbench((state) => state.reports));
  const evaluations = useDeferredValue(useWorkbench((state) => state.evaluations));
  const changes = useDeferredValue(useWorkbench((state) => state.changes));
  const selectedStep = useWorkbench((state) => state.selectedStep);

  // The store replaces these arrays only when a step, an evaluation or a change arrives (or on
  // reset), so selecting steps or trajectories never rebuilds the rows.
  const rows = useMemo(() => curveRows(reports, evaluations), [reports, evaluations]);
  const marks = useMemo(() => changeMarks(changes), [changes]);

  return (
    <section className="panel curves" data-testid="curves" aria-labelledby="curves-heading">
      <h2 id="curves-heading">Curves</h2>
      {/* The charts are drawn before the first step, empty, so that a step only updates them. */}
      {rows.length === 0 && <p className="muted">Curves fill in from the first step.</p>}
      <div className="curves-grid">
        {CHARTS.map((spec) => (
          <QueuedChart key={spec.id} spec={spec} rows={rows} marks={marks} viewedStep={selectedStep} />
        ))}
        <AddedCharts reports={reports} evaluations={evaluations} marks={marks} viewedStep={selectedStep} />
      </div>
      {marks.length > 0 && (
        <ul className="curves-marks" aria-label="Live changes">
          {marks.map((mark) => (
            <li key={mark.step}>
              step {mark.step}: {mark.label}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
