// Strict validation of shaping input: the `tao shape` JSON command and the shaping config alike
// (docs/algorithm.md §8.7). Every rejection names the path, the value and
// what is allowed, on one line, so the command can print it as is.

import { DEFAULT_SHAPE_CONFIG } from './shape';
import type { BonusMode, BonusScope, ShapeConfig, ShapingTrajectory, TokenKind } from './types';

export class ShapeInputError extends Error {
  override name = 'ShapeInputError';
}

const TOP_LEVEL_KEYS = ['config', 'trajectories'] as const;
const CONFIG_KEYS = [
  'groupFilter',
  'toolFailFilter',
  'toolFailStrength',
  'baseline',
  'stdNormalize',
  'bonus',
] as const;
const BONUS_KEYS = ['mode', 'coef', 'kappa', 'scope', 'window', 'afterSuccessOnly'] as const;
const TRAJECTORY_KEYS = ['group', 'reward', 'toolCalls', 'tokens'] as const;
const TOOL_CALL_KEYS = ['ok'] as const;
const TOKEN_KEYS = ['kind', 'entropy'] as const;
const BONUS_MODES: readonly BonusMode[] = ['multiplicative', 'additive', 'off'];
const BONUS_SCOPES: readonly BonusScope[] = ['post_tool', 'all'];
const BASELINES: readonly ShapeConfig['baseline'][] = ['include', 'exclude'];
const TOKEN_KINDS: readonly TokenKind[] = ['prompt', 'policy', 'tool'];

/** A number's allowed range, with the words the error message uses for it. */
interface NumberRule {
  describe: string;
  integer?: boolean;
  min?: number;
  minExclusive?: boolean;
  max?: number;
}

const ANY_FINITE: NumberRule = { describe: 'a finite number' };
const NON_NEGATIVE: NumberRule = { describe: 'a number >= 0', min: 0 };
const POSITIVE: NumberRule = { describe: 'a number > 0', min: 0, minExclusive: true };
const UNIT_INTERVAL: NumberRule = { describe: 'a number in [0, 1]', min: 0, max: 1 };
const INTEGER: NumberRule = { describe: 'an integer', integer: true };
const WINDOW: NumberRule = { describe: 'null or an integer >= 0', integer: true, min: 0 };

type JsonObject = Record<string, unknown>;

/** The value as the user wrote it, short and on one line. */
function formatValue(value: unknown): string {
  if (typeof value === 'number') return String(value); // NaN and Infinity read as themselves
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function fail(path: string, problem: string): never {
  throw new ShapeInputError(`${path}: ${problem}`);
}

/** path.key, or path["odd key"]; the input's own keys (path '') stand alone. */
function keyPath(path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectObject(value: unknown, path: string, allowedKeys: readonly string[]): JsonObject {
  if (!isPlainObject(value)) fail(path || 'input', `${formatValue(value)} is not an object`);
  for (const key of Object.keys(value)) {
    if (!allowedKeys.includes(key)) {
      fail(keyPath(path, key), `unknown key (allowed: ${allowedKeys.join(', ')})`);
    }
  }
  return value;
}

function expectArray(value: unknown, path: string): unknown[] {
  if (value === undefined) fail(path, 'missing (must be an array)');
  if (!Array.isArray(value)) fail(path, `${formatValue(value)} is not an array`);
  return value;
}

function expectBoolean(value: unknown, path: string): boolean {
  if (value === undefined) fail(path, 'missing (must be true or false)');
  if (typeof value !== 'boolean') fail(path, `${formatValue(value)} is not a boolean`);
  return value;
}

function expectOneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    const shown = value === undefined ? 'missing' : formatValue(value);
    fail(path, `${shown} is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

function expectNumber(value: unknown, path: string, rule: NumberRule): number {
  const must = `(must be ${rule.describe})`;
  if (value === undefined) fail(path, `missing ${must}`);
  if (typeof value !== 'number') fail(path, `${formatValue(value)} is not a number ${must}`);
  if (!Number.isFinite(value)) fail(path, `${formatValue(value)} is not finite ${must}`);
  if (rule.integer && !Number.isInteger(value)) {
    fail(path, `${formatValue(value)} is not an integer ${must}`);
  }
  const belowMin =
    rule.min !== undefined && (rule.minExclusive ? value <= rule.min : value < rule.min);
  const aboveMax = rule.max !== undefined && value > rule.max;
  if (belowMin || aboveMax) fail(path, `${formatValue(value)} is out of range ${must}`);
  return value;
}

/** obj[key] read by `read`, or the default when the key is absent (all config keys are optional). */
function optional<T>(
  obj: JsonObject,
  key: string,
  path: string,
  fallback: T,
  read: (value: unknown, path: string) => T,
): T {
  return obj[key] === undefined ? fallback : read(obj[key], keyPath(path, key));
}

function parseBonusConfig(raw: unknown, path: string): ShapeConfig['bonus'] {
  const defaults = DEFAULT_SHAPE_CONFIG.bonus;
  if (raw === undefined) return { ...defaults };
  const obj = expectObject(raw, path, BONUS_KEYS);
  return {
    mode: optional(obj, 'mode', path, defaults.mode, (v, p) => expectOneOf(v, p, BONUS_MODES)),
    coef: optional(obj, 'coef', path, defaults.coef, (v, p) => expectNumber(v, p, NON_NEGATIVE)),
    kappa: optional(obj, 'kappa', path, defaults.kappa, (v, p) => expectNumber(v, p, POSITIVE)),
    scope: optional(obj, 'scope', path, defaults.scope, (v, p) => expectOneOf(v, p, BONUS_SCOPES)),
    window: optional(obj, 'window', path, defaults.window, (v, p) =>
      v === null ? null : expectNumber(v, p, WINDOW),
    ),
    afterSuccessOnly: optional(
      obj,
      'afterSuccessOnly',
      path,
      defaults.afterSuccessOnly,
      expectBoolean,
    ),
  };
}

/** A complete ShapeConfig from a partial one; absent keys (bonus keys too) take section 8's defaults. */
export function parseShapeConfig(raw: unknown, path = 'config'): ShapeConfig {
  const defaults = DEFAULT_SHAPE_CONFIG;
  if (raw === undefined) return { ...defaults, bonus: { ...defaults.bonus } };
  const obj = expectObject(raw, path, CONFIG_KEYS);
  return {
    groupFilter: optional(obj, 'groupFilter', path, defaults.groupFilter, expectBoolean),
    toolFailFilter: optional(obj, 'toolFailFilter', path, defaults.toolFailFilter, expectBoolean),
    toolFailStrength: optional(obj, 'toolFailStrength', path, defaults.toolFailStrength, (v, p) =>
      expectNumber(v, p, UNIT_INTERVAL),
    ),
    baseline: optional(obj, 'baseline', path, defaults.baseline, (v, p) =>
      expectOneOf(v, p, BASELINES),
    ),
    stdNormalize: optional(obj, 'stdNormalize', path, defaults.stdNormalize, expectBoolean),
    bonus: parseBonusConfig(obj.bonus, keyPath(path, 'bonus')),
  };
}

function parseToolCall(raw: unknown, path: string): { ok: boolean } {
  const obj = expectObject(raw, path, TOOL_CALL_KEYS);
  return { ok: expectBoolean(obj.ok, keyPath(path, 'ok')) };
}

function parseToken(raw: unknown, path: string): { kind: TokenKind; entropy: number } {
  const obj = expectObject(raw, path, TOKEN_KEYS);
  const kind = expectOneOf(obj.kind, keyPath(path, 'kind'), TOKEN_KINDS);
  // Forced prompt and tool tokens are never sampled, so their entropy may be left out.
  const entropy =
    obj.entropy === undefined && kind !== 'policy'
      ? 0
      : expectNumber(obj.entropy, keyPath(path, 'entropy'), NON_NEGATIVE);
  return { kind, entropy };
}

/** Prompt tokens first; one maximal run of tool tokens per tool call (section 8). */
function checkTokenOrder(
  tokens: readonly { kind: TokenKind }[],
  toolCallCount: number,
  path: string,
): void {
  let toolRuns = 0;
  let seenNonPrompt = false;
  tokens.forEach((token, t) => {
    if (token.kind === 'prompt' && seenNonPrompt) {
      const problem = 'after the first non-prompt token (prompt tokens must come first)';
      fail(`${path}.tokens[${t}].kind`, `"prompt" ${problem}`);
    }
    if (token.kind !== 'prompt') seenNonPrompt = true;
    if (token.kind === 'tool' && tokens[t - 1]?.kind !== 'tool') toolRuns += 1;
  });
  if (toolRuns !== toolCallCount) {
    fail(
      `${path}.toolCalls`,
      `${toolCallCount} tool calls but ${toolRuns} tool-result runs in tokens (must be equal)`,
    );
  }
}

function parseTrajectory(raw: unknown, path: string): ShapingTrajectory {
  const obj = expectObject(raw, path, TRAJECTORY_KEYS);
  const group = expectNumber(obj.group, keyPath(path, 'group'), INTEGER);
  const reward = expectNumber(obj.reward, keyPath(path, 'reward'), ANY_FINITE);
  const toolCalls = expectArray(obj.toolCalls, keyPath(path, 'toolCalls')).map((call, c) =>
    parseToolCall(call, `${path}.toolCalls[${c}]`),
  );
  const tokens = expectArray(obj.tokens, keyPath(path, 'tokens')).map((token, t) =>
    parseToken(token, `${path}.tokens[${t}]`),
  );
  checkTokenOrder(tokens, toolCalls.length, path);
  return { group, reward, toolCalls, tokens };
}

/** The `tao shape` command's input: `{ config?: partial ShapeConfig, trajectories: [...] }`. */
export function parseShapeInput(raw: unknown): {
  config: ShapeConfig;
  trajectories: ShapingTrajectory[];
} {
  const obj = expectObject(raw, '', TOP_LEVEL_KEYS);
  return {
    config: parseShapeConfig(obj.config, 'config'),
    trajectories: expectArray(obj.trajectories, 'trajectories').map((trajectory, i) =>
      parseTrajectory(trajectory, `trajectories[${i}]`),
    ),
  };
}
