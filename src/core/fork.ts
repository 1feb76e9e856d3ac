// Forking a trajectory at one of its tokens: what the policy could have written there (the
// distribution it sampled from) and what would have happened had it written something else
// (continuations sampled from that point with the same tool environment). TAO-RL's premise is
// that the tokens right after a tool result decide a trajectory's fate (docs/algorithm.md §3);
// the pass rate from a token, measured at every post-tool token, shows where they do. The sampling
// itself is in forkSampling.ts (tfjs); this part is plain data, which the page reads too.

import type { ToolCallRecord } from './environment';
import type { ContinuationStart, FinishReason } from './rollout';
import type { TokenKind } from './tao/types';
import { CALL_CLOSE, CALL_OPEN, EMITTABLE, encode, VOCAB } from './tokenizer';

/** Continuations per request at most: a request is one batch of rows. */
export const MAX_FORK_SAMPLES = 64;

/** What forking needs of a trajectory: its prompt and answer, its tokens and its calls (a step report's trajectory has them). */
export interface ForkSource {
  prompt: string;
  expected: string;
  /** One entry per token: the token as text (a vocabulary symbol) and who wrote it. */
  text: string[];
  kind: TokenKind[];
  toolCalls: ToolCallRecord[];
}

/** The policy's next-token distribution at a position, over the whole vocabulary. */
export interface NextTokenDistribution {
  /** Probability of each vocabulary id at the sampling temperature; 0 for the tokens the mask forbids. */
  probabilities: number[];
  /** Entropy of that distribution, in nats. */
  entropy: number;
}

/** One continuation from a fork: the tokens from the fork position on, the calls made there, the outcome. */
export interface Continuation {
  text: string[];
  kind: TokenKind[];
  /** The calls made after the fork (the prefix's calls are not repeated). */
  toolCalls: ToolCallRecord[];
  answer: string | null;
  reward: number;
  finishReason: FinishReason;
}

/** Share of continuations that earned a reward above 0; null for none. */
export function passRate(rewards: readonly number[]): { passed: number; total: number; rate: number | null } {
  const passed = rewards.filter((reward) => reward > 0).length;
  return { passed, total: rewards.length, rate: rewards.length > 0 ? passed / rewards.length : null };
}

/** The symbols the sampling mask never lets the policy write (forced by the environment, or only inside results). */
export function forbiddenTokens(): string[] {
  return VOCAB.filter((_, id) => !EMITTABLE[id]);
}

/** Whether `position` holds a token the policy sampled, so that it can be sampled again. */
export function isForkable(source: Pick<ForkSource, 'kind'>, position: number): boolean {
  return Number.isInteger(position) && position > 0 && source.kind[position] === 'policy';
}

/** The first policy token after the first tool result; the first policy token when there is no result; null when there is none. */
export function firstPostToolPosition(kind: readonly TokenKind[]): number | null {
  for (let t = 1; t < kind.length; t++) if (kind[t] === 'policy' && kind[t - 1] === 'tool') return t;
  const first = kind.indexOf('policy');
  return first > 0 ? first : null;
}

/**
 * Where a scan forks: every post-tool policy token (`postTool` as the step marked them), and
 * `contrast` other policy tokens spread evenly over the rest, first policy token included; in
 * order, at most `limit` (post-tool tokens first when there are more).
 */
export function scanPositions(kind: readonly TokenKind[], postTool: readonly (0 | 1)[], contrast = 4, limit = 32): number[] {
  const policy = kind.flatMap((k, t) => (k === 'policy' && t > 0 ? [t] : []));
  const after = policy.filter((t) => postTool[t] === 1);
  const others = policy.filter((t) => postTool[t] !== 1);
  const picked = new Set(after.slice(0, limit));
  const room = Math.min(contrast, limit - picked.size, others.length);
  for (let i = 0; i < room; i++) picked.add(others[room === 1 ? 0 : Math.round((i * (others.length - 1)) / (room - 1))]);
  return [...picked].sort((a, b) => a - b);
}

/** Vocabulary ids of a trajectory's token texts. */
export function tokenIds(text: readonly string[]): number[] {
  return text.map((symbol, t) => {
    const [id, ...rest] = encode(symbol);
    if (id === undefined || rest.length > 0) throw new Error(`token ${t} (${JSON.stringify(symbol)}) is not one vocabulary symbol`);
    return id;
  });
}

/**
 * Where the rollout resumes to sample `position` again: the tokens before it, forced, and the
 * rollout's state there (the calls closed so far with their records, a call left open).
 */
export function continuationStart(source: ForkSource, position: number, group = 0): ContinuationStart {
  if (!isForkable(source, position)) throw new Error(`token ${position} was not sampled by the policy: only policy tokens can be forked`);
  const ids = tokenIds(source.text.slice(0, position));
  let callStart = -1;
  let closed = 0;
  ids.forEach((id, t) => {
    if (source.kind[t] !== 'policy') return;
    if (id === CALL_OPEN && callStart < 0) callStart = t + 1;
    else if (id === CALL_CLOSE) {
      closed += 1;
      callStart = -1;
    }
  });
  return {
    item: { prompt: source.prompt, answer: source.expected, kind: 'fork' },
    group,
    prefix: ids.map((id, t) => ({ id, kind: source.kind[t] })),
    toolCalls: source.toolCalls.slice(0, closed),
    callStart,
  };
}
