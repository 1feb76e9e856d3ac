// What an experiment runs: every variant (a preset, or one value of a swept setting) for every
// seed under one condition (task and tool flakiness), from the same warm-start checkpoint. Runs of
// one seed share the seed, hence the prompt stream: variants are compared pair by pair.

import { resolveConfig, type Config } from '../core/config';
import { mergeDeep, setAt, settingAt } from '../core/settings';

/** A condition the variants are compared under. */
export interface Condition {
  task: string;
  /** Probability that a tool call times out whatever the policy wrote (the environment's failure). */
  flaky: number;
}

/** "arithmetic", "arithmetic-flaky0.2", "three_operand": a condition as a folder-safe name. */
export function conditionName({ task, flaky }: Condition): string {
  return flaky > 0 ? `${task}-flaky${flaky}` : task;
}

/** One training run of the experiment. */
export interface RunSpec {
  /** File-safe and unique within the experiment: "<variant>-seed<seed>". */
  id: string;
  condition: string;
  /** Preset name, or "<param>=<value>" in a sweep. */
  variant: string;
  seed: number;
  steps: number;
  config: Config;
  /** The warm-start checkpoint this run starts from (stem), and its index among the plan's. */
  checkpoint: string;
  warmStart: number;
}

/** A comparison named before running: variant minus baseline, paired by seed. */
export interface PlannedComparison {
  variant: string;
  baseline: string;
  /** Primary comparisons form the family Holm's correction is applied over. */
  primary: boolean;
}

/** The A/A control's variant name: the same configuration as `variant` under another label. */
export function aaVariant(variant: string): string {
  return `${variant}~aa`;
}

/** An A/A run's own randomness (prompts, sampling, environment): its seed shifted by this. */
export const AA_SEED_OFFSET = 1000;

/** The experiment as written to plan.json: enough to resume it and to summarise it. */
export interface ExperimentPlan {
  kind: 'experiment' | 'sweep';
  condition: string;
  /** Variants in the order given; the first is the baseline of paired differences unless grpo is among them. */
  variants: string[];
  baseline: string;
  seeds: number[];
  steps: number;
  scale: string;
  checkpoint: string;
  /** Warm starts (checkpoint stems); seed i of the plan starts from checkpoints[i % length]. */
  checkpoints: string[];
  backend: string;
  /** For a sweep: the swept setting and its values, in variant order. */
  sweep?: { param: string; values: number[] };
  /** Held-out prompts of the final evaluation (all of the evaluation set for the evidence runs). */
  finalEvalPrompts: number;
  /** Comparisons named before running (primary ones first); empty: every variant against the baseline. */
  comparisons: PlannedComparison[];
  runs: RunSpec[];
}

/**
 * An override object for a dotted setting: "learningRate" -> { learningRate: v },
 * "bonus.coef" and "shape.bonus.coef" -> { shape: { bonus: { coef: v } } } (the shaping fields
 * may be named without their "shape." prefix).
 */
export function overrideAt(param: string, value: unknown): Record<string, unknown> {
  if (param.split('.').some((part) => part.length === 0)) throw new Error(`"${param}" is not a setting path`);
  const setting = settingAt(param) ?? settingAt(`shape.${param}`);
  if (!setting) throw new Error(`"${param}" is not a setting (neither a config field nor a shaping field)`);
  return setAt({}, setting.path, value);
}

/** Deep merge of plain objects (arrays and values replace). */
function merge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  return mergeDeep(base, extra);
}

export interface PlanOptions {
  kind: 'experiment' | 'sweep';
  condition: Condition;
  seeds: number;
  /** The first seed; seeds are firstSeed, firstSeed + 1, ... */
  firstSeed: number;
  steps: number;
  scale: string;
  /** Warm-start checkpoint stems; seeds are spread over them in turn (paired runs share one). */
  checkpoints?: string[];
  /** One warm start for every run (when `checkpoints` is not given). */
  checkpoint?: string;
  backend: string;
  /** Held-out prompts of the final evaluation; default the config's evalPrompts. */
  finalEvalPrompts?: number;
  /** Primary comparisons, "variant:baseline"; an A/A pair of `aa` is added to them. */
  primary?: { variant: string; baseline: string }[];
  /** A variant to run twice under two labels (the A/A control of the false positive rate). */
  aa?: string;
  /** Config fields every run shares (evaluation sizes, learning rate, ...). */
  common: Record<string, unknown>;
  /** experiment: the presets to compare. */
  presets?: string[];
  /** sweep: the preset swept around, the setting and its values. */
  sweep?: { preset: string; param: string; values: number[] };
}

/** Every run of an experiment or sweep; configs are validated here, before anything trains. */
export function planExperiment(options: PlanOptions): ExperimentPlan {
  const condition = conditionName(options.condition);
  const seeds = Array.from({ length: options.seeds }, (_, i) => options.firstSeed + i);
  const shared = merge(options.common, { scale: options.scale, task: options.condition.task, flakyProbability: options.condition.flaky });
  const variants: { name: string; overrides: Record<string, unknown> }[] =
    options.kind === 'sweep'
      ? options.sweep!.values.map((value) => ({
          name: `${options.sweep!.param}=${value}`,
          overrides: merge({ preset: options.sweep!.preset }, overrideAt(options.sweep!.param, value)),
        }))
      : options.presets!.map((preset) => ({ name: preset, overrides: { preset } }));
  if (options.aa !== undefined) {
    const original = variants.find((v) => v.name === options.aa);
    if (!original) throw new Error(`the A/A variant "${options.aa}" is not among the variants (${variants.map((v) => v.name).join(', ')})`);
    variants.push({ name: aaVariant(original.name), overrides: original.overrides });
  }
  if (new Set(variants.map((v) => v.name)).size !== variants.length) throw new Error('a variant is listed twice');
  const checkpoints = options.checkpoints ?? (options.checkpoint === undefined ? [] : [options.checkpoint]);
  if (checkpoints.length === 0) throw new Error('an experiment needs at least one warm-start checkpoint');
  const runs: RunSpec[] = [];
  for (const variant of variants) {
    const isAA = options.aa !== undefined && variant.name === aaVariant(options.aa);
    seeds.forEach((seed, i) => {
      const warmStart = i % checkpoints.length;
      const config = resolveConfig(merge(merge(shared, variant.overrides), { seed: isAA ? seed + AA_SEED_OFFSET : seed }));
      runs.push({
        id: `${variant.name}-seed${seed}`,
        condition,
        variant: variant.name,
        seed,
        steps: options.steps,
        config,
        checkpoint: checkpoints[warmStart],
        warmStart,
      });
    });
  }
  const names = variants.map((v) => v.name);
  const comparisons: PlannedComparison[] = (options.primary ?? []).map(({ variant, baseline }) => {
    for (const name of [variant, baseline]) {
      if (!names.includes(name)) throw new Error(`the comparison ${variant} - ${baseline} names "${name}", which is not a variant (${names.join(', ')})`);
    }
    return { variant, baseline, primary: true };
  });
  if (options.aa !== undefined) comparisons.push({ variant: aaVariant(options.aa), baseline: options.aa, primary: true });
  return {
    kind: options.kind,
    condition,
    variants: names,
    baseline: names.includes('grpo') ? 'grpo' : names[0],
    seeds,
    steps: options.steps,
    scale: options.scale,
    checkpoint: checkpoints[0],
    checkpoints,
    backend: options.backend,
    sweep: options.sweep ? { param: options.sweep.param, values: options.sweep.values } : undefined,
    finalEvalPrompts: options.finalEvalPrompts ?? runs[0].config.evalPrompts,
    comparisons,
    runs,
  };
}
