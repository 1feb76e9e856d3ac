// The one typed config of a run: every knob with its default, its range and its source, the
// presets of docs/algorithm.md §6, and validation that names the field, the value and the
// allowed range before any work starts.

import { MODEL_SCALES, type ModelScale } from './model/config';
import { parseShapeConfig, ShapeInputError } from './tao/parseShapeInput';
import { DEFAULT_SHAPE_CONFIG } from './tao/shape';
import type { ShapeConfig } from './tao/types';
import { taskNames } from './tasks';
import { toolNames } from './tools';

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

/** The full config of a preset with every other field at its default. */
export function presetConfig(preset: PresetName): Config {
  const { fill, promptsPerStep, shape } = PRESETS[preset];
  return { ...BASE, preset, fill: fill ?? BASE.fill, promptsPerStep: promptsPerStep ?? BASE.promptsPerStep, shape: structuredClone(shape) };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

interface NumberRange {
  min?: number;
  max?: number;
  minExclusive?: boolean;
  integer?: boolean;
  describe: string;
}

/** Allowed values of every numeric field: validation and the page's input fields share them. */
export const NUMBER_RANGES: Record<string, NumberRange> = {
  seed: { integer: true, min: 0, max: 2 ** 31 - 1, describe: 'an integer in [0, 2147483647]' },
  flakyProbability: { min: 0, max: 1, describe: 'a number in [0, 1]' },
  groupSize: { integer: true, min: 2, max: 64, describe: 'an integer in [2, 64]' },
  promptsPerStep: { integer: true, min: 1, max: 64, describe: 'an integer in [1, 64]' },
  temperature: { min: 0, minExclusive: true, max: 4, describe: 'a number in (0, 4]' },
  maxToolCalls: { integer: true, min: 0, max: 10, describe: 'an integer in [0, 10]' },
  overSample: { integer: true, min: 1, max: 8, describe: 'an integer in [1, 8]' },
  maxGenBatches: { integer: true, min: 1, max: 32, describe: 'an integer in [1, 32]' },
  learningRate: { min: 0, minExclusive: true, max: 0.1, describe: 'a number in (0, 0.1]' },
  ppoEpochs: { integer: true, min: 1, max: 16, describe: 'an integer in [1, 16]' },
  clipLow: { min: 0, minExclusive: true, max: 1, describe: 'a number in (0, 1]' },
  clipHigh: { min: 0, minExclusive: true, max: 10, describe: 'a number in (0, 10]' },
  dualClip: { min: 1, minExclusive: true, max: 100, describe: 'a number in (1, 100]' },
  entropyCoef: { min: 0, max: 1, describe: 'a number in [0, 1]' },
  klCoef: { min: 0, max: 10, describe: 'a number in [0, 10]' },
  gradClip: { min: 0, minExclusive: true, max: 1000, describe: 'a number in (0, 1000]' },
  evalEvery: { integer: true, min: 0, max: 100000, describe: 'an integer in [0, 100000]' },
  evalPrompts: { integer: true, min: 1, max: 512, describe: 'an integer in [1, 512]' },
  evalSamples: { integer: true, min: 1, max: 64, describe: 'an integer in [1, 64]' },
  'shape.toolFailStrength': { min: 0, max: 1, describe: 'a number in [0, 1]' },
  'shape.bonus.coef': { min: 0, max: 10, describe: 'a number in [0, 10]' },
  'shape.bonus.kappa': { min: 0, minExclusive: true, max: 100, describe: 'a number in (0, 100]' },
  'shape.bonus.window': { integer: true, min: 0, max: 80, describe: 'null or an integer in [0, 80]' },
};

/** Why a number is outside its range, or null when it is inside. */
export function numberProblem(value: unknown, range: NumberRange): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `must be ${range.describe}`;
  const belowMin = range.min !== undefined && (range.minExclusive ? value <= range.min : value < range.min);
  const aboveMax = range.max !== undefined && value > range.max;
  if (belowMin || aboveMax || (range.integer && !Number.isInteger(value))) return `is out of range (must be ${range.describe})`;
  return null;
}

function fail(field: string, value: unknown, problem: string): never {
  throw new ConfigError(`${field}: ${formatValue(value)} ${problem}`);
}

function formatValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined';
  return JSON.stringify(value);
}

function oneOf<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    fail(field, value, `is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function bool(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(field, value, 'must be true or false');
  return value as boolean;
}

/**
 * A complete, valid config from a preset name and overrides (any subset of fields, shape fields
 * included). Throws ConfigError naming the first bad field. Unknown fields are errors.
 */
export function resolveConfig(overrides: Record<string, unknown> = {}): Config {
  const presetName = oneOf('preset', overrides.preset ?? DEFAULT_PRESET, PRESET_NAMES);
  const base = presetConfig(presetName);
  const allowed = new Set(Object.keys(base));
  for (const key of Object.keys(overrides)) {
    if (!allowed.has(key)) fail(key, overrides[key], `is not a config field (known: ${[...allowed].join(', ')})`);
  }
  const merged: Record<string, unknown> = { ...base, ...overrides };
  const config = { preset: presetName } as Config;
  for (const [field, range] of Object.entries(NUMBER_RANGES)) {
    if (field.startsWith('shape.')) continue;
    const problem = numberProblem(merged[field], range);
    if (problem) fail(field, merged[field], problem);
    (config as unknown as Record<string, unknown>)[field] = merged[field];
  }
  config.scale = oneOf('scale', merged.scale, Object.keys(MODEL_SCALES) as ModelScale[]);
  config.task = oneOf('task', merged.task, taskNames());
  config.tool = oneOf('tool', merged.tool, toolNames());
  config.fill = oneOf('fill', merged.fill, ['duplicate', 'resample'] as const);
  config.detachEntropy = bool('detachEntropy', merged.detachEntropy);
  config.shape = resolveShape(base.shape, overrides.shape);
  return config;
}

/** Shape overrides merge over the preset's shape, bonus fields one by one. */
function resolveShape(presetShape: ShapeConfig, raw: unknown): ShapeConfig {
  if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
    fail('shape', raw, 'must be an object');
  }
  const given = (raw ?? {}) as Record<string, unknown>;
  const givenBonus = given.bonus;
  const bonus =
    givenBonus && typeof givenBonus === 'object' && !Array.isArray(givenBonus)
      ? { ...presetShape.bonus, ...(givenBonus as object) }
      : givenBonus === undefined
        ? presetShape.bonus
        : givenBonus; // null and other non-objects reach the parser, which names them
  let shape: ShapeConfig;
  try {
    shape = parseShapeConfig({ ...presetShape, ...given, bonus }, 'shape');
  } catch (error) {
    if (error instanceof ShapeInputError) throw new ConfigError(error.message);
    throw error;
  }
  const checks: [string, number][] = [
    ['shape.toolFailStrength', shape.toolFailStrength],
    ['shape.bonus.coef', shape.bonus.coef],
    ['shape.bonus.kappa', shape.bonus.kappa],
  ];
  if (shape.bonus.window !== null) checks.push(['shape.bonus.window', shape.bonus.window]);
  for (const [field, value] of checks) {
    const problem = numberProblem(value, NUMBER_RANGES[field]);
    if (problem) fail(field, value, problem);
  }
  return shape;
}

/** Fields whose change takes effect at the next step of a running run (the page's live knobs). */
export const LIVE_FIELDS = [
  'learningRate',
  'temperature',
  'clipLow',
  'clipHigh',
  'dualClip',
  'entropyCoef',
  'klCoef',
  'gradClip',
  'shape',
  'flakyProbability',
  'evalEvery',
] as const;
