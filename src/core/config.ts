// The one typed config of a run: every knob with its default and its source, the presets of
// docs/algorithm.md §6, and validation that names the field, the value and the allowed range
// before any work starts. Each leaf's range, label, flag and liveness: the registry in settings.ts.

import type { ModelScale } from './model/config';
import { extensionDefaults, getAt, isPlainObject, mergeDeep, setAt, settingAt, settingProblem, settings } from './settings';
import { DEFAULT_SHAPE_CONFIG } from './tao/shape';
import type { ShapeConfig } from './tao/types';
import { formatValue, ValidationError } from './validate';

type Fields = Record<string, unknown>;

export interface Config {
  /** Named ablation this run started from (section 6); the fields below may override it. */
  preset: PresetName;
  /** Seeds the prompt stream, the sampling, the environment and (for fresh models) the weights. */
  seed: number;
  /** Policy size; the bundled warm-start checkpoint of that scale is the starting point. */
  scale: ModelScale;
  /** Task family (src/core/tasks). */
  task: string;
  /** Tool the policy calls (src/core/tools). */
  tool: string;
  /** Probability that a tool call times out whatever its expression (environment-caused failure). */
  flakyProbability: number;

  // Rollouts (docs/algorithm.md §1)
  /** Trajectories sampled per prompt, G (paper 16, default 8). */
  groupSize: number;
  /** Prompts (groups) trained on per RL step. */
  promptsPerStep: number;
  /** Sampling temperature for training rollouts. */
  temperature: number;
  /** Tool calls allowed per trajectory (paper: 5 in training). */
  maxToolCalls: number;

  // Batch filling (section 2)
  /** With the group filter on, prompts generated per step = promptsPerStep x overSample (reference 2). */
  overSample: number;
  /** Too few groups survive: duplicate survivors (TAO-RL reference code) or generate more (DAPO). */
  fill: 'duplicate' | 'resample';
  /** With fill 'resample', generation batches per step at most (DAPO's max_num_gen_batches). */
  maxGenBatches: number;

  // Policy loss (section 5)
  /** Adam learning rate. */
  learningRate: number;
  /** PPO epochs over each batch (default 1: one update per batch). */
  ppoEpochs: number;
  /** PPO clip below 1 (eps_low). */
  clipLow: number;
  /** PPO clip above 1 (eps_high, DAPO's clip-higher). */
  clipHigh: number;
  /** Dual-clip bound c for negative advantages (Ye et al. 2020, verl's clip_ratio_c). */
  dualClip: number;
  /** Entropy regulariser beta_H: loss -= beta_H * mean entropy (reference script 0.001). */
  entropyCoef: number;
  /** KL penalty coefficient to the frozen starting policy (k3 estimator); 0 is off, as in the paper. */
  klCoef: number;
  /** Gradient global-norm clip. */
  gradClip: number;
  /**
   * Detach the entropy in the multiplicative bonus (default). false follows the reference code,
   * where gradient also flows through the normalised entropy.
   */
  detachEntropy: boolean;

  /** Filters, advantages and bonus (sections 2-4, 8). */
  shape: ShapeConfig;

  // Evaluation
  /** Evaluate on the held-out set every N steps (0: only at the end). */
  evalEvery: number;
  /** Held-out prompts per evaluation. */
  evalPrompts: number;
  /** Samples per prompt at temperature 1 for mean@k and pass@k. */
  evalSamples: number;
}

export const PRESET_NAMES = ['grpo', 'grpo-2x', 'dapo', 'entropy-adv', 'aepo', 'tool-fail-filter', 'tao-filter', 'tao-bonus', 'tao-rl'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** Everything but the shaping, which each preset sets in full. */
const BASE: Omit<Config, 'preset' | 'shape'> = {
  seed: 1,
  scale: 'tiny',
  task: 'arithmetic',
  tool: 'calculator',
  flakyProbability: 0,
  groupSize: 8,
  promptsPerStep: 8,
  temperature: 1,
  maxToolCalls: 5,
  overSample: 2,
  fill: 'duplicate',
  maxGenBatches: 4,
  learningRate: 3e-4, // docs/calibration.md: the CI-sized pilot run
  ppoEpochs: 1,
  clipLow: 0.2,
  clipHigh: 0.28,
  dualClip: 3,
  entropyCoef: 0,
  klCoef: 0,
  gradClip: 1,
  detachEntropy: true,
  evalEvery: 10,
  evalPrompts: 256,
  evalSamples: 4,
};

const NO_FILTER = { groupFilter: false, toolFailFilter: false };
const BONUS_OFF = { ...DEFAULT_SHAPE_CONFIG.bonus, mode: 'off' as const };

/** docs/algorithm.md §6. */
export const PRESETS: Record<
  PresetName,
  { label: string; source: string; fill?: Config['fill']; promptsPerStep?: number; shape: ShapeConfig }
> = {
  grpo: {
    label: 'GRPO',
    source: 'Shao et al. 2024: group-relative advantages, nothing filtered or shaped',
    shape: { ...DEFAULT_SHAPE_CONFIG, ...NO_FILTER, bonus: BONUS_OFF },
  },
  'grpo-2x': {
    label: 'GRPO, 2x prompts',
    source: 'compute-matched control: GRPO generating as many trajectories per step as the over-sampled (x2) presets, all trained on',
    promptsPerStep: BASE.promptsPerStep * BASE.overSample,
    shape: { ...DEFAULT_SHAPE_CONFIG, ...NO_FILTER, bonus: BONUS_OFF },
  },
  dapo: {
    label: 'DAPO',
    source: 'Yu et al. 2025: dynamic sampling drops all-equal groups and generates more until full',
    fill: 'resample',
    shape: { ...DEFAULT_SHAPE_CONFIG, toolFailFilter: false, bonus: BONUS_OFF },
  },
  'entropy-adv': {
    label: 'Entropy-advantage (Cheng)',
    source: 'Cheng et al. 2025 (arXiv 2506.14758): additive clipped entropy bonus on every token, alpha 0.4',
    shape: { ...DEFAULT_SHAPE_CONFIG, ...NO_FILTER, bonus: { ...DEFAULT_SHAPE_CONFIG.bonus, mode: 'additive', coef: 0.4, scope: 'all' } },
  },
  aepo: {
    label: 'AEPO-style',
    source: 'AEPO: entropy-normalised multiplicative bonus on every token',
    shape: { ...DEFAULT_SHAPE_CONFIG, ...NO_FILTER, bonus: { ...DEFAULT_SHAPE_CONFIG.bonus, scope: 'all' } },
  },
  'tool-fail-filter': {
    label: 'Tool-fail filter only',
    source: 'TAO-RL: the all-tools-failed filter alone (no group filter, hence no over-sampling), no bonus',
    shape: { ...DEFAULT_SHAPE_CONFIG, groupFilter: false, bonus: BONUS_OFF },
  },
  'tao-filter': {
    label: 'TAO-RL filter only',
    source: 'TAO-RL: dual filter, no bonus',
    shape: { ...DEFAULT_SHAPE_CONFIG, bonus: BONUS_OFF },
  },
  'tao-bonus': {
    label: 'TAO-RL bonus only',
    source: 'TAO-RL: post-tool entropy bonus, no filter',
    shape: { ...DEFAULT_SHAPE_CONFIG, ...NO_FILTER },
  },
  'tao-rl': {
    label: 'TAO-RL',
    source: 'Cao et al. 2026 (arXiv 2606.03762): dual filter and post-tool entropy bonus',
    shape: DEFAULT_SHAPE_CONFIG,
  },
};

export const DEFAULT_PRESET: PresetName = 'tao-rl';

/**
 * The full config of a preset with every other field at its default (and each registered
 * extension setting at its own), in Config's field order with the shaping last.
 */
export function presetConfig(preset: PresetName): Config {
  const { fill, promptsPerStep, shape } = PRESETS[preset];
  const config: Config = { preset, ...BASE, fill: fill ?? BASE.fill, promptsPerStep: promptsPerStep ?? BASE.promptsPerStep, shape: structuredClone(shape) };
  return extensionDefaults().reduce((withExtension, [path, value]) => setAt(withExtension, path, value), config);
}

/** A config that cannot run: the message names the field, its value and what is allowed. */
export class ConfigError extends ValidationError {
  override name = 'ConfigError';
}

function fail(field: string, value: unknown, problem: string): never {
  throw new ConfigError(`${formatValue(value)} ${problem}`, field);
}

/** Overrides name only fields the preset's config has, and give objects where it has objects. */
function checkFieldNames(overrides: Fields, base: Fields, prefix: string): void {
  const known = Object.keys(base);
  for (const [key, value] of Object.entries(overrides)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (!Object.hasOwn(base, key)) fail(path, value, `is not a config field (known: ${known.join(', ')})`);
    if (!isPlainObject(base[key])) continue;
    if (!isPlainObject(value)) fail(path, value, 'must be an object');
    checkFieldNames(value, base[key], path);
  }
}

/**
 * A complete, valid config from a preset name and overrides (any subset of fields; nested fields
 * such as shape.bonus merge leaf by leaf over the preset's). Every leaf is checked against its
 * entry in the setting registry; throws ConfigError naming the first bad field, its value and
 * what is allowed. Unknown fields are errors.
 */
export function resolveConfig(overrides: Record<string, unknown> = {}): Config {
  const preset = overrides.preset ?? DEFAULT_PRESET;
  const presetProblem = settingProblem(settingAt('preset')!, preset);
  if (presetProblem) fail('preset', preset, presetProblem);
  const base = presetConfig(preset as PresetName);
  checkFieldNames(overrides, base as unknown as Fields, '');
  const config = mergeDeep(base, overrides);
  for (const setting of settings()) {
    const value = getAt(config, setting.path);
    const problem = settingProblem(setting, value);
    if (problem) fail(setting.path, value, problem);
  }
  return config;
}
