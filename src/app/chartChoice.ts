// The charts a person added below the standard curves ("Add a chart"): which metric, how much
// exponential smoothing, and whether on a log scale. Saved with the run (its RunMeta) and carried in
// the page's link as `charts=grad_norm~ema0.9~log,actor/ppo_kl`; plus the numbers they draw:
// smoothed series and log axes.

import { isMetricKey, METRICS, type MetricKey } from '../core/metrics';

export interface AddedChart {
  metric: MetricKey;
  /** Weight of the past in the exponential moving average, in [0, MAX_SMOOTHING]; 0 draws the values as they are. */
  smoothing: number;
  /** Drawn on a log scale (only while every value is positive). */
  log: boolean;
}

export const MAX_SMOOTHING = 0.99;

/** The link parameter the added charts ride in. */
export const CHARTS_PARAM = 'charts';

/** One chart as a link writes it: "grad_norm", "grad_norm~ema0.9", "grad_norm~ema0.9~log". */
function chartText(chart: AddedChart): string {
  return [chart.metric, ...(chart.smoothing > 0 ? [`ema${chart.smoothing}`] : []), ...(chart.log ? ['log'] : [])].join('~');
}

/** The `charts` parameter's value; '' for none. */
export function chartsToParam(charts: readonly AddedChart[]): string {
  return charts.map(chartText).join(',');
}

/**
 * The charts a link's `charts` value names, in order, each metric once; a part that names no
 * metric of the registry, or an option it does not know, is left out and named in a problem.
 */
export function chartsFromParam(text: string | null): { charts: AddedChart[]; problems: string[] } {
  const charts: AddedChart[] = [];
  const problems: string[] = [];
  if (!text) return { charts, problems };
  for (const part of text.split(',')) {
    if (part === '') continue;
    const [metric, ...options] = part.split('~');
    if (!isMetricKey(metric)) {
      problems.push(`${CHARTS_PARAM}: ${JSON.stringify(metric)} is not a metric; that chart is left out.`);
      continue;
    }
    if (charts.some((chart) => chart.metric === metric)) continue;
    const chart: AddedChart = { metric, smoothing: 0, log: false };
    for (const option of options) {
      const ema = /^ema(\d*\.?\d+)$/.exec(option);
      if (option === 'log') chart.log = true;
      else if (ema && Number(ema[1]) <= MAX_SMOOTHING) chart.smoothing = Number(ema[1]);
      else problems.push(`${CHARTS_PARAM}: ${JSON.stringify(option)} is not an option of the ${metric} chart (ema0 to ema${MAX_SMOOTHING}, log); it is ignored.`);
    }
    charts.push(chart);
  }
  return { charts, problems };
}

/** A search string with the charts' parameter set (or removed when there are none). */
export function withChartsParam(search: string, charts: readonly AddedChart[]): string {
  const params = new URLSearchParams(search);
  if (charts.length > 0) params.set(CHARTS_PARAM, chartsToParam(charts));
  else params.delete(CHARTS_PARAM);
  const text = params.toString().replace(/%2F/g, '/').replace(/%2C/g, ',').replace(/%7E/g, '~');
  return text ? `?${text}` : '';
}

/** A link (a whole address) with the charts' parameter set. */
export function linkWithCharts(link: string, charts: readonly AddedChart[]): string {
  const at = link.indexOf('?');
  const [base, search] = at < 0 ? [link, ''] : [link.slice(0, at), link.slice(at)];
  return `${base}${withChartsParam(search, charts)}`;
}

/**
 * Exponential moving average, debiased as TensorBoard's smoothing is (so the first values are not
 * pulled towards 0): s_t = w s_{t-1} + (1 - w) x_t, shown as s_t / (1 - w^t) over the t values so
 * far. Missing values (null) stay missing and do not count.
 */
export function smoothed(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  let average = 0;
  let count = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return null;
    count += 1;
    average = weight * average + (1 - weight) * value;
    return average / (1 - weight ** count);
  });
}

/** Whether a log scale can draw these values: at least one, and every one above 0. */
export function logScaleFits(values: readonly (number | null)[]): boolean {
  const present = values.filter((value): value is number => value !== null && Number.isFinite(value));
  return present.length > 0 && present.every((value) => value > 0);
}

/**
 * A log axis over positive values, in log10 units: whole decades around them (at least one), a tick
 * at each decade (every other one beyond 6).
 */
export function logAxis(values: readonly number[]): { domain: [number, number]; ticks: number[] } {
  const logs = values.filter((value) => value > 0).map(Math.log10);
  const low = Math.floor(Math.min(...logs)) + 0; // + 0: no -0
  const high = Math.max(low + 1, Math.ceil(Math.max(...logs)) + 0);
  const stride = high - low > 6 ? 2 : 1;
  const ticks: number[] = [];
  for (let tick = low; tick <= high; tick += stride) ticks.push(tick);
  return { domain: [low, high], ticks };
}

/** The metrics the picker offers: every one of the registry, in its order, with its label. */
export function pickerMetrics(): { key: MetricKey; label: string }[] {
  return (Object.keys(METRICS) as MetricKey[]).map((key) => ({ key, label: METRICS[key].label }));
}
