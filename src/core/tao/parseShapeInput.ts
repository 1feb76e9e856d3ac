// Strict validation of shaping input: the `tao shape` JSON command and the shaping config alike
// (docs/algorithm.md §8.7). Every rejection names the path, the value and
// what is allowed, on one line, so the command can print it as is.

import {
  expectArray,
  expectBoolean,
  expectKnownKeys,
  expectNumber,
  expectObject,
  expectOneOf,
  fail,
  FINITE,
  INTEGER,
  isNot,
  isPlainObject,
  NON_NEGATIVE,
  pathTo,
  POSITIVE,
  readAs,
  UNIT_INTERVAL,
  ValidationError,
  type JsonObject,
  type NumberRange,
} from '../validate';
import { DEFAULT_SHAPE_CONFIG } from './shape';
import { TOKEN_KINDS, type BonusMode, type BonusScope, type ShapeConfig, type ShapingTrajectory, type TokenKind } from './types';

export class ShapeInputError extends ValidationError {
  override name = 'ShapeInputError';
}

const TOP_LEVEL_KEYS = ['config', 'trajectories'] as const;
const CONFIG_KEYS = ['groupFilter', 'toolFailFilter', 'toolFailStrength', 'baseline', 'stdNormalize', 'bonus'] as const;
const BONUS_KEYS = ['mode', 'coef', 'kappa', 'scope', 'window', 'afterSuccessOnly'] as const;
const TRAJECTORY_KEYS = ['group', 'reward', 'toolCalls', 'tokens'] as const;
const TOOL_CALL_KEYS = ['ok'] as const;
const TOKEN_KEYS = ['kind', 'entropy'] as const;
const BONUS_MODES: readonly BonusMode[] = ['multiplicative', 'additive', 'off'];
const BONUS_SCOPES: readonly BonusScope[] = ['post_tool', 'all'];
const BASELINES: readonly ShapeConfig['baseline'][] = ['include', 'exclude'];
const WINDOW: NumberRange = { describe: 'null or an integer >= 0', integer: true, min: 0 };

/** obj[key] read by `read`, or the default when the key is absent (all config keys are optional). */
function optional<T>(obj: JsonObject, key: string, path: string, fallback: T, read: (value: unknown, path: string) => T): T {
  return obj[key] === undefined ? fallback : read(obj[key], pathTo(path, key));
}

function readBonusConfig(raw: unknown, path: string): ShapeConfig['bonus'] {
  const defaults = DEFAULT_SHAPE_CONFIG.bonus;
  if (raw === undefined) return { ...defaults };
  const obj = expectObject(raw, path, BONUS_KEYS);
  return {
    mode: optional(obj, 'mode', path, defaults.mode, (v, p) => expectOneOf(v, p, BONUS_MODES)),
    coef: optional(obj, 'coef', path, defaults.coef, (v, p) => expectNumber(v, p, NON_NEGATIVE)),
    kappa: optional(obj, 'kappa', path, defaults.kappa, (v, p) => expectNumber(v, p, POSITIVE)),
    scope: optional(obj, 'scope', path, defaults.scope, (v, p) => expectOneOf(v, p, BONUS_SCOPES)),
    window: optional(obj, 'window', path, defaults.window, (v, p) => (v === null ? null : expectNumber(v, p, WINDOW))),
    afterSuccessOnly: optional(obj, 'afterSuccessOnly', path, defaults.afterSuccessOnly, expectBoolean),
  };
}

function readShapeConfig(raw: unknown, path: string): ShapeConfig {
  const defaults = DEFAULT_SHAPE_CONFIG;
  if (raw === undefined) return { ...defaults, bonus: { ...defaults.bonus } };
  const obj = expectObject(raw, path, CONFIG_KEYS);
  return {
    groupFilter: optional(obj, 'groupFilter', path, defaults.groupFilter, expectBoolean),
    toolFailFilter: optional(obj, 'toolFailFilter', path, defaults.toolFailFilter, expectBoolean),
    toolFailStrength: optional(obj, 'toolFailStrength', path, defaults.toolFailStrength, (v, p) => expectNumber(v, p, UNIT_INTERVAL)),
    baseline: optional(obj, 'baseline', path, defaults.baseline, (v, p) => expectOneOf(v, p, BASELINES)),
    stdNormalize: optional(obj, 'stdNormalize', path, defaults.stdNormalize, expectBoolean),
    bonus: readBonusConfig(obj.bonus, pathTo(path, 'bonus')),
  };
}

/** A complete ShapeConfig from a partial one; absent keys (bonus keys too) take §8's defaults. */
export function parseShapeConfig(raw: unknown, path = 'config'): ShapeConfig {
  return readAs(ShapeInputError, () => readShapeConfig(raw, path));
}

function readToken(raw: unknown, path: string): { kind: TokenKind; entropy: number } {
  const obj = expectObject(raw, path, TOKEN_KEYS);
  const kind = expectOneOf(obj.kind, pathTo(path, 'kind'), TOKEN_KINDS);
  // Forced prompt and tool tokens are never sampled, so their entropy may be left out.
  const entropy = obj.entropy === undefined && kind !== 'policy' ? 0 : expectNumber(obj.entropy, pathTo(path, 'entropy'), NON_NEGATIVE);
  return { kind, entropy };
}

/** Prompt tokens first; one maximal run of tool tokens per tool call (§8.7). */
function checkTokenOrder(tokens: readonly { kind: TokenKind }[], toolCallCount: number, path: string): void {
  let toolRuns = 0;
  let seenNonPrompt = false;
  tokens.forEach((token, t) => {
    if (token.kind === 'prompt' && seenNonPrompt) {
      fail(`${path}.tokens[${t}].kind`, '"prompt" after the first non-prompt token (prompt tokens must come first)');
    }
    if (token.kind !== 'prompt') seenNonPrompt = true;
    if (token.kind === 'tool' && tokens[t - 1]?.kind !== 'tool') toolRuns += 1;
  });
  if (toolRuns !== toolCallCount) {
    fail(`${path}.toolCalls`, `${toolCallCount} tool calls but ${toolRuns} tool-result runs in tokens (must be equal)`);
  }
}

function readTrajectory(raw: unknown, path: string): ShapingTrajectory {
  const obj = expectObject(raw, path, TRAJECTORY_KEYS);
  const group = expectNumber(obj.group, pathTo(path, 'group'), INTEGER);
  const reward = expectNumber(obj.reward, pathTo(path, 'reward'), FINITE);
  const toolCalls = expectArray(obj.toolCalls, pathTo(path, 'toolCalls')).map((call, c) => {
    const callPath = `${path}.toolCalls[${c}]`;
    return { ok: expectBoolean(expectObject(call, callPath, TOOL_CALL_KEYS).ok, `${callPath}.ok`) };
  });
  const tokens = expectArray(obj.tokens, pathTo(path, 'tokens')).map((token, t) => readToken(token, `${path}.tokens[${t}]`));
  checkTokenOrder(tokens, toolCalls.length, path);
  return { group, reward, toolCalls, tokens };
}

/** The `tao shape` command's input: `{ config?: partial ShapeConfig, trajectories: [...] }`. */
export function parseShapeInput(raw: unknown): { config: ShapeConfig; trajectories: ShapingTrajectory[] } {
  return readAs(ShapeInputError, () => {
    if (!isPlainObject(raw)) fail('input', isNot(raw, 'an object'));
    expectKnownKeys(raw, '', TOP_LEVEL_KEYS);
    return {
      config: readShapeConfig(raw.config, 'config'),
      trajectories: expectArray(raw.trajectories, 'trajectories').map((trajectory, i) => readTrajectory(trajectory, `trajectories[${i}]`)),
    };
  });
}
