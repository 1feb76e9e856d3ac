// Summary statistics for experiment reports: means, t-based 95% confidence intervals, paired
// differences, steps-to-target. Pure functions of plain numbers, so the browser and the CLI share them.

/** A 95% confidence interval of a mean. For n = 1 there is no spread estimate, so the interval is
 * unbounded: low = -Infinity, high = +Infinity, halfWidth = Infinity (print "n=1" instead). */
export interface MeanCI {
  mean: number;
  low: number;
  high: number;
  halfWidth: number; // t(n-1) * s / sqrt(n)
  n: number; // number of values
}

export interface PairedCI extends MeanCI {
  pairs: number; // number of (a[i], b[i]) pairs, equal to n
}

export function mean(xs: number[]): number {
  if (xs.length === 0) throw new Error('mean: empty input');
  return xs.reduce((sum, x) => sum + x, 0) / xs.length;
}

/** Sample standard deviation (n - 1 denominator); 0 for a single value. */
export function sampleStd(xs: number[]): number {
  const m = mean(xs);
  if (xs.length === 1) return 0;
  return Math.sqrt(xs.reduce((sum, x) => sum + (x - m) ** 2, 0) / (xs.length - 1));
}

// t_{0.975}(df) for df = 1..30, the standard printed table (index df - 1).
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, //
  2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, //
  2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];
const Z975 = 1.959963984540054; // standard normal 0.975 quantile

/** 0.975 quantile of Student's t with df degrees of freedom: the table for df <= 30, beyond it the
 * Cornish-Fisher expansion about the normal quantile (Abramowitz & Stegun 26.7.5), which is within
 * 1e-7 of the exact quantile for every df > 30. */
export function tQuantile975(df: number): number {
  if (!(df >= 1) || (df <= 30 && !Number.isInteger(df))) {
    throw new Error(`tQuantile975: df must be an integer >= 1, got ${df}`);
  }
  if (df <= 30) return T975[df - 1];
  const z = Z975;
  const g1 = (z ** 3 + z) / 4;
  const g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96;
  const g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384;
  const g4 = (79 * z ** 9 + 776 * z ** 7 + 1482 * z ** 5 - 1920 * z ** 3 - 945 * z) / 92160;
  return z + g1 / df + g2 / df ** 2 + g3 / df ** 3 + g4 / df ** 4;
}

export function meanCI(xs: number[]): MeanCI {
  const m = mean(xs);
  const n = xs.length;
  if (n === 1) return { mean: m, low: -Infinity, high: Infinity, halfWidth: Infinity, n };
  const halfWidth = (tQuantile975(n - 1) * sampleStd(xs)) / Math.sqrt(n);
  return { mean: m, low: m - halfWidth, high: m + halfWidth, halfWidth, n };
}

/** CI of the per-index differences a[i] - b[i]: runs that share a seed are compared pairwise. */
export function pairedDifference(a: number[], b: number[]): PairedCI {
  if (a.length !== b.length) {
    throw new Error(`pairedDifference: lengths differ (${a.length} vs ${b.length})`);
  }
  return { ...meanCI(a.map((x, i) => x - b[i])), pairs: a.length };
}

/** The earliest step whose value reaches the target, or null if none does. */
export function stepsToTarget(points: { step: number; value: number }[], target: number): number | null {
  const reached = points.filter((p) => p.value >= target).map((p) => p.step);
  return reached.length === 0 ? null : Math.min(...reached);
}

/** "0.812 ± 0.014", or "0.812 (n=1)" when there is no interval. */
export function formatCI(ci: MeanCI, digits = 3): string {
  const m = ci.mean.toFixed(digits);
  return ci.n === 1 ? `${m} (n=1)` : `${m} ± ${ci.halfWidth.toFixed(digits)}`;
}

/** Pairs up to this many are tested exactly (2^n sign patterns); more by a fixed-seed Monte Carlo. */
const EXACT_PERMUTATION_PAIRS = 20;
const MONTE_CARLO_DRAWS = 200_000;

/**
 * Two-sided paired permutation test of "mean difference 0": under the null each pair's sign is a
 * coin flip, so p is the share of the 2^n sign patterns whose |mean| is at least the observed
 * one (the observed pattern included, so p >= 2^-n). All differences 0 give p = 1.
 */
export function pairedPermutationP(diffs: number[]): number {
  const n = diffs.length;
  if (n === 0) throw new Error('pairedPermutationP: no pairs');
  const observed = Math.abs(diffs.reduce((a, b) => a + b, 0));
  const tolerance = 1e-12 * Math.max(1, observed);
  if (n <= EXACT_PERMUTATION_PAIRS) {
    let atLeast = 0;
    const patterns = 2 ** n;
    for (let mask = 0; mask < patterns; mask++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += mask & (1 << i) ? -diffs[i] : diffs[i];
      if (Math.abs(sum) >= observed - tolerance) atLeast += 1;
    }
    return atLeast / patterns;
  }
  // xorshift32 from a fixed seed: the same p for the same differences, every time.
  let state = 0x9e3779b9;
  let atLeast = 1; // the observed pattern
  for (let draw = 0; draw < MONTE_CARLO_DRAWS; draw++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      sum += state & 1 ? -diffs[i] : diffs[i];
    }
    if (Math.abs(sum) >= observed - tolerance) atLeast += 1;
  }
  return atLeast / (MONTE_CARLO_DRAWS + 1);
}

/**
 * Holm's step-down adjustment of a family of p-values (same order as given): the i-th smallest
 * is multiplied by (m - i), made monotone, capped at 1. Rejecting adjusted p < alpha controls
 * the family-wise error rate at alpha.
 */
export function holm(ps: number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach(({ p, i }, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    adjusted[i] = running;
  });
  return adjusted;
}
