// Two or more runs side by side: their curves overlaid as small multiples (one line per run, the
// same colour for a run in every chart) and the settings in which they differ. Fed by props; the
// run picker decides which runs. Drawn like the curves panel: no animation, ticks computed here.

import { memo, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { isEvaluationMetric, METRICS, metricTitle, type MetricKey } from '../../core/metrics';
import { settingAt } from '../../core/settings';
import { PALETTE } from '../../experiment/svg';
import { configDifferences, HELD_OUT_SAMPLED, overlayRows, type ComparedRun, type OverlayRow } from '../compare';
import { CHART_HEIGHT, LineLegend, stepTicks, unitFormat, yAxisScale } from './chartParts';


/** One chart: a metric, titled and formatted by its registry entry; evaluation metrics get dots. */
export interface CompareChartSpec {
  id: string;
  metric: MetricKey;
  domain?: [number, number];
}


export const CHARTS: CompareChartSpec[] = [
  // Rewards are binary here, so the mean reward is the training accuracy.
  { id: 'reward', metric: 'reward/mean', domain: [0, 1] },
  { id: 'held-out', metric: HELD_OUT_SAMPLED, domain: [0, 1] },
  { id: 'entropy', metric: 'entropy/mean' },
  { id: 'post-tool-entropy', metric: 'entropy/post_tool_mean' },
  { id: 'tool-failures', metric: 'tools/failure_frequency', domain: [0, 1] },
  { id: 'kept', metric: 'filter/kept_trajectories', domain: [0, 1] },
];

/** A run's line colour: Okabe-Ito by its place among the compared runs. */
const runColor = (index: number) => PALETTE[index % PALETTE.length];

interface RunLine {
  id: string;
  name: string;
  color: string;
}


const CompareChart = memo(function CompareChart({ spec, rows, lines }: { spec: CompareChartSpec; rows: OverlayRow[]; lines: RunLine[] }) {
  const headingId = `compare-${spec.id}`;
  const firstStep = rows[0]?.step ?? 0;
  const lastStep = rows.at(-1)?.step ?? 0;
  const y = useMemo(() => yAxisScale(rows, lines.map((line) => line.id), spec.domain), [rows, lines, spec]);
  const xTicks = useMemo(() => stepTicks(firstStep, lastStep), [firstStep, lastStep]);
  const format = unitFormat(METRICS[spec.metric].unit);
  // Evaluations every few steps: dots on the points.
  const sparse = isEvaluationMetric(spec.metric);
  return (
    <figure className="curve" aria-labelledby={headingId}>
      <h3 id={headingId}>{metricTitle(spec.metric)}</h3>
      {rows.length === 0 ? (
        <p className="muted">None of these runs has this metric.</p>
      ) : (
        <ResponsiveContainer width="100%" height={CHART_HEIGHT} initialDimension={{ width: 360, height: CHART_HEIGHT }}>
          <LineChart data={rows} margin={{ top: 14, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid stroke="#e4e4e4" vertical={false} />
            <XAxis dataKey="step" type="number" domain={[firstStep, lastStep]} ticks={xTicks} interval={0} niceTicks="none" tick={{ fontSize: 11 }} />
            <YAxis width={44} domain={y.domain} ticks={y.ticks} interval={0} niceTicks="none" tickFormatter={format} tick={{ fontSize: 11 }} />
            <Tooltip
              isAnimationActive={false}
              labelFormatter={(step) => `step ${step}`}
              formatter={(value: unknown) => (typeof value === 'number' ? format(value) : String(value))}
            />
            {lines.map((line) => (
              <Line
                key={line.id}
                dataKey={line.id}
                name={line.name}
                stroke={line.color}
                strokeWidth={1.5}
                // Dots where lines are short: a run of one logged step is a point, not a line.
                dot={sparse || rows.length <= 40 ? { r: 3, fill: line.color } : false}
                // Rows are the union of the runs' steps: a run has no value at a step only another
                // run logged, and its line joins across it.
                connectNulls
                isAnimationActive={false}
                type="linear"
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
      <LineLegend items={lines.map((line) => ({ key: line.id, name: line.name, color: line.color }))} />
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
