// What the charts that redraw while training runs (the live curves, the token view) share: the
// plot area, axes with their tick labels, a hover layer that reports where along x the pointer
// is, and where to put the hover box. They are drawn with recharts' drawing components and plain
// SVG, without a recharts chart and its store, so that a redraw costs a few milliseconds.

import { useEffect, useState, type CSSProperties, type KeyboardEvent, type MouseEvent, type ReactNode, type RefObject } from 'react';
import { themeColor } from '../theme';

/** The plot's edges in px within the SVG. */
export interface PlotArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

const AXIS_COLOR = themeColor('chartAxis');
const GRID_COLOR = themeColor('chartGrid');
const TICK_FONT = 11;

/** The width of an element, followed as it resizes; `initial` until measured (and without ResizeObserver). */
export function useWidth(element: RefObject<HTMLElement | null>, initial: number): number {
  const [width, setWidth] = useState(initial);
  useEffect(() => {
    const target = element.current;
    if (!target || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      const measured = Math.floor(entry.contentRect.width);
      if (measured > 0) setWidth(measured);
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [element]);
  return width;
}

interface AxisProps {
  ticks: number[];
  scale: (value: number) => number;
  format: (value: number) => string;
}

/**
 * The plot's frame: horizontal grid lines at `grid` (px), the x axis along the bottom with its
 * ticks, the left axis and, when given, the right one, each with its tick labels.
 */
export function AxesFrame({ plot, x, left, right, grid = [] }: { plot: PlotArea; x: AxisProps; left: AxisProps; right?: AxisProps; grid?: number[] }) {
  return (
    <g className="chart-axes">
      {grid.map((y) => (
        <line key={`grid-${y}`} x1={plot.left} x2={plot.right} y1={y} y2={y} stroke={GRID_COLOR} />
      ))}
      <line x1={plot.left} x2={plot.right} y1={plot.bottom} y2={plot.bottom} stroke={AXIS_COLOR} />
      <line x1={plot.left} x2={plot.left} y1={plot.top} y2={plot.bottom} stroke={AXIS_COLOR} />
      {right && <line x1={plot.right} x2={plot.right} y1={plot.top} y2={plot.bottom} stroke={AXIS_COLOR} />}
      <g className="chart-ticks" fontSize={TICK_FONT} fill={AXIS_COLOR}>
        {x.ticks.map((tick) => (
          <g key={`x-${tick}`}>
            <line x1={x.scale(tick)} x2={x.scale(tick)} y1={plot.bottom} y2={plot.bottom + 5} stroke={AXIS_COLOR} />
            <text x={x.scale(tick)} y={plot.bottom + 16} textAnchor="middle">
              {x.format(tick)}
            </text>
          </g>
        ))}
        {left.ticks.map((tick) => (
          <text key={`left-${tick}`} x={plot.left - 5} y={left.scale(tick)} dy="0.35em" textAnchor="end">
            {left.format(tick)}
          </text>
        ))}
        {right?.ticks.map((tick) => (
          <text key={`right-${tick}`} x={plot.right + 5} y={right.scale(tick)} dy="0.35em" textAnchor="start">
            {right.format(tick)}
          </text>
        ))}
      </g>
    </g>
  );
}

/**
 * A transparent layer over the plot that reports, as the pointer moves, the fraction of the way
 * across the plot it is at (0 at the left edge, 1 at the right), and null when it leaves. Drawn
 * last, so it is on top.
 */
export function HoverLayer({ plot, onHover }: { plot: PlotArea; onHover: (fraction: number | null) => void }) {
  const onMouseMove = (event: MouseEvent<SVGRectElement>) => {
    const box = event.currentTarget.getBoundingClientRect();
    onHover(box.width > 0 ? Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)) : 0);
  };
  return (
    <rect
      className="chart-hover"
      x={plot.left}
      y={plot.top}
      width={Math.max(0, plot.right - plot.left)}
      height={Math.max(0, plot.bottom - plot.top)}
      fill="transparent"
      onMouseMove={onMouseMove}
      onMouseLeave={() => onHover(null)}
    />
  );
}

/**
 * Keyboard access to a chart's hover readout, for its SVG: focusable; ←/→ move the cursor one
 * position (from none, ← starts at the last and → at the first), Home/End go to the ends, Esc
 * clears it, and leaving the chart clears it. The arrows stay with the focused chart rather than
 * moving between steps.
 */
export function keyboardCursor(count: number, at: number | null, move: (index: number | null) => void) {
  return {
    tabIndex: 0,
    onKeyDown: (event: KeyboardEvent<SVGSVGElement>) => {
      if (count === 0) return;
      let next: number | null;
      switch (event.key) {
        case 'ArrowLeft': // (a position past the end, after the data shrank, counts as the last)
          next = at === null ? count - 1 : Math.max(0, Math.min(count - 1, at) - 1);
          break;
        case 'ArrowRight':
          next = at === null ? 0 : Math.min(count - 1, at + 1);
          break;
        case 'Home':
          next = 0;
          break;
        case 'End':
          next = count - 1;
          break;
        case 'Escape':
          if (at === null) return; // then Esc does what it does elsewhere (closes the token view)
          next = null;
          break;
        default:
          return;
      }
      event.preventDefault();
      move(next);
    },
    onBlur: () => move(null),
  };
}

/** The hover box beside the cursor at x (px): to its right in the left half, to its left in the right half. */
export function HoverBox({ x, plot, width, children }: { x: number; plot: PlotArea; width: number; children: ReactNode }) {
  const style: CSSProperties = x > (plot.left + plot.right) / 2 ? { right: width - x + 10, top: plot.top } : { left: x + 10, top: plot.top };
  return (
    <div className="chart-hover-box" role="tooltip" aria-live="polite" style={style}>
      {children}
    </div>
  );
}

/** The vertical line under the pointer. */
export function Cursor({ x, plot }: { x: number; plot: PlotArea }) {
  return <line className="chart-cursor" x1={x} x2={x} y1={plot.top} y2={plot.bottom} stroke={themeColor('chartCursor')} pointerEvents="none" />;
}
