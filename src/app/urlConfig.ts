// The config in the page's URL, as TensorFlow Playground carries its state: a link names its
// preset and every setting that differs from that preset's defaults, the seed always, so opening
// it reproduces the run. Parameters are the settings' URL keys (settings.ts). A field a link gets
// wrong stays at its default and is named in a problem.

import { ConfigError, DEFAULT_PRESET, PRESET_NAMES, presetConfig, resolveConfig, type Config, type PresetName } from '../core/config';
import { getAt, leavesOf, sameLeaf, setAt, settingAt, settingByUrlKey, type Setting } from '../core/settings';

/** URL parameters the page reads itself (main.tsx; the added charts, chartChoice.ts); a link may carry them beside the config. */
const PAGE_PARAMS = new Set(['backend', 'charts']);

/** Always in a link: the preset the fields override, and the seed a reader looks for first. */
const ALWAYS_SHOWN = new Set(['preset', 'seed']);

/** How a value reads in a link: numbers exactly as String prints them, booleans and null as words. */
function linkValue(value: unknown): string {
  return value === null ? 'null' : String(value);
}

/**
 * The query string ("?preset=...&seed=...") of a config: the preset, the seed, and every setting,
 * under its URL key (`shape.bonus.coef`), whose value differs from the preset's default, in the
 * config's field order. `backend`, when given, is kept as the page's own parameter.
 */
export function configToSearch(config: Config, backend?: string | null): string {
  const defaults = new Map(leavesOf(presetConfig(config.preset)));
  const params = new URLSearchParams({ preset: config.preset });
  for (const [path, value] of leavesOf(config)) {
    const setting = settingAt(path);
    if (!setting || path === 'preset') continue;
    if (ALWAYS_SHOWN.has(path) || !sameLeaf(value, defaults.get(path))) params.set(setting.urlKey, linkValue(value));
  }
  if (backend) params.set('backend', backend);
  return `?${params.toString()}`;
}

/** Exactly what String(number) prints (and what a person types): no hex, no blanks, no "Infinity". */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A link's text as the setting's type reads it. Text that does not parse stays text, so that the
 * validation names it as given ("abc" must be an integer ...).
 */
function parseLinkValue(text: string, setting: Setting): unknown {
  switch (setting.type) {
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text;
    case 'choice':
      return text;
    default:
      if (text === 'null') return null;
      return DECIMAL.test(text) ? Number(text) : text;
  }
}

/** The value as a problem sentence shows it: numbers bare, text quoted (resolveConfig's form). */
function shownValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** Why a setting's value is refused, in resolveConfig's words, or null. */
function fieldProblem(overrides: Record<string, unknown>, path: string, value: unknown): string | null {
  try {
    resolveConfig(setAt(overrides, path, value));
    return null;
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
}

/**
 * The config a link describes: the preset's config with each setting of the link applied, one at
 * a time. A parameter that is unknown, unreadable or out of range keeps its default and adds a
 * problem naming the field, the value given and what is allowed. The page's own parameters are
 * skipped.
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

  const defaults = presetConfig(preset);
  let overrides: Record<string, unknown> = { preset };
  for (const [key, text] of params) {
    if (key === 'preset' || PAGE_PARAMS.has(key)) continue;
    const setting = settingByUrlKey(key);
    if (!setting) {
      problems.push(`${key}: not a config field; ${shownValue(text)} is ignored.`);
      continue;
    }
    const value = parseLinkValue(text, setting);
    const problem = fieldProblem(overrides, setting.path, value);
    if (problem) problems.push(`${problem}; the default ${linkValue(getAt(defaults, setting.path))} is used.`);
    else overrides = setAt(overrides, setting.path, value);
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
