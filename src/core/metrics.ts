// Every metric the workbench records, described once: a step report's metrics (the trainer, the
// dual filter's shaping, the update, timings, and the one the page's worker adds) and a held-out
// evaluation's. The charts, the command line's progress line and the experiment summary read
// their keys, labels and units from here, and a key outside this registry is a compile error.
//
// `verl` and `trl` name the same quantity in those engines, null where they log none. Sources read:
// the TAO-RL recipe and its copy of verl (WhyNot22222/TAO-RL at 7436ad1:
// recipe/tao_rl/tao_rl_ray_trainer.py, verl/trainer/ppo/metric_utils.py,
// verl/workers/actor/dp_actor.py), verl's DAPO recipe (train/num_gen_batches) and current
// ray_trainer (actor/entropy), and TRL's trl/trainer/grpo_trainer.py at f2cd577 (plus `loss` and
// `grad_norm`, which transformers' Trainer logs). Where the quantity is the same but measured
// over other trajectories or tokens, `note` says how; a `{name}` in a name is filled in by the
// engine (the data source, k).

import type { Evaluation } from './evaluate';

/** What a metric's number is measured in. */
export type MetricUnit =
  | 'fraction' // a share in [0, 1], read as a percentage
  | 'nats' // entropy or KL per token
  | 'advantage' // in units of the (std-normalised) advantage
  | 'loss' // the loss's own scale
  | 'norm' // an L2 norm of the gradient
  | 'tokens'
  | 'calls'
  | 'count'
  | 'seconds'
  | 'tokens/s'
  | 'dispatches/token';

/**
 * When a metric has a value: every step report; only after an update (absent on a step that
 * skipped it because no group survived the filter); only on WebGPU; only in the page (added by
 * the training worker, not by the trainer); or in a held-out evaluation.
 */
export type MetricPresence = 'step' | 'update' | 'webgpu' | 'worker' | 'evaluation';

export interface MetricSpec {
  /** The name a person reads, on its own (legend, glossary, picker); lower case, acronyms aside. */
  label: string;
  /** A few characters, for the command line's progress line. */
  short: string;
  unit: MetricUnit;
  /** One line: what the number is. */
  meaning: string;
  presence: MetricPresence;
  /** Key of the same quantity in verl's logs (the TAO-RL recipe's verl unless the note says otherwise). */
  verl: string | null;
  /** Key of the same quantity in TRL's GRPOTrainer logs. */
  trl: string | null;
  /** How the verl / TRL quantity differs, or where they log something close under another name. */
  note?: string;
}

type StepMetricSpec = MetricSpec & { presence: Exclude<MetricPresence, 'evaluation'> };

/** Numeric fields of an evaluation (parameters such as prompts and samples excluded); each has an entry. */
export type EvaluationField = Exclude<
  { [K in keyof Evaluation]-?: NonNullable<Evaluation[K]> extends number ? K : never }[keyof Evaluation],
  'prompts' | 'samples'
>;

type EvaluationMetricSpec = MetricSpec & { presence: 'evaluation'; field: EvaluationField };

/** A step report's metrics, in the order a list of them shows. */
export const STEP_METRICS = {
  // Reward and the dual filter (docs/algorithm.md §2), over every trajectory generated this step.
  'critic/score/mean': {
    label: 'training reward (accuracy)',
    short: 'reward',
    unit: 'fraction',
    meaning: 'Mean reward of the trajectories generated this step; rewards are 0 or 1, so it is the training accuracy.',
    presence: 'step',
    verl: 'critic/score/mean',
    trl: 'reward',
    note: 'verl averages over the batch it trains on (after its filter, duplicates included); TRL, like the workbench, over every generated trajectory. Called reward/mean in older run files.',
  },
  reward_std: {
    label: 'reward spread',
    short: 'reward sd',
    unit: 'fraction',
    meaning: 'Sample standard deviation of the rewards of every trajectory generated this step (over the batch, not per group).',
    presence: 'step',
    verl: null,
    trl: 'reward_std',
  },
  frac_reward_zero_std: {
    label: 'groups with one reward',
    short: 'zero-std',
    unit: 'fraction',
    meaning: 'Share of the generated groups whose trajectories all got the same reward (all right or all wrong): they carry no GRPO signal.',
    presence: 'step',
    verl: null,
    trl: 'frac_reward_zero_std',
    note: 'The TAO-RL recipe counts such groups instead, in batch/solve_all and batch/solve_none.',
  },
  'filter/kept_trajectories': {
    label: 'kept trajectories',
    short: 'kept',
    unit: 'fraction',
    meaning: 'Share of the generated trajectories the dual filter kept.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'filter/group_all_correct': {
    label: 'discarded: group all correct',
    short: 'all-correct',
    unit: 'fraction',
    meaning: 'Share of the generated trajectories dropped because every trajectory of their group was right.',
    presence: 'step',
    verl: null,
    trl: null,
    note: 'The TAO-RL recipe logs the number of such groups, batch/solve_all.',
  },
  'filter/group_all_wrong': {
    label: 'discarded: group all wrong',
    short: 'all-wrong',
    unit: 'fraction',
    meaning: 'Share of the generated trajectories dropped because every trajectory of their group was wrong.',
    presence: 'step',
    verl: null,
    trl: null,
    note: 'The TAO-RL recipe logs the number of such groups, batch/solve_none.',
  },
  'filter/all_tools_failed': {
    label: 'discarded: all tool calls failed',
    short: 'tools-failed',
    unit: 'fraction',
    meaning: 'Share of the generated trajectories marked by the tool-execution filter: they made calls, and every one failed.',
    presence: 'step',
    verl: null,
    trl: null,
  },

  // Tool use, over every trajectory generated this step.
  'tools/call_frequency': {
    label: 'tool calls per trajectory',
    short: 'calls/traj',
    unit: 'calls',
    meaning: 'Tool calls made per generated trajectory.',
    presence: 'step',
    verl: 'env/num_code_use',
    trl: 'tools/call_frequency',
    note: "Older run files call it tools/calls_per_trajectory, and their tools/call_frequency is tools/call_rate (renamed on import).",
  },
  'tools/call_rate': {
    label: 'trajectories with a tool call',
    short: 'calls',
    unit: 'fraction',
    meaning: 'Share of the generated trajectories that made at least one tool call.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'tools/failure_frequency': {
    label: 'tool calls failed',
    short: 'fail',
    unit: 'fraction',
    meaning: 'Failed tool calls over all tool calls made this step, whatever the cause.',
    presence: 'step',
    verl: null,
    trl: 'tools/failure_frequency',
  },
  'tools/failure_policy': {
    label: 'tool calls failed by the policy',
    short: 'fail-policy',
    unit: 'fraction',
    meaning: 'Calls the tool rejected (the policy wrote them wrong), over all tool calls made this step.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'tools/failure_environment': {
    label: 'tool calls failed by the environment',
    short: 'fail-env',
    unit: 'fraction',
    meaning: 'Calls that timed out (a flaky or cold tool), over all tool calls made this step.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'response_length/mean': {
    label: 'response length',
    short: 'length',
    unit: 'tokens',
    meaning: 'Tokens the policy sampled per generated trajectory (prompt and tool results not counted).',
    presence: 'step',
    verl: 'response_length/mean',
    trl: 'completions/mean_length',
    note: 'verl counts the tool-result tokens inside the response too, and averages over the batch it trains on.',
  },
  'response_length/clip_ratio': {
    label: 'trajectories cut at the length limit',
    short: 'truncated',
    unit: 'fraction',
    meaning: 'Share of the generated trajectories that ended because they reached the token limit, not by their end token or the tool-call limit.',
    presence: 'step',
    verl: 'response_length/clip_ratio',
    trl: 'completions/clipped_ratio',
    note: 'verl over the batch it trains on.',
  },

  // Entropy (nats per token).
  'entropy/mean': {
    label: 'entropy, all policy tokens',
    short: 'H',
    unit: 'nats',
    meaning: 'Mean entropy of the sampling distribution over every token the policy sampled this step.',
    presence: 'step',
    verl: null,
    trl: null,
    note: "verl's actor/entropy and TRL's entropy are taken over the trained tokens: entropy/trained_mean here.",
  },
  'entropy/post_tool_mean': {
    label: 'entropy, post-tool tokens',
    short: 'H_post',
    unit: 'nats',
    meaning: 'Mean sampling entropy over the policy tokens of the turns that follow a tool result, where TAO-RL puts its bonus.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'actor/entropy': {
    label: 'entropy, trained tokens',
    short: 'H_trained',
    unit: 'nats',
    meaning: 'Mean entropy under the policy being updated over the tokens the update trains on (loss-weighted), last PPO epoch.',
    presence: 'update',
    verl: 'actor/entropy',
    trl: 'entropy',
    note: "The TAO-RL recipe's verl logs it as actor/entropy_loss. Called entropy/trained_mean in older run files.",
  },

  // The bonus and the advantages (docs/algorithm.md §3 and §4), over the training batch.
  'bonus/mean': {
    label: 'entropy bonus, mean',
    short: 'bonus',
    unit: 'advantage',
    meaning: 'Mean of the shaped minus the plain advantage over the trained tokens: the bonus as it reaches the loss.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'bonus/abs_mean': {
    label: 'entropy bonus, mean size',
    short: '|bonus|',
    unit: 'advantage',
    meaning: 'Mean absolute bonus over the trained tokens.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'adv/group_sum_abs': {
    label: 'advantage sum per group',
    short: '|sum A|',
    unit: 'advantage',
    meaning: "Mean over groups of the absolute sum of each trajectory's mean shaped advantage: near 0 for plain GRPO; the additive bonus and dropped trajectories move it.",
    presence: 'step',
    verl: null,
    trl: null,
  },

  // The training batch (docs/algorithm.md §2.3).
  gen_batches: {
    label: 'generation batches',
    short: 'gen',
    unit: 'count',
    meaning: 'Batches of groups sampled this step: above 1 only when DAPO samples again to fill the batch.',
    presence: 'step',
    verl: 'train/num_gen_batches',
    trl: null,
    note: "In verl's DAPO recipe; the TAO-RL recipe samples once (its over-sampling is oversample_multiplier).",
  },
  'batch/groups': {
    label: 'groups trained on',
    short: 'groups',
    unit: 'count',
    meaning: 'Groups in the training batch, copies of a duplicated group counted.',
    presence: 'step',
    verl: null,
    trl: null,
    note: "The TAO-RL recipe's batch/effective_batch_size counts the distinct surviving groups: groups minus duplicated groups here.",
  },
  'batch/duplicated_groups': {
    label: 'duplicated groups',
    short: 'dup',
    unit: 'count',
    meaning: 'Extra copies of surviving groups that filled the training batch (the reference code fills it so).',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'batch/trajectories': {
    label: 'trajectories trained on',
    short: 'trained',
    unit: 'count',
    meaning: 'Trajectories in the training batch, copies included.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'batch/tokens': {
    label: 'tokens trained on',
    short: 'tokens',
    unit: 'tokens',
    meaning: 'Policy tokens with a non-zero loss weight in the training batch.',
    presence: 'update',
    verl: null,
    trl: null,
  },

  // The update (docs/algorithm.md §5), last PPO epoch.
  'loss/total': {
    label: 'total loss',
    short: 'loss',
    unit: 'loss',
    meaning: 'The loss minimised: policy loss, minus the entropy regulariser, plus the KL penalty.',
    presence: 'update',
    verl: null,
    trl: 'loss',
    note: 'verl logs the parts only (actor/pg_loss, actor/entropy_loss, actor/kl_loss).',
  },
  'loss/policy': {
    label: 'policy loss',
    short: 'pg_loss',
    unit: 'loss',
    meaning: 'The clipped surrogate, a token mean over the trained tokens.',
    presence: 'update',
    verl: 'actor/pg_loss',
    trl: 'policy_loss',
  },
  'actor/pg_clipfrac': {
    label: 'clip fraction',
    short: 'clipfrac',
    unit: 'fraction',
    meaning: 'Share of the trained tokens whose probability ratio the clip cut: above 1 + clip high with a positive advantage, below 1 - clip low with a negative one.',
    presence: 'update',
    verl: 'actor/pg_clipfrac',
    trl: 'clip_ratio/region_mean',
    note: 'Called pg_clipfrac in older run files.',
  },
  'clip_ratio/low_mean': {
    label: 'clipped below',
    short: 'clip low',
    unit: 'fraction',
    meaning: 'Share of the trained tokens with a negative advantage whose probability ratio fell below 1 - clip low.',
    presence: 'update',
    verl: null,
    trl: 'clip_ratio/low_mean',
  },
  'clip_ratio/high_mean': {
    label: 'clipped above',
    short: 'clip high',
    unit: 'fraction',
    meaning: 'Share of the trained tokens with a positive advantage whose probability ratio rose above 1 + clip high.',
    presence: 'update',
    verl: null,
    trl: 'clip_ratio/high_mean',
  },
  'actor/pg_clipfrac_lower': {
    label: 'dual-clipped',
    short: 'dual clip',
    unit: 'fraction',
    meaning: 'Share of the trained tokens with a negative advantage whose loss the dual clip bounded (probability ratio above c).',
    presence: 'update',
    verl: 'actor/pg_clipfrac_lower',
    trl: null,
    note: "TRL's delta clips the ratio of every token instead: a different rule, with no metric of its own.",
  },
  'actor/ppo_kl': {
    label: 'approximate KL, sampling to updated policy',
    short: 'ppo_kl',
    unit: 'nats',
    meaning: 'Mean over the trained tokens of the sampling minus the current log-probability: how far the update has moved the policy.',
    presence: 'update',
    verl: 'actor/ppo_kl',
    trl: null,
    note: 'Called approx_kl in older run files.',
  },
  'kl/reference': {
    label: 'KL to the starting policy',
    short: 'kl_ref',
    unit: 'nats',
    meaning: "k3 estimate of the KL to the starting weights over the trained tokens; reported even while the KL penalty's coefficient is 0.",
    presence: 'update',
    verl: 'actor/kl_loss',
    trl: 'kl',
    note: 'verl and TRL log it only while the penalty is on; verl uses k3 with kl_loss_type low_var_kl.',
  },
  grad_norm: {
    label: 'gradient norm',
    short: 'grad',
    unit: 'norm',
    meaning: 'Global L2 norm of the gradient before clipping.',
    presence: 'update',
    verl: 'actor/grad_norm',
    trl: 'grad_norm',
  },

  // Time and throughput.
  'time/rollout_s': {
    label: 'rollout time',
    short: 'rollout',
    unit: 'seconds',
    meaning: 'Seconds spent sampling trajectories, tool calls included.',
    presence: 'step',
    verl: 'timing_s/gen',
    trl: null,
  },
  'time/update_s': {
    label: 'update time',
    short: 'update',
    unit: 'seconds',
    meaning: 'Seconds spent on the policy update.',
    presence: 'step',
    verl: 'timing_s/update_actor',
    trl: null,
  },
  'time/step_s': {
    label: 'step time',
    short: 'step time',
    unit: 'seconds',
    meaning: 'Seconds for the whole step: sampling, shaping and update.',
    presence: 'step',
    verl: 'timing_s/step',
    trl: null,
  },
  'time/snapshot_s': {
    label: 'snapshot time',
    short: 'snapshot',
    unit: 'seconds',
    meaning: "Seconds to copy the weights after the step, so that the page can resume from any step it shows.",
    presence: 'worker',
    verl: null,
    trl: null,
  },
  'perf/sampled_tokens_per_s': {
    label: 'sampled tokens per second',
    short: 'sampled',
    unit: 'tokens/s',
    meaning: 'Policy tokens sampled per second of rollout time.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'perf/trained_tokens_per_s': {
    label: 'trained tokens per second',
    short: 'trained',
    unit: 'tokens/s',
    meaning: 'Trained tokens per second of update time; 0 on a step without an update.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'perf/dispatches_per_sampled_token': {
    label: 'GPU dispatches per sampled token',
    short: 'dispatches',
    unit: 'dispatches/token',
    meaning: 'GPU dispatches of the rollouts per sampled token: what the fused kernels save.',
    presence: 'webgpu',
    verl: null,
    trl: null,
  },
  'perf/readbacks_per_rollout': {
    label: 'readbacks per rollout',
    short: 'readbacks',
    unit: 'count',
    meaning: 'Reads from the backend to the CPU per rollout batch: one per decoding position on tfjs kernels, one per tool round on the fused WebGPU loop.',
    presence: 'step',
    verl: null,
    trl: null,
  },
  'perf/tool_rounds_per_rollout': {
    label: 'tool-call rounds per rollout',
    short: 'tool rounds',
    unit: 'count',
    meaning: 'Rounds of tool calls per rollout batch: the most calls one trajectory closed.',
    presence: 'step',
    verl: null,
    trl: null,
  },

  // Memory.
  'memory/tensors': {
    label: 'tensors held by the training worker',
    short: 'tensors',
    unit: 'count',
    meaning: 'Tensors (tfjs) alive in the training worker after the step and its weight snapshot: flat over a long run unless something leaks.',
    presence: 'worker',
    verl: null,
    trl: null,
  },
} satisfies Record<string, StepMetricSpec>;

/** A held-out evaluation's metrics; `field` is where an Evaluation holds the value. */
export const EVALUATION_METRICS = {
  'held_out/sampled_accuracy': {
    label: 'held-out sampled accuracy',
    short: 'acc',
    unit: 'fraction',
    meaning: 'Mean reward of k samples at temperature 1 on every held-out prompt (mean@k): the measure of progress.',
    presence: 'evaluation',
    field: 'sampledAccuracy',
    verl: 'val/test_score/{data_source}',
    trl: null,
    note: "The recipe's validation samples with its own val_kwargs (temperature, n).",
  },
  'held_out/pass_at_k': {
    label: 'held-out pass@k',
    short: 'pass@k',
    unit: 'fraction',
    meaning: 'Share of held-out prompts with at least one right answer among their k samples.',
    presence: 'evaluation',
    field: 'passAtK',
    verl: 'val/test_score/{data_source}_pass@{k}',
    trl: null,
  },
  'held_out/greedy_accuracy': {
    label: 'held-out greedy accuracy',
    short: 'greedy',
    unit: 'fraction',
    meaning: 'Accuracy of one greedy (most likely token) trajectory per held-out prompt; measured at the start and the end of a run.',
    presence: 'evaluation',
    field: 'greedyAccuracy',
    verl: null,
    trl: null,
  },
  'held_out/call_rate': {
    label: 'held-out trajectories with a tool call',
    short: 'calls',
    unit: 'fraction',
    meaning: 'Share of the sampled held-out trajectories that made at least one tool call.',
    presence: 'evaluation',
    field: 'callRate',
    verl: null,
    trl: null,
  },
  'held_out/call_failure_rate': {
    label: 'held-out tool calls failed',
    short: 'fail',
    unit: 'fraction',
    meaning: 'Failed calls over all calls of the sampled held-out trajectories.',
    presence: 'evaluation',
    field: 'callFailureRate',
    verl: null,
    trl: null,
  },
  'held_out/environment_failure_rate': {
    label: 'held-out tool calls failed by the environment',
    short: 'fail-env',
    unit: 'fraction',
    meaning: 'Calls of the sampled held-out trajectories that timed out, over all their calls.',
    presence: 'evaluation',
    field: 'environmentFailureRate',
    verl: null,
    trl: null,
  },
  'held_out/all_calls_failed_rate': {
    label: 'held-out trajectories whose calls all failed',
    short: 'all-failed',
    unit: 'fraction',
    meaning: 'Share of the sampled held-out trajectories that made calls, all of which failed.',
    presence: 'evaluation',
    field: 'allCallsFailedRate',
    verl: null,
    trl: null,
  },
  'held_out/mixed_groups': {
    label: 'held-out prompts with mixed answers',
    short: 'mixed',
    unit: 'fraction',
    meaning: 'Share of held-out prompts whose k samples are neither all right nor all wrong: where GRPO would learn.',
    presence: 'evaluation',
    field: 'mixedGroups',
    verl: null,
    trl: null,
  },
  'held_out/malformed_call_rate': {
    label: 'held-out malformed tool calls',
    short: 'malformed',
    unit: 'fraction',
    meaning: 'Calls of the sampled held-out trajectories whose expression the tool rejects, timed out or not, over all their calls.',
    presence: 'evaluation',
    field: 'malformedCallRate',
    verl: null,
    trl: null,
  },
  'held_out/first_post_tool_entropy': {
    label: 'held-out entropy, first post-tool token',
    short: 'H_first',
    unit: 'nats',
    meaning: 'Mean entropy of the first policy token after each tool result of the sampled held-out trajectories: where the next move is chosen.',
    presence: 'evaluation',
    field: 'firstPostToolEntropy',
    verl: null,
    trl: null,
  },
} satisfies Record<string, EvaluationMetricSpec>;

export type StepMetricKey = keyof typeof STEP_METRICS;
export type EvaluationMetricKey = keyof typeof EVALUATION_METRICS;
export type MetricKey = StepMetricKey | EvaluationMetricKey;

/** Metrics of one step report: absent where the step has none (see `presence`; older run files). */
export type StepMetrics = Partial<Record<StepMetricKey, number>>;

/**
 * Step metric names of run files written before the step report took verl's and TRL's names.
 * `tools/call_frequency` is among them: it meant the share of trajectories with a call, and now
 * means calls per trajectory, as in TRL.
 */
export const RENAMED_STEP_METRICS: Readonly<Record<string, StepMetricKey>> = {
  'reward/mean': 'critic/score/mean',
  'entropy/trained_mean': 'actor/entropy',
  pg_clipfrac: 'actor/pg_clipfrac',
  approx_kl: 'actor/ppo_kl',
  'tools/call_frequency': 'tools/call_rate',
  'tools/calls_per_trajectory': 'tools/call_frequency',
};

/** Keys only an older step report has: every such report carries at least one of them. */
const OLD_ONLY_KEYS = Object.keys(RENAMED_STEP_METRICS).filter((key) => key !== 'tools/call_frequency');

/**
 * A step report's metrics under today's names: an older report's are renamed (its
 * tools/call_frequency becomes tools/call_rate); a current one is returned as it is.
 */
export function currentStepMetrics(metrics: Record<string, number>): StepMetrics {
  if (!OLD_ONLY_KEYS.some((key) => Object.hasOwn(metrics, key))) return metrics as StepMetrics;
  const renamed: Record<string, number> = {};
  for (const [key, value] of Object.entries(metrics)) renamed[RENAMED_STEP_METRICS[key] ?? key] = value;
  return renamed as StepMetrics;
}

/** The metrics the update adds; a step that skipped it has none of them. */
export type UpdateMetricKey = {
  [K in StepMetricKey]: (typeof STEP_METRICS)[K]['presence'] extends 'update' ? K : never;
}[StepMetricKey];

/** What the update reports: the loss's parts, the gradient norm and the tokens trained on (last PPO epoch). */
export type UpdateMetrics = Record<UpdateMetricKey, number>;

/** Every metric, step metrics first, in the order a list of them shows. */
export const METRICS: Record<MetricKey, MetricSpec> = { ...STEP_METRICS, ...EVALUATION_METRICS };

export const METRIC_KEYS = Object.keys(METRICS) as MetricKey[];

export function isMetricKey(name: string): name is MetricKey {
  return Object.hasOwn(METRICS, name);
}

export function isEvaluationMetric(key: MetricKey): key is EvaluationMetricKey {
  return Object.hasOwn(EVALUATION_METRICS, key);
}

/** The value of an evaluation metric; null where the evaluation did not measure it. */
export function evaluationValue(evaluation: Evaluation, key: EvaluationMetricKey): number | null {
  return evaluation[EVALUATION_METRICS[key].field] ?? null;
}

/** Unit as written after a title, '' where the number needs none (a share is shown as a percentage). */
const UNIT_TEXT: Record<MetricUnit, string> = {
  fraction: '',
  nats: 'nats',
  advantage: '',
  loss: '',
  norm: '',
  tokens: 'tokens',
  calls: 'calls',
  count: '',
  seconds: 's',
  'tokens/s': 'tokens/s',
  'dispatches/token': 'dispatches/token',
};

/** A chart title: the label with a capital and its unit, e.g. "Entropy, post-tool tokens (nats)". */
export function metricTitle(key: MetricKey): string {
  const { label, unit } = METRICS[key];
  const title = label.charAt(0).toUpperCase() + label.slice(1);
  return UNIT_TEXT[unit] ? `${title} (${UNIT_TEXT[unit]})` : title;
}

/** A value as text with its unit: "42%", "1.23", "0.52 s", "5120 tokens/s"; "-" where there is none. */
export function formatMetric(key: MetricKey, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-';
  switch (METRICS[key].unit) {
    case 'fraction':
      return `${(100 * value).toFixed(0)}%`;
    case 'nats':
    case 'dispatches/token':
      return value.toFixed(2);
    case 'advantage':
    case 'loss':
    case 'norm':
      return value !== 0 && Math.abs(value) < 1e-3 ? value.toExponential(1) : value.toFixed(3);
    case 'tokens':
    case 'calls':
      return value.toFixed(1);
    case 'count':
      return Number.isInteger(value) ? String(value) : value.toFixed(2);
    case 'seconds':
      return `${value.toFixed(2)} s`;
    case 'tokens/s':
      return `${Math.round(value)} tokens/s`;
  }
}
