// Group sampling with tool interception (docs/algorithm.md §1). Every trajectory of a step
// decodes through one batched key/value cache: at each position a row either takes a forced token
// (prompt, tool result) or samples one, drawing the token at position t of row b with the uniform
// drawn for (b, t) before the rollout starts. When the policy closes a call the tool runs and its
// result is queued as forced tokens. tfjs's own kernels advance all rows in lockstep and read the
// logits back at every position; the fused WebGPU kernels advance every row on the GPU until it
// closes a call or ends, so the CPU reads back once per tool round.

import * as tf from '@tensorflow/tfjs';
import { malformedCall, type ToolCallRecord, ToolEnvironment } from './environment';
import { drawToken } from './model/draw';
import { chooseKernelPath, FusedDecoder } from './model/fusedDecoder';
import { ROW_TABLE } from './model/fusedKernels';
import { decodeStep, disposeCache, emptyCache, forward, type KVCache, type Policy } from './model/transformer';
import type { Rng } from './rng';
import type { TaskItem } from './tasks/types';
import type { ShapingTrajectory, TokenKind } from './tao/types';
import { toolResultText } from './tasks/demonstrations';
import {
  ANSWER_CLOSE,
  ANSWER_OPEN,
  BOS,
  CALL_CLOSE,
  CALL_OPEN,
  encode,
  EOS,
  isCharacter,
  RESULT_CLOSE,
  RESULT_OPEN,
  VOCAB,
  VOCAB_SIZE,
} from './tokenizer';

export interface TrajectoryToken {
  id: number;
  kind: TokenKind;
  /** Log-probability under the behaviour policy at the sampling temperature (policy tokens; else 0). */
  logprob: number;
  /** Entropy of the emittable distribution the token was drawn from, in nats (policy tokens; else 0). */
  entropy: number;
}

export type FinishReason = 'eos' | 'length' | 'tool_limit';

export interface Trajectory extends ShapingTrajectory {
  tokens: TrajectoryToken[];
  toolCalls: ToolCallRecord[];
  item: TaskItem;
  /** Text of the last complete answer span, or null. */
  answer: string | null;
  finishReason: FinishReason;
}

export interface RolloutOptions {
  /** Sampling temperature; 0 means greedy (argmax, log-prob and entropy recorded as 0). */
  temperature: number;
  /** Calls per trajectory; a call closed beyond it ends the trajectory unexecuted. */
  maxToolCalls: number;
  environment: ToolEnvironment;
  rng: Rng;
  /** Decode with the key/value cache (default); false recomputes the whole prefix each position. */
  useCache?: boolean;
  /**
   * 'auto' (default): the fused WGSL kernels where they run (WebGPU, after their self-check),
   * else tfjs's own ops; 'stock': always tfjs's own ops. See model/fusedDecoder.ts.
   */
  kernels?: 'auto' | 'stock';
  /** Called after each decoding position (or tool round on the GPU): a caller that must show it is alive hooks in here. */
  onProgress?: () => void;
  /** Counts of the rollout, added to when given. */
  counters?: RolloutCounters;
  /** Whether tfjs's lockstep loop drops a row from its batch when the row ends (default: yes, DROP_ENDED_ROWS); false keeps it to the end. */
  dropEndedRows?: boolean;
}

/** What a rollout cost in round trips: hardware-independent counts (docs/benchmarks.md). */
export interface RolloutCounters {
  /** Reads of results from the backend to the CPU: one per position on tfjs's kernels, one per tool round on the GPU loop. */
  readbacks: number;
  /** Tool-call rounds: the most calls any one row closed (each row's calls run one after another). */
  toolRounds: number;
  /** GPU loop: rounds that ended before every row stopped, because their guessed length fell short (at most 1). */
  roundsCutShort: number;
}

/** The forced tokens a prompt starts with: BOS, the problem, "=". */
export function promptTokens(item: TaskItem): number[] {
  return [BOS, ...encode(item.prompt), ...encode('=')];
}

interface RowState {
  tokens: TrajectoryToken[];
  forced: { id: number; kind: TokenKind }[];
  toolCalls: ToolCallRecord[];
  /** Index of the open call's first token, or -1. */
  callStart: number;
  /** Calls the policy closed in this rollout (tool-call rounds are their maximum over rows). */
  closes: number;
  /** The timeout uniform of each of the row's calls, by call index (ToolEnvironment.timeoutDraws). */
  timeoutDraws: ArrayLike<number>;
  finishReason: FinishReason | null;
}

/**
 * Sample `groupSize` trajectories for each item; trajectories of item i form group i.
 */
export async function sampleGroups(
  policy: Policy,
  items: TaskItem[],
  groupSize: number,
  options: RolloutOptions,
): Promise<Trajectory[]> {
  const rowItems = items.flatMap((item) => new Array<TaskItem>(groupSize).fill(item));
  const rows = await sampleRows(policy, rowItems, options);
  return rows.map((row, i) => {
    const answer = lastAnswer(row.tokens);
    return {
      group: Math.floor(i / groupSize),
      item: rowItems[i],
      tokens: row.tokens,
      toolCalls: row.toolCalls,
      answer,
      reward: answer === rowItems[i].answer ? 1 : 0,
      finishReason: row.finishReason ?? 'length',
    };
  });
}

async function sampleRows(policy: Policy, rowItems: TaskItem[], options: RolloutOptions): Promise<RowState[]> {
  const rows: RowState[] = rowItems.map((item) => ({
    tokens: [],
    forced: promptTokens(item).map((id) => ({ id, kind: 'prompt' as const })),
    toolCalls: [],
    callStart: -1,
    closes: 0,
    timeoutDraws: [],
    finishReason: null,
  }));
  return runRows(policy, rows, options);
}

/** A trajectory to continue: the tokens written so far (forced again as they were), the calls they made, a call still open. */
export interface ContinuationStart {
  item: TaskItem;
  group: number;
  /** Every token up to where sampling resumes, BOS first; none is sampled again. */
  prefix: { id: number; kind: TokenKind }[];
  /** The records of the calls the prefix closed, in order (their results are in the prefix). */
  toolCalls: ToolCallRecord[];
  /** Index of the open call's first token in the prefix, or -1. */
  callStart: number;
}

/**
 * Continue each start by sampling from the end of its prefix, with tool interception as in
 * sampleGroups: the prefix is fed as forced tokens (its calls are not run again), then the policy
 * samples. Calls made after the prefix count on from the prefix's calls.
 */
export async function sampleContinuations(policy: Policy, starts: ContinuationStart[], options: RolloutOptions): Promise<Trajectory[]> {
  const rows: RowState[] = starts.map((start) => ({
    tokens: [],
    forced: start.prefix.map((token) => ({ ...token })),
    toolCalls: start.toolCalls.slice(),
    callStart: start.callStart,
    closes: 0,
    timeoutDraws: [],
    finishReason: null,
  }));
  await runRows(policy, rows, options);
  return rows.map((row, i) => {
    const answer = lastAnswer(row.tokens);
    return {
      group: starts[i].group,
      item: starts[i].item,
      tokens: row.tokens,
      toolCalls: row.toolCalls,
      answer,
      reward: answer === starts[i].item.answer ? 1 : 0,
      finishReason: row.finishReason ?? 'length',
    };
  });
}

/**
 * The uniform each row draws its token at each position with: [rows * T], row-major, all drawn
 * before decoding starts, so a row's draws do not depend on when the other rows sample (the GPU
 * loop advances rows at their own pace).
 */
export function drawUniforms(rng: Rng, rows: number, contextLength: number): Float32Array {
  const draws = new Float32Array(rows * contextLength);
  for (let i = 0; i < draws.length; i++) draws[i] = rng.next();
  return draws;
}

async function runRows(policy: Policy, rows: RowState[], options: RolloutOptions): Promise<RowState[]> {
  const maxLength = policy.config.contextLength;
  // Position 0 is BOS for every row; take it now so each decoding step feeds a known token.
  for (const row of rows) row.tokens.push(takeForced(row));
  const draws = drawUniforms(options.rng, rows.length, maxLength);
  const timeouts = options.environment.timeoutDraws(rows.length, options.maxToolCalls);
  rows.forEach((row, r) => (row.timeoutDraws = timeouts.subarray(r * options.maxToolCalls, (r + 1) * options.maxToolCalls)));

  const useCache = options.useCache ?? true;
  if (useCache && options.kernels !== 'stock' && (await chooseKernelPath(policy)).path === 'fused') {
    await sampleRowsOnGpu(policy, rows, draws, options);
  } else {
    const cache = emptyCache(policy);
    // The rows in the batch, in order. By default (DROP_ENDED_ROWS) a row that ends leaves the
    // batch and the cache; otherwise it stays, feeding its last token, its logits ignored. Each
    // row's numbers do not depend on the others', so the tokens are the same either way.
    let batch = rows.map((_, r) => r);
    const dropEnded = options.dropEndedRows ?? DROP_ENDED_ROWS;
    try {
      for (let position = 0; batch.some((r) => rows[r].finishReason === null); position++) {
        const logits = await nextLogits(policy, batch.map((r) => rows[r]), position, cache, useCache); // [batch * V]
        if (options.counters) options.counters.readbacks += 1;
        batch.forEach((r, i) =>
          advanceRow(rows[r], () => ({ ...drawToken(logits, i, options.temperature, draws[r * maxLength + position + 1]), kind: 'policy' }), options, maxLength),
        );
        const going = batch.flatMap((r, i) => (rows[r].finishReason === null ? [i] : []));
        if (dropEnded && going.length < batch.length) {
          keepCacheRows(cache, going);
          batch = going.map((i) => batch[i]);
        }
        options.onProgress?.();
      }
    } finally {
      disposeCache(cache);
    }
  }
  if (options.counters) options.counters.toolRounds += Math.max(0, ...rows.map((row) => row.closes));
  return rows;
}

/**
 * The same rollout on the fused kernels, a tool round at a time: the GPU advances every row from
 * its last token until it closes a call, ends or reaches the context length (a row table holds
 * each row's position, forced tokens and draws, fusedKernels.ts ROW_TABLE); one readback brings
 * back the round's tokens, which the CPU then takes exactly as the stock loop does (advanceRow),
 * running the calls and queueing their results for the next round.
 *
 * How many positions a round dispatches: the CPU cannot see when the last row stops, and every
 * position past that is idle work. So a round first runs for a guess, each row's forced tokens
 * plus twice the longest stretch the policy has sampled in one round so far (at least
 * FIRST_GUESS); a row still going at the end simply carries on in the next round. After one
 * round falls short, rounds run to the context length: at most one readback more than the tool
 * rounds + 1, whatever the policy writes.
 */
async function sampleRowsOnGpu(policy: Policy, rows: RowState[], draws: Float32Array, options: RolloutOptions): Promise<void> {
  const T = policy.config.contextLength;
  const stride = ROW_TABLE.stride(T);
  const decoder = new FusedDecoder(policy, rows.length);
  let guessing = true;
  let longestStretch = 0; // policy tokens one row sampled in one round
  try {
    while (rows.some((row) => row.finishReason === null)) {
      const table = new Float32Array(rows.length * stride);
      let steps = 0;
      rows.forEach((row, b) => {
        if (row.finishReason !== null) return;
        const at = b * stride;
        const last = row.tokens.length - 1; // fed next
        const forced = row.forced.slice(0, T - row.tokens.length);
        table[at + ROW_TABLE.position] = last;
        table[at + ROW_TABLE.active] = 1;
        table[at + ROW_TABLE.forcedEnd] = row.tokens.length + forced.length;
        table[at + ROW_TABLE.slot(last)] = row.tokens[last].id;
        forced.forEach((token, i) => (table[at + ROW_TABLE.slot(row.tokens.length + i)] = token.id));
        const toContextLength = T - row.tokens.length;
        steps = Math.max(steps, guessing ? Math.min(toContextLength, forced.length + Math.max(FIRST_GUESS, 2 * longestStretch)) : toContextLength);
      });
      const after = await decoder.run(table, draws, steps, options.temperature);
      if (options.counters) options.counters.readbacks += 1;
      if (rows.some((_, b) => after[b * stride + ROW_TABLE.active] !== 0)) {
        guessing = false;
        if (options.counters) options.counters.roundsCutShort += 1;
      }
      const lengths = rows.map((row) => row.tokens.length);
      const sampledBefore = rows.map((row) => row.tokens.filter((token) => token.kind === 'policy').length);
      rows.forEach((row, b) => {
        const at = b * stride;
        const reached = after[at + ROW_TABLE.position];
        while (row.finishReason === null && row.tokens.length <= reached) {
          const slot = at + ROW_TABLE.slot(row.tokens.length);
          const expected = row.forced[0]?.id;
          advanceRow(row, () => ({ id: after[slot], kind: 'policy', logprob: after[slot + 1], entropy: after[slot + 2] }), options, T);
          if (expected !== undefined && after[slot] !== expected) throw new Error(`the GPU loop fed token ${after[slot]} where the forced token ${expected} was due`);
        }
      });
      if (rows.some((row, b) => row.finishReason === null && row.tokens.length === lengths[b])) {
        throw new Error('the GPU loop returned a round in which an unfinished row did not advance');
      }
      rows.forEach((row, b) => (longestStretch = Math.max(longestStretch, row.tokens.filter((token) => token.kind === 'policy').length - sampledBefore[b])));
      options.onProgress?.();
    }
  } finally {
    decoder.dispose();
  }
}

/** Sampled positions the GPU loop's first round allows beyond each row's forced tokens. */
const FIRST_GUESS = 16;

/**
 * One position of an unfinished row: its next forced token if it has one (prompt, tool result),
 * else the token `sample` gives; then the length cap.
 */
function advanceRow(row: RowState, sample: () => TrajectoryToken, options: RolloutOptions, maxLength: number): void {
  if (row.finishReason !== null) return;
  if (row.forced.length > 0) {
    row.tokens.push(takeForced(row));
  } else {
    row.tokens.push(sample());
    afterPolicyToken(row, options);
  }
  if (row.finishReason === null && row.tokens.length >= maxLength) finishAtLength(row, options.maxToolCalls);
}

/**
 * Whether the lockstep loop drops a row from its batch when the row ends: yes. On wasm the
 * bench's 64 rows take 73-86 ms instead of 133-144 ms in Node, and a default step's rollout
 * about 0.13-0.20 s instead of 0.22-0.38 s in headless Chromium (docs/benchmarks.md). The
 * browser gained nothing from it until the wasm Slice kernel stopped copying its whole input for
 * every slice (model/wasmKernels.ts): copies of the cache cost far more there than in Node.
 */
const DROP_ENDED_ROWS = true;

/**
 * Keeps the cache rows at `indices` (ascending) and drops the others: a slice per run of
 * consecutive rows, joined along the rows (on wasm a tenth of tf.gather's time).
 */
function keepCacheRows(cache: KVCache, indices: number[]): void {
  const runs: [start: number, size: number][] = [];
  for (const i of indices) {
    const last = runs.at(-1);
    if (last && last[0] + last[1] === i) last[1] += 1;
    else runs.push([i, 1]);
  }
  for (const slots of [cache.keys, cache.values]) {
    slots.forEach((tensor, layer) => {
      if (tensor === null) return;
      const [, H, t, K] = tensor.shape;
      slots[layer] = runs.length === 0 ? null : tf.tidy(() => tf.concat(runs.map(([start, size]) => tf.slice(tensor, [start, 0, 0, 0], [size, H, t, K])), 0));
      tensor.dispose();
    });
  }
}

/** Logits for the next position of each of `rows`, as one flat [rows * V] array. */
async function nextLogits(
  policy: Policy,
  rows: RowState[],
  position: number,
  cache: KVCache,
  useCache: boolean,
): Promise<Float32Array> {
  // A row that ended and is still in the batch feeds its last token again; its logits are ignored.
  const idAt = (row: RowState, t: number) => row.tokens[Math.min(t, row.tokens.length - 1)].id;
  const logits = tf.tidy(() => {
    if (useCache) {
      const last = rows.map((row) => idAt(row, position));
      return decodeStep(policy, tf.tensor1d(last, 'int32'), cache);
    }
    const prefix = rows.map((row) => Array.from({ length: position + 1 }, (_, t) => idAt(row, t)));
    const all = forward(policy, tf.tensor2d(prefix, [rows.length, position + 1], 'int32'));
    return all.slice([0, position, 0], [rows.length, 1, VOCAB_SIZE]).reshape([rows.length, VOCAB_SIZE]);
  });
  const values = (await logits.data()) as Float32Array;
  logits.dispose();
  return values;
}

function takeForced(row: RowState): TrajectoryToken {
  const { id, kind } = row.forced.shift()!;
  return { id, kind, logprob: 0, entropy: 0 };
}

/**
 * Draw a token from the emittable vocabulary at the temperature; record its log-probability and
 * the entropy of the distribution it came from (docs/algorithm.md §1).
 */
export function sampleToken(logits: Float32Array, row: number, options: Pick<RolloutOptions, 'temperature' | 'rng'>): TrajectoryToken {
  const u = options.rng.next(); // drawn even when greedy, so streams stay aligned
  return { ...drawToken(logits, row, options.temperature, u), kind: 'policy' };
}

export { emittableLogSoftmax } from './model/draw';

/** React to the token the policy just sampled: open or close a call, or finish. */
function afterPolicyToken(row: RowState, options: RolloutOptions): void {
  const index = row.tokens.length - 1;
  const id = row.tokens[index].id;
  if (id === EOS) {
    row.finishReason = 'eos';
    if (row.callStart >= 0 && row.toolCalls.length < options.maxToolCalls) {
      row.toolCalls.push(unclosedCall(row, 'the call was never closed'));
    }
  } else if (id === CALL_OPEN && row.callStart < 0) {
    row.callStart = index + 1;
  } else if (id === CALL_CLOSE) {
    row.closes += 1;
    if (row.toolCalls.length >= options.maxToolCalls) {
      row.finishReason = 'tool_limit';
      return;
    }
    const record = closeCall(row, index, options.environment);
    row.toolCalls.push(record);
    row.callStart = -1;
    const result = [RESULT_OPEN, ...encode(toolResultText(record.ok ? { ok: true, value: record.value! } : { ok: false })), RESULT_CLOSE];
    row.forced.push(...result.map((tokenId) => ({ id: tokenId, kind: 'tool' as const })));
  }
}

function closeCall(row: RowState, closeIndex: number, environment: ToolEnvironment): ToolCallRecord {
  if (row.callStart < 0) return malformedCall('', 'call closed with no open call');
  const inner = row.tokens.slice(row.callStart, closeIndex).map((token) => token.id);
  const expression = inner.map((id) => (isCharacter(id) ? VOCAB[id] : '')).join('');
  if (!inner.every(isCharacter)) {
    return malformedCall(expression, 'a special token appeared inside the call');
  }
  return environment.call(expression, row.toolCalls.length, row.timeoutDraws[row.toolCalls.length]);
}

/** A call the trajectory ended inside: a failed call with no result appended. */
function unclosedCall(row: RowState, message: string): ToolCallRecord {
  const inner = row.tokens.slice(row.callStart).map((token) => (isCharacter(token.id) ? VOCAB[token.id] : '')).join('');
  row.callStart = -1;
  return malformedCall(inner, message);
}

/** At the length cap a call still open counts as a failed call: there is no room for a result. */
function finishAtLength(row: RowState, maxToolCalls: number): void {
  row.finishReason = 'length';
  if (row.callStart >= 0 && row.toolCalls.length < maxToolCalls) row.toolCalls.push(unclosedCall(row, 'the call was still open at the length cap'));
  // Tool tokens queued but not appended are dropped with the rest of the trajectory.
  row.forced.length = 0;
}

/**
 * The last complete answer span of the policy's tokens (docs/algorithm.md §1), or null. An
 * answer span holds characters only.
 */
export function lastAnswer(tokens: readonly { id: number; kind: TokenKind }[]): string | null {
  let answer: string | null = null;
  let open = -1;
  tokens.forEach((token, i) => {
    if (token.kind !== 'policy') return;
    if (token.id === ANSWER_OPEN) open = i + 1;
    else if (token.id === ANSWER_CLOSE && open >= 0) {
      const inner = tokens.slice(open, i);
      if (inner.every((t) => isCharacter(t.id))) answer = inner.map((t) => VOCAB[t.id]).join('');
      open = -1;
    }
  });
  return answer;
}
