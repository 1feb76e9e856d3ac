// The run config: defaults, presets and validation (src/core/config.ts; docs/algorithm.md
// §5, §6 and §8).
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_PRESET,
  PRESET_NAMES,
  PRESETS,
  presetConfig,
  resolveConfig,
  type PresetName,
} from '../../src/core/config';

function configError(overrides: Record<string, unknown>): string {
  try {
    resolveConfig(overrides);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(overrides)} to be rejected`);
}

describe('defaults', () => {
  const config = resolveConfig();

  it('starts from the TAO-RL preset', () => {
    expect(DEFAULT_PRESET).toBe('tao-rl');
    expect(config.preset).toBe('tao-rl');
  });

  it('uses section 5 values for the loss and optimiser', () => {
    expect(config.clipLow).toBe(0.2);
    expect(config.clipHigh).toBe(0.28);
    expect(config.dualClip).toBe(3);
    expect(config.entropyCoef).toBe(0);
    expect(config.klCoef).toBe(0); // KL penalty off, as in the paper
    expect(config.gradClip).toBe(1);
    expect(config.ppoEpochs).toBe(1);
  });

  it('uses section 1 and 2 values for rollouts and batch filling', () => {
    expect(config.groupSize).toBe(8);
    expect(config.temperature).toBe(1);
    expect(config.maxToolCalls).toBe(5);
    expect(config.overSample).toBe(2);
    expect(config.fill).toBe('duplicate');
    expect(config.flakyProbability).toBe(0);
  });

  it('uses section 8 shaping defaults', () => {
    expect(config.shape).toEqual({
      groupFilter: true,
      toolFailFilter: true,
      toolFailStrength: 1,
      baseline: 'include',
      stdNormalize: true,
      bonus: { mode: 'multiplicative', coef: 0.01, kappa: 2, scope: 'post_tool', window: null, afterSuccessOnly: false },
    });
  });

  it('detaches the entropy in the bonus by default', () => {
    expect(config.detachEntropy).toBe(true);
  });
});

describe('presets (docs/algorithm.md §6)', () => {
  // | preset | group filter | tool-fail filter | bonus | scope |
  // | GRPO | off | off | off | - |
  // | GRPO, 2x prompts | off | off | off | - |
  // | DAPO | on (fill by resampling) | off | off | - |
  // | Entropy-advantage (Cheng) | off | off | additive clipped | all tokens |
  // | AEPO-style | off | off | multiplicative | all tokens |
  // | Tool-fail filter only | off | on | off | - |
  // | TAO-RL filter only | on | on | off | - |
  // | TAO-RL bonus only | off | off | multiplicative | post-tool |
  // | TAO-RL | on | on | multiplicative | post-tool |
  const table: [PresetName, string, boolean, boolean, 'off' | 'additive' | 'multiplicative', 'all' | 'post_tool' | null][] = [
    ['grpo', 'GRPO', false, false, 'off', null],
    ['grpo-2x', 'GRPO, 2x prompts', false, false, 'off', null],
    ['dapo', 'DAPO', true, false, 'off', null],
    ['entropy-adv', 'Entropy-advantage (Cheng)', false, false, 'additive', 'all'],
    ['aepo', 'AEPO-style', false, false, 'multiplicative', 'all'],
    ['tool-fail-filter', 'Tool-fail filter only', false, true, 'off', null],
    ['tao-filter', 'TAO-RL filter only', true, true, 'off', null],
    ['tao-bonus', 'TAO-RL bonus only', false, false, 'multiplicative', 'post_tool'],
    ['tao-rl', 'TAO-RL', true, true, 'multiplicative', 'post_tool'],
  ];

  it('lists exactly the nine presets of the table', () => {
    expect([...PRESET_NAMES].sort()).toEqual(table.map((row) => row[0]).sort());
  });

  for (const [name, label, groupFilter, toolFailFilter, mode, scope] of table) {
    it(`${label}: group filter ${groupFilter ? 'on' : 'off'}, tool-fail filter ${toolFailFilter ? 'on' : 'off'}, bonus ${mode}${scope ? `, scope ${scope}` : ''}`, () => {
      const config = resolveConfig({ preset: name });
      expect(config.preset).toBe(name);
      expect(PRESETS[name].label).toBe(label);
      expect(config.shape.groupFilter).toBe(groupFilter);
      expect(config.shape.toolFailFilter).toBe(toolFailFilter);
      expect(config.shape.bonus.mode).toBe(mode);
      if (scope) expect(config.shape.bonus.scope).toBe(scope);
      // everything not in the table keeps the defaults
      expect(config.shape.toolFailStrength).toBe(1);
      expect(config.shape.baseline).toBe('include');
      expect(config.shape.stdNormalize).toBe(true);
      expect(config.clipHigh).toBe(0.28);
      expect(presetConfig(name)).toEqual(config);
    });
  }

  it('DAPO fills by resampling, the others by duplicating', () => {
    for (const name of PRESET_NAMES) expect(resolveConfig({ preset: name }).fill).toBe(name === 'dapo' ? 'resample' : 'duplicate');
  });

  it('Cheng uses alpha 0.4; the multiplicative presets the reference a = 0.01', () => {
    expect(resolveConfig({ preset: 'entropy-adv' }).shape.bonus.coef).toBe(0.4);
    expect(resolveConfig({ preset: 'aepo' }).shape.bonus.coef).toBe(0.01);
    expect(resolveConfig({ preset: 'tao-bonus' }).shape.bonus.coef).toBe(0.01);
  });

  it('hands out copies: changing one config does not change the preset', () => {
    const a = presetConfig('tao-rl');
    a.shape.bonus.coef = 5;
    expect(presetConfig('tao-rl').shape.bonus.coef).toBe(0.01);
    expect(PRESETS['tao-rl'].shape.bonus.coef).toBe(0.01);
  });
});

describe('resolveConfig errors name the field, the value and the allowed range', () => {
  it('NaN learning rate', () => {
    const message = configError({ learningRate: Number.NaN });
    expect(message).toContain('learningRate');
    expect(message).toContain('NaN');
    expect(message).toContain('(0, 0.1]');
  });

  it('negative learning rate', () => {
    const message = configError({ learningRate: -0.001 });
    expect(message).toContain('learningRate');
    expect(message).toContain('-0.001');
    expect(message).toContain('(0, 0.1]');
  });

  it('groupSize 1', () => {
    const message = configError({ groupSize: 1 });
    expect(message).toContain('groupSize');
    expect(message).toContain('1');
    expect(message).toContain('[2, 64]');
  });

  it('bonus coef -1', () => {
    const message = configError({ shape: { bonus: { coef: -1 } } });
    expect(message).toContain('shape.bonus.coef');
    expect(message).toContain('-1');
    expect(message).toMatch(/>= 0|\[0, 10\]/);
  });

  it('unknown preset', () => {
    const message = configError({ preset: 'ppo' });
    expect(message).toContain('preset');
    expect(message).toContain('ppo');
    for (const name of PRESET_NAMES) expect(message).toContain(name);
  });

  it('unknown field', () => {
    const message = configError({ learningrate: 0.001 });
    expect(message).toContain('learningrate');
    expect(message).toContain('0.001');
    expect(message).toContain('learningRate'); // the known fields are listed
  });

  it('toolFailStrength 2', () => {
    const message = configError({ shape: { toolFailStrength: 2 } });
    expect(message).toContain('shape.toolFailStrength');
    expect(message).toContain('2');
    expect(message).toContain('[0, 1]');
  });

  it('window 1.5', () => {
    const message = configError({ shape: { bonus: { window: 1.5 } } });
    expect(message).toContain('shape.bonus.window');
    expect(message).toContain('1.5');
    expect(message).toMatch(/integer/);
  });

  it('kappa 0', () => {
    const message = configError({ shape: { bonus: { kappa: 0 } } });
    expect(message).toContain('shape.bonus.kappa');
    expect(message).toContain('0');
    expect(message).toMatch(/> 0|\(0, 100\]/);
  });

  it('also: a coef above the workbench bound, a string where a number belongs, an unknown bonus key', () => {
    expect(configError({ shape: { bonus: { coef: 11 } } })).toMatch(/shape\.bonus\.coef.*11.*\[0, 10\]/);
    expect(configError({ groupSize: '8' })).toMatch(/groupSize.*"8"/);
    expect(configError({ shape: { bonus: { strength: 1 } } })).toContain('shape.bonus.strength');
    expect(configError({ temperature: 0 })).toMatch(/temperature.*0.*\(0, 4\]/);
  });
});

describe('wrong types in shape', () => {
  it('rejects shape null', () => {
    expect(configError({ shape: null })).toContain('shape');
  });

  // BUG (src/core/config.ts, resolveShape): `givenBonus ?? presetShape.bonus` turns an explicit
  // `bonus: null` into the preset's bonus, so a value of the wrong type is accepted silently
  // (docs/algorithm.md §8.7: a value of the wrong type is rejected with a named error).
  // parseShapeConfig alone rejects it ("shape.bonus: null is not an object").
  it('rejects shape.bonus null (wrong type) instead of reading it as absent', () => {
    expect(configError({ shape: { bonus: null } })).toContain('shape.bonus');
  });
});

describe('overrides', () => {
  it('override plain fields and keep the rest of the preset', () => {
    const config = resolveConfig({ preset: 'grpo', learningRate: 1e-4, groupSize: 16 });
    expect(config.learningRate).toBe(1e-4);
    expect(config.groupSize).toBe(16);
    expect(config.shape.groupFilter).toBe(false);
  });

  it('merge shape.bonus field by field over the preset bonus', () => {
    // Cheng preset: additive, coef .4, scope all; override only coef and window
    const config = resolveConfig({ preset: 'entropy-adv', shape: { bonus: { coef: 0.2, window: 3 } } });
    expect(config.shape.bonus).toEqual({
      mode: 'additive',
      coef: 0.2,
      kappa: 2,
      scope: 'all',
      window: 3,
      afterSuccessOnly: false,
    });
    // and other shape fields over the preset shape
    const filtered = resolveConfig({ preset: 'tao-rl', shape: { toolFailStrength: 0.5 } });
    expect(filtered.shape.toolFailStrength).toBe(0.5);
    expect(filtered.shape.bonus.mode).toBe('multiplicative');
    expect(filtered.shape.groupFilter).toBe(true);
  });
});
