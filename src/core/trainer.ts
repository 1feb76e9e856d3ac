// One RL step: sample groups with tool calls, filter and shape them (TAO-RL), fill the batch,
// update the policy, and report everything that happened. Unaware of who is listening.

import * as tf from '@tensorflow/tfjs';
import type { Config } from './config';
import { ToolEnvironment, type ToolCallRecord } from './environment';
import { Adam, ADAM_DEFAULTS } from './model/adam';
import { clonePolicy, disposePolicy, namedWeights, type Policy } from './model/transformer';
import { startDispatchCounter } from './model/dispatchCounter';
import { fusedUpdateActive, prepareFusedUpdate } from './model/fusedUpdate';
import type { StepMetrics, UpdateMetrics } from './metrics';
import { Rng } from './rng';
import { stepSettingFields, type StepSettingField } from './settings';
import { sampleGroups, type FinishReason, type RolloutCounters, type Trajectory } from './rollout';
import { isBonusEligible } from './tao/bonus';
import { policyLoss, type LossBatch } from './tao/loss';
import { type BucketPlan, CPU_BUCKETS, lossBuckets, ONE_BUCKET } from './tao/lossBuckets';
import { shapeBatch } from './tao/shape';
import type { DiscardReason, ShapeResult, TokenKind } from './tao/types';
import { getTask, trainingItem, type TaskFamily } from './tasks';
import { decodeToken, PAD } from './tokenizer';

/** One trajectory as the step report shows it (columnar token arrays keep reports small). */
export interface TrajectoryReport {
  /** Group index inside this step's generated batch. */
  group: number;
  prompt: string;
  expected: string;
  answer: string | null;
  reward: number;
  finishReason: FinishReason;
  kept: boolean;
  reason: DiscardReason | null;
  /** Times this trajectory is in the training batch: 0 when discarded or not needed, 2+ when duplicated. */
  trainedCopies: number;
  /** GRPO advantage before shaping. */
  advantage: number;
  toolCalls: ToolCallRecord[];
  /** The transcript as runs of one token kind: prompt, the policy's text, each tool result. */
  segments: { kind: TokenKind; text: string }[];
  tokens: {
    text: string[];
    kind: TokenKind[];
    entropy: number[];
    logprob: number[];
    postTool: (0 | 1)[];
    lossWeight: number[];
    /** Shaped advantage used in the loss. */
    advantage: number[];
    bonus: number[];
  };
}

/**
 * The live settings a step ran with (so a change made while training shows where it took effect):
 * the registry's live fields that the step reads (settings.ts).
 */
export type StepSettings = Pick<Config, StepSettingField>;

export interface StepReport {
  step: number;
  preset: Config['preset'];
  seed: number;
  settings: StepSettings;
  /** No group survived the filter: no update was made. */
  skipped: boolean;
  metrics: StepMetrics;
  trajectories: TrajectoryReport[];
}

export class Trainer {
  readonly policy: Policy;
  private readonly task: TaskFamily;
  private readonly optimizer: Adam;
  private readonly reference: Policy;
  private readonly environment: ToolEnvironment;
  /** Steps completed. */
  step = 0;
  /**
   * GPU dispatches of the last step's update (forward, loss, backward and optimizer over every
   * PPO epoch), WebGPU only; null elsewhere or when the step made no update.
   */
  lastUpdateDispatches: number | null = null;
  /** The batches the last update ran its passes on: rows and positions of each bucket (lossBuckets.ts). */
  lastUpdateShapes: { rows: number; positions: number }[] = [];
  /** How the update splits its batch by length; null: by the backend (buckets on wasm and cpu only). */
  bucketPlan: BucketPlan | null = null;
  /** Called as a step makes progress (each decoding position, each PPO epoch): the page's worker says it is alive. */
  onProgress: (() => void) | null = null;

  constructor(
    public config: Config,
    policy: Policy,
  ) {
    this.policy = policy;
    this.task = getTask(config.task);
    this.optimizer = new Adam({ ...ADAM_DEFAULTS, learningRate: config.learningRate, gradClip: config.gradClip });
    // Always kept (a copy of the starting weights), so the KL penalty can be turned on mid-run.
    this.reference = clonePolicy(policy);
    this.environment = new ToolEnvironment(config.tool, config.flakyProbability, new Rng(config.seed).fork('environment'), this.task.coldCalls);
  }

  /** Apply live settings for the next step (learning rate, temperature, bonus, ...). */
  updateSettings(settings: Partial<StepSettings>): void {
    this.config = { ...this.config, ...settings };
    this.optimizer.options.learningRate = this.config.learningRate;
    this.optimizer.options.gradClip = this.config.gradClip;
    this.environment.flakyProbability = this.config.flakyProbability;
  }

  async runStep(): Promise<StepReport> {
    const config = this.config;
    const stepIndex = this.step + 1;
    const started = performance.now();

    // 1. Generate: over-sample when the group filter may drop groups; DAPO keeps generating.
    const generated: Trajectory[] = [];
    const survivors: number[] = []; // group ids that passed the group filter
    let generation: ShapeResult | null = null;
    let genBatches = 0;
    const promptRng = new Rng(config.seed).fork(`prompts:${stepIndex}`);
    const promptsPerBatch = config.promptsPerStep * (config.shape.groupFilter ? config.overSample : 1);
    const maxBatches = config.shape.groupFilter && config.fill === 'resample' ? config.maxGenBatches : 1;
    let rolloutMs = 0;
    // GPU dispatches of the rollouts (WebGPU only): what the fused kernels save.
    const dispatches = startDispatchCounter();
    const counters: RolloutCounters = { readbacks: 0, toolRounds: 0, roundsCutShort: 0 };
    try {
      while (genBatches < maxBatches && survivors.length < config.promptsPerStep) {
        const items = Array.from({ length: promptsPerBatch }, () => trainingItem(this.task, promptRng));
        const t0 = performance.now();
        const batch = await sampleGroups(this.policy, items, config.groupSize, {
          temperature: config.temperature,
          maxToolCalls: config.maxToolCalls,
          environment: this.environment,
          rng: new Rng(config.seed).fork(`sampling:${stepIndex}:${genBatches}`),
          onProgress: this.onProgress ?? undefined,
          counters,
        });
        rolloutMs += performance.now() - t0;
        const groupOffset = genBatches * promptsPerBatch;
        for (const trajectory of batch) generated.push({ ...trajectory, group: trajectory.group + groupOffset });
        genBatches += 1;
        generation = shapeBatch(generated, config.shape);
        survivors.length = 0;
        survivors.push(...survivingGroups(generated, generation));
      }
    } finally {
      dispatches?.stop();
    }

    // 2. Fill the batch: a random subset of survivors, or survivors duplicated (reference code).
    const batchRng = new Rng(config.seed).fork(`batch:${stepIndex}`);
    const chosenGroups = fillBatch(survivors, config.promptsPerStep, config.fill, config.shape.groupFilter, batchRng);
    const copies = new Map<number, number>();
    for (const group of chosenGroups) copies.set(group, (copies.get(group) ?? 0) + 1);

    // 3. Shape the training batch itself: duplicated groups become distinct groups, and the
    //    bonus's entropy statistics are those of the batch trained on.
    const byGroup = groupIndices(generated);
    const trainingSources = chosenGroups.flatMap((group) => byGroup.get(group)!); // indices into generated
    const trainingBatch = chosenGroups.flatMap((group, i) => byGroup.get(group)!.map((g) => ({ ...generated[g], group: i })));
    const training = shapeBatch(trainingBatch, config.shape);

    // 4. Update.
    // The fused update's probe runs before the update is timed and counted (once per backend and shape).
    if (trainingBatch.length > 0) await prepareFusedUpdate(this.policy.config);
    const t1 = performance.now();
    const updateDispatches = startDispatchCounter();
    let update: UpdateMetrics | null = null;
    try {
      update = trainingBatch.length > 0 ? await this.update(trainingBatch, training) : null;
    } finally {
      const counted = updateDispatches?.stop() ?? null;
      this.lastUpdateDispatches = update !== null ? counted : null;
    }
    const updateMs = performance.now() - t1;
    this.step = stepIndex;

    const reports = reportTrajectories(generated, generation!, copies, trainingSources, training);
    const sampledTokens = generated.reduce((n, t) => n + t.tokens.filter((k) => k.kind === 'policy').length, 0);
    const calls = generated.flatMap((t) => t.toolCalls);
    const metrics: StepMetrics = {
      ...generation!.metrics,
      'critic/score/mean': mean(generated.map((t) => t.reward)),
      reward_std: sampleStd(generated.map((t) => t.reward)),
      'tools/failure_policy': calls.filter((c) => !c.ok && c.cause === 'policy').length / Math.max(1, calls.length),
      'tools/failure_environment': calls.filter((c) => !c.ok && c.cause === 'environment').length / Math.max(1, calls.length),
      'response_length/mean': sampledTokens / Math.max(1, generated.length),
      'response_length/clip_ratio': generated.filter((t) => t.finishReason === 'length').length / Math.max(1, generated.length),
      gen_batches: genBatches,
      'batch/groups': chosenGroups.length,
      'batch/duplicated_groups': chosenGroups.length - copies.size,
      'batch/trajectories': trainingBatch.length,
      'bonus/mean': training.metrics['bonus/mean'],
      'bonus/abs_mean': training.metrics['bonus/abs_mean'],
      'adv/group_sum_abs': training.metrics['adv/group_sum_abs'],
      ...(update ?? {}),
      'time/rollout_s': rolloutMs / 1000,
      'time/update_s': updateMs / 1000,
      'time/step_s': (performance.now() - started) / 1000,
      'perf/sampled_tokens_per_s': sampledTokens / Math.max(1e-9, rolloutMs / 1000),
      'perf/trained_tokens_per_s': update ? update['batch/tokens'] / Math.max(1e-9, updateMs / 1000) : 0,
      ...(dispatches ? { 'perf/dispatches_per_sampled_token': dispatches.count / Math.max(1, sampledTokens) } : {}),
      'perf/readbacks_per_rollout': counters.readbacks / Math.max(1, genBatches),
      'perf/tool_rounds_per_rollout': counters.toolRounds / Math.max(1, genBatches),
    };
    return {
      step: stepIndex,
      preset: config.preset,
      seed: config.seed,
      settings: pickSettings(config),
      skipped: update === null,
      metrics,
      trajectories: reports,
    };
  }

  /** PPO epochs on the training batch; returns the loss metrics of the last epoch. */
  private async update(batch: Trajectory[], shaped: ShapeResult): Promise<UpdateMetrics | null> {
    const lossBatch = buildLossBatch(batch, shaped, this.config);
    this.lastUpdateShapes = [];
    if (lossBatch.lossWeight.every((w) => w === 0)) return null;
    const variables = new Map(namedWeights(this.policy.weights));
    const liveBonus =
      this.config.shape.bonus.mode === 'multiplicative' && !this.config.detachEntropy ? this.config.shape.bonus.coef : null;
    let lastEpoch: Omit<UpdateMetrics, 'batch/tokens'> | null = null;
    // The rows cut to their weighted positions and, on the CPU backends, in buckets by length
    // (lossBuckets.ts); the live bonus's entropy statistics need every row in one pass.
    const plan = liveBonus !== null ? ONE_BUCKET : (this.bucketPlan ?? (CPU_BACKENDS.has(tf.getBackend()) ? CPU_BUCKETS : ONE_BUCKET));
    const buckets = lossBuckets(lossBatch, plan);
    const weightTotal = buckets.length > 1 ? lossBatch.lossWeight.reduce((sum, w) => sum + w, 0) : undefined;
    this.lastUpdateShapes = buckets.map((bucket) => ({ rows: bucket.B, positions: bucket.T }));
    for (let epoch = 0; epoch < this.config.ppoEpochs; epoch++) {
      let sums: { readings: tf.Tensor1D; grads: tf.NamedTensorMap } | null = null;
      try {
        for (const bucket of buckets) {
          let readings: tf.Tensor1D | null = null; // read after the gradient pass: WebGPU has no sync read
          const { value, grads } = tf.variableGrads(() => {
            const lossParts = policyLoss(this.policy, bucket, {
              temperature: this.config.temperature,
              clipLow: this.config.clipLow,
              clipHigh: this.config.clipHigh,
              dualClip: this.config.dualClip,
              entropyCoef: this.config.entropyCoef,
              klCoef: this.config.klCoef,
              liveBonusCoef: liveBonus,
              reference: this.reference,
              weightTotal,
            });
            readings = tf.keep(
              tf.stack([
                lossParts.loss,
                lossParts.policyLoss,
                lossParts.clipFraction,
                lossParts.clipLowFraction,
                lossParts.clipHighFraction,
                lossParts.dualClipFraction,
                lossParts.approxKl,
                lossParts.entropyMean,
                lossParts.klToReference,
              ]) as tf.Tensor1D,
            );
            return lossParts.loss;
          }, [...variables.values()]);
          value.dispose();
          // Each bucket's means are over the whole batch's weight: the batch's are their sums.
          sums = sums === null ? { readings: readings!, grads } : addInto(sums, readings!, grads);
        }
      } catch (error) {
        // A bucket that failed (out of memory, say) leaves the sums of the ones before it.
        if (sums) tf.dispose([sums.readings, ...Object.values(sums.grads)]);
        throw error;
      }
      const { readings, grads } = sums!;
      const values = await readings.data();
      readings.dispose();
      const parts: Omit<UpdateMetrics, 'batch/tokens' | 'grad_norm'> = {
        'loss/total': values[0],
        'loss/policy': values[1],
        'actor/pg_clipfrac': values[2],
        'clip_ratio/low_mean': values[3],
        'clip_ratio/high_mean': values[4],
        'actor/pg_clipfrac_lower': values[5],
        'actor/ppo_kl': values[6],
        'actor/entropy': values[7],
        'kl/reference': values[8],
      };
      if (!Number.isFinite(parts['loss/total'])) {
        tf.dispose(grads);
        throw new NonFiniteLossError(`the loss became ${parts['loss/total']} at step ${this.step + 1}; weights were not updated`);
      }
      const byName: Record<string, tf.Tensor> = {};
      for (const [name, variable] of variables) byName[name] = grads[variable.name];
      const gradNorm = await this.optimizer.apply(variables, byName, fusedUpdateActive(this.policy.config));
      tf.dispose(grads);
      lastEpoch = { ...parts, grad_norm: gradNorm };
      this.onProgress?.();
    }
    return { ...lastEpoch!, 'batch/tokens': lossBatch.lossWeight.reduce((n, w) => n + (w > 0 ? 1 : 0), 0) };
  }

  dispose(): void {
    this.optimizer.dispose();
    disposePolicy(this.reference);
  }
}

export class NonFiniteLossError extends Error {}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Standard deviation with Bessel's correction, as TRL's reward_std; 0 for fewer than two values. */
function sampleStd(values: number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (values.length - 1));
}

function pickSettings(config: Config): StepSettings {
  return Object.fromEntries(stepSettingFields().map((field) => [field, structuredClone(config[field as keyof Config])])) as StepSettings;
}

/** The backends whose update splits the batch into buckets by length (lossBuckets.ts). */
const CPU_BACKENDS = new Set(['wasm', 'cpu']);

/** Adds one bucket's readings and gradients into the sums so far, disposing the parts added. */
function addInto(
  sums: { readings: tf.Tensor1D; grads: tf.NamedTensorMap },
  readings: tf.Tensor1D,
  grads: tf.NamedTensorMap,
): { readings: tf.Tensor1D; grads: tf.NamedTensorMap } {
  const added = { readings: tf.add(sums.readings, readings) as tf.Tensor1D, grads: {} as tf.NamedTensorMap };
  for (const name of Object.keys(grads)) added.grads[name] = tf.add(sums.grads[name], grads[name]);
  tf.dispose([sums.readings, readings, ...Object.values(sums.grads), ...Object.values(grads)]);
  return added;
}

/** Group id -> indices of its trajectories. */
function groupIndices(trajectories: Trajectory[]): Map<number, number[]> {
  const byGroup = new Map<number, number[]>();
  trajectories.forEach((t, i) => {
    if (!byGroup.has(t.group)) byGroup.set(t.group, []);
    byGroup.get(t.group)!.push(i);
  });
  return byGroup;
}

/** Groups the group filter kept (all groups when it is off), in generation order. */
function survivingGroups(trajectories: Trajectory[], shaped: ShapeResult): number[] {
  const dropped = new Set<number>();
  trajectories.forEach((t, i) => {
    const reason = shaped.trajectories[i].reason;
    if (reason === 'group_all_correct' || reason === 'group_all_wrong') dropped.add(t.group);
  });
  return [...new Set(trajectories.map((t) => t.group))].filter((g) => !dropped.has(g));
}

/**
 * Which groups the update trains on (docs/algorithm.md §2.3, batch filling): with the group
 * filter off, all; more survivors than needed, a random subset; fewer, survivors duplicated in
 * turn (reference code) or, for DAPO, what the extra generation batches found.
 */
export function fillBatch(
  survivors: number[],
  needed: number,
  fill: Config['fill'],
  groupFilter: boolean,
  rng: Rng,
): number[] {
  if (!groupFilter) return survivors;
  if (survivors.length === 0) return [];
  if (survivors.length >= needed) return rng.shuffle([...survivors]).slice(0, needed).sort((a, b) => a - b);
  if (fill === 'resample') return survivors;
  const order = rng.shuffle([...survivors]);
  const chosen = [...survivors];
  for (let i = 0; chosen.length < needed; i++) chosen.push(order[i % order.length]);
  return chosen;
}

/** Per-token arrays for the loss: position t of a row predicts token t + 1 of its trajectory. */
function buildLossBatch(batch: Trajectory[], shaped: ShapeResult, config: Config): LossBatch {
  const B = batch.length;
  const T = Math.max(...batch.map((t) => t.tokens.length)) - 1;
  const tokens = new Int32Array(B * (T + 1)).fill(PAD);
  const size = B * T;
  const oldLogprob = new Float32Array(size);
  const advantage = new Float32Array(size);
  const baseAdvantage = new Float32Array(size);
  const bonusEligible = new Float32Array(size);
  const lossWeight = new Float32Array(size);
  batch.forEach((trajectory, b) => {
    const shapedTrajectory = shaped.trajectories[b];
    trajectory.tokens.forEach((token, t) => {
      tokens[b * (T + 1) + t] = token.id;
      if (t === 0) return; // BOS is never predicted
      const shapedToken = shapedTrajectory.tokens[t];
      const at = b * T + t - 1;
      oldLogprob[at] = token.logprob;
      advantage[at] = shapedToken.advantage;
      baseAdvantage[at] = token.kind === 'policy' ? shapedTrajectory.advantage : 0;
      lossWeight[at] = token.kind === 'policy' ? shapedToken.lossWeight : 0;
      bonusEligible[at] = isBonusEligible(token.kind, shapedToken.lossWeight, shapedToken.postTool, config.shape.bonus.scope) ? 1 : 0;
    });
  });
  return { tokens, B, T, oldLogprob, advantage, baseAdvantage, bonusEligible, lossWeight };
}

/**
 * Reports for every generated trajectory. Those in the training batch show the shaping they were
 * trained with (first copy); the others show the generation batch's shaping, with weight 0.
 */
function reportTrajectories(
  generated: Trajectory[],
  generation: ShapeResult,
  copies: Map<number, number>,
  trainingSources: number[],
  training: ShapeResult,
): TrajectoryReport[] {
  const firstTrainingCopy = new Map<number, number>();
  trainingSources.forEach((source, i) => {
    if (!firstTrainingCopy.has(source)) firstTrainingCopy.set(source, i);
  });
  return generated.map((trajectory, i) => {
    const trainedCopies = copies.get(trajectory.group) ?? 0;
    const trainingAt = firstTrainingCopy.get(i);
    const shaped = trainingAt !== undefined ? training.trajectories[trainingAt] : generation.trajectories[i];
    const notTrained = trainedCopies === 0;
    return {
      group: trajectory.group,
      prompt: trajectory.item.prompt,
      expected: trajectory.item.answer,
      answer: trajectory.answer,
      reward: trajectory.reward,
      finishReason: trajectory.finishReason,
      kept: generation.trajectories[i].kept,
      reason: generation.trajectories[i].reason,
      trainedCopies,
      advantage: shaped.advantage,
      toolCalls: trajectory.toolCalls,
      segments: segmentsOf(trajectory),
      tokens: {
        text: trajectory.tokens.map((t) => decodeToken(t.id)),
        kind: trajectory.tokens.map((t) => t.kind),
        entropy: trajectory.tokens.map((t) => t.entropy),
        logprob: trajectory.tokens.map((t) => t.logprob),
        postTool: shaped.tokens.map((t) => t.postTool),
        lossWeight: shaped.tokens.map((t) => (notTrained ? 0 : t.lossWeight)),
        advantage: shaped.tokens.map((t) => t.advantage),
        bonus: shaped.tokens.map((t) => (notTrained ? 0 : t.bonus)),
      },
    };
  });
}

function segmentsOf(trajectory: Trajectory): { kind: TokenKind; text: string }[] {
  const segments: { kind: TokenKind; text: string }[] = [];
  for (const token of trajectory.tokens) {
    const last = segments.at(-1);
    if (last && last.kind === token.kind) last.text += decodeToken(token.id);
    else segments.push({ kind: token.kind, text: decodeToken(token.id) });
  }
  return segments;
}
