// The config in the page's URL, as TensorFlow Playground carries its state: a link names its
// preset and every field that differs from that preset's defaults, the seed always, so opening it
// reproduces the run. A field a link gets wrong stays at its default and is named in a problem.

import {
  ConfigError,
  DEFAULT_PRESET,
  NUMBER_RANGES,
  numberProblem,
  PRESET_NAMES,
  presetConfig,
  resolveConfig,
  type Config,
  type PresetName,
} from '../core/config';

/** URL parameters the page reads itself (main.tsx); a link may carry them beside the config. */
const PAGE_PARAMS = new Set(['backend']);

/** Always in a link: the preset the fields override, and the seed a reader looks for first. */
const ALWAYS_SHOWN = new Set(['preset', 'seed']);

type Leaf = string | number | boolean | null;

/** Every leaf of a config as [dotted path, value], in the config's field order. */
function configLeaves(config: Config): [string, Leaf][] {
  const leaves: [string, Leaf][] = [];
  const walk = (value: unknown, path: string) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) walk(child, path === '' ? key : `${path}.${key}`);
    } else {
      leaves.push([path, value as Leaf]);
    }
  };
  walk(config, '');
  return leaves;
}

/** How a value reads in a link: numbers exactly as String prints them, booleans and null as words. */
function linkValue(value: Leaf): string {
  return value === null ? 'null' : String(value);
}

/**
 * The query string ("?preset=...&seed=...") of a config: the preset, the seed, and every field,
 * shape fields by dotted path (`shape.bonus.coef`), whose value differs from the preset's default.
 * `backend`, when given, is kept as the page's own parameter.
 */
export function configToSearch(config: Config, backend?: string | null): string {
  const defaults = new Map(configLeaves(presetConfig(config.preset)));
  const params = new URLSearchParams({ preset: config.preset });
  for (const [path, value] of configLeaves(config)) {
    if (path === 'preset') continue;
    if (ALWAYS_SHOWN.has(path) || !Object.is(value, defaults.get(path))) params.set(path, linkValue(value));
  }
  if (backend) params.set('backend', backend);
  return `?${params.toString()}`;
}

/** Exactly what String(number) prints (and what a person types): no hex, no blanks, no "Infinity". */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A link's text as the field's type reads it. Text that does not parse stays text, so that the
 * validation names it as given ("abc" must be an integer ...).
 */
function parseLinkValue(text: string, fallback: Leaf): unknown {
  if (typeof fallback === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (typeof fallback === 'number' || fallback === null) {
    if (text === 'null') return null;
    return DECIMAL.test(text) ? Number(text) : text;
  }
  return text;
}

/** The value as a problem sentence shows it: numbers bare, text quoted (resolveConfig's form). */
function shownValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** `overrides` with `value` set at a dotted path, nested objects created on the way. */
function withField(overrides: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const [head, ...rest] = path.split('.');
  if (rest.length === 0) return { ...overrides, [head]: value };
  const inner = overrides[head];
  const nested = typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : {};
  return { ...overrides, [head]: withField(nested, rest.join('.'), value) };
}

/** Why a field's value is refused, in the words of resolveConfig / numberProblem, or null. */
function fieldProblem(overrides: Record<string, unknown>, path: string, value: unknown): string | null {
  // The page's input fields show NUMBER_RANGES; say the same range (the shape parser's is looser).
  const range = NUMBER_RANGES[path];
  if (range && !(value === null && path === 'shape.bonus.window')) {
    const problem = numberProblem(value, range);
    if (problem) return `${path}: ${shownValue(value)} ${problem}`;
  }
  try {
    resolveConfig(withField(overrides, path, value));
    return null;
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

/**
 * The config a link describes: the preset's config with each field of the link applied, one at a
 * time. A field that is unknown, unreadable or out of range keeps its default and adds a problem
 * naming the field, the value given and what is allowed. The page's own parameters are skipped.
 */
export function configFromSearch(search: string): { config: Config; problems: string[] } {
  const params = new URLSearchParams(search);
  const problems: string[] = [];

  let preset: PresetName = DEFAULT_PRESET;
  const givenPreset = params.get('preset');
  if (givenPreset !== null) {
    if ((PRESET_NAMES as readonly string[]).includes(givenPreset)) preset = givenPreset as PresetName;
    else problems.push(`preset: ${shownValue(givenPreset)} is not one of ${PRESET_NAMES.join(', ')}; the default ${DEFAULT_PRESET} is used.`);
  }

  const defaults = new Map(configLeaves(presetConfig(preset)));
  let overrides: Record<string, unknown> = { preset };
  for (const [path, text] of params) {
    if (path === 'preset' || PAGE_PARAMS.has(path)) continue;
    if (!defaults.has(path)) {
      problems.push(`${path}: not a config field; ${shownValue(text)} is ignored.`);
      continue;
    }
    const fallback = defaults.get(path) as Leaf;
    const value = parseLinkValue(text, fallback);
    const problem = fieldProblem(overrides, path, value);
    if (problem) problems.push(`${problem}; the default ${linkValue(fallback)} is used.`);
    else overrides = withField(overrides, path, value);
  }
  return { config: resolveConfig(overrides), problems };
}

/** Whether a query string carries any config field (and not only the page's own parameters). */
export function hasConfigParams(search: string): boolean {
  return [...new URLSearchParams(search).keys()].some((key) => !PAGE_PARAMS.has(key));
}

/** The page's address for a config, keeping the `backend` the current address names. */
export function linkToConfig(config: Config, at: Pick<Location, 'origin' | 'pathname' | 'search'>): string {
  return `${at.origin}${at.pathname}${configToSearch(config, new URLSearchParams(at.search).get('backend'))}`;
}
