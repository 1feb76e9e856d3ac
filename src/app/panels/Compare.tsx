// Two or more runs side by side: their curves overlaid as small multiples (one line per run, the
// same colour for a run in every chart) and the settings in which they differ. Fed by props; the
// run picker decides which runs. Drawn by LiveChart, like the curves panel: the same axes, hover
// readout and keyboard cursor.

import { memo, useMemo } from 'react';
import { isEvaluationMetric, METRICS, metricTitle, type MetricKey } from '../../core/metrics';
import { settingAt } from '../../core/settings';
import { PALETTE } from '../../experiment/svg';
import { configDifferences, HELD_OUT_SAMPLED, overlayRows, type ComparedRun, type OverlayRow } from '../compare';
import { CHART_HEIGHT, LineLegend, stepTicks, unitFormat, yAxisScale } from './chartParts';
import { themeColor } from '../theme';
import { LiveChart, type LiveMark, type LiveSeries } from './LiveChart';


/** One chart: a metric, titled and formatted by its registry entry; evaluation metrics get dots. */
export interface CompareChartSpec {
  id: string;
  metric: MetricKey;
  domain?: [number, number];
}


export const CHARTS: CompareChartSpec[] = [
  // Rewards are binary here, so the mean reward is the training accuracy.
  { id: 'reward', metric: 'critic/score/mean', domain: [0, 1] },
  { id: 'held-out', metric: HELD_OUT_SAMPLED, domain: [0, 1] },
  { id: 'entropy', metric: 'entropy/mean' },
  { id: 'post-tool-entropy', metric: 'entropy/post_tool_mean' },
  { id: 'tool-failures', metric: 'tools/failure_frequency', domain: [0, 1] },
  { id: 'kept', metric: 'filter/kept_trajectories', domain: [0, 1] },
];

/** A run's line colour: Okabe-Ito by its place among the compared runs. */
/**
 * Run i's colour: the report palette, with its black as the page's ink, so that the seventh run
 * stays visible on the dark theme's paper.
 */
export const runColor = (index: number) => {
  const colour = PALETTE[index % PALETTE.length];
  return colour === '#000000' ? themeColor('ink') : colour;
};

/** Rows at most this many get dots on every line: a run of one logged step is a point, not a line. */
const DOTTED_ROWS = 40;

/** Finished runs have no live changes to mark. */
const NO_MARKS: LiveMark[] = [];

interface RunLine {
  id: string;
  name: string;
  color: string;
}

/** The x extent of finished runs: first to last step; one step sits in the middle of the plot. */
function stepAxis(rows: OverlayRow[]): { domain: [number, number]; ticks: number[] } {
  const first = rows[0]?.step ?? 0;
  const last = rows.at(-1)?.step ?? 0;
  return last > first ? { domain: [first, last], ticks: stepTicks(first, last) } : { domain: [first - 1, first + 1], ticks: [first] };
}

const CompareChart = memo(function CompareChart({ spec, rows, lines }: { spec: CompareChartSpec; rows: OverlayRow[]; lines: RunLine[] }) {
  const headingId = `compare-${spec.id}`;
  const x = useMemo(() => stepAxis(rows), [rows]);
  const left = useMemo(
    () => ({ ...yAxisScale(rows, lines.map((line) => line.id), spec.domain), format: unitFormat(METRICS[spec.metric].unit) }),
    [rows, lines, spec],
  );
  const series = useMemo<LiveSeries[]>(() => {
    // Evaluations every few steps, or few rows: dots on the points.
    const dotted = isEvaluationMetric(spec.metric) || rows.length <= DOTTED_ROWS;
    // Rows are the union of the runs' steps: a run has no value at a step only another run
    // logged, and its line joins across it.
    return lines.map((line) => ({ key: line.id, name: line.name, color: line.color, sparse: dotted, joinGaps: true }));
  }, [rows, lines, spec]);
  return (
    <figure className="curve" aria-labelledby={headingId}>
      <h3 id={headingId}>{metricTitle(spec.metric)}</h3>
      {rows.length === 0 ? (
        <p className="muted">None of these runs has this metric.</p>
      ) : (
        <LiveChart rows={rows} series={series} x={x} left={left} marks={NO_MARKS} viewedStep={null} height={CHART_HEIGHT} />
      )}
      <LineLegend items={series} />
    </figure>
  );
});

function DifferingSettings({ runs }: { runs: ComparedRun[] }) {
  const differences = useMemo(() => configDifferences(runs.map((run) => run.config)), [runs]);
  if (differences.length === 0) return <p className="muted">The runs have the same settings.</p>;
  return (
    <table className="results-table">
      <caption>Settings that differ</caption>
      <thead>
        <tr>
          <th scope="col">setting</th>
          {runs.map((run) => (
            <th key={run.id} scope="col">
              {run.name}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {differences.map(({ field, values }) => (
          <tr key={field}>
            <th scope="row" title={settingAt(field)?.label}>
              {field}
            </th>
            {values.map((value, i) => (
              <td key={runs[i].id}>{value}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Compare({ runs }: { runs: ComparedRun[] }) {
  const lines = useMemo(() => runs.map((run, i) => ({ id: run.id, name: run.name, color: runColor(i) })), [runs]);
  const rowsByChart = useMemo(() => CHARTS.map((spec) => overlayRows(runs, spec.metric)), [runs]);
  return (
    <section className="panel compare" data-testid="compare" aria-labelledby="compare-heading">
      <h2 id="compare-heading">Compare</h2>
      {runs.length < 2 ? (
        <p className="muted">Pick two or more runs to compare.</p>
      ) : (
        <>
          <div className="curves-grid">
            {CHARTS.map((spec, i) => (
              <CompareChart key={spec.id} spec={spec} rows={rowsByChart[i]} lines={lines} />
            ))}
          </div>
          <DifferingSettings runs={runs} />
        </>
      )}
    </section>
  );
}
