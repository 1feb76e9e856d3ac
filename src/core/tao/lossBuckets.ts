// The training batch as the update computes it: rows cut to the positions that count, and, on the
// CPU backends, regrouped by length into a few buckets (docs/algorithm.md §5).
//
// Every term of the loss and every metric it reports is a mean over tokens with loss weight > 0,
// and position t of a row sees positions <= t only (causal attention). So the positions after a
// row's last weighted token change nothing, and a row with no weighted token changes nothing: the
// update drops both. A batch padded to its longest row spends most of its work on such positions
// (rows of 9 to 64 tokens in one batch are common). Split into buckets of similar length, each
// padded to its own longest row, the same gradients cost fewer positions; each bucket's means are
// taken over the whole batch's weight, so the buckets' losses and gradients add up to the batch's.

import type { LossBatch } from './loss';

export interface BucketPlan {
  /** Most buckets; 1 keeps every kept row in one batch (still cut to the positions that count). */
  maxBuckets: number;
  /** What one more bucket costs, in positions: a forward and backward pass's fixed work. */
  bucketCostPositions: number;
}

/** One bucket for the GPU backends, where a pass's fixed cost (its dispatches) outweighs positions. */
export const ONE_BUCKET: BucketPlan = { maxBuckets: 1, bucketCostPositions: 0 };

/**
 * The CPU backends' plan (wasm, cpu), from a sweep on wasm at tiny, the page's default batch: the
 * update took 0.82 s over five steps with up to 4 buckets at 128 positions each, 0.89 at 256,
 * 1.19 at 512, 0.79 with 6 at 128, 1.21 with 2 at 256, and 2.10-2.24 s in one pass
 * (docs/benchmarks.md).
 */
export const CPU_BUCKETS: BucketPlan = { maxBuckets: 4, bucketCostPositions: 128 };

/** Positions of each row that count: 1 + its last position with loss weight > 0, or 0 for none. */
export function usedPositions(batch: LossBatch): number[] {
  const used: number[] = [];
  for (let b = 0; b < batch.B; b++) {
    let last = -1;
    for (let t = batch.T - 1; t >= 0 && last < 0; t--) if (batch.lossWeight[b * batch.T + t] > 0) last = t;
    used.push(last + 1);
  }
  return used;
}

/**
 * The cheapest split of lengths sorted longest first into at most `plan.maxBuckets` runs, where
 * a run of n rows whose first is L long costs n * L + bucketCostPositions. Returns the index
 * where each run starts (the first is 0). Exact, by dynamic programming over the split points.
 */
export function splitPoints(sortedLengths: number[], plan: BucketPlan): number[] {
  const n = sortedLengths.length;
  if (n === 0) return [];
  const buckets = Math.max(1, Math.min(plan.maxBuckets, n));
  const runCost = (from: number, to: number) => (to - from) * sortedLengths[from] + plan.bucketCostPositions;
  // After round k, best[i] is the cheapest cost of rows [i, n) in at most k runs, and
  // nexts[k - 1][i] is where the first of those runs ends (n: one run to the end).
  let best = Array.from({ length: n + 1 }, (_, i) => (i === n ? 0 : runCost(i, n)));
  const nexts: number[][] = [Array.from({ length: n + 1 }, () => n)];
  for (let k = 2; k <= buckets; k++) {
    const cost = new Array<number>(n + 1).fill(0);
    const next = new Array<number>(n + 1).fill(n);
    for (let i = 0; i < n; i++) {
      cost[i] = runCost(i, n);
      for (let j = i + 1; j < n; j++) {
        const split = runCost(i, j) + best[j];
        if (split < cost[i]) [cost[i], next[i]] = [split, j];
      }
    }
    best = cost;
    nexts.push(next);
  }
  const starts = [0];
  for (let k = buckets; k >= 1 && starts.at(-1)! < n; k--) {
    const end = nexts[k - 1][starts.at(-1)!];
    if (end >= n) break;
    starts.push(end);
  }
  return starts;
}

/**
 * The batch's rows with a weighted token, longest first, in buckets each cut to its longest row's
 * used positions. The rows' tokens, weights and advantages are copied as they are; a bucket's T is
 * its longest row's used positions, its tokens T + 1 per row.
 */
export function lossBuckets(batch: LossBatch, plan: BucketPlan): LossBatch[] {
  const used = usedPositions(batch);
  const rows = used
    .map((length, row) => ({ row, length }))
    .filter((entry) => entry.length > 0)
    .sort((a, b) => b.length - a.length || a.row - b.row);
  const starts = splitPoints(rows.map((entry) => entry.length), plan);
  return starts.map((start, k) => {
    const bucket = rows.slice(start, starts[k + 1] ?? rows.length);
    return cut(batch, bucket.map((entry) => entry.row), bucket[0].length); // longest first: its length is the bucket's
  });
}

/** Rows `rows` of `batch`, each cut to its first T positions (T + 1 tokens). */
function cut(batch: LossBatch, rows: number[], T: number): LossBatch {
  const B = rows.length;
  const perPosition = (source: Float32Array) => {
    const out = new Float32Array(B * T);
    rows.forEach((row, b) => out.set(source.subarray(row * batch.T, row * batch.T + T), b * T));
    return out;
  };
  const tokens = new Int32Array(B * (T + 1));
  rows.forEach((row, b) => tokens.set(batch.tokens.subarray(row * (batch.T + 1), row * (batch.T + 1) + T + 1), b * (T + 1)));
  return {
    tokens,
    B,
    T,
    oldLogprob: perPosition(batch.oldLogprob),
    advantage: perPosition(batch.advantage),
    baseAdvantage: perPosition(batch.baseAdvantage),
    bonusEligible: perPosition(batch.bonusEligible),
    lossWeight: perPosition(batch.lossWeight),
  };
}
