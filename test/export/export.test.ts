// The verl and TRL exports against the engines' own key lists (kept in test/export/data/, each
// with the file and commit it was read from): every verl override names a key of the TAO-RL
// recipe's merged config, or carries `+` and names none; every TRL field is a GRPOConfig or
// TrainingArguments field. Each preset's method-carrying values were checked by hand against
// config.ts's PRESETS and docs/scale-out.md's mapping.

import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PRESET_NAMES, resolveConfig, type Config, type PresetName } from '../../src/core/config';
import { settings } from '../../src/core/settings';
import { counterpartValues } from '../../src/export/counterparts';
import { trlExport } from '../../src/export/trl';
import { hydraValue, verlExport } from '../../src/export/verl';

function keyList(name: string): Set<string> {
  const text = fs.readFileSync(new URL(`./data/${name}`, import.meta.url), 'utf8');
  return new Set(text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')));
}

const VERL_KEYS = keyList('verl-tao-rl-merged-config-keys.txt');
const TRL_FIELDS = new Set([...keyList('trl-grpo-config-fields.txt'), ...keyList('transformers-training-arguments-fields.txt')]);

/** The overrides of an export as key -> value text. */
function overrides(config: Config): Map<string, string> {
  const text = verlExport(config, 'test').files.find((file) => file.name === 'overrides.txt')!.text;
  return new Map(
    text
      .trimEnd()
      .split('\n')
      .map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at), line.slice(at + 1)] as [string, string];
      }),
  );
}

function trlFields(config: Config): Record<string, unknown> {
  return JSON.parse(trlExport(config, 'test').files.find((file) => file.name === 'grpo_config.json')!.text);
}

/** Configs that take every branch of the mapping: each preset, and the odd values. */
const CONFIGS: Config[] = [
  ...PRESET_NAMES.map((preset) => resolveConfig({ preset })),
  resolveConfig({ preset: 'tao-rl', evalEvery: 0, klCoef: 0.01, entropyCoef: 0.001, groupSize: 2, shape: { toolFailStrength: 0.5, baseline: 'exclude', stdNormalize: false, bonus: { window: 4, afterSuccessOnly: true } } }),
  resolveConfig({ preset: 'dapo', flakyProbability: 0.2, detachEntropy: false }),
];

describe('verl export', () => {
  it('writes only keys of the recipe merged config, and + only for keys it lacks', () => {
    expect(VERL_KEYS.size).toBeGreaterThan(200);
    for (const config of CONFIGS) {
      for (const key of overrides(config).keys()) {
        if (key.startsWith('+')) expect(VERL_KEYS.has(key.slice(1)), `${config.preset}: ${key} is in the merged config`).toBe(false);
        else expect(VERL_KEYS.has(key), `${config.preset}: ${key} is not in the merged config`).toBe(true);
      }
    }
  });

  it("names no key outside the recipe's config anywhere in the registry", () => {
    for (const setting of settings()) {
      if (!('keys' in setting.verl)) continue;
      for (const key of setting.verl.keys) expect(key.startsWith('+') ? !VERL_KEYS.has(key.slice(1)) : VERL_KEYS.has(key), `${setting.path}: ${key}`).toBe(true);
    }
  });

  it('carries the TAO-RL preset as checked by hand', () => {
    const o = overrides(resolveConfig({ preset: 'tao-rl', seed: 3, groupSize: 8 }));
    expect(Object.fromEntries(o)).toEqual({
      'algorithm.adv_estimator': 'grpo',
      '+data.seed': '3',
      '+actor_rollout_ref.rollout.seed': '3',
      'actor_rollout_ref.rollout.n': '8',
      'data.train_batch_size': '8',
      'actor_rollout_ref.actor.ppo_mini_batch_size': '8',
      'actor_rollout_ref.rollout.temperature': '1',
      'agent.max_turns': '6', // 5 calls and a turn to answer
      'trainer.oversample_multiplier': '2',
      'actor_rollout_ref.actor.optim.lr': '0.0003',
      '+actor_rollout_ref.actor.optim.weight_decay': '0',
      'actor_rollout_ref.actor.ppo_epochs': '1',
      'actor_rollout_ref.actor.clip_ratio_low': '0.2',
      'actor_rollout_ref.actor.clip_ratio_high': '0.28',
      'actor_rollout_ref.actor.clip_ratio_c': '3',
      'actor_rollout_ref.actor.entropy_coeff': '0',
      'actor_rollout_ref.actor.use_kl_loss': 'False',
      'actor_rollout_ref.actor.kl_loss_coef': '0',
      'actor_rollout_ref.actor.kl_loss_type': 'low_var_kl',
      'actor_rollout_ref.actor.grad_clip': '1',
      'trainer.rejection_sample': 'True',
      'trainer.exec_error_filter.enable': 'True',
      'trainer.exec_error_filter.scope': 'failed',
      'trainer.exec_error_filter.strength': '1',
      'actor_rollout_ref.actor.causal_entropy.enable': 'True',
      'actor_rollout_ref.actor.causal_entropy.use_aepo_shaping': 'True',
      'actor_rollout_ref.actor.causal_entropy.aepo_shaping_coeff': '0.01',
      'actor_rollout_ref.actor.causal_entropy.tool_aware_only': 'True',
      'trainer.test_freq': '10',
      'data.val_sample_size': '256',
      'actor_rollout_ref.rollout.val_kwargs.n': '4',
    });
  });

  // preset -> the values that carry the method, from config.ts's PRESETS by hand:
  // [rejection_sample, oversample, exec_error_filter.enable, causal_entropy.enable, tool_aware_only, train_batch_size, remove_clip]
  const METHOD: Record<PresetName, [string, string, string, string, string, string, string | undefined]> = {
    grpo: ['False', '1', 'False', 'False', 'True', '8', 'True'],
    'grpo-2x': ['False', '1', 'False', 'False', 'True', '16', 'True'],
    dapo: ['True', '2', 'False', 'False', 'True', '8', undefined],
    'entropy-adv': ['False', '1', 'False', 'False', 'False', '8', 'True'], // additive: not in the recipe, off
    aepo: ['False', '1', 'False', 'True', 'False', '8', 'True'],
    'tool-fail-filter': ['False', '1', 'True', 'False', 'True', '8', 'True'],
    'tao-filter': ['True', '2', 'True', 'False', 'True', '8', undefined],
    'tao-bonus': ['False', '1', 'False', 'True', 'True', '8', 'True'],
    'tao-rl': ['True', '2', 'True', 'True', 'True', '8', undefined],
  };

  it.each(PRESET_NAMES)('carries the method of preset %s', (preset) => {
    const o = overrides(resolveConfig({ preset }));
    const [rejection, oversample, execFilter, bonus, toolAware, batch, removeClip] = METHOD[preset];
    expect([
      o.get('trainer.rejection_sample'),
      o.get('trainer.oversample_multiplier'),
      o.get('trainer.exec_error_filter.enable'),
      o.get('actor_rollout_ref.actor.causal_entropy.enable'),
      o.get('actor_rollout_ref.actor.causal_entropy.tool_aware_only'),
      o.get('data.train_batch_size'),
      o.get('trainer.remove_clip'),
    ]).toEqual([rejection, oversample, execFilter, bonus, toolAware, batch, removeClip]);
    // With remove_clip on (the group filter off), min_n 1 keeps every group with a response under the limit.
    expect(o.get('actor_rollout_ref.rollout.min_n')).toBe(removeClip === undefined ? undefined : '1');
  });

  it('warns for each setting that does not arrive, naming it and why, and writes the warnings in the script header', () => {
    const dapo = verlExport(resolveConfig({ preset: 'dapo' }), 'test');
    expect(dapo.warnings.some((w) => w.startsWith('Batch fill (fill = "resample"): not exported:'))).toBe(true);
    const additive = verlExport(resolveConfig({ preset: 'entropy-adv' }), 'test');
    expect(additive.warnings.some((w) => w.startsWith('Bonus mode (shape.bonus.mode = "additive"):') && w.includes('turns the bonus off'))).toBe(true);
    expect(additive.warnings.some((w) => w.startsWith('Kappa (shape.bonus.kappa = 2): not exported'))).toBe(true);
    const odd = verlExport(CONFIGS[PRESET_NAMES.length], 'test');
    const names = odd.warnings.map((w) => w.slice(0, w.indexOf(':')));
    expect(names).toEqual(
      expect.arrayContaining([
        'Tool-fail strength (shape.toolFailStrength = 0.5)',
        'Baseline (shape.baseline = "exclude")',
        'Divide by group std (shape.stdNormalize = false)',
        'Post-tool window (shape.bonus.window = 4)',
        'After successful calls only (shape.bonus.afterSuccessOnly = true)',
        'Evaluate every (evalEvery = 0)',
      ]),
    );
    const script = odd.files.find((file) => file.name === 'run_verl.sh')!.text;
    expect(script).toContain('# - Tool-fail strength (shape.toolFailStrength = 0.5)');
    expect(script).toContain('min_n (4) drops every group'); // group size 2
    expect(verlExport(resolveConfig({ preset: 'grpo' }), 'test').files[1].text).toContain('expected_input_ids_size is unbound');
    expect(script).toContain('python3 -m recipe.tao_rl.main_tao_rl --config-name tao_rl_trainer');
    // The plain TAO-RL preset loses nothing of the method, only the model, the task, the tool and the detached entropy.
    expect(verlExport(resolveConfig({ preset: 'tao-rl' }), 'test').warnings.map((w) => w.slice(0, w.indexOf(' (')))).toEqual([
      'Model scale',
      'Task family',
      'Tool',
      'Detach entropy in the bonus',
    ]);
  });

  it('writes values as Hydra reads them', () => {
    expect([hydraValue(true), hydraValue(false), hydraValue(null), hydraValue(0.0003), hydraValue(1e-7), hydraValue('grpo')]).toEqual(['True', 'False', 'null', '0.0003', '1e-7', 'grpo']);
  });
});

describe('TRL export', () => {
  it('writes only GRPOConfig and TrainingArguments fields', () => {
    expect(TRL_FIELDS.has('entropy_coef')).toBe(true);
    for (const config of CONFIGS) {
      for (const field of Object.keys(trlFields(config))) expect(TRL_FIELDS.has(field), `${config.preset}: ${field}`).toBe(true);
    }
    for (const setting of settings()) {
      if ('keys' in setting.trl) for (const key of setting.trl.keys) expect(TRL_FIELDS.has(key), `${setting.path}: ${key}`).toBe(true);
    }
  });

  it('carries the TAO-RL preset as checked by hand, and lists the dual filter and the bonus as not exported', () => {
    const config = resolveConfig({ preset: 'tao-rl', seed: 3 });
    expect(trlFields(config)).toEqual({
      seed: 3,
      num_generations: 8,
      generation_batch_size: 64, // 8 prompts x 8
      temperature: 1,
      max_tool_calling_iterations: 5,
      learning_rate: 0.0003,
      num_iterations: 1,
      epsilon: 0.2,
      epsilon_high: 0.28,
      delta: 3,
      entropy_coef: 0,
      beta: 0,
      max_grad_norm: 1,
      scale_rewards: 'group',
      eval_strategy: 'steps',
      eval_steps: 10,
      num_generations_eval: 4,
      loss_type: 'dapo',
      per_device_train_batch_size: 64,
      gradient_accumulation_steps: 1,
      per_device_eval_batch_size: 4,
    });
    const { warnings, files } = trlExport(config, 'test');
    for (const path of ['shape.groupFilter', 'shape.toolFailFilter', 'shape.bonus.mode', 'shape.bonus.coef', 'shape.bonus.scope']) {
      expect(warnings.some((w) => w.includes(`(${path} = `)), path).toBe(true);
    }
    expect(files.find((file) => file.name === 'train_trl.py')!.text).toContain('GRPOConfig(output_dir=output_dir, **fields)');
  });

  it('maps Dr. GRPO to scale_rewards "none", no evaluation to eval_strategy "no", and warns for entropy_coef', () => {
    const odd = CONFIGS[PRESET_NAMES.length];
    const fields = trlFields(odd);
    expect(fields.scale_rewards).toBe('none');
    expect(fields.eval_strategy).toBe('no');
    expect('eval_steps' in fields).toBe(false);
    expect(fields.beta).toBe(0.01);
    expect(counterpartValues(odd, 'trl').warnings.some((w) => w.startsWith('Entropy regulariser (entropyCoef = 0.001): needs TRL 1.8'))).toBe(true);
    // GRPO loses nothing of its method in TRL but the model, the task, the tool, the held-out set and the dual clip's rule.
    expect(trlExport(resolveConfig({ preset: 'grpo' }), 'test').warnings.map((w) => w.slice(0, w.indexOf(' (')))).toEqual([
      'Model scale',
      'Task family',
      'Tool',
      'Dual clip',
      'Held-out prompts',
    ]);
  });
});
