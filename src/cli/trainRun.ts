// The pieces of `npm run train` that other commands (experiments, benchmarks) and tests reuse:
// config from flags, and the progress and evaluation lines.

import { resolveConfig, type Config } from '../core/config';
import type { Evaluation } from '../core/evaluate';
import { formatMetric, STEP_METRICS, type StepMetricKey } from '../core/metrics';
import type { StepReport } from '../core/trainer';
import { formatNumber, UsageError } from './common';

/** Flags that map onto config fields; anything else goes through --config JSON. */
export const FLAG_FIELDS: Record<string, string> = {
  preset: 'preset',
  scale: 'scale',
  seed: 'seed',
  task: 'task',
  flaky: 'flakyProbability',
  lr: 'learningRate',
  group: 'groupSize',
  prompts: 'promptsPerStep',
  temperature: 'temperature',
  'eval-every': 'evalEvery',
  'eval-prompts': 'evalPrompts',
  'eval-samples': 'evalSamples',
};

export function configFromFlags(values: Record<string, string | boolean | undefined>): Config {
  const overrides: Record<string, unknown> = {};
  if (typeof values.config === 'string') {
    try {
      Object.assign(overrides, JSON.parse(values.config));
    } catch (error) {
      throw new UsageError(`--config: not valid JSON (${(error as Error).message})`);
    }
  }
  for (const [flag, field] of Object.entries(FLAG_FIELDS)) {
    const raw = values[flag];
    if (typeof raw !== 'string') continue;
    overrides[field] = ['preset', 'scale', 'task'].includes(field) ? raw : Number(raw);
  }
  if (typeof values.coef === 'string') {
    const shape = (overrides.shape ?? {}) as Record<string, unknown>;
    overrides.shape = { ...shape, bonus: { ...((shape.bonus as object) ?? {}), coef: Number(values.coef) } };
  }
  try {
    return resolveConfig(overrides);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** One line per step: each metric as its registry short name and its value with its unit. */
export function progressLine(report: StepReport): string {
  const show = (...keys: StepMetricKey[]) => keys.map((key) => `${STEP_METRICS[key].short} ${formatMetric(key, report.metrics[key])}`).join(' ');
  return [
    `step ${String(report.step).padStart(3)}`,
    show('reward/mean'),
    report.skipped ? 'SKIPPED (no group survived)' : show('filter/kept_trajectories'),
    `drop[${show('filter/group_all_correct', 'filter/group_all_wrong', 'filter/all_tools_failed')}]`,
    show('entropy/mean', 'entropy/post_tool_mean'),
    show('tools/call_frequency', 'tools/failure_frequency'),
    show('bonus/abs_mean'),
    show('perf/sampled_tokens_per_s'),
    show('time/step_s'),
  ].join('  ');
}

export function evaluationLine(step: number, e: Evaluation): string {
  return (
    `eval @${step}: sampled acc ${formatNumber(e.sampledAccuracy)} (mean@${e.samples}), pass@${e.samples} ${formatNumber(e.passAtK)}, ` +
    `greedy ${formatNumber(e.greedyAccuracy)}, calls ${formatNumber(e.callRate)}, call failures ${formatNumber(e.callFailureRate)} ` +
    `(${e.prompts} held-out prompts)`
  );
}


