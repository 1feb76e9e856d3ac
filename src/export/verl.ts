// A run's config as the TAO-RL authors' verl recipe runs it: overrides.txt (one Hydra override a
// line, `+key` for keys the recipe's merged config lacks, as the setting registry spells them)
// and run_verl.sh, which runs `python3 -m recipe.tao_rl.main_tao_rl --config-name tao_rl_trainer`
// with them and says in its header what was not exported and which of the recipe's traps apply.
// Keys and traps checked against WhyNot22222/TAO-RL at 7436ad1 (docs/scale-out.md).

import type { Config } from '../core/config';
import type { SettingValue } from '../core/settings';
import { commentLines, counterpartValues, type EngineExport } from './counterparts';

export const VERL_ENTRY = 'python3 -m recipe.tao_rl.main_tao_rl --config-name tao_rl_trainer';

/** A value as a Hydra override writes it (the recipe's own scripts write booleans as True / False). */
export function hydraValue(value: SettingValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/** The overrides the method needs whatever the settings, with why. */
const METHOD_OVERRIDES: [string, SettingValue, string][] = [
  // ppo_trainer.yaml's default estimator is gae, which needs a critic; the recipe's train.sh sets grpo.
  ['algorithm.adv_estimator', 'grpo', 'group-relative advantages'],
];

/** The recipe's traps that apply to this config: the script header states them. */
export function recipeTraps(config: Config): string[] {
  const traps = [
    'SANDBOX_ENDPOINT must name the Python sandbox (sandbox/run.sh in the recipe starts one): the recipe uses sandbox.local_sandbox only when it is set, sandbox.internal_sandbox otherwise.',
    'actor_rollout_ref.actor.mask_void_turns is on: a turn with neither a code block nor \\boxed{} ends the trajectory and takes it out of the loss; the workbench trains on such trajectories.',
    "The recipe counts a call as valid only when it printed something: a call whose result is empty counts as failed there (valid_code 0), as it does not in the workbench's reading of a dump.",
    "The recipe's verl predates rollout dumps: trainer.rollout_data_dir (verl 0.4 and later) is not read there. To open a run in the workbench, run verl 0.4 or later with trainer.rollout_data_dir=DIR and npm run import-rollouts -- --from verl DIR.",
  ];
  if (!config.shape.groupFilter) {
    traps.push(
      'With trainer.rejection_sample and trainer.remove_clip both off the recipe crashes (expected_input_ids_size is unbound), so the export turns remove_clip on: responses cut at max_response_length then leave the loss, and a group keeps only with min_n (set to 1) responses under it.',
    );
  } else if (config.groupSize < 4) {
    traps.push('actor_rollout_ref.rollout.min_n (4) drops every group below 4 responses once trainer.remove_clip is on; keep remove_clip off (the yaml default) or lower min_n.');
  }
  if (config.shape.bonus.mode === 'multiplicative') {
    traps.push(
      "The recipe's bonus z-scores the entropy per micro-batch over its response tokens, not over the whole batch, and falls back to every token of a micro-batch that holds no post-tool token: expect curves close to, not equal to, the workbench's.",
    );
    if (config.shape.bonus.scope === 'post_tool') {
      traps.push('The recipe computes the post-tool mask before padding is removed; with padding it can be shifted by a few tokens.');
    }
    traps.push('actor_rollout_ref.actor.causal_entropy.use_trajectory_selection is on with trajectory_keep_ratio 1: every trajectory is selected, as in the workbench.');
  }
  return traps;
}

/** overrides.txt and run_verl.sh for a config; `name` says which run they came from. */
export function verlExport(config: Config, name: string): EngineExport {
  const { entries, warnings } = counterpartValues(config, 'verl');
  const overrides = new Map<string, SettingValue>(METHOD_OVERRIDES.map(([key, value]) => [key, value]));
  for (const [key, value] of entries) overrides.set(key, value);
  if (!config.shape.groupFilter) {
    overrides.set('trainer.remove_clip', true);
    overrides.set('actor_rollout_ref.rollout.min_n', 1);
    warnings.push(
      'Group filter (shape.groupFilter = false): the recipe crashes with trainer.rejection_sample and trainer.remove_clip both off, so the export sets trainer.remove_clip=True and actor_rollout_ref.rollout.min_n=1: responses cut at the length limit then leave the loss. verl\'s own trainer (python3 -m verl.trainer.main_ppo algorithm.adv_estimator=grpo) runs GRPO without the recipe.',
    );
  }
  const lines = [...overrides].map(([key, value]) => `${key}=${hydraValue(value)}`);
  const traps = recipeTraps(config);

  const script = [
    '#!/usr/bin/env bash',
    `# TAO-RL Workbench export to verl: the TAO-RL recipe (WhyNot22222/TAO-RL, checked at 7436ad1)`,
    `# with the settings of "${name}" (preset ${config.preset}, seed ${config.seed}).`,
    '# Run it from a checkout of that repository (the recipe and its copy of verl):',
    '#   SANDBOX_ENDPOINT=... MODEL_PATH=... TRAIN_FILES=... VAL_FILES=... bash run_verl.sh [more overrides]',
    '# The settings are in overrides.txt beside this script, one Hydra override a line; overrides',
    '# given after the script come last and win.',
    '#',
    '# Not exported, or not as it is (the workbench setting, and why):',
    ...(warnings.length > 0 ? commentLines(warnings) : ['#   nothing: every setting of this run has a key in the recipe']),
    '#',
    '# Traps of the recipe that apply to this run:',
    ...commentLines(traps),
    'set -euo pipefail',
    'here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
    ': "${SANDBOX_ENDPOINT:?set SANDBOX_ENDPOINT to the Python sandbox (the recipe reads it)}"',
    ': "${MODEL_PATH:?set MODEL_PATH to the model to train (a Hugging Face model folder)}"',
    ': "${TRAIN_FILES:?set TRAIN_FILES to the training parquet file(s), e.g. [\\"data/train.parquet\\"]}"',
    ': "${VAL_FILES:?set VAL_FILES to the validation parquet file(s)}"',
    'mapfile -t overrides < <(grep -v "^[[:space:]]*$" "$here/overrides.txt")',
    `exec ${VERL_ENTRY} "\${overrides[@]}" \\`,
    '  actor_rollout_ref.model.path="$MODEL_PATH" data.train_files="$TRAIN_FILES" data.val_files="$VAL_FILES" "$@"',
    '',
  ].join('\n');

  return {
    engine: 'verl',
    files: [
      { name: 'overrides.txt', text: `${lines.join('\n')}\n` },
      { name: 'run_verl.sh', text: script, executable: true },
    ],
    warnings,
    command: `${VERL_ENTRY} ${lines.join(' ')}`,
  };
}
