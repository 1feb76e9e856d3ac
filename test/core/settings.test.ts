// The setting registry (src/core/settings.ts): exactly one entry per config leaf, the flags, URL
// keys and liveness the commands and the page had before the registry, and the dotted-path helpers.
import { describe, expect, it } from 'vitest';
import { PRESET_NAMES, presetConfig, resolveConfig } from '../../src/core/config';
import {
  allowedValues,
  diffLeaves,
  getAt,
  leavesOf,
  liveFields,
  mergeDeep,
  registerSetting,
  setAt,
  settingAt,
  settingProblem,
  settings,
  stepSettingFields,
} from '../../src/core/settings';

describe('one entry per config leaf', () => {
  it.each(PRESET_NAMES)('preset %s: every leaf has exactly one entry, and every entry is a leaf', (preset) => {
    const leaves = leavesOf(presetConfig(preset)).map(([path]) => path);
    const entries = settings().map((setting) => setting.path);
    const count = (path: string) => entries.filter((entry) => entry === path).length;
    expect(leaves.filter((path) => count(path) !== 1)).toEqual([]);
    expect(entries.filter((path) => !leaves.includes(path))).toEqual([]);
  });

  it('includes the shaping leaves', () => {
    for (const path of ['shape.groupFilter', 'shape.toolFailFilter', 'shape.toolFailStrength', 'shape.bonus.mode', 'shape.bonus.coef', 'shape.bonus.kappa', 'shape.bonus.scope', 'shape.bonus.window']) {
      expect(settingAt(path)?.path).toBe(path);
    }
  });

  it('allows every preset default (each preset resolves)', () => {
    for (const preset of PRESET_NAMES) expect(resolveConfig({ preset })).toEqual(presetConfig(preset));
  });

  it('refuses a second entry at a taken path, flag or URL key', () => {
    const entry = { type: 'number', min: 0, max: 1, label: 'x', help: 'x', live: false, verl: { none: 'x' }, trl: { none: 'x' } } as const;
    expect(() => registerSetting({ ...entry, path: 'learningRate', flag: 'another-flag' }, 0.5)).toThrow(/learningRate/);
    expect(() => registerSetting({ ...entry, path: 'newKnob', flag: 'lr' }, 0.5)).toThrow(/learningRate/);
    expect(() => registerSetting({ ...entry, path: 'newKnob', flag: 'new-knob', urlKey: 'seed' }, 0.5)).toThrow(/seed/);
    expect(settingAt('newKnob')).toBeUndefined();
  });

  it('gives every entry a label, a one-line help, and a verl and a TRL name or the reason it has none', () => {
    for (const setting of settings()) {
      expect(setting.label.length, setting.path).toBeGreaterThan(0);
      expect(setting.help.length, setting.path).toBeGreaterThan(0);
      expect(setting.help, setting.path).not.toContain('\n');
      for (const counterpart of [setting.verl, setting.trl]) {
        if ('keys' in counterpart) expect(counterpart.keys.length, setting.path).toBeGreaterThan(0);
        else expect(counterpart.none.length, setting.path).toBeGreaterThan(0);
      }
    }
  });
});

describe('what the commands and the page used before the registry', () => {
  it('keeps the train command flags and the URL keys', () => {
    const flags = Object.fromEntries(settings().map((setting) => [setting.flag, setting.path]));
    // The train command's flags before the registry (src/cli/trainRun.ts FLAG_FIELDS and --coef).
    expect(flags).toMatchObject({
      preset: 'preset',
      scale: 'scale',
      seed: 'seed',
      task: 'task',
      flaky: 'flakyProbability',
      lr: 'learningRate',
      group: 'groupSize',
      prompts: 'promptsPerStep',
      temperature: 'temperature',
      'eval-every': 'evalEvery',
      'eval-prompts': 'evalPrompts',
      'eval-samples': 'evalSamples',
      coef: 'shape.bonus.coef',
    });
    // Links carried each field under its dotted path.
    for (const setting of settings()) expect(setting.urlKey).toBe(setting.path);
    expect(new Set(settings().map((s) => s.flag)).size).toBe(settings().length);
  });

  it('applies the same fields live: the trainer takes them at its next step, the evaluation schedule between steps', () => {
    const trainer = ['learningRate', 'temperature', 'clipLow', 'clipHigh', 'dualClip', 'entropyCoef', 'klCoef', 'gradClip', 'shape', 'flakyProbability'];
    expect([...stepSettingFields()].sort()).toEqual([...trainer].sort());
    expect([...liveFields()].sort()).toEqual([...trainer, 'evalEvery'].sort());
  });

  it('says the ranges the page and the errors said', () => {
    const allowed = (path: string) => allowedValues(settingAt(path)!);
    expect(allowed('seed')).toBe('an integer in [0, 2147483647]');
    expect(allowed('temperature')).toBe('a number in (0, 4]');
    expect(allowed('learningRate')).toBe('a number in (0, 0.1]');
    expect(allowed('dualClip')).toBe('a number in (1, 100]');
    expect(allowed('shape.bonus.window')).toBe('null or an integer in [0, 80]');
    expect(allowed('shape.bonus.coef')).toBe('a number in [0, 10]');
    expect(allowed('shape.bonus.scope')).toBe('one of post_tool, all');
  });

  it('words a refusal as resolveConfig did', () => {
    const problem = (path: string, value: unknown) => settingProblem(settingAt(path)!, value);
    expect(problem('groupSize', '8')).toBe('must be an integer in [2, 64]');
    expect(problem('groupSize', 4.5)).toBe('is out of range (must be an integer in [2, 64])');
    expect(problem('learningRate', Number.NaN)).toBe('must be a number in (0, 0.1]');
    expect(problem('temperature', 0)).toBe('is out of range (must be a number in (0, 4])');
    expect(problem('shape.bonus.window', null)).toBeNull();
    expect(problem('seed', null)).toBe('must be an integer in [0, 2147483647]');
    expect(problem('detachEntropy', 'yes')).toBe('must be true or false');
    expect(problem('fill', 'more')).toBe('is not one of duplicate, resample');
  });
});

describe('dotted paths', () => {
  const nested = { a: 1, b: { c: [1, 2], d: { e: null } }, f: 'x' };

  it('reads and writes at a path, copying the objects on the way', () => {
    expect(getAt(nested, 'b.d.e')).toBeNull();
    expect(getAt(nested, 'b.c')).toEqual([1, 2]);
    expect(getAt(nested, 'b.x.y')).toBeUndefined();
    expect(getAt(nested, 'a.b')).toBeUndefined();
    const written = setAt(nested, 'b.d.e', 3);
    expect(written).toEqual({ a: 1, b: { c: [1, 2], d: { e: 3 } }, f: 'x' });
    expect(nested.b.d.e).toBeNull();
    expect(written.b.c).toBe(nested.b.c); // untouched branches are shared
    expect(setAt({}, 'shape.bonus.coef', 0.3)).toEqual({ shape: { bonus: { coef: 0.3 } } });
  });

  it('lists leaves in key order, arrays and null as leaves', () => {
    expect(leavesOf(nested)).toEqual([
      ['a', 1],
      ['b.c', [1, 2]],
      ['b.d.e', null],
      ['f', 'x'],
    ]);
  });

  it('merges objects key by key and lets anything else replace', () => {
    expect(mergeDeep(nested, { b: { d: { e: 4 }, c: [3] }, g: 1 })).toEqual({ a: 1, b: { c: [3], d: { e: 4 } }, f: 'x', g: 1 });
    expect(mergeDeep(nested, { b: null })).toEqual({ a: 1, b: null, f: 'x' });
    expect(mergeDeep({ a: { b: 1 } }, 5)).toBe(5);
  });

  it('diffs two values leaf by leaf, arrays by content', () => {
    expect(diffLeaves(nested, { ...nested, b: { c: [1, 2], d: { e: 0 } }, h: true }, 'x')).toEqual([
      { path: 'x.b.d.e', from: null, to: 0 },
      { path: 'x.h', from: undefined, to: true },
    ]);
    expect(diffLeaves(nested, structuredClone(nested))).toEqual([]);
  });
});
