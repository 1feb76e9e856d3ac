// A run's config for TRL's GRPOTrainer: grpo_config.json (GRPOConfig keyword arguments, fields of
// GRPOConfig or TrainingArguments only, as the setting registry names them) and train_trl.py,
// which builds a GRPOConfig from it. The dual filter and the post-tool bonus have no GRPOTrainer
// counterpart: the script lists them as not exported rather than guess at a subclass.
// Fields checked against huggingface/trl at f2cd577 (docs/scale-out.md).

import type { Config } from '../core/config';
import type { SettingValue } from '../core/settings';
import { commentLines, counterpartValues, type EngineExport } from './counterparts';

/**
 * Fields the method needs whatever the settings: the token mean over the batch (the workbench's
 * loss, DAPO's), and one optimiser step per generation batch on one process, as the workbench
 * updates once per batch (PPO epochs aside).
 */
function methodFields(config: Config): [string, SettingValue][] {
  const completions = config.promptsPerStep * config.groupSize;
  return [
    ['loss_type', 'dapo'],
    ['per_device_train_batch_size', completions],
    ['gradient_accumulation_steps', 1],
    // GRPOConfig wants the evaluation batch divisible by the evaluation samples per prompt.
    ['per_device_eval_batch_size', config.evalSamples],
  ];
}

export function trlExport(config: Config, name: string): EngineExport {
  const { entries, warnings } = counterpartValues(config, 'trl');
  const fields: Record<string, SettingValue> = {};
  for (const [key, value] of [...entries, ...methodFields(config)]) if (value !== null) fields[key] = value;
  const json = `${JSON.stringify(fields, null, 2)}\n`;

  const script = [
    '# TAO-RL Workbench export to TRL: a GRPOConfig with the settings of',
    `# "${name}" (preset ${config.preset}, seed ${config.seed}), from grpo_config.json beside this file.`,
    '# Fields checked against TRL at f2cd577 (v1.9 and later; entropy_coef needs v1.8).',
    '#   python3 train_trl.py MODEL DATASET [OUTPUT_DIR]',
    '# DATASET is a Hugging Face dataset with a "prompt" column (and a "test" split for the held-out',
    '# evaluations); the reward function below is a stub',
    '# to replace with the task\'s own check. For more than one process, divide',
    '# per_device_train_batch_size by the number of processes.',
    '#',
    '# Not exported, or not as it is (the workbench setting, and why):',
    ...(warnings.length > 0 ? commentLines(warnings) : ['#   nothing: every setting of this run has a GRPOConfig field']),
    '',
    'import json',
    'import sys',
    'from pathlib import Path',
    '',
    'from datasets import load_dataset',
    'from trl import GRPOConfig, GRPOTrainer',
    '',
    '',
    'def reward(completions, **kwargs):',
    '    """1 for a right answer, 0 otherwise: replace with the task\'s check."""',
    '    raise NotImplementedError("write the reward function of your task")',
    '',
    '',
    'def main():',
    '    if len(sys.argv) < 3:',
    '        sys.exit("usage: python3 train_trl.py MODEL DATASET [OUTPUT_DIR]")',
    '    model, dataset = sys.argv[1], sys.argv[2]',
    '    output_dir = sys.argv[3] if len(sys.argv) > 3 else "trl-output"',
    '    fields = json.loads((Path(__file__).parent / "grpo_config.json").read_text())',
    '    config = GRPOConfig(output_dir=output_dir, **fields)',
    '    # Held-out evaluations (eval_strategy "steps") need the dataset\'s test split.',
    '    evaluating = config.eval_strategy != "no"',
    '    eval_dataset = load_dataset(dataset, split="test") if evaluating else None',
    '    train_dataset = load_dataset(dataset, split="train")',
    '    trainer = GRPOTrainer(model=model, reward_funcs=reward, args=config, train_dataset=train_dataset, eval_dataset=eval_dataset)',
    '    trainer.train()',
    '',
    '',
    'if __name__ == "__main__":',
    '    main()',
    '',
  ].join('\n');

  const args = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? JSON.stringify(value) : value === true ? 'True' : value === false ? 'False' : value}`)
    .join(', ');
  return {
    engine: 'trl',
    files: [
      { name: 'grpo_config.json', text: json },
      { name: 'train_trl.py', text: script },
    ],
    warnings,
    command: `GRPOConfig(${args})`,
  };
}
