// The setting registry: one description per leaf of the run config, declared once (as TRL's
// GRPOConfig declares its fields) and read by everything that names a setting: config
// validation (hence run files), the page's controls, the URL, Compare, the train command's flags,
// experiment plans, the live-settings set and the export to verl and TRL.
// Adding a setting: its default (BASE in config.ts, or the preset's shape) plus one entry below.
// The dotted-path helpers every reader of a config shares come first.

import { PRESET_NAMES, PRESETS, type Config, type PresetName } from './config';
import { MODEL_SCALES, parameterCount, type ModelScale } from './model/config';
import { taskNames } from './tasks';
import { toolNames } from './tools';

// ---------------------------------------------------------------------------------------------
// Dotted paths

type Fields = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinPath(prefix: string, key: string): string {
  return prefix === '' ? key : `${prefix}.${key}`;
}

/** The value at a dotted path ('shape.bonus.coef'), or undefined where the path leads nowhere. */
export function getAt(target: unknown, path: string): unknown {
  let value = target;
  for (const key of path.split('.')) {
    if (!isPlainObject(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key];
  }
  return value;
}

/** A copy of `target` with `value` at a dotted path; the objects on the way are copied (or created). */
export function setAt<T extends object>(target: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split('.');
  const fields = target as Fields;
  if (rest.length === 0) return { ...fields, [head]: value } as T;
  const inner = isPlainObject(fields[head]) ? fields[head] : {};
  return { ...fields, [head]: setAt(inner, rest.join('.'), value) } as T;
}

/** Every leaf as [dotted path, value], in key order; arrays and null are leaves. */
export function leavesOf(target: object, prefix = ''): [string, unknown][] {
  return Object.entries(target).flatMap(([key, child]): [string, unknown][] =>
    isPlainObject(child) ? leavesOf(child, joinPath(prefix, key)) : [[joinPath(prefix, key), child]],
  );
}

/** `extra` over `base`, plain objects merged key by key; anything else in `extra` replaces. */
export function mergeDeep<T>(base: T, extra: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(extra)) return extra as T;
  const merged: Fields = { ...base };
  for (const [key, value] of Object.entries(extra)) merged[key] = Object.hasOwn(merged, key) ? mergeDeep(merged[key], value) : value;
  return merged as T;
}

/** Equal leaves: the same primitive, or arrays (and other objects) with the same JSON. */
export function sameLeaf(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  return typeof a === 'object' && typeof b === 'object' && a !== null && b !== null && JSON.stringify(a) === JSON.stringify(b);
}

/** The leaves that differ between two values, by dotted path under `prefix`, in `from`'s key order. */
export function diffLeaves(from: unknown, to: unknown, prefix = ''): { path: string; from: unknown; to: unknown }[] {
  if (isPlainObject(from) && isPlainObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])];
    return keys.flatMap((key) => diffLeaves(from[key], to[key], joinPath(prefix, key)));
  }
  return sameLeaf(from, to) ? [] : [{ path: prefix, from, to }];
}

// ---------------------------------------------------------------------------------------------
// What an entry says

/** Every leaf of a config by its dotted path: 'seed', 'shape.bonus.coef', ... */
type LeafPaths<T, Prefix extends string = ''> = {
  [K in keyof T & string]: T[K] extends object ? (T[K] extends readonly unknown[] ? `${Prefix}${K}` : LeafPaths<T[K], `${Prefix}${K}.`>) : `${Prefix}${K}`;
}[keyof T & string];
export type SettingPath = LeafPaths<Config>;

export type SettingValue = number | boolean | string | null;

/** The fieldsets of the page's controls. */
export type ControlGroup = 'run' | 'bonus' | 'filters' | 'optimiser';

/**
 * A setting's name in another engine (verl: Hydra keys of the TAO-RL recipe, `+` where the
 * recipe's merged config lacks the key; TRL: GRPOConfig / TrainingArguments fields), with what a
 * reader must know; or why it has none. The export (src/export/) writes `values` under `keys`,
 * and warns with `loses` where a value cannot be carried over, or with `none` unless the engine
 * already behaves as the value says (`builtIn`).
 */
export type Counterpart =
  | {
      keys: readonly string[];
      note?: string;
      /** The value of each key, in order; the setting's own value under its one key when absent. */
      values?: (value: SettingValue, config: Config) => readonly SettingValue[];
      /** Why this value does not arrive as it is (the export warns), or null. */
      loses?: (value: SettingValue, config: Config) => string | null;
    }
  | {
      none: string;
      /** True where the engine already does what this value asks, so nothing is lost. */
      builtIn?: (value: SettingValue, config: Config) => boolean;
    };

interface SettingCommon {
  /** Dotted path in Config. */
  path: string;
  /** What the page and the tables call it. */
  label: string;
  /** One line: what it does, in the domain's words. */
  help: string;
  unit?: string;
  /** Where the setting or its default comes from (paper, reference code, DAPO, ...). */
  source?: string;
  /** true: a running run applies a change at its next step; false: only a new run (a reset) does. */
  live: boolean;
  /** Live, but read between steps by whoever drives the trainer, not by the step: not a step setting. */
  betweenSteps?: true;
  /** The train command's flag, without the dashes. */
  flag: string;
  /** The page's URL parameter. */
  urlKey: string;
  verl: Counterpart;
  trl: Counterpart;
  /** The fieldset of the page's controls that shows it; absent: not on the page. */
  control?: ControlGroup;
}

export interface NumberSetting extends SettingCommon {
  type: 'number' | 'integer';
  min: number;
  max: number;
  minExclusive?: boolean;
  /** null is allowed and means this (e.g. "whole turn"). */
  nullMeans?: string;
}

export interface BooleanSetting extends SettingCommon {
  type: 'boolean';
}

export interface ChoiceSetting extends SettingCommon {
  type: 'choice';
  /** Allowed values, read when asked: tasks and tools register themselves. */
  choices: () => readonly string[];
  /** How a menu shows a value; the value itself when absent. */
  choiceLabel?: (value: string) => string;
}

export type Setting = NumberSetting | BooleanSetting | ChoiceSetting;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An entry as written: the path is its key and the URL key is the path unless given. */
export type SettingDeclaration = DistributiveOmit<Setting, 'path' | 'urlKey'> & { urlKey?: string };

// ---------------------------------------------------------------------------------------------
// The entries, in Config's order

const NO_TRL_FILTER = 'GRPOTrainer has no dual filter: it needs a subclass (advantage hook)';
const NO_TRL_BONUS = 'GRPOTrainer has no entropy bonus: it needs a subclass (loss hook)';
const BONUS_FORM_VERL = "the recipe has the multiplicative form only (the additive form and kappa are not in it)";
const CAUSAL_ENTROPY = 'actor_rollout_ref.actor.causal_entropy';

const SETTINGS = {
  preset: {
    type: 'choice',
    choices: () => PRESET_NAMES,
    choiceLabel: (name) => PRESETS[name as PresetName].label,
    label: 'Preset',
    help: 'named ablation the run starts from; the settings below may override it',
    source: 'docs/algorithm.md §6',
    live: false, flag: 'preset', control: 'run',
    verl: { none: 'a preset is a set of the settings below, each exported under its own key', builtIn: () => true },
    trl: { none: 'a preset is a set of the settings below, each exported under its own key', builtIn: () => true },
  },
  seed: {
    type: 'integer', min: 0, max: 2 ** 31 - 1,
    label: 'Seed',
    help: 'seeds the prompt stream, the sampling, the tool environment and fresh weights',
    live: false, flag: 'seed', control: 'run',
    verl: {
      keys: ['+data.seed', '+actor_rollout_ref.rollout.seed'],
      note: 'not in the recipe yaml: the dataloader reads data.seed (default 1), the vLLM rollout rollout.seed (default 42)',
      values: (seed) => [seed, seed],
    },
    trl: { keys: ['seed'] },
  },
  scale: {
    type: 'choice',
    choices: () => Object.keys(MODEL_SCALES),
    choiceLabel: (scale) => `${scale} · ${(parameterCount(MODEL_SCALES[scale as ModelScale]) / 1e6).toFixed(1)}M`,
    label: 'Model scale',
    help: 'policy size; the run starts from the bundled warm-start checkpoint of that size',
    live: false, flag: 'scale', control: 'run',
    verl: { none: 'the workbench policy; a verl run names its model in actor_rollout_ref.model.path' },
    trl: { none: "the model is GRPOTrainer's model argument" },
  },
  task: {
    type: 'choice',
    choices: taskNames,
    label: 'Task family',
    help: 'the prompts trained and evaluated on (src/core/tasks)',
    live: false, flag: 'task', control: 'run',
    verl: { none: 'the recipe trains on its own data files (data.train_files): math with a Python sandbox' },
    trl: { none: "the prompts are GRPOTrainer's train_dataset" },
  },
  tool: {
    type: 'choice',
    choices: toolNames,
    label: 'Tool',
    help: 'the tool the policy calls (src/core/tools)',
    live: false, flag: 'tool',
    verl: { none: "the recipe's tool is its Python sandbox" },
    trl: { none: "tools are GRPOTrainer's tools argument" },
  },
  flakyProbability: {
    type: 'number', min: 0, max: 1,
    label: 'Flaky tool probability',
    help: 'chance a tool call times out whatever its expression',
    live: true, flag: 'flaky', control: 'optimiser',
    verl: { none: 'a test of the workbench environment; the sandbox fails on its own', builtIn: (p) => p === 0 },
    trl: { none: 'a test of the workbench environment; real tools fail on their own', builtIn: (p) => p === 0 },
  },
  groupSize: {
    type: 'integer', min: 2, max: 64,
    label: 'Group size',
    help: 'trajectories per prompt',
    source: 'GRPO; the paper uses 16',
    live: false, flag: 'group', control: 'run',
    verl: { keys: ['actor_rollout_ref.rollout.n'], note: 'rollout.min_n (4) drops every group when the group size is below 4' },
    trl: { keys: ['num_generations'] },
  },
  promptsPerStep: {
    type: 'integer', min: 1, max: 64,
    label: 'Prompts per batch',
    help: 'groups trained on per RL step',
    live: false, flag: 'prompts', control: 'run',
    verl: {
      keys: ['data.train_batch_size', 'actor_rollout_ref.actor.ppo_mini_batch_size'],
      note: 'both in prompts; equal for one update per batch',
      values: (prompts) => [prompts, prompts],
    },
    trl: {
      keys: ['generation_batch_size'],
      note: 'counted in completions: prompts per batch × group size',
      values: (prompts, config) => [(prompts as number) * config.groupSize],
    },
  },
  temperature: {
    type: 'number', min: 0, minExclusive: true, max: 4,
    label: 'Temperature',
    help: 'sampling temperature of the training rollouts',
    live: true, flag: 'temperature', control: 'optimiser',
    verl: { keys: ['actor_rollout_ref.rollout.temperature'] },
    trl: { keys: ['temperature'] },
  },
  maxToolCalls: {
    type: 'integer', min: 0, max: 10, unit: 'calls',
    label: 'Tool calls per trajectory',
    help: 'tool calls executed per trajectory at most',
    source: 'paper: 5 in training',
    live: false, flag: 'max-tool-calls',
    verl: {
      keys: ['agent.max_turns'],
      note: 'counts generation turns, each of which may run one code block: N calls and a turn to answer are N + 1 turns',
      values: (calls) => [(calls as number) + 1],
    },
    trl: { keys: ['max_tool_calling_iterations'] },
  },
  overSample: {
    type: 'integer', min: 1, max: 8,
    label: 'Over-sampling',
    help: 'with the group filter on, prompts generated per step = prompts per batch × this',
    source: 'TAO-RL reference code: 2',
    live: false, flag: 'over-sample',
    verl: {
      keys: ['trainer.oversample_multiplier'],
      note: 'the workbench over-samples only with the group filter on',
      values: (factor, config) => [config.shape.groupFilter ? factor : 1],
    },
    trl: { none: 'GRPOTrainer has no dynamic sampling', builtIn: (factor, config) => factor === 1 || !config.shape.groupFilter },
  },
  fill: {
    type: 'choice',
    choices: () => ['duplicate', 'resample'],
    label: 'Batch fill',
    help: 'too few groups survive the filter: duplicate survivors, or generate more until full',
    source: 'duplicate: TAO-RL reference code; resample: DAPO',
    live: false, flag: 'fill',
    verl: { none: "the recipe always duplicates survivors ('duplicate'); DAPO's resample-until-full is not in it", builtIn: (fill) => fill === 'duplicate' },
    trl: { none: 'GRPOTrainer has no dynamic sampling', builtIn: (_, config) => !config.shape.groupFilter },
  },
  maxGenBatches: {
    type: 'integer', min: 1, max: 32,
    label: 'Generation batches at most',
    help: "with fill 'resample', generation batches per step at most",
    source: "DAPO's max_num_gen_batches",
    live: false, flag: 'max-gen-batches',
    verl: { none: "DAPO's resample-until-full is not in the TAO-RL recipe", builtIn: (_, config) => config.fill !== 'resample' || !config.shape.groupFilter },
    trl: { none: 'GRPOTrainer has no dynamic sampling', builtIn: (_, config) => config.fill !== 'resample' || !config.shape.groupFilter },
  },
  learningRate: {
    type: 'number', min: 0, minExclusive: true, max: 0.1,
    label: 'Learning rate',
    help: 'Adam step size',
    source: 'docs/calibration.md: the CI-sized pilot run',
    live: true, flag: 'lr', control: 'optimiser',
    verl: {
      keys: ['actor_rollout_ref.actor.optim.lr', '+actor_rollout_ref.actor.optim.weight_decay'],
      note: "verl's AdamW decays weights by 0.01 unless weight_decay is 0 (a key the yaml lacks); its betas are (0.9, 0.99), the workbench's (0.9, 0.999)",
      values: (lr) => [lr, 0],
    },
    trl: { keys: ['learning_rate'], note: "TrainingArguments' weight_decay is 0 by default, as here" },
  },
  ppoEpochs: {
    type: 'integer', min: 1, max: 16,
    label: 'PPO epochs',
    help: 'updates over each batch (1: one update per batch)',
    live: false, flag: 'ppo-epochs',
    verl: { keys: ['actor_rollout_ref.actor.ppo_epochs'] },
    trl: { keys: ['num_iterations'] },
  },
  clipLow: {
    type: 'number', min: 0, minExclusive: true, max: 1,
    label: 'Clip low',
    help: 'PPO ε below 1',
    source: 'PPO',
    live: true, flag: 'clip-low', control: 'optimiser',
    verl: { keys: ['actor_rollout_ref.actor.clip_ratio_low'] },
    trl: { keys: ['epsilon'] },
  },
  clipHigh: {
    type: 'number', min: 0, minExclusive: true, max: 10,
    label: 'Clip high',
    help: 'PPO ε above 1 (DAPO clip-higher)',
    source: 'DAPO clip-higher',
    live: true, flag: 'clip-high', control: 'optimiser',
    verl: { keys: ['actor_rollout_ref.actor.clip_ratio_high'] },
    trl: { keys: ['epsilon_high'] },
  },
  dualClip: {
    type: 'number', min: 1, minExclusive: true, max: 100,
    label: 'Dual clip',
    help: 'bound c on the ratio of a token with a negative advantage',
    source: "Ye et al. 2020; verl's clip_ratio_c",
    live: true, flag: 'dual-clip',
    verl: { keys: ['actor_rollout_ref.actor.clip_ratio_c'] },
    trl: {
      keys: ['delta'],
      note: "TRL's two-sided clip caps the ratio at delta for every token: the same loss as the dual clip while delta > 1 + clip high",
      loses: () => "TRL's delta is a two-sided clip of the ratio for every token, not the dual clip of negative advantages only: the same loss while delta > 1 + clip high, other gradients",
    },
  },
  entropyCoef: {
    type: 'number', min: 0, max: 1,
    label: 'Entropy regulariser',
    help: 'β_H: loss −= β_H · mean entropy',
    source: 'reference script: 0.001',
    live: true, flag: 'entropy-coef', control: 'optimiser',
    verl: { keys: ['actor_rollout_ref.actor.entropy_coeff'] },
    trl: {
      keys: ['entropy_coef'],
      note: 'TRL 1.8 and later; earlier GRPOConfig versions have no entropy regulariser',
      loses: (coef) => (coef === 0 ? null : 'needs TRL 1.8 or later: earlier GRPOConfig versions have no entropy_coef and refuse it'),
    },
  },
  klCoef: {
    type: 'number', min: 0, max: 10,
    label: 'KL coefficient',
    help: 'to the starting policy; 0 is off',
    source: 'k3 estimator; off in the paper',
    live: true, flag: 'kl-coef', control: 'optimiser',
    verl: {
      keys: ['actor_rollout_ref.actor.use_kl_loss', 'actor_rollout_ref.actor.kl_loss_coef', 'actor_rollout_ref.actor.kl_loss_type'],
      note: 'use_kl_loss true when above 0; kl_loss_type low_var_kl is the k3 estimator',
      values: (coef) => [(coef as number) > 0, coef, 'low_var_kl'],
    },
    trl: { keys: ['beta'] },
  },
  gradClip: {
    type: 'number', min: 0, minExclusive: true, max: 1000,
    label: 'Gradient clip',
    help: 'global norm the gradient is clipped to',
    live: true, flag: 'grad-clip',
    verl: { keys: ['actor_rollout_ref.actor.grad_clip'] },
    trl: { keys: ['max_grad_norm'] },
  },
  detachEntropy: {
    type: 'boolean',
    label: 'Detach entropy in the bonus',
    help: 'no gradient through the normalised entropy of the multiplicative bonus (off: as the reference code)',
    source: 'reference code lets the gradient flow (off)',
    live: false, flag: 'detach-entropy',
    verl: { none: "the recipe's bonus lets the gradient flow through the entropy (detach off)", builtIn: (detach, config) => detach === false || config.shape.bonus.mode !== 'multiplicative' },
    trl: { none: NO_TRL_BONUS, builtIn: (_, config) => config.shape.bonus.mode !== 'multiplicative' },
  },
  'shape.groupFilter': {
    type: 'boolean',
    label: 'Group filter',
    help: 'drop groups whose rewards are all equal (DAPO dynamic sampling)',
    source: 'TAO-RL answer discriminability; DAPO dynamic sampling',
    live: true, flag: 'group-filter', control: 'filters',
    verl: { keys: ['trainer.rejection_sample'], note: 'the recipe tests sample std < 1e-3: the same groups for rewards of 0 and 1' },
    trl: { none: NO_TRL_FILTER, builtIn: (on) => on === false },
  },
  'shape.toolFailFilter': {
    type: 'boolean',
    label: 'Tool-fail filter',
    help: 'mask trajectories whose tool calls all failed (TAO-RL)',
    source: 'TAO-RL tool execution validity',
    live: true, flag: 'tool-fail-filter', control: 'filters',
    verl: { keys: ['trainer.exec_error_filter.enable', 'trainer.exec_error_filter.scope'], note: 'scope: failed', values: (on) => [on, 'failed'] },
    trl: { none: NO_TRL_FILTER, builtIn: (on) => on === false },
  },
  'shape.toolFailStrength': {
    type: 'number', min: 0, max: 1,
    label: 'Tool-fail strength',
    help: "a masked trajectory's loss weight is 1 − strength",
    source: 'reference code: 1, a full drop',
    live: true, flag: 'tool-fail-strength', control: 'filters',
    verl: {
      keys: ['trainer.exec_error_filter.strength'],
      note: 'the recipe applies the mask twice: only 0 and 1 mean the same in both',
      loses: (strength, config) =>
        config.shape.toolFailFilter && strength !== 0 && strength !== 1
          ? `the recipe multiplies both the loss mask and the response mask by 1 - strength, so a marked trajectory weighs about (1 - ${strength})² there, not 1 - ${strength}`
          : null,
    },
    trl: { none: NO_TRL_FILTER, builtIn: (_, config) => !config.shape.toolFailFilter },
  },
  'shape.baseline': {
    type: 'choice',
    choices: () => ['include', 'exclude'],
    label: 'Baseline',
    help: "whether masked trajectories count in their group's mean and std",
    source: 'reference code: include',
    live: true, flag: 'baseline',
    verl: { none: "the recipe's advantages count every trajectory ('include')", builtIn: (baseline, config) => baseline === 'include' || !config.shape.toolFailFilter },
    trl: { none: NO_TRL_FILTER, builtIn: (baseline, config) => baseline === 'include' || !config.shape.toolFailFilter },
  },
  'shape.stdNormalize': {
    type: 'boolean',
    label: 'Divide by group std',
    help: "divide advantages by the group's sample std (off: Dr. GRPO)",
    source: 'GRPO; Dr. GRPO when off',
    live: true, flag: 'std-normalize',
    verl: { none: "the recipe's verl always divides (it predates norm_adv_by_std_in_grpo)", builtIn: (on) => on === true },
    trl: { keys: ['scale_rewards'], note: '"group" when on, "none" when off', values: (on) => [on ? 'group' : 'none'] },
  },
  'shape.bonus.mode': {
    type: 'choice',
    choices: () => ['multiplicative', 'additive', 'off'],
    choiceLabel: (mode) => ({ multiplicative: 'multiplicative (TAO-RL)', additive: 'additive (Cheng)' })[mode] ?? mode,
    label: 'Bonus mode',
    help: 'entropy bonus on the advantage: multiplicative A·(1 + a·Ĥ), additive clipped, or none',
    source: 'multiplicative: TAO-RL; additive: Cheng et al. 2025',
    live: true, flag: 'bonus-mode', control: 'bonus',
    verl: {
      keys: [`${CAUSAL_ENTROPY}.enable`, `${CAUSAL_ENTROPY}.use_aepo_shaping`],
      note: `multiplicative: both true; off: enable false; ${BONUS_FORM_VERL}`,
      values: (mode) => [mode === 'multiplicative', mode === 'multiplicative'],
      loses: (mode) => (mode === 'additive' ? `${BONUS_FORM_VERL}: the export turns the bonus off` : null),
    },
    trl: { none: NO_TRL_BONUS, builtIn: (mode) => mode === 'off' },
  },
  'shape.bonus.coef': {
    type: 'number', min: 0, max: 10,
    label: 'Entropy bonus coefficient',
    help: 'a (multiplicative) or α (additive)',
    source: 'TAO-RL reference a = 0.01; Cheng et al. α = 0.4',
    live: true, flag: 'coef', control: 'bonus',
    verl: { keys: [`${CAUSAL_ENTROPY}.aepo_shaping_coeff`], note: 'the multiplicative form’s a' },
    trl: { none: NO_TRL_BONUS, builtIn: (_, config) => config.shape.bonus.mode === 'off' },
  },
  'shape.bonus.kappa': {
    type: 'number', min: 0, minExclusive: true, max: 100,
    label: 'Kappa',
    help: 'additive form: bonus clipped to |A| / κ',
    source: 'Cheng et al. 2025',
    live: true, flag: 'kappa', control: 'bonus',
    verl: { none: BONUS_FORM_VERL, builtIn: (_, config) => config.shape.bonus.mode !== 'additive' },
    trl: { none: NO_TRL_BONUS, builtIn: (_, config) => config.shape.bonus.mode !== 'additive' },
  },
  'shape.bonus.scope': {
    type: 'choice',
    choices: () => ['post_tool', 'all'],
    choiceLabel: (scope) => ({ post_tool: 'post-tool (TAO-RL)', all: 'all tokens (AEPO)' })[scope] ?? scope,
    label: 'Bonus scope',
    help: 'which policy tokens may receive the bonus',
    source: 'post-tool: TAO-RL; all: AEPO, Cheng et al.',
    live: true, flag: 'bonus-scope', control: 'bonus',
    verl: { keys: [`${CAUSAL_ENTROPY}.tool_aware_only`], note: 'post_tool: true (the released yaml leaves it false, i.e. every token)', values: (scope) => [scope === 'post_tool'] },
    trl: { none: NO_TRL_BONUS, builtIn: (_, config) => config.shape.bonus.mode === 'off' },
  },
  'shape.bonus.window': {
    type: 'integer', min: 0, max: 80, nullMeans: 'whole turn', unit: 'tokens',
    label: 'Post-tool window',
    help: 'first k policy tokens after a tool result',
    source: 'reference code: the whole turn',
    live: true, flag: 'window', control: 'bonus',
    verl: { none: 'the recipe marks the whole turn after a tool result', builtIn: (window, config) => window === null || config.shape.bonus.mode === 'off' || config.shape.bonus.scope === 'all' },
    trl: { none: NO_TRL_BONUS, builtIn: (_, config) => config.shape.bonus.mode === 'off' },
  },
  'shape.bonus.afterSuccessOnly': {
    type: 'boolean',
    label: 'After successful calls only',
    help: 'only turns after a successful tool call are post-tool',
    source: 'reference code: after every call',
    live: true, flag: 'after-success-only', control: 'bonus',
    verl: { none: 'the recipe marks the turns after every call', builtIn: (only, config) => only === false || config.shape.bonus.mode === 'off' || config.shape.bonus.scope === 'all' },
    trl: { none: NO_TRL_BONUS, builtIn: (_, config) => config.shape.bonus.mode === 'off' },
  },
  evalEvery: {
    type: 'integer', min: 0, max: 100000, unit: 'steps',
    label: 'Evaluate every',
    help: 'held-out evaluation every N steps (0: only at the end)',
    live: true, betweenSteps: true, flag: 'eval-every',
    verl: {
      keys: ['trainer.test_freq'],
      note: '-1 there is off (the recipe still validates before training, trainer.val_before_train)',
      values: (every) => [every === 0 ? -1 : every],
      loses: (every) => (every === 0 ? 'the recipe has no "only at the end": test_freq -1 validates before training only' : null),
    },
    trl: {
      keys: ['eval_strategy', 'eval_steps'],
      note: 'eval_strategy "steps" every N steps, "no" for 0',
      values: (every) => (every === 0 ? ['no', null] : ['steps', every]),
      loses: (every) => (every === 0 ? 'TRL has no "only at the end": eval_strategy "no" evaluates never' : null),
    },
  },
  evalPrompts: {
    type: 'integer', min: 1, max: 512, unit: 'prompts',
    label: 'Held-out prompts',
    help: 'held-out prompts per evaluation',
    live: false, flag: 'eval-prompts',
    verl: { keys: ['data.val_sample_size'] },
    trl: { none: "the held-out prompts are GRPOTrainer's eval_dataset" },
  },
  evalSamples: {
    type: 'integer', min: 1, max: 64, unit: 'samples',
    label: 'Samples per held-out prompt',
    help: 'samples per prompt at temperature 1, for mean@k and pass@k',
    live: false, flag: 'eval-samples',
    verl: { keys: ['actor_rollout_ref.rollout.val_kwargs.n'], note: 'the recipe samples them at top_p 0.7' },
    trl: { keys: ['num_generations_eval'] },
  },
} satisfies Record<SettingPath, SettingDeclaration>;

/** The top-level fields of the live settings the step reads (the trainer's StepSettings). */
export type StepSettingField = {
  [P in keyof typeof SETTINGS]: (typeof SETTINGS)[P] extends { live: true } ? ((typeof SETTINGS)[P] extends { betweenSteps: true } ? never : TopField<P>) : never;
}[keyof typeof SETTINGS];
type TopField<P extends string> = P extends `${infer Head}.${string}` ? Head : P;

// ---------------------------------------------------------------------------------------------
// The registry

/** Settings outside Config's own fields (an extension, or a test's trial), with their defaults. */
const extensions = new Map<string, { setting: Setting; defaultValue: SettingValue }>();

const declared: Setting[] = Object.entries(SETTINGS as Record<string, SettingDeclaration>).map(
  ([path, entry]) => ({ ...entry, path, urlKey: entry.urlKey ?? path }) as Setting,
);

/** Every setting, Config's own in its order, then the extensions. */
export function settings(): readonly Setting[] {
  return extensions.size === 0 ? declared : [...declared, ...[...extensions.values()].map((e) => e.setting)];
}

/** The setting at a dotted path, or undefined when there is none. */
export function settingAt(path: string): Setting | undefined {
  return declared.find((s) => s.path === path) ?? extensions.get(path)?.setting;
}

/** The setting a URL parameter carries, or undefined. */
export function settingByUrlKey(key: string): Setting | undefined {
  return settings().find((s) => s.urlKey === key);
}

/**
 * Adds a setting that is not one of Config's own fields, with the default every preset gives it;
 * from then on validation, the controls, the URL, the flags and the exports all see it. Returns
 * the function that removes it again. Refuses a path, flag or URL key already taken.
 */
export function registerSetting(entry: SettingDeclaration & { path: string }, defaultValue: SettingValue): () => void {
  const setting = { ...entry, urlKey: entry.urlKey ?? entry.path } as Setting;
  const clash = settings().find((s) => s.path === setting.path || s.flag === setting.flag || s.urlKey === setting.urlKey);
  if (clash) throw new Error(`setting ${setting.path}: its path, flag or URL key is taken by ${clash.path}`);
  checkLiveness([...settings(), setting]);
  extensions.set(setting.path, { setting, defaultValue });
  return () => void extensions.delete(setting.path);
}

/** [path, default] of each registered extension: presetConfig adds them to every preset. */
export function extensionDefaults(): [string, SettingValue][] {
  return [...extensions.values()].map(({ setting, defaultValue }) => [setting.path, defaultValue]);
}

function topField(path: string): string {
  return path.split('.')[0];
}

/** A live change replaces a whole top-level field (all of `shape`), so its leaves must agree. */
function checkLiveness(all: readonly Setting[]): void {
  const liveOf = new Map<string, boolean>();
  for (const setting of all) {
    const field = topField(setting.path);
    if (liveOf.has(field) && liveOf.get(field) !== setting.live) throw new Error(`settings under ${field} disagree on whether they apply live`);
    liveOf.set(field, setting.live);
  }
}
checkLiveness(declared);

/** Top-level config fields a running run applies at its next step (all of `shape`, the learning rate, ...). */
export function liveFields(): string[] {
  return [...new Set(settings().filter((s) => s.live).map((s) => topField(s.path)))];
}

/** The live fields the step itself reads: what the trainer takes before each step and reports it ran with. */
export function stepSettingFields(): string[] {
  const betweenSteps = new Set(settings().filter((s) => s.betweenSteps).map((s) => topField(s.path)));
  return liveFields().filter((field) => !betweenSteps.has(field));
}

// ---------------------------------------------------------------------------------------------
// Allowed values, as messages and fields say them

/**
 * What a setting allows: "a number in (0, 0.1]", "null or an integer in [0, 80]", "one of a, b",
 * "true or false". `nullWord` is how the reader writes null (the page's fields: empty).
 */
export function allowedValues(setting: Setting, nullWord = 'null'): string {
  switch (setting.type) {
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${setting.choices().join(', ')}`;
    default: {
      const range = `${setting.type === 'integer' ? 'an integer' : 'a number'} in ${setting.minExclusive ? '(' : '['}${setting.min}, ${setting.max}]`;
      return setting.nullMeans === undefined ? range : `${nullWord} or ${range}`;
    }
  }
}

/**
 * Why a value is refused, worded to follow "<path>: <value> ": "must be ...", "is out of range
 * (must be ...)", "is not one of ..."; null when it is allowed.
 */
export function settingProblem(setting: Setting, value: unknown, nullWord = 'null'): string | null {
  switch (setting.type) {
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'choice': {
      const allowed = setting.choices();
      return typeof value === 'string' && allowed.includes(value) ? null : `is not one of ${allowed.join(', ')}`;
    }
    default: {
      if (value === null && setting.nullMeans !== undefined) return null;
      const allowed = allowedValues(setting, nullWord);
      if (typeof value !== 'number' || !Number.isFinite(value)) return `must be ${allowed}`;
      const belowMin = setting.minExclusive ? value <= setting.min : value < setting.min;
      if (belowMin || value > setting.max || (setting.type === 'integer' && !Number.isInteger(value))) return `is out of range (must be ${allowed})`;
      return null;
    }
  }
}

/** A value as a sentence reads it: on / off, the meaning of null, a number with its unit. */
export function readableValue(setting: Setting, value: unknown): string {
  if (value === null) return ('nullMeans' in setting && setting.nullMeans) || 'none';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (typeof value === 'number' && setting.unit) return `${value} ${setting.unit}`;
  return String(value);
}

/** The label inside a sentence: "group size", "KL coefficient" (an acronym keeps its capitals). */
export function labelInSentence(setting: Setting): string {
  const { label } = setting;
  return /^[A-Z][a-z]/.test(label) ? label[0].toLowerCase() + label.slice(1) : label;
}
