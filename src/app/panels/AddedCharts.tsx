// Charts a person adds below the standard curves: "Add a chart" offers every metric of the registry
// (src/core/metrics.ts), each added chart can be smoothed (an exponential moving average, the raw
// values kept faint behind it), drawn on a log scale while its values are positive, and removed.
// The choice is the store's `charts`: saved with the run and carried in the link (chartChoice.ts).

import { memo, useMemo, useRef, type ReactElement } from 'react';
import type { Evaluation } from '../../core/evaluate';
import { EVALUATION_METRICS, evaluationValue, isEvaluationMetric, METRICS, metricTitle, STEP_METRICS, type MetricKey } from '../../core/metrics';
import type { StepReport } from '../../core/trainer';
import { logAxis, logScaleFits, MAX_SMOOTHING, smoothed, type AddedChart } from '../chartChoice';
import { useQueuedValue } from '../frameQueue';
import { useWorkbench } from '../store';
import { useNear } from '../useNear';
import { CHART_HEIGHT, LineLegend, liveStepDomain, placeMarks, stepTicks, strideIndices, unitFormat, yAxisScale, type ChangeMark, type ChartRow } from './chartParts';
import { LiveChart, type LiveSeries } from './LiveChart';
import './addedCharts.css';

/** Most points drawn per series, as the standard curves. */
const MAX_POINTS = 500;
const MIN_REDRAW_MS = 500;
const ON_SCREEN_MARGIN_PX = 200;
/** Okabe-Ito, in the order added charts take them. */
export const ADDED_CHART_COLORS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'];

/** A metric's values in step order: each report's, or each evaluation's. */
export function metricValues(key: MetricKey, reports: readonly StepReport[], evaluations: readonly { step: number; evaluation: Evaluation }[]): { step: number; value: number | null }[] {
  if (isEvaluationMetric(key)) return evaluations.map(({ step, evaluation }) => ({ step, value: finite(evaluationValue(evaluation, key)) }));
  return reports.map((report) => ({ step: report.step, value: finite(report.metrics[key]) }));
}

function finite(value: number | null | undefined): number | null {
  return value !== null && value !== undefined && Number.isFinite(value) ? value : null;
}

export interface AddedChartData {
  rows: ChartRow[];
  /** Whether the values allow a log scale (all positive), and whether it is drawn. */
  logFits: boolean;
  log: boolean;
  left: { domain: [number, number]; ticks: number[]; format: (value: number) => string };
}

/**
 * The rows an added chart draws: `raw` and, when smoothed, `smooth` (the average over every value
 * before the stride); in log10 units on a log scale.
 */
export function addedChartData(chart: AddedChart, reports: readonly StepReport[], evaluations: readonly { step: number; evaluation: Evaluation }[]): AddedChartData {
  const values = metricValues(chart.metric, reports, evaluations);
  const raw = values.map((v) => v.value);
  const smooth = chart.smoothing > 0 ? smoothed(raw, chart.smoothing) : null;
  const logFits = logScaleFits(raw);
  const log = chart.log && logFits;
  const shown = (value: number | null) => (value === null ? null : log ? Math.log10(value) : value);
  const rows: ChartRow[] = strideIndices(values.length, MAX_POINTS).map((i) => ({
    step: values[i].step,
    raw: shown(raw[i]),
    ...(smooth ? { smooth: shown(smooth[i]) } : {}),
  }));
  const format = unitFormat(METRICS[chart.metric].unit);
  const left = log
    ? { ...logAxis(raw.filter((value): value is number => value !== null)), format: (value: number) => format(10 ** value) }
    : { ...yAxisScale(rows, smooth ? ['raw', 'smooth'] : ['raw']), format };
  return { rows, logFits, log, left };
}

interface AddedChartProps {
  chart: AddedChart;
  color: string;
  reports: StepReport[];
  evaluations: { step: number; evaluation: Evaluation }[];
  marks: ChangeMark[];
  viewedStep: number | null;
  onChange: (chart: AddedChart) => void;
  onRemove: () => void;
}

const AddedChartView = memo(function AddedChartView({ chart, color, reports, evaluations, marks, viewedStep, onChange, onRemove }: AddedChartProps) {
  const frame = useRef<HTMLElement>(null);
  const onScreen = useNear(frame, ON_SCREEN_MARGIN_PX);
  const data = useMemo(() => addedChartData(chart, reports, evaluations), [chart, reports, evaluations]);
  const { rows, left, logFits, log } = useQueuedValue(data, { minIntervalMs: MIN_REDRAW_MS, paused: !onScreen });
  const spec = METRICS[chart.metric];
  const sparse = isEvaluationMetric(chart.metric);
  const series = useMemo<(LiveSeries & { title: string })[]>(
    () =>
      chart.smoothing > 0
        ? [
            { key: 'raw', name: `${spec.label}, as measured`, color: `${color}55`, sparse, title: spec.meaning },
            { key: 'smooth', name: `${spec.label}, smoothed (EMA ${chart.smoothing})`, color, sparse, title: spec.meaning },
          ]
        : [{ key: 'raw', name: spec.label + (log ? ' (log scale)' : ''), color, sparse, title: spec.meaning }],
    [chart.smoothing, spec, color, sparse, log],
  );
  const headingId = `added-chart-${chart.metric.replace(/[^a-z0-9]/gi, '-')}`;
  const firstStep = Math.min(rows[0]?.step ?? 1, marks[0]?.step ?? Infinity);
  const lastStep = Math.max(rows.at(-1)?.step ?? 1, marks.at(-1)?.step ?? -Infinity);
  const xDomain = liveStepDomain(firstStep, lastStep);
  const title = metricTitle(chart.metric);
  return (
    <figure ref={frame} className="curve added-chart" aria-labelledby={headingId}>
      <h3 id={headingId} title={`${spec.label}: ${spec.meaning}`}>
        {title}
      </h3>
      <div className="added-chart-controls">
        <label title="Exponential moving average: the weight of the past at each step; 0 draws the values as they are">
          Smoothing{' '}
          <input
            type="range"
            aria-label={`Smoothing of ${spec.label}`}
            min={0}
            max={MAX_SMOOTHING}
            step={0.01}
            value={chart.smoothing}
            onChange={(event) => onChange({ ...chart, smoothing: Number(event.target.value) })}
          />{' '}
          <span className="added-chart-smoothing">{chart.smoothing.toFixed(2)}</span>
        </label>
        <label title={logFits ? 'Log scale (base 10)' : 'A log scale needs every value above 0'}>
          <input type="checkbox" aria-label={`Log scale for ${spec.label}`} checked={log} disabled={!logFits} onChange={(event) => onChange({ ...chart, log: event.target.checked })} /> log
          scale{!logFits && chart.log ? ' (off: values of 0 or below)' : ''}
        </label>
        <button type="button" aria-label={`Remove the chart of ${spec.label}`} onClick={onRemove}>
          Remove
        </button>
      </div>
      <LiveChart
        rows={rows}
        series={series}
        x={{ domain: xDomain, ticks: stepTicks(xDomain[0], xDomain[1]) }}
        left={left}
        marks={placeMarks(marks, xDomain)}
        viewedStep={viewedStep}
        height={CHART_HEIGHT}
      />
      <LineLegend items={series} />
    </figure>
  );
});

/** The metrics the picker lists, every one of the registry, as options in two groups. */
function MetricOptions({ keys, added }: { keys: MetricKey[]; added: Set<MetricKey> }): ReactElement[] {
  return keys.map((key) => (
    <option key={key} value={key} title={METRICS[key].meaning} disabled={added.has(key)}>
      {METRICS[key].label}
    </option>
  ));
}

export function AddedCharts({ reports, evaluations, marks, viewedStep }: { reports: StepReport[]; evaluations: { step: number; evaluation: Evaluation }[]; marks: ChangeMark[]; viewedStep: number | null }) {
  const charts = useWorkbench((state) => state.charts);
  const setCharts = useWorkbench((state) => state.setCharts);
  const added = new Set(charts.map((chart) => chart.metric));
  const add = (key: string) => {
    if (!key || added.has(key as MetricKey)) return;
    setCharts([...charts, { metric: key as MetricKey, smoothing: 0, log: false }]);
  };
  return (
    <>
      {charts.map((chart, i) => (
        <AddedChartView
          key={chart.metric}
          chart={chart}
          color={ADDED_CHART_COLORS[i % ADDED_CHART_COLORS.length]}
          reports={reports}
          evaluations={evaluations}
          marks={marks}
          viewedStep={viewedStep}
          onChange={(changed) => setCharts(charts.map((c) => (c.metric === chart.metric ? changed : c)))}
          onRemove={() => setCharts(charts.filter((c) => c.metric !== chart.metric))}
        />
      ))}
      <div className="curve added-chart-picker">
        <label className="added-chart-label" htmlFor="add-a-chart">
          Add a chart
        </label>
        <select id="add-a-chart" value="" onChange={(event) => add(event.target.value)}>
          <option value="">choose a metric…</option>
          <optgroup label="Every step">
            <MetricOptions keys={Object.keys(STEP_METRICS) as MetricKey[]} added={added} />
          </optgroup>
          <optgroup label="Held-out evaluations">
            <MetricOptions keys={Object.keys(EVALUATION_METRICS) as MetricKey[]} added={added} />
          </optgroup>
        </select>
        <p className="muted">
          Any metric a step or an evaluation records. The added charts are saved with the run and carried in its link; the guide (What am I looking
          at?) says what each one means.
        </p>
      </div>
    </>
  );
}
