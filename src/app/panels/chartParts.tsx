// What the curves and the comparison charts share: number formats, axes computed here (recharts'
// own "nice" ticks go through decimal.js and cost more than the rest of a redraw), and the
// legend as plain HTML (cheaper to update than recharts' legend).

import type { MetricUnit } from '../../core/metrics';
import { niceDomain, niceStep, niceTicks } from '../../experiment/svg';
import type { LiveMark } from './LiveChart';

export const CHART_HEIGHT = 190;

export const percent = (value: number) => `${(100 * value).toFixed(0)}%`;
export const twoDecimals = (value: number) => value.toFixed(2);
const significant = (value: number) => (value === 0 ? '0' : Math.abs(value) < 1e-3 ? value.toExponential(1) : value.toPrecision(2));
const perSecond = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(1)}k` : value.toFixed(0));

/** Tick and hover format of a metric's unit: shares as percentages, entropies to two decimals. */
export function unitFormat(unit: MetricUnit): (value: number) => string {
  switch (unit) {
    case 'fraction':
      return percent;
    case 'nats':
    case 'tokens':
    case 'calls':
    case 'seconds':
    case 'dispatches/token':
      return twoDecimals;
    case 'tokens/s':
      return perSecond;
    default:
      return significant;
  }
}

/** Rows of a line chart: x = step, one column per series (null where a series has no value). */
export type ChartRow = { step: number } & Record<string, number | null | undefined>;

/** Lowest and highest value in the given columns; null when there is none. */
function valueRange(rows: ChartRow[], keys: string[]): [number, number] | null {
  let [low, high] = [Infinity, -Infinity];
  for (const row of rows) {
    for (const key of keys) {
      const value = row[key];
      if (value === null || value === undefined) continue;
      if (value < low) low = value;
      if (value > high) high = value;
    }
  }
  return low <= high ? [low, high] : null;
}

/**
 * A y axis's domain and ticks: a fixed domain keeps its ticks; an automatic one is widened to
 * round numbers around the values of `keys` (from 0 when asked).
 */
export function yAxisScale(rows: ChartRow[], keys: string[], fixed?: [number, number], fromZero = false): { domain: [number, number]; ticks: number[] } {
  if (fixed) return { domain: fixed, ticks: niceTicks(fixed[0], fixed[1], 4) };
  const range = valueRange(rows, keys) ?? [0, 1];
  // A quantity that starts at zero and is all zero so far (the clip fraction of on-policy steps)
  // gets [0, 1] rather than niceDomain's +-1 around it: it cannot go below zero.
  if (fromZero && range[0] >= 0 && range[1] === 0) return { domain: [0, 1], ticks: niceTicks(0, 1, 4) };
  return niceDomain(fromZero ? Math.min(0, range[0]) : range[0], range[1], 4);
}

/**
 * The x extent of a chart that grows while steps stream in: from the first step to the last one
 * rounded up to a whole round step (1, 2, 5, 10, ... about half the span), so the axis moves once
 * every few steps rather than at each one, and the chart is redrawn without re-laying its axis.
 */
export function liveStepDomain(first: number, last: number): [number, number] {
  const step = Math.max(1, niceStep(Math.max(1, last - first), 2));
  return [first, Math.max(first + 1, Math.ceil(last / step) * step)];
}

/** Indices 0, stride, 2*stride, ... of n items, at most about `max`, and always the last one. */
export function strideIndices(n: number, max: number): number[] {
  if (n <= 0) return [];
  const stride = Math.max(1, Math.ceil(n / max));
  const indices: number[] = [];
  for (let i = 0; i < n; i += stride) indices.push(i);
  if (indices[indices.length - 1] !== n - 1) indices.push(n - 1);
  return indices;
}

/** A live change of a setting, one per step: "coef 0.01 → 0.5". */
export interface ChangeMark {
  step: number;
  label: string;
}

/** Rows of label text beside the marks, so the labels of nearby marks do not overprint. */
const LABEL_LANES = 3;

/** The marks with their labels placed: in lanes, and left of the line in the right part of the chart. */
export function placeMarks(marks: ChangeMark[], xDomain: [number, number]): LiveMark[] {
  return marks.map((mark, i) => ({
    ...mark,
    lane: i % LABEL_LANES,
    leftOfLine: mark.step > xDomain[0] + 0.55 * (xDomain[1] - xDomain[0]),
  }));
}

/** Whole-step ticks across [first, last]. */
export function stepTicks(first: number, last: number): number[] {
  if (last <= first) return [first];
  return niceTicks(first, last, 5).filter(Number.isInteger);
}

export interface LegendItem {
  key: string;
  name: string;
  color: string;
  dashed?: boolean;
  /** How the series is drawn, when not as a plain line: a line with dots, bars, or a shaded area. */
  marker?: 'dot' | 'bar' | 'area';
  /** What hovering the name says (a metric's one-line meaning). */
  title?: string;
}

function LegendMark({ item }: { item: LegendItem }) {
  if (item.marker === 'bar') return <rect x="4" y="0" width="6" height="8" fill={item.color} />;
  if (item.marker === 'area') return <rect x="0" y="0" width="14" height="8" fill={item.color} fillOpacity={0.5} />;
  return (
    <>
      <line x1="0" y1="4" x2="14" y2="4" stroke={item.color} strokeWidth={item.marker === 'dot' ? 1 : 2} strokeDasharray={item.dashed ? '4 3' : undefined} />
      {item.marker === 'dot' && <circle cx="7" cy="4" r="3" fill={item.color} />}
    </>
  );
}

/** The series names under a chart. */
export function LineLegend({ items }: { items: LegendItem[] }) {
  return (
    <ul className="curve-legend">
      {items.map((item) => (
        <li key={item.key} title={item.title}>
          <svg width="14" height="8" aria-hidden="true">
            <LegendMark item={item} />
          </svg>
          {item.name}
        </li>
      ))}
    </ul>
  );
}
