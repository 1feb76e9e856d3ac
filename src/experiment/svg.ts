// Standalone SVG charts for experiment reports, returned as strings: no DOM, no fonts, no scripts, so
// the CLI can write them to files and the browser can show them. Output is a pure function of the input.
//
// Values outside the y domain (including the +-Infinity bounds of an n = 1 interval) are pinned to the
// nearest edge of the plot area.

/** A mean with its interval, e.g. a MeanCI from ./stats. */
export interface Interval {
  mean: number;
  low: number;
  high: number;
}

export interface ChartSize {
  width?: number; // px, default 640
  height?: number; // px, default 400
}

export interface LineChartSpec extends ChartSize {
  title: string;
  xLabel: string;
  yLabel: string;
  series: { name: string; points: (Interval & { x: number })[] }[];
  yDomain?: [number, number]; // default: nice bounds around every finite mean, low and high
}

export interface BarChartSpec extends ChartSize {
  title: string;
  yLabel: string;
  bars: (Interval & { label: string })[];
  yDomain?: [number, number]; // default: nice bounds around 0 and every finite mean, low and high
}

export interface SweepChartSpec extends ChartSize {
  title: string;
  xLabel: string;
  yLabel: string;
  points: (Interval & { x: number })[];
  yDomain?: [number, number]; // default: nice bounds around every finite mean, low and high
  logX?: boolean; // decade axis; x = 0 gets its own slot left of a break mark (see logXAxis)
}

/** Okabe-Ito colours, reordered so that the low-contrast yellow comes last; series i gets PALETTE[i % 8]. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

const WIDTH = 640;
const HEIGHT = 400;
// Plot-area margins in px: title above, tick labels and x title below, tick labels and y title left.
const MARGIN = { top: 40, right: 24, bottom: 56, left: 64 };
const LEGEND_WIDTH = 140; // extra right margin when a legend is drawn
const CHAR_WIDTH = 7; // rough width of a 12px sans-serif character, for label layout

// ---------------------------------------------------------------------------------------------
// Scales and ticks

/** Round tick values covering [min, max] with a step of 1, 2 or 5 x 10^k, about `count` intervals. */
export function niceTicks(min: number, max: number, count: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new Error(`niceTicks: bounds must be finite`);
  if (min === max) return [min];
  const step = niceStep(Math.abs(max - min), count);
  const [lo, hi] = [Math.min(min, max), Math.max(min, max)];
  const ticks: number[] = [];
  const [first, last] = [Math.ceil(lo / step - 1e-9), Math.floor(hi / step + 1e-9)]; // tolerate float noise
  for (let i = first; i <= last; i++) ticks.push(roundFloat(i * step));
  return ticks;
}

/** The round step (1, 2 or 5 times a power of ten) nearest to span / count. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const decade = 10 ** Math.floor(Math.log10(raw));
  const r = raw / decade; // in [1, 10)
  // Thresholds at the geometric means of neighbouring steps, so the chosen step is the nearest one.
  return (r >= Math.sqrt(50) ? 10 : r >= Math.sqrt(10) ? 5 : r >= Math.sqrt(2) ? 2 : 1) * decade;
}

/** 0.6000000000000001 -> 0.6: removes the float noise of i * step. */
const roundFloat = (v: number) => Number(v.toPrecision(12));

/** [min, max] widened outward to multiples of the nice step, with its ticks; a zero span gets +-1. */
export function niceDomain(min: number, max: number, count = 5): { domain: [number, number]; ticks: number[] } {
  // Equal values, or values a rounding error apart (a smoothed copy of a constant series), span nothing to divide.
  if (!(max - min > 1e-9 * Math.max(Math.abs(min), Math.abs(max)))) [min, max] = [min - 1, max + 1];
  const step = niceStep(max - min, count);
  const domain: [number, number] = [
    roundFloat(Math.floor(min / step + 1e-9) * step),
    roundFloat(Math.ceil(max / step - 1e-9) * step),
  ];
  return { domain, ticks: niceTicks(domain[0], domain[1], count) };
}

/** Linear map of [d0, d1] onto [r0, r1]; inputs outside the domain are pinned to its ends. */
export function linearScale([d0, d1]: [number, number], [r0, r1]: [number, number]): (v: number) => number {
  if (!(d0 < d1)) throw new Error(`domain must be increasing, got [${d0}, ${d1}]`);
  return (v) => r0 + ((Math.min(d1, Math.max(d0, v)) - d0) / (d1 - d0)) * (r1 - r0);
}

/** Decimals that show a tick step exactly: 0.2 -> 1, 5 -> 0. */
const tickDecimals = (ticks: number[]) =>
  ticks.length < 2 ? 2 : Math.max(0, -Math.floor(Math.log10(ticks[1] - ticks[0]) + 1e-9));

interface Tick {
  at: number; // px along the axis
  label: string;
}

interface Axis {
  scale: (v: number) => number; // data value -> px
  ticks: Tick[];
  breakAt?: number; // px of a break mark on the axis (log x axis with a zero slot)
}

function linearTicks(ticks: number[], scale: (v: number) => number): Tick[] {
  const decimals = tickDecimals(ticks);
  return ticks.map((v) => ({ at: scale(v), label: v.toFixed(decimals) }));
}

/** Y scale and ticks from a fixed domain, or from the finite values niced outward. */
function valueAxis(values: number[], fixed: [number, number] | undefined, plot: PlotArea): Axis {
  const finite = values.filter(Number.isFinite);
  const { domain, ticks } = fixed
    ? { domain: fixed, ticks: niceTicks(fixed[0], fixed[1], 5) }
    : finite.length === 0
      ? niceDomain(0, 1)
      : niceDomain(Math.min(...finite), Math.max(...finite));
  const scale = linearScale(domain, [plot.bottom, plot.top]);
  return { scale, ticks: linearTicks(ticks, scale) };
}

function linearXAxis(xs: number[], range: [number, number]): Axis {
  const { domain, ticks } = xs.length === 0 ? niceDomain(0, 1) : niceDomain(Math.min(...xs), Math.max(...xs));
  const scale = linearScale(domain, range);
  return { scale, ticks: linearTicks(ticks, scale) };
}

/** Decade axis over the positive xs. Zero has no place on a log axis, so (when present) it gets its
 * own slot one decade-width left of the lowest decade, with a break mark on the axis between them. */
function logXAxis(xs: number[], range: [number, number]): Axis {
  if (xs.some((x) => !(x >= 0))) throw new Error('sweepChart: logX needs every x >= 0');
  const positive = xs.filter((x) => x > 0);
  const lo = positive.length ? Math.floor(Math.log10(Math.min(...positive)) + 1e-9) : 0;
  const top = positive.length ? Math.ceil(Math.log10(Math.max(...positive)) - 1e-9) : 1;
  const hi = Math.max(top, lo + 1);
  const hasZero = xs.includes(0);
  const zeroSlot = lo - 1;
  const scale = linearScale([hasZero ? zeroSlot : lo, hi], range);
  const ticks: Tick[] = hasZero ? [{ at: scale(zeroSlot), label: '0' }] : [];
  for (let k = lo; k <= hi; k++) ticks.push({ at: scale(k), label: String(Number((10 ** k).toPrecision(1))) });
  return {
    scale: (x: number) => scale(x === 0 ? zeroSlot : Math.log10(x)),
    ticks,
    breakAt: hasZero ? scale(lo - 0.5) : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// SVG pieces

interface PlotArea {
  width: number; // whole document, px
  height: number;
  left: number; // plot-area edges, px from the document's top-left corner
  right: number;
  top: number;
  bottom: number;
}

function plotArea(size: ChartSize, extra: { right?: number; bottom?: number } = {}): PlotArea {
  const width = size.width ?? WIDTH;
  const height = size.height ?? HEIGHT;
  return {
    width,
    height,
    left: MARGIN.left,
    right: width - MARGIN.right - (extra.right ?? 0),
    top: MARGIN.top,
    bottom: height - MARGIN.bottom - (extra.bottom ?? 0),
  };
}

/** Escapes the five XML special characters and drops control characters that XML 1.0 forbids. */
export function escapeXml(text: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '').replace(/[&<>"']/g, (c) => entities[c]);
}

/** Pixel coordinates rounded to 0.01 px keep the output short and identical across runs. */
const px = (v: number) => String(Math.round(v * 100) / 100);
const pointList = (pts: [number, number][]) => pts.map(([x, y]) => `${px(x)},${px(y)}`).join(' ');

const segment = (x1: number, y1: number, x2: number, y2: number, stroke = '#222222') =>
  `<line x1="${px(x1)}" y1="${px(y1)}" x2="${px(x2)}" y2="${px(y2)}" stroke="${stroke}"/>`;

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${px(x)}" y="${px(y)}"${attrs ? ' ' + attrs : ''}>${escapeXml(content)}</text>`;
}

function svgDocument(plot: PlotArea, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${plot.width}" height="${plot.height}" ` +
      `viewBox="0 0 ${plot.width} ${plot.height}" font-family="sans-serif" font-size="12" fill="#222222">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${plot.width}" height="${plot.height}" fill="#ffffff"/>`,
    text(plot.width / 2, 24, title, 'text-anchor="middle" font-size="15" font-weight="bold"'),
    ...body,
    '</svg>',
  ].join('\n');
}

/** Grid lines, axis lines, ticks, tick labels and axis titles; x.rotate slants the x labels. */
function axes(
  plot: PlotArea,
  x: { ticks: Tick[]; title: string; rotate?: boolean; breakAt?: number },
  y: { ticks: Tick[]; title: string },
): string[] {
  const { left, right, top, bottom } = plot;
  const out = y.ticks.map((t) => segment(left, t.at, right, t.at, '#e5e5e5')); // grid
  out.push(segment(left, bottom, right, bottom), segment(left, top, left, bottom));
  for (const t of y.ticks) {
    out.push(segment(left - 5, t.at, left, t.at), text(left - 8, t.at + 4, t.label, 'text-anchor="end"'));
  }
  for (const t of x.ticks) {
    out.push(segment(t.at, bottom, t.at, bottom + 5));
    out.push(
      x.rotate
        ? text(t.at, bottom + 14, t.label, `text-anchor="end" transform="rotate(-45 ${px(t.at)} ${px(bottom + 14)})"`)
        : text(t.at, bottom + 18, t.label, 'text-anchor="middle"'),
    );
  }
  if (x.breakAt !== undefined) {
    // A white gap in the axis with two slanted strokes: the axis is discontinuous here.
    const b = x.breakAt;
    out.push(
      `<rect x="${px(b - 4)}" y="${px(bottom - 6)}" width="8" height="12" fill="#ffffff"/>`,
      `<path class="axis-break" d="M${px(b - 7)},${px(bottom + 6)} l6,-12 M${px(b + 1)},${px(bottom + 6)} l6,-12" stroke="#222222"/>`,
    );
  }
  if (x.title) out.push(text((left + right) / 2, plot.height - 12, x.title, 'text-anchor="middle"'));
  const yMid = (top + bottom) / 2;
  out.push(text(18, yMid, y.title, `text-anchor="middle" transform="rotate(-90 18 ${px(yMid)})"`));
  return out;
}

function legend(plot: PlotArea, names: string[]): string[] {
  return names.flatMap((name, i) => {
    const [x, y] = [plot.right + 16, plot.top + 8 + i * 20];
    const colour = PALETTE[i % PALETTE.length];
    return [
      `<rect class="legend-swatch" x="${px(x)}" y="${px(y - 6)}" width="18" height="4" fill="${colour}"/>`,
      text(x + 24, y, name),
    ];
  });
}

/** A vertical interval bar with end caps, for bars and sweep points. */
function whisker(x: number, yLow: number, yHigh: number, colour: string): string {
  const cap = (y: number) => `M${px(x - 5)},${px(y)} H${px(x + 5)}`;
  return `<path class="whisker" d="M${px(x)},${px(yLow)} V${px(yHigh)} ${cap(yLow)} ${cap(yHigh)}" stroke="${colour}" fill="none"/>`;
}

const circle = (x: number, y: number, colour: string) =>
  `<circle class="point" cx="${px(x)}" cy="${px(y)}" r="3" fill="${colour}"/>`;

const intervalValues = (points: Interval[]) => points.flatMap((p) => [p.mean, p.low, p.high]);

/** A NaN bound collapses onto the mean: no interval is drawn on that side. */
const withBounds = <P extends Interval>(p: P): P => ({
  ...p,
  low: Number.isNaN(p.low) ? p.mean : p.low,
  high: Number.isNaN(p.high) ? p.mean : p.high,
});

/** The points that can be drawn (finite mean), sorted by x. */
const drawable = <P extends Interval & { x: number }>(points: P[]): P[] =>
  points.filter((p) => Number.isFinite(p.mean)).map(withBounds).sort((p, q) => p.x - q.x);

// ---------------------------------------------------------------------------------------------
// Charts

/** Mean curves over x with a translucent band from low to high per series (e.g. success rate over
 * training steps with a 95% CI across seeds). */
export function lineChartWithBands(spec: LineChartSpec): string {
  const plot = plotArea(spec, { right: LEGEND_WIDTH });
  const series = spec.series.map((s) => ({ name: s.name, points: drawable(s.points) }));
  const all = series.flatMap((s) => s.points);
  const xAxis = linearXAxis(all.map((p) => p.x), [plot.left, plot.right]);
  const yAxis = valueAxis(intervalValues(all), spec.yDomain, plot);
  const [x, y] = [xAxis.scale, yAxis.scale];
  const body = axes(plot, { ticks: xAxis.ticks, title: spec.xLabel }, { ticks: yAxis.ticks, title: spec.yLabel });
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const colour = PALETTE[i % PALETTE.length];
    const upper = s.points.map((p): [number, number] => [x(p.x), y(p.high)]);
    const lower = s.points.map((p): [number, number] => [x(p.x), y(p.low)]);
    const line = s.points.map((p): [number, number] => [x(p.x), y(p.mean)]);
    body.push(`<polygon class="band" points="${pointList([...upper, ...lower.reverse()])}" fill="${colour}" fill-opacity="0.2"/>`);
    body.push(`<polyline class="mean" points="${pointList(line)}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    if (line.length === 1) body.push(circle(line[0][0], line[0][1], colour)); // a lone point draws no line
  });
  body.push(...legend(plot, series.map((s) => s.name)));
  return svgDocument(plot, spec.title, body);
}

/** One bar per condition from 0 to its mean, with a whisker from low to high. Labels sit under the
 * bars, slanted when they are wider than a bar's slot. */
export function barChartWithIntervals(spec: BarChartSpec): string {
  const bars = spec.bars.map(withBounds);
  const upright = plotArea(spec);
  const slot = (upright.right - upright.left) / Math.max(1, bars.length);
  const longest = Math.max(0, ...bars.map((b) => b.label.length));
  const rotate = longest * CHAR_WIDTH > slot;
  // A label slanted at 45 degrees drops about 0.7 of its length (up to 24 characters get room); the
  // bottom margin already holds one row of text where the other charts put their x title.
  const drop = Math.min(longest, 24) * CHAR_WIDTH * 0.7;
  const plot = rotate ? plotArea(spec, { bottom: Math.max(0, drop - 40) }) : upright;
  const y = valueAxis([0, ...intervalValues(bars)], spec.yDomain, plot);
  const centre = (i: number) => plot.left + (i + 0.5) * slot;
  const xTicks = bars.map((b, i) => ({ at: centre(i), label: b.label }));
  const body = axes(plot, { ticks: xTicks, title: '', rotate }, { ticks: y.ticks, title: spec.yLabel });
  bars.forEach((b, i) => {
    if (!Number.isFinite(b.mean)) return; // keeps its slot and label, draws nothing
    const colour = PALETTE[i % PALETTE.length];
    const [y0, yMean] = [y.scale(0), y.scale(b.mean)];
    const barWidth = slot * 0.6;
    body.push(
      `<rect class="bar" x="${px(centre(i) - barWidth / 2)}" y="${px(Math.min(y0, yMean))}" width="${px(barWidth)}" ` +
        `height="${px(Math.abs(y0 - yMean))}" fill="${colour}" fill-opacity="0.8"/>`,
    );
    body.push(whisker(centre(i), y.scale(b.low), y.scale(b.high), '#222222'));
  });
  return svgDocument(plot, spec.title, body);
}

/** One curve over a swept hyperparameter, with a whisker at each setting. */
export function sweepChart(spec: SweepChartSpec): string {
  const plot = plotArea(spec);
  const points = drawable(spec.points);
  const xs = points.map((p) => p.x);
  const range: [number, number] = [plot.left + 16, plot.right - 16]; // inset: end whiskers clear the y axis
  const xAxis = spec.logX ? logXAxis(xs, range) : linearXAxis(xs, range);
  const y = valueAxis(intervalValues(points), spec.yDomain, plot);
  const colour = PALETTE[0];
  const body = axes(
    plot,
    { ticks: xAxis.ticks, title: spec.xLabel, breakAt: xAxis.breakAt },
    { ticks: y.ticks, title: spec.yLabel },
  );
  const line = points.map((p): [number, number] => [xAxis.scale(p.x), y.scale(p.mean)]);
  body.push(`<polyline class="mean" points="${pointList(line)}" fill="none" stroke="${colour}" stroke-width="2"/>`);
  points.forEach((p, i) => {
    body.push(whisker(line[i][0], y.scale(p.low), y.scale(p.high), colour));
    body.push(circle(line[i][0], line[i][1], colour));
  });
  return svgDocument(plot, spec.title, body);
}
