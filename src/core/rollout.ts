// Group sampling with tool interception (ALGORITHM.md section 1). Every trajectory of a step
// advances in lockstep, one position per decoding step, through one batched key/value cache:
// at each position a row either takes a forced token (prompt, tool result) or samples one.
// When the policy closes a call the tool runs at once and its result is queued as forced tokens.

import * as tf from '@tensorflow/tfjs';
import { malformedCall, type ToolCallRecord, ToolEnvironment } from './environment';
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
  EMITTABLE,
  encode,
  EOS,
  isCharacter,
  PAD,
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
  const maxLength = policy.config.contextLength;
  const rows: RowState[] = rowItems.map((item) => ({
    tokens: [],
    forced: promptTokens(item).map((id) => ({ id, kind: 'prompt' as const })),
    toolCalls: [],
    callStart: -1,
    finishReason: null,
  }));
  // Position 0 is BOS for every row; take it now so each decoding step feeds a known token.
  for (const row of rows) row.tokens.push(takeForced(row));

  const cache = emptyCache(policy);
  const useCache = options.useCache ?? true;
  try {
    for (let position = 0; rows.some((row) => row.finishReason === null); position++) {
      const logits = await nextLogits(policy, rows, position, cache, useCache); // [B * V]
      rows.forEach((row, r) => {
        if (row.finishReason !== null) return;
        if (row.forced.length > 0) {
          row.tokens.push(takeForced(row));
        } else {
          row.tokens.push(sampleToken(logits, r, options));
          afterPolicyToken(row, options);
        }
        if (row.finishReason === null && row.tokens.length >= maxLength) finishAtLength(row, options.maxToolCalls);
      });
    }
  } finally {
    disposeCache(cache);
  }
  return rows;
}

/** Logits for the next position of every row, as one flat [B * V] array. */
async function nextLogits(
  policy: Policy,
  rows: RowState[],
  position: number,
  cache: KVCache,
  useCache: boolean,
): Promise<Float32Array> {
  // Finished rows are shorter than `position`: they feed PAD, and their logits are ignored.
  const idAt = (row: RowState, t: number) => row.tokens[t]?.id ?? PAD;
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
 * the entropy of the distribution it came from (ALGORITHM.md section 1).
 */
export function sampleToken(logits: Float32Array, row: number, options: Pick<RolloutOptions, 'temperature' | 'rng'>): TrajectoryToken {
  const offset = row * VOCAB_SIZE;
  const u = options.rng.next(); // drawn even when greedy, so streams stay aligned
  if (options.temperature === 0) {
    let best = -1;
    for (let v = 0; v < VOCAB_SIZE; v++) {
      if (EMITTABLE[v] && (best < 0 || logits[offset + v] > logits[offset + best])) best = v;
    }
    return { id: best, kind: 'policy', logprob: 0, entropy: 0 };
  }
  const { logProbs, entropy } = emittableLogSoftmax(logits, offset, options.temperature);
  let cumulative = 0;
  let chosen = -1;
  for (let v = 0; v < VOCAB_SIZE; v++) {
    if (!EMITTABLE[v]) continue;
    chosen = v;
    cumulative += Math.exp(logProbs[v]);
    if (u < cumulative) break;
  }
  return { id: chosen, kind: 'policy', logprob: logProbs[chosen], entropy };
}

/** Log-softmax over emittable tokens of logits / temperature (non-emittable get -Infinity). */
export function emittableLogSoftmax(
  logits: ArrayLike<number>,
  offset: number,
  temperature: number,
): { logProbs: Float64Array; entropy: number } {
  const logProbs = new Float64Array(VOCAB_SIZE).fill(-Infinity);
  let max = -Infinity;
  for (let v = 0; v < VOCAB_SIZE; v++) {
    if (EMITTABLE[v]) max = Math.max(max, logits[offset + v] / temperature);
  }
  let sum = 0;
  for (let v = 0; v < VOCAB_SIZE; v++) {
    if (EMITTABLE[v]) sum += Math.exp(logits[offset + v] / temperature - max);
  }
  const logZ = max + Math.log(sum);
  let entropy = 0;
  for (let v = 0; v < VOCAB_SIZE; v++) {
    if (!EMITTABLE[v]) continue;
    logProbs[v] = logits[offset + v] / temperature - logZ;
    entropy -= Math.exp(logProbs[v]) * logProbs[v];
  }
  return { logProbs, entropy };
}

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
  return environment.call(expression);
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
 * The last complete answer span of the policy's tokens (ALGORITHM.md section 1), or null. An
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
