// Held-out evaluation: sampled accuracy at temperature 1 (mean over k samples, the measure of
// progress), pass@k, greedy accuracy, and how the policy uses its tool.

import { ToolEnvironment, type ToolCallRecord } from './environment';
import type { Policy } from './model/transformer';
import { Rng } from './rng';
import { sampleGroups, type Trajectory } from './rollout';
import type { Config } from './config';
import { evaluationSet, getTask, type TaskItem } from './tasks';
import { mean } from './tao/advantage';
import { getTool } from './tools';

export interface Evaluation {
  prompts: number;
  /** Samples per prompt, k. */
  samples: number;
  /** Mean reward over all k samples of every prompt (mean@k). */
  sampledAccuracy: number;
  /** Fraction of prompts with at least one correct sample among k. */
  passAtK: number;
  /** Accuracy of one greedy (argmax) trajectory per prompt; null when not measured. */
  greedyAccuracy: number | null;
  /** Fraction of sampled trajectories that made at least one tool call. */
  callRate: number;
  /** Failed calls over all calls of the sampled trajectories. */
  callFailureRate: number;
  /** Failed calls the environment caused (timeouts), over all calls. */
  environmentFailureRate: number;
  /** Fraction of sampled trajectories that made calls, all of which failed. */
  allCallsFailedRate: number;
  /** Fraction of prompts whose k samples are neither all right nor all wrong. */
  mixedGroups: number;
  /** Sampled accuracy per task kind. */
  byKind: Record<string, number>;
  // Measured since the evidence experiments; absent from older run files.
  /** Correct samples of each prompt, in prompt order: what pass@k and mean@k are computed from. */
  correctByPrompt?: number[];
  /** Unbiased pass@k from the n samples per prompt, for each k in PASS_AT_K not above n. */
  passAt?: Record<string, number>;
  /**
   * Calls whose expression the tool rejects, over all calls, timed out or not: the policy's own
   * malformed share (a timeout hides whether its call was well formed, so callFailureRate's
   * policy share understates it).
   */
  malformedCallRate?: number;
  /** Mean entropy (nats) of the first policy token after each tool result: where the next move is chosen. */
  firstPostToolEntropy?: number;
}

/** The k of the pass@k estimates an evaluation reports (those up to its samples per prompt). */
export const PASS_AT_K = [1, 4, 8] as const;

/**
 * Unbiased pass@k of one prompt with c correct of n samples (Chen et al. 2021):
 * 1 - C(n-c, k) / C(n, k), as a product to stay exact in floating point.
 */
export function passAtKUnbiased(n: number, c: number, k: number): number {
  if (k > n) throw new Error(`pass@${k} needs at least ${k} samples per prompt, got ${n}`);
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}

export interface EvaluationOptions {
  samples: number;
  temperature: number;
  greedy: boolean;
  seed: number;
  tool: string;
  maxToolCalls: number;
  flakyProbability: number;
  /** Calls at the start of every trajectory that time out (the task's cold tool); default 0. */
  coldCalls?: number;
  /** Trajectories decoded together, to bound memory. */
  rowsPerBatch?: number;
  /** Called at each decoding position: the page's worker says it is alive (wasm never yields to its timers mid-rollout). */
  onProgress?: () => void;
}

export async function evaluatePolicy(policy: Policy, items: TaskItem[], options: EvaluationOptions): Promise<Evaluation> {
  const rng = new Rng(options.seed).fork('evaluation');
  const environment = new ToolEnvironment(options.tool, options.flakyProbability, rng.fork('environment'), options.coldCalls);
  const tool = getTool(options.tool);
  const promptsPerBatch = Math.max(1, Math.floor((options.rowsPerBatch ?? 512) / options.samples));
  const sampled: Trajectory[] = [];
  const greedy: Trajectory[] = [];
  for (let start = 0; start < items.length; start += promptsPerBatch) {
    const chunk = items.slice(start, start + promptsPerBatch);
    const rollout = { maxToolCalls: options.maxToolCalls, environment, rng: rng.fork(`batch:${start}`), onProgress: options.onProgress };
    const batch = await sampleGroups(policy, chunk, options.samples, { ...rollout, temperature: options.temperature });
    sampled.push(...batch.map((t) => ({ ...t, group: t.group + start })));
    if (options.greedy) greedy.push(...(await sampleGroups(policy, chunk, 1, { ...rollout, temperature: 0 })));
  }
  const malformed = (expression: string) => !tool.run(expression).ok;
  return summarise(sampled, greedy, items.length, options.samples, options.greedy, malformed);
}

/**
 * Whether the policy wrote a malformed call: a failure it caused is one by definition (a special
 * token inside the call drops out of the expression text, so the text alone can look fine); a
 * call the environment timed out is judged by the tool, which never saw it.
 */
export function isMalformedCall(call: ToolCallRecord, toolRejects: (expression: string) => boolean): boolean {
  if (call.ok) return false;
  return call.cause === 'policy' || toolRejects(call.expression);
}

/** Entropies of the first policy token after each tool result of a trajectory. */
function firstPostToolEntropies(trajectory: Trajectory): number[] {
  const entropies: number[] = [];
  trajectory.tokens.forEach((token, i) => {
    if (token.kind === 'policy' && i > 0 && trajectory.tokens[i - 1].kind === 'tool') entropies.push(token.entropy);
  });
  return entropies;
}

function fraction(count: number, total: number): number {
  return total === 0 ? 0 : count / total;
}

function summarise(
  sampled: Trajectory[],
  greedy: Trajectory[],
  prompts: number,
  samples: number,
  withGreedy: boolean,
  malformed: (expression: string) => boolean,
): Evaluation {
  const correctByPrompt = new Array<number>(prompts).fill(0);
  for (const t of sampled) correctByPrompt[t.group] += t.reward;
  const calls = sampled.flatMap((t) => t.toolCalls);
  const kinds = new Map<string, { correct: number; total: number }>();
  for (const t of sampled) {
    const entry = kinds.get(t.item.kind) ?? { correct: 0, total: 0 };
    entry.correct += t.reward;
    entry.total += 1;
    kinds.set(t.item.kind, entry);
  }
  return {
    prompts,
    samples,
    sampledAccuracy: fraction(sampled.reduce((n, t) => n + t.reward, 0), sampled.length),
    passAtK: fraction(correctByPrompt.filter((c) => c > 0).length, prompts),
    greedyAccuracy: withGreedy ? fraction(greedy.reduce((n, t) => n + t.reward, 0), greedy.length) : null,
    callRate: fraction(sampled.filter((t) => t.toolCalls.length > 0).length, sampled.length),
    callFailureRate: fraction(calls.filter((c) => !c.ok).length, calls.length),
    environmentFailureRate: fraction(calls.filter((c) => !c.ok && c.cause === 'environment').length, calls.length),
    allCallsFailedRate: fraction(sampled.filter((t) => t.toolCalls.length > 0 && t.toolCalls.every((c) => !c.ok)).length, sampled.length),
    mixedGroups: fraction(correctByPrompt.filter((c) => c > 0 && c < samples).length, prompts),
    byKind: Object.fromEntries([...kinds].map(([kind, { correct, total }]) => [kind, fraction(correct, total)])),
    correctByPrompt,
    passAt: Object.fromEntries(
      PASS_AT_K.filter((k) => k <= samples).map((k) => [String(k), fraction(correctByPrompt.reduce((sum, c) => sum + passAtKUnbiased(samples, c, k), 0), prompts)]),
    ),
    malformedCallRate: fraction(calls.filter((c) => isMalformedCall(c, malformed)).length, calls.length),
    firstPostToolEntropy: mean(sampled.flatMap(firstPostToolEntropies)),
  };
}

/** A run's held-out evaluation: the first `evalPrompts` of its task's evaluation set, `evalSamples` each. */
export function evaluateHeldOut(
  policy: Policy,
  config: Pick<Config, 'task' | 'evalPrompts' | 'evalSamples' | 'seed' | 'tool' | 'maxToolCalls' | 'flakyProbability'>,
  greedy: boolean,
  onProgress?: () => void,
): Promise<Evaluation> {
  const task = getTask(config.task);
  const items = evaluationSet(task).slice(0, config.evalPrompts);
  return evaluatePolicy(policy, items, {
    samples: config.evalSamples,
    temperature: 1,
    greedy,
    seed: config.seed,
    tool: config.tool,
    maxToolCalls: config.maxToolCalls,
    flakyProbability: config.flakyProbability,
    coldCalls: task.coldCalls,
    onProgress,
  });
}
