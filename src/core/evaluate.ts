// Held-out evaluation: sampled accuracy at temperature 1 (mean over k samples, the measure of
// progress), pass@k, greedy accuracy, and how the policy uses its tool.

import { ToolEnvironment } from './environment';
import type { Policy } from './model/transformer';
import { Rng } from './rng';
import { sampleGroups, type Trajectory } from './rollout';
import type { Config } from './config';
import { evaluationSet, getTask, type TaskItem } from './tasks';

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
}

export async function evaluatePolicy(policy: Policy, items: TaskItem[], options: EvaluationOptions): Promise<Evaluation> {
  const rng = new Rng(options.seed).fork('evaluation');
  const environment = new ToolEnvironment(options.tool, options.flakyProbability, rng.fork('environment'), options.coldCalls);
  const promptsPerBatch = Math.max(1, Math.floor((options.rowsPerBatch ?? 512) / options.samples));
  const sampled: Trajectory[] = [];
  const greedy: Trajectory[] = [];
  for (let start = 0; start < items.length; start += promptsPerBatch) {
    const chunk = items.slice(start, start + promptsPerBatch);
    const rollout = { maxToolCalls: options.maxToolCalls, environment, rng: rng.fork(`batch:${start}`) };
    const batch = await sampleGroups(policy, chunk, options.samples, { ...rollout, temperature: options.temperature });
    sampled.push(...batch.map((t) => ({ ...t, group: t.group + start })));
    if (options.greedy) greedy.push(...(await sampleGroups(policy, chunk, 1, { ...rollout, temperature: 0 })));
  }
  return summarise(sampled, greedy, items.length, options.samples, options.greedy);
}

function fraction(count: number, total: number): number {
  return total === 0 ? 0 : count / total;
}

function summarise(sampled: Trajectory[], greedy: Trajectory[], prompts: number, samples: number, withGreedy: boolean): Evaluation {
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
  };
}

/** A run's held-out evaluation: the first `evalPrompts` of its task's evaluation set, `evalSamples` each. */
export function evaluateHeldOut(
  policy: Policy,
  config: Pick<Config, 'task' | 'evalPrompts' | 'evalSamples' | 'seed' | 'tool' | 'maxToolCalls' | 'flakyProbability'>,
  greedy: boolean,
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
  });
}
