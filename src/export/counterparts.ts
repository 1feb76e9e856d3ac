// A config as another engine's settings, read from the setting registry (core/settings.ts): each
// setting's keys there with their values, and a warning for each setting whose value does not
// arrive. Shared by the verl and the TRL export; pure, for the page and the command line alike.

import type { Config } from '../core/config';
import { getAt, settings, type Setting, type SettingValue } from '../core/settings';

export type Engine = 'verl' | 'trl';

/** One file an export writes. */
export interface ExportedFile {
  name: string;
  text: string;
  /** A script: written with the executable bit where the file system has one. */
  executable?: boolean;
}

export interface EngineExport {
  engine: Engine;
  files: ExportedFile[];
  /** One line per setting (or recipe trap) that does not arrive as it is, naming it and why. */
  warnings: string[];
  /** The command the export's script runs, as one line. */
  command: string;
}

/** A value as a warning quotes it. */
function quoted(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

/** "Tool-fail strength (shape.toolFailStrength = 0.5)": how a warning names a setting. */
export function settingName(setting: Setting, value: unknown): string {
  return `${setting.label} (${setting.path} = ${quoted(value)})`;
}

/** Each setting's [key, value] pairs in the engine, in registry order, and what does not arrive. */
export function counterpartValues(config: Config, engine: Engine): { entries: [string, SettingValue][]; warnings: string[] } {
  const entries: [string, SettingValue][] = [];
  const warnings: string[] = [];
  for (const setting of settings()) {
    const value = getAt(config, setting.path) as SettingValue;
    const counterpart = setting[engine];
    if ('none' in counterpart) {
      if (!counterpart.builtIn?.(value, config)) warnings.push(`${settingName(setting, value)}: not exported: ${counterpart.none}`);
      continue;
    }
    const values = counterpart.values?.(value, config) ?? [value];
    counterpart.keys.forEach((key, i) => entries.push([key, values[i]]));
    const lost = counterpart.loses?.(value, config);
    if (lost) warnings.push(`${settingName(setting, value)}: ${lost}`);
  }
  return { entries, warnings };
}

/** Lines as comment lines of a shell or Python script, wrapped at about 100 characters. */
export function commentLines(lines: readonly string[], indent = '#   '): string[] {
  const out: string[] = [];
  for (const line of lines) {
    let rest = line;
    let first = true;
    while (rest.length > 0) {
      const width = 98 - indent.length;
      let cut = rest.length <= width ? rest.length : rest.lastIndexOf(' ', width);
      if (cut <= 0) cut = Math.min(rest.length, width);
      out.push(`${first ? '# - ' : indent}${rest.slice(0, cut).trimEnd()}`);
      rest = rest.slice(cut).trimStart();
      first = false;
    }
  }
  return out;
}
