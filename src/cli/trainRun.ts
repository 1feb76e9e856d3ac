// The pieces of `npm run train` that other commands (experiments, benchmarks) and tests reuse:
// config from flags (one per setting of the registry, settings.ts), and the progress and
// evaluation lines.

import { resolveConfig, type Config } from '../core/config';
import { allowedValues, isPlainObject, mergeDeep, setAt, settings, type Setting } from '../core/settings';
import type { Evaluation } from '../core/evaluate';
import { formatMetric, STEP_METRICS, type StepMetricKey } from '../core/metrics';
import type { StepReport } from '../core/trainer';
import { formatNumber, UsageError } from './common';

/** The setting a flag sets, by flag name (the registry's: settings.ts); anything else goes through --config JSON. */
function settingFlags(): Map<string, Setting> {
  return new Map(settings().map((setting) => [setting.flag, setting]));
}

/** parseArgs options for every setting's flag, each taking a value. */
export function settingFlagOptions(): Record<string, { type: 'string' }> {
  return Object.fromEntries([...settingFlags().keys()].map((flag) => [flag, { type: 'string' as const }]));
}

/** One usage line per setting's flag: the flag, its label and what it allows. */
export function settingFlagUsage(): string {
  return settings()
    .map((setting) => `${`  --${setting.flag} X`.padEnd(22)} ${setting.label}: ${allowedValues(setting)}${setting.unit ? ` (${setting.unit})` : ''}`)
    .join('\n');
}

/** A flag's text as its setting's type reads it; text that does not parse reaches validation, which names it. */
function flagValue(setting: Setting, raw: string): unknown {
  switch (setting.type) {
    case 'choice':
      return raw;
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : raw;
    default:
      return raw === 'null' && setting.nullMeans !== undefined ? null : Number(raw);
  }
}

/** The config the flags ask for, over `base` (a preset's config when absent: --preset or the default). */
export function configFromFlags(values: Record<string, string | boolean | undefined>, base: Record<string, unknown> = {}): Config {
  let overrides: Record<string, unknown> = base;
  if (typeof values.config === 'string') {
    let fields: unknown;
    try {
      fields = JSON.parse(values.config);
    } catch (error) {
      throw new UsageError(`--config: not valid JSON (${(error as Error).message})`);
    }
    if (!isPlainObject(fields)) throw new UsageError('--config: not a JSON object of config fields');
    overrides = mergeDeep(overrides, fields);
  }
  for (const [flag, setting] of settingFlags()) {
    const raw = values[flag];
    if (typeof raw === 'string') overrides = setAt(overrides, setting.path, flagValue(setting, raw));
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
    show('critic/score/mean'),
    report.skipped ? 'SKIPPED (no group survived)' : show('filter/kept_trajectories'),
    `drop[${show('filter/group_all_correct', 'filter/group_all_wrong', 'filter/all_tools_failed')}]`,
    show('entropy/mean', 'entropy/post_tool_mean'),
    show('tools/call_rate', 'tools/failure_frequency'),
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


