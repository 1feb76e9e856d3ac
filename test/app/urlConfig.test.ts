// The config in the URL (src/app/urlConfig.ts): a link reproduces a config exactly, and a link's
// bad field is named with its value and allowed range while every other field is kept.

import { describe, expect, it } from 'vitest';
import { PRESET_NAMES, presetConfig, resolveConfig } from '../../src/core/config';
import { configFromSearch, configToSearch, hasConfigParams, linkToConfig } from '../../src/app/urlConfig';

describe('configToSearch', () => {
  it('names the preset and the seed, and only the fields that differ from the preset', () => {
    expect(configToSearch(presetConfig('tao-rl'))).toBe('?preset=tao-rl&seed=1');
    const config = resolveConfig({ preset: 'grpo', seed: 7, learningRate: 1e-4, shape: { bonus: { coef: 0.05, window: 3 } } });
    expect(configToSearch(config)).toBe('?preset=grpo&seed=7&learningRate=0.0001&shape.bonus.coef=0.05&shape.bonus.window=3');
  });

  it('writes booleans as words, and keeps a backend', () => {
    // DAPO's preset has the group filter on: turning it off is a difference the link carries.
    const config = resolveConfig({ preset: 'dapo', detachEntropy: false, shape: { groupFilter: false } });
    expect(configToSearch(config, 'webgpu')).toBe('?preset=dapo&seed=1&detachEntropy=false&shape.groupFilter=false&backend=webgpu');
  });

  it('reads null as the whole-turn post-tool window', () => {
    expect(configFromSearch('?shape.bonus.window=null')).toEqual({ config: presetConfig('tao-rl'), problems: [] });
    expect(configFromSearch('?shape.bonus.window=4').config.shape.bonus.window).toBe(4);
  });

  it('links to the page with the config and the address bar\'s backend', () => {
    const at = { origin: 'https://example.org', pathname: '/wb/', search: '?backend=wasm&seed=3' };
    expect(linkToConfig(presetConfig('aepo'), at)).toBe('https://example.org/wb/?preset=aepo&seed=1&backend=wasm');
  });
});

describe('configFromSearch', () => {
  it.each(PRESET_NAMES)('reads back the config of preset %s exactly', (preset) => {
    const config = presetConfig(preset);
    expect(configFromSearch(configToSearch(config))).toEqual({ config, problems: [] });
  });

  it('reads back changed top-level and nested fields exactly, tiny exponents included', () => {
    const config = resolveConfig({
      preset: 'entropy-adv',
      seed: 2147483647,
      scale: 'small',
      fill: 'resample',
      learningRate: 1.5e-7,
      clipHigh: 0.3000000000000001,
      detachEntropy: false,
      shape: { toolFailStrength: 0.5, baseline: 'exclude', bonus: { mode: 'multiplicative', coef: 0.123456789012345, kappa: 3, window: 0, afterSuccessOnly: true } },
    });
    const search = configToSearch(config);
    expect(search).toContain('learningRate=1.5e-7');
    expect(configFromSearch(search)).toEqual({ config, problems: [] });
    const huge = resolveConfig({ preset: 'tao-rl', evalEvery: 100000, shape: { bonus: { kappa: 1.5e-21 } } });
    expect(configToSearch(huge)).toContain('shape.bonus.kappa=1.5e-21');
    expect(configFromSearch(configToSearch(huge)).config).toEqual(huge);
  });

  it('keeps the good fields of a bad link and names each bad one with its allowed values', () => {
    const { config, problems } = configFromSearch(
      '?preset=nope&seed=abc&groupSize=4&learningRate=5&shape.bonus.coef=-1&shape.bonus.scope=all&nonsense=1&backend=webgpu',
    );
    // Defaults of the default preset (tao-rl) for the refused fields; the good ones applied.
    expect(config).toEqual(resolveConfig({ preset: 'tao-rl', groupSize: 4, shape: { bonus: { scope: 'all' } } }));
    expect(config.seed).toBe(1);
    expect(config.learningRate).toBe(3e-4);
    expect(config.shape.bonus.coef).toBe(0.01);
    expect(problems).toEqual([
      'preset: "nope" is not one of grpo, grpo-2x, dapo, entropy-adv, aepo, tool-fail-filter, tao-filter, tao-bonus, tao-rl; the default tao-rl is used.',
      'seed: "abc" must be an integer in [0, 2147483647]; the default 1 is used.',
      'learningRate: 5 is out of range (must be a number in (0, 0.1]); the default 0.0003 is used.',
      'shape.bonus.coef: -1 is out of range (must be a number in [0, 10]); the default 0.01 is used.',
      'nonsense: not a config field; "1" is ignored.',
    ]);
  });

  it('names a bad word, boolean or window with what is allowed', () => {
    const { config, problems } = configFromSearch(
      '?preset=grpo&task=poetry&detachEntropy=yes&shape.bonus.window=81&shape.bonus.window=x&shape.baseline=none&groupSize=&seed=0x10',
    );
    expect(config).toEqual(presetConfig('grpo'));
    expect(problems).toEqual([
      expect.stringMatching(/^task: "poetry" is not one of .*arithmetic.*; the default arithmetic is used\.$/),
      'detachEntropy: "yes" must be true or false; the default true is used.',
      'shape.bonus.window: 81 is out of range (must be null or an integer in [0, 80]); the default null is used.',
      'shape.bonus.window: "x" must be null or an integer in [0, 80]; the default null is used.',
      'shape.baseline: "none" is not one of include, exclude; the default include is used.',
      'groupSize: "" must be an integer in [2, 64]; the default 8 is used.',
      'seed: "0x10" must be an integer in [0, 2147483647]; the default 1 is used.',
    ]);
  });

  it('reads a link with fields in any order, and the page\'s own parameters without a problem', () => {
    expect(configFromSearch('seed=9&backend=webgpu&preset=aepo')).toEqual({ config: resolveConfig({ preset: 'aepo', seed: 9 }), problems: [] });
    expect(configFromSearch('?backend=webgpu')).toEqual({ config: presetConfig('tao-rl'), problems: [] });
    expect(hasConfigParams('?backend=webgpu')).toBe(false);
    expect(hasConfigParams('')).toBe(false);
    expect(hasConfigParams('?backend=webgpu&seed=2')).toBe(true);
  });
});
