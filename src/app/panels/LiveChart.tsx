// The page's line chart (the live curves and Compare), made for curves that redraw while training
// streams steps in: built from recharts' drawing components (Surface, Curve, Dot) rather than its
// LineChart. A LineChart keeps a store per chart, and each redraw re-runs every selector and
// re-renders every axis, grid and tooltip component: 12-20 ms per chart on an idle core and
// 50-130 ms on a busy one, the page's last main-thread tasks over 50 ms while training. Here the
// scales are computed once per redraw and the SVG is a few dozen elements, so a redraw is a few
// milliseconds. Hovering (or the arrow keys, on a focused chart) names the values at a step.

import { memo, useMemo, useRef, useState } from 'react';
import { Curve, Dot, Surface } from 'recharts';
import { linearScale } from '../../experiment/svg';
import { themeColor } from '../theme';
import { AxesFrame, Cursor, HoverBox, HoverLayer, keyboardCursor, useWidth } from './chartFrame';
import type { ChartRow } from './chartParts';

export interface LiveSeries {
  /** Column of the rows. */
  key: string;
  /** Legend and tooltip name. */
  name: string;
  color: string;
  axis?: 'left' | 'right';
  /** Sparse series (held-out evaluations): dots joined across the steps between them. */
  sparse?: boolean;
  /** Joined across the rows where it has no value, without dots (rows that are other runs' steps). */
  joinGaps?: boolean;
  dashed?: boolean;
}

export interface LiveAxis {
  domain: [number, number];
  ticks: number[];
  format: (value: number) => string;
}

/** A vertical line at a step with a label beside it (a live change of a setting). */
export interface LiveMark {
  step: number;
  label: string;
  /** Row of label text, counted from the top, so the labels of nearby marks do not overprint. */
  lane: number;
  /** Label on the left of the line (in the right part of the chart, so it is not cut off). */
  leftOfLine: boolean;
}

export interface LiveChartProps {
  rows: ChartRow[];
  series: LiveSeries[];
  x: { domain: [number, number]; ticks: number[] };
  left: LiveAxis;
  right?: LiveAxis;
  marks: LiveMark[];
  /** Step the timeline shows when it does not follow live: a wide translucent line. */
  viewedStep: number | null;
  height: number;
}

/** Space around the plot for tick labels, px. */
const LEFT_AXIS_WIDTH = 44;
const RIGHT_AXIS_WIDTH = 40;
const RIGHT_MARGIN = 12;
const TOP_MARGIN = 14;
const BOTTOM_AXIS_HEIGHT = 24;
/** Width before the chart has been measured (and where ResizeObserver is missing). */
const INITIAL_WIDTH = 360;
const MARK = themeColor('chartMark');

/** Index of the row whose step is nearest to `step` (rows sorted by step, at least one). */
export function nearestRow(rows: ChartRow[], step: number): number {
  let [low, high] = [0, rows.length - 1];
  while (low < high) {
    const middle = (low + high) >> 1;
    if (rows[middle].step < step) low = middle + 1;
    else high = middle;
  }
  return low > 0 && step - rows[low - 1].step <= rows[low].step - step ? low - 1 : low;
}

/** A row's value of a series; null where it has none (or none that can be drawn). */
const valueAt = (row: ChartRow, key: string): number | null => {
  const value = row[key];
  return value === null || value === undefined || !Number.isFinite(value) ? null : value;
};

export const LiveChart = memo(function LiveChart({ rows, series, x, left, right, marks, viewedStep, height }: LiveChartProps) {
  const frame = useRef<HTMLDivElement>(null);
  const width = useWidth(frame, INITIAL_WIDTH);
  const [hovered, setHovered] = useState<number | null>(null);

  const plot = {
    left: LEFT_AXIS_WIDTH,
    right: Math.max(LEFT_AXIS_WIDTH + 10, width - (right ? RIGHT_AXIS_WIDTH : RIGHT_MARGIN)),
    top: TOP_MARGIN,
    bottom: height - BOTTOM_AXIS_HEIGHT,
  };
  const xScale = linearScale(x.domain, [plot.left, plot.right]);
  const leftScale = linearScale(left.domain, [plot.bottom, plot.top]);
  const rightScale = right ? linearScale(right.domain, [plot.bottom, plot.top]) : leftScale;
  const yScaleOf = (line: LiveSeries) => (line.axis === 'right' ? rightScale : leftScale);

  // The lines are the only part that scales with the run's length: rebuilt only when the rows,
  // the series or the plot's geometry change, not when the pointer moves.
  const geometry = `${width}:${height}:${x.domain}:${left.domain}:${right?.domain}`;
  const lines = useMemo(
    () =>
      series.map((line) => {
        const y = yScaleOf(line);
        const points = rows.map((row) => {
          const value = valueAt(row, line.key);
          return { x: xScale(row.step), y: value === null ? null : y(value) };
        });
        return (
          <g key={line.key} className="curve-series">
            <Curve
              className="curve-line"
              type="linear"
              points={points}
              connectNulls={line.sparse === true || line.joinGaps === true}
              stroke={line.color}
              strokeWidth={1.5}
              strokeDasharray={line.dashed ? '4 3' : undefined}
              fill="none"
            />
            {line.sparse &&
              points.map((point, i) => point.y !== null && <Dot key={rows[i].step} cx={point.x} cy={point.y} r={3} fill={line.color} />)}
          </g>
        );
      }),
    // The scales are functions of `geometry`, so they are not listed.
    [rows, series, geometry],
  );

  const hoveredRow = hovered !== null ? rows[hovered] : undefined;
  const onHover = (fraction: number | null) =>
    setHovered(fraction === null || rows.length === 0 ? null : nearestRow(rows, x.domain[0] + fraction * (x.domain[1] - x.domain[0])));
  const latest = rows.at(-1);

  return (
    <div ref={frame} className="live-chart" style={{ height }}>
      <Surface
        width={width}
        height={height}
        role="img"
        aria-label={latest ? `Latest, step ${latest.step}: ${latestInWords(latest, series, left, right)}` : 'No steps yet'}
        {...keyboardCursor(rows.length, hovered, setHovered)}
      >
        <AxesFrame
          plot={plot}
          grid={left.ticks.map(leftScale)}
          x={{ ticks: x.ticks, scale: xScale, format: String }}
          left={{ ...left, scale: leftScale }}
          right={right && { ...right, scale: rightScale }}
        />
        {lines}
        {marks.map((mark) => (
          <g key={`mark-${mark.step}`} className="curve-mark">
            <line x1={xScale(mark.step)} x2={xScale(mark.step)} y1={plot.top} y2={plot.bottom} stroke={MARK} strokeDasharray="3 3" />
            <text
              className="curve-mark-label"
              x={xScale(mark.step) + (mark.leftOfLine ? -3 : 3)}
              y={plot.top + 9 + 11 * mark.lane}
              textAnchor={mark.leftOfLine ? 'end' : 'start'}
              fontSize={10}
              fill={themeColor('chartInk')}
            >
              {mark.label}
            </text>
          </g>
        ))}
        {viewedStep !== null && viewedStep >= x.domain[0] && viewedStep <= x.domain[1] && (
          <line
            className="curve-viewed-step"
            x1={xScale(viewedStep)}
            x2={xScale(viewedStep)}
            y1={plot.top}
            y2={plot.bottom}
            stroke="#999"
            strokeWidth={6}
            strokeOpacity={0.25}
          />
        )}
        {hoveredRow && (
          <g className="curve-cursor" pointerEvents="none">
            <Cursor x={xScale(hoveredRow.step)} plot={plot} />
            {series.map((line) => {
              const value = valueAt(hoveredRow, line.key);
              return value !== null && <Dot key={line.key} cx={xScale(hoveredRow.step)} cy={yScaleOf(line)(value)} r={3.5} fill={themeColor('paper')} stroke={line.color} strokeWidth={2} />;
            })}
          </g>
        )}
        <HoverLayer plot={plot} onHover={onHover} />
      </Surface>
      {hoveredRow && (
        <HoverBox x={xScale(hoveredRow.step)} plot={plot} width={width}>
          <div className="chart-hover-title">step {hoveredRow.step}</div>
          {series.map((line) => {
            const value = valueAt(hoveredRow, line.key);
            if (value === null) return null;
            return (
              <div key={line.key} style={{ color: line.color }}>
                {line.name}: {(line.axis === 'right' && right ? right : left).format(value)}
              </div>
            );
          })}
        </HoverBox>
      )}
    </div>
  );
});

/** The latest values in words, for the chart's accessible name. */
function latestInWords(row: ChartRow, series: LiveSeries[], left: LiveAxis, right: LiveAxis | undefined): string {
  const parts = series.flatMap((line) => {
    const value = valueAt(row, line.key);
    return value === null ? [] : [`${line.name} ${(line.axis === 'right' && right ? right : left).format(value)}`];
  });
  return parts.length ? parts.join(', ') : 'no values';
}
