// The measurements of `npm run bench`, shared by Node (src/cli/bench.ts) and headless Chromium
// (bench.html, src/bench/page.ts): sampled tokens/s with and without the key/value cache, tfjs
// kernels and GPU dispatches per decoding position, per layer and per sampled token, training
// tokens/s, the time of a full RL step and a tensor-leak check; and the markdown table.

import * as tf from '@tensorflow/tfjs';
import { resolveConfig, type Config } from '../core/config';
import { ToolEnvironment } from '../core/environment';
import type { StepMetricKey } from '../core/metrics';
import { MODEL_SCALES, parameterCount, type ModelScale } from '../core/model/config';
import { startDispatchCounter } from '../core/model/dispatchCounter';
import { chooseKernelPath, FusedDecoder, setKernelPreference } from '../core/model/fusedDecoder';
import { decodeStep, disposeCache, disposePolicy, emptyCache, type Policy } from '../core/model/transformer';
import { Rng } from '../core/rng';
import { type RolloutCounters, sampleGroups, type Trajectory } from '../core/rollout';
import { getTask, trainingItem, type TaskItem } from '../core/tasks';
import { Trainer, type StepReport } from '../core/trainer';
import { BOS } from '../core/tokenizer';

/** Backends a column can run on: tfjs in Node (cpu, wasm, webgpu through Dawn), or webgpu inside headless Chromium. */
export type BenchBackend = 'cpu' | 'wasm' | 'webgpu' | 'chromium';
export const BENCH_BACKENDS: readonly BenchBackend[] = ['cpu', 'wasm', 'webgpu', 'chromium'];

let reportProgress: (label: string, message: string) => void = () => {};

/** Where progress lines go (stderr in Node, the console in the page). */
export function setProgressReporter(report: (label: string, message: string) => void): void {
  reportProgress = report;
}

function progress(label: string, message: string): void {
  reportProgress(label, message);
}

export function columnLabel(scale: ModelScale, backend: BenchBackend, kernels: KernelPath): string {
  return `${scale} ${backend}${backend === 'webgpu' || backend === 'chromium' ? ` ${kernels}` : ''}`;
}

/** Decoding paths: tfjs's own ops everywhere, the fused WGSL kernels on webgpu only. */
export type KernelPath = 'stock' | 'fused';
export const KERNEL_PATHS: readonly KernelPath[] = ['stock', 'fused'];

/** Per-backend defaults, sized for the tiny scale on a 2-core machine. */
export interface BackendPlan {
  /** Prompts of the cache-only sampling batch (each sampled `group` times). */
  prompts: number;
  /** Prompts of the smaller batch sampled both with and without the cache (the ratio). */
  ratioPrompts: number;
  /** Training steps of the leak check and the training throughput. */
  steps: number;
  /** Prompts (groups) per training step, the config's promptsPerStep (tao-rl generates twice as many). */
  trainPrompts: number;
  /**
   * Timed runs of each sampling batch after its warm-up; the fastest is kept (the least
   * disturbed by the rest of the machine; the PyTorch peer times its sampling the same way).
   */
  samplingRepeats: number;
}

export const DEFAULT_PLANS: Record<BenchBackend, BackendPlan> = {
  cpu: { prompts: 8, ratioPrompts: 2, steps: 5, trainPrompts: 2, samplingRepeats: 1 },
  // A wasm sampling batch takes about 0.1 s and varies by a third from run to run: five timed runs.
  wasm: { prompts: 8, ratioPrompts: 8, steps: 20, trainPrompts: 8, samplingRepeats: 5 },
  // SwiftShader runs matmuls and reductions ~100x slower than wasm: the smallest useful sizes.
  webgpu: { prompts: 1, ratioPrompts: 1, steps: 2, trainPrompts: 1, samplingRepeats: 1 },
  chromium: { prompts: 1, ratioPrompts: 1, steps: 2, trainPrompts: 1, samplingRepeats: 1 },
};

export const DEFAULT_GROUP = 8;
export const TEMPERATURE = 1;
export const MAX_TOOL_CALLS = 5;

export interface SamplingRun {
  prompts: number;
  group: number;
  rows: number;
  /** Tokens the policy sampled (kind 'policy'). */
  sampledTokens: number;
  /** Decoding positions (one batched forward each). */
  positions: number;
  /** Positions each row was decoded for (its tokens - 1): tfjs's loop drops a row from the batch when it ends. */
  rowPositions: number[];
  /** The fastest of the plan's `samplingRepeats` timed runs, after an identical warm-up run. */
  seconds: number;
  /** Every timed run's seconds, in order. */
  runSeconds: number[];
  /** The warm-up run (shader compilation on WebGPU, JIT on cpu). */
  warmupSeconds: number;
  tokensPerSecond: number;
  /** Reads from the backend to the CPU in the timed run (rollout.ts RolloutCounters). */
  readbacks: number;
  /** Tool-call rounds of the timed run: the most calls one trajectory closed. */
  toolRounds: number;
  /** WebGPU only: the GPU dispatches the timed run recorded. */
  gpuDispatches?: number;
}

export interface BackendResult {
  backend: BenchBackend;
  /** The decoding path measured (always stock off webgpu). */
  path: KernelPath;
  /** Why this backend was not measured. */
  skipped?: string;
  device?: string;
  policy?: string;
  plan?: BackendPlan & { group: number };
  sampling?: {
    cache: SamplingRun;
    /** Stock path only (without the cache every path runs tfjs's ops). */
    ratio: {
      cache: SamplingRun;
      noCache: SamplingRun;
      /** Tokens/s with the cache over tokens/s without it, same batch and seed. */
      speedup: number;
      /** Trajectories whose tokens differ between the two paths (float rounding can flip a draw). */
      differingTrajectories: number;
    } | null;
    /**
     * Fused path only: its cache run against the stock path's on the same backend, batch and seed
     * (measured just before it): the same uniforms drive both, so the tokens should match and the
     * log-probs and entropies agree to float rounding.
     */
    agreement?: Agreement;
  };
  kernels?: {
    /** Rows of the profiled decodeStep (= the cache batch). */
    batchRows: number;
    /** tfjs kernels run by one decodeStep for the whole batch (stock path; the fused one runs none through tfjs's registry). */
    perPosition?: number;
    /** perPosition / batchRows: as if every row sampled at every position. */
    perRow?: number;
    /** perPosition x positions / sampled tokens in the cache run: forced tokens cost positions too. */
    perSampledToken?: number;
    /** Kernels of a decodeStep with no blocks (embedding and head only). */
    embeddingAndHead?: number;
    /** (perPosition - embeddingAndHead) / layers: exact, the blocks are identical. */
    perLayer?: number;
    /** WebGPU only: compute dispatches recorded for one decoding position (views and CPU-side kernels dispatch nothing). */
    gpuDispatches?: number;
    /** WebGPU only: (gpuDispatches - those of the same step with no blocks) / layers. */
    gpuDispatchesPerLayer?: number;
    /** WebGPU only: gpuDispatches x positions / sampled tokens in the cache run. */
    gpuDispatchesPerSampledToken?: number;
  };
  training?: {
    preset: Config['preset'];
    steps: number;
    /** The config's promptsPerStep and groupSize. */
    promptsPerStep: number;
    groupSize: number;
    /** Trajectories sampled per step, on average (tao-rl over-samples prompts for its group filter). */
    sampledRowsPerStep: number;
    /** Steps where no group survived the filter (no update). */
    skippedSteps: number;
    /** Steps the throughput averages over (step 1 is a warm-up when there are more). */
    measuredSteps: number;
    trainedTokensPerSecond: number;
    /** The measured steps' updates: rows and positions of the batch trained, its trained tokens and seconds (the PyTorch peer repeats them). */
    updates: { rows: number; positions: number; trainedTokens: number; seconds: number; buckets: { rows: number; positions: number }[] }[];
    sampledTokensPerSecond: number;
    stepSeconds: number;
    rolloutSeconds: number;
    updateSeconds: number;
    tensorsAfterFirstStep: number;
    tensorsAfterLastStep: number;
    leak: boolean;
    /**
     * WebGPU only: GPU dispatches of one RL-step update (forward, loss, backward and optimizer;
     * Trainer.lastUpdateDispatches) on the last step that made one.
     */
    updateDispatches?: number;
    /** Tensors left once the trainer and the policy are disposed, minus those before the policy. */
    leftAfterDispose: number;
    /**
     * Fused path only: its first step against the stock path's (same backend, checkpoint, seed
     * and config): whether the step's trajectories match, and the largest absolute difference of
     * its loss, gradient norm, trained entropy and approximate KL (AGREEMENT_METRICS).
     */
    agreement?: { sameTrajectories: boolean; maxMetricDiff: number };
  };
  seconds: number;
}

/** How two sampling runs of the same batch and seed agree. */
export interface Agreement {
  rows: number;
  /** Trajectories whose token ids differ anywhere. */
  differingTrajectories: number;
  /** Largest |difference| of a policy token's log-prob / entropy, over the positions before a trajectory's first differing token. */
  maxLogprobDiff: number;
  maxEntropyDiff: number;
}

/** Compares two runs of the same prompts, seed and environment, trajectory by trajectory. */
export function agreementOf(a: Trajectory[], b: Trajectory[]): Agreement {
  const agreement: Agreement = { rows: a.length, differingTrajectories: 0, maxLogprobDiff: 0, maxEntropyDiff: 0 };
  a.forEach((trajectory, i) => {
    const other = b[i]?.tokens ?? [];
    let differs = trajectory.tokens.length !== other.length;
    for (let j = 0; j < Math.min(trajectory.tokens.length, other.length); j++) {
      const [x, y] = [trajectory.tokens[j], other[j]];
      if (x.id !== y.id) {
        differs = true;
        break;
      }
      agreement.maxLogprobDiff = Math.max(agreement.maxLogprobDiff, Math.abs(x.logprob - y.logprob));
      agreement.maxEntropyDiff = Math.max(agreement.maxEntropyDiff, Math.abs(x.entropy - y.entropy));
    }
    if (differs) agreement.differingTrajectories += 1;
  });
  return agreement;
}

/**
 * The stock path's cache run, kept for the fused column measured next on the same backend,
 * scale, seed and batch (both the Node bench and bench.html measure stock, then fused).
 */
let stockSample: { key: string; trajectories: Trajectory[] } | null = null;
/** Likewise the stock path's first training step, for the fused one. */
let stockFirstStep: { key: string; report: StepReport } | null = null;

/** The first step's figures that the two kernel paths should agree on (they train the same batch). */
const AGREEMENT_METRICS: StepMetricKey[] = ['loss/policy', 'grad_norm', 'actor/entropy', 'actor/ppo_kl'];

/** Whether two reports of the same step trained the same trajectories, and how far their figures are apart. */
export function stepAgreement(a: StepReport, b: StepReport): { sameTrajectories: boolean; maxMetricDiff: number } {
  const texts = (report: StepReport) => JSON.stringify(report.trajectories.map((t) => t.tokens.text));
  const diffs = AGREEMENT_METRICS.map((key) => Math.abs((a.metrics[key] ?? NaN) - (b.metrics[key] ?? NaN)));
  return { sameTrajectories: texts(a) === texts(b), maxMetricDiff: Math.max(...diffs) };
}

/** What one column of the table needs: a started backend, a way to make the policy, the plan. */
export interface MeasureOptions {
  backend: BenchBackend;
  kernels: KernelPath;
  /** The started backend, in words (with the WebGPU adapter). */
  device: string;
  scale: ModelScale;
  seed: number;
  group: number;
  plan: BackendPlan;
  /** A fresh policy on the current backend, and where it came from. */
  makePolicy: () => { policy: Policy; source: string };
  /** True when the policy is a warm-started checkpoint (tao-rl can train it), false for a random one. */
  pretrained: boolean;
}

/** Sampling, kernels and dispatches, and training on the current backend: one column. */
export async function measure(options: MeasureOptions): Promise<BackendResult> {
  const { backend, kernels, device, scale, seed, group, plan, makePolicy, pretrained } = options;
  const started = performance.now();
  const label = columnLabel(scale, backend, kernels);
  setKernelPreference(kernels === 'stock' ? 'stock' : 'auto');
  // A fresh policy per backend: tensors made on a previous backend would stay there.
  const tensorsBefore = tf.memory().numTensors;
  const { policy, source } = makePolicy();
  const result: BackendResult = { backend, path: kernels, device, policy: source, plan: { ...plan, group }, seconds: 0 };
  try {
    if (kernels === 'fused') {
      const status = await chooseKernelPath(policy);
      if (status.path !== 'fused') throw new Error(status.warning ?? status.reason);
    }
    const task = getTask('arithmetic');
    const promptRng = new Rng(seed).fork('bench:prompts');
    const items = Array.from({ length: plan.prompts }, () => trainingItem(task, promptRng));

    // 1. Sampling with the cache on the full batch.
    const cache = await timeSampling(label, policy, items, group, true, seed, plan.samplingRepeats);
    const sampleKey = JSON.stringify([backend, scale, seed, plan.prompts, group]);
    if (kernels === 'stock') stockSample = { key: sampleKey, trajectories: cache.trajectories };
    // 2. The same (or a smaller) batch with and without the cache, for the ratio. Without the
    //    cache every path recomputes the prefix with tfjs's ops: measured once, on stock.
    const ratioItems = items.slice(0, plan.ratioPrompts);
    const ratioCache =
      ratioItems.length === items.length ? cache : await timeSampling(label, policy, ratioItems, group, true, seed, plan.samplingRepeats);
    const noCache = kernels === 'stock' ? await timeSampling(label, policy, ratioItems, group, false, seed, plan.samplingRepeats) : null;
    result.sampling = {
      cache: cache.run,
      ratio: noCache && {
        cache: ratioCache.run,
        noCache: noCache.run,
        speedup: ratioCache.run.tokensPerSecond / noCache.run.tokensPerSecond,
        differingTrajectories: agreementOf(ratioCache.trajectories, noCache.trajectories).differingTrajectories,
      },
    };
    if (kernels === 'fused' && stockSample?.key === sampleKey) {
      result.sampling.agreement = agreementOf(stockSample.trajectories, cache.trajectories);
      stockSample = null;
    }

    // 3. Kernels and dispatches per decoding position.
    progress(label, `profiling one decoding position over ${items.length * group} rows`);
    result.kernels =
      kernels === 'fused'
        ? await countFusedDispatches(policy, items.length * group, cache.run)
        : await countKernels(policy, items.length * group, cache.run);

    // 4. Training steps: throughput and the tensor count.
    const { training, firstStep } = await benchTraining(label, policy, scale, seed, plan, group, pretrained);
    result.training = training;
    const stepKey = JSON.stringify([backend, scale, seed, plan.trainPrompts, group]);
    if (kernels === 'stock' && firstStep) stockFirstStep = { key: stepKey, report: firstStep };
    if (kernels === 'fused' && firstStep && stockFirstStep?.key === stepKey) {
      training.agreement = stepAgreement(stockFirstStep.report, firstStep);
      stockFirstStep = null;
    }
  } catch (error) {
    // Report the other backends anyway.
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    progress(label, `failed: ${reason}`);
    result.skipped = `failed while measuring: ${reason}`;
  } finally {
    disposePolicy(policy);
  }
  if (result.training) result.training.leftAfterDispose = tf.memory().numTensors - tensorsBefore;
  result.seconds = (performance.now() - started) / 1000;
  progress(label, `done in ${result.seconds.toFixed(1)}s`);
  return result;
}


async function timeSampling(
  backend: string,
  policy: Policy,
  items: TaskItem[],
  group: number,
  useCache: boolean,
  seed: number,
  repeats: number,
): Promise<{ run: SamplingRun; trajectories: Trajectory[] }> {
  // Every run gets the same prompts, sampling stream and tool environment: the warm-up and the
  // timed run see identical shapes (WebGPU compiles its shaders once), and the runs with and
  // without the cache draw the same tokens as long as their logits agree.
  const sample = (counters?: RolloutCounters) =>
    sampleGroups(policy, items, group, {
      temperature: TEMPERATURE,
      maxToolCalls: MAX_TOOL_CALLS,
      environment: new ToolEnvironment('calculator', 0, new Rng(seed).fork('bench:environment')),
      rng: new Rng(seed).fork('bench:sampling'),
      useCache,
      counters,
    });
  const label = `sampling ${useCache ? 'with' : 'without'} the cache, ${items.length} prompts x ${group}`;
  progress(backend, `${label}: warm-up`);
  let t0 = performance.now();
  await sample();
  const warmupSeconds = (performance.now() - t0) / 1000;
  progress(backend, `${label}: ${repeats} timed run${repeats === 1 ? '' : 's'} (warm-up took ${warmupSeconds.toFixed(1)}s)`);
  // The first timed run records the counts; every run is timed, and the fastest kept.
  const counters: RolloutCounters = { readbacks: 0, toolRounds: 0, roundsCutShort: 0 };
  const dispatches = startDispatchCounter();
  t0 = performance.now();
  let trajectories: Trajectory[];
  try {
    trajectories = await sample(counters);
  } finally {
    dispatches?.stop();
  }
  const runSeconds = [(performance.now() - t0) / 1000];
  while (runSeconds.length < repeats) {
    t0 = performance.now();
    await sample();
    runSeconds.push((performance.now() - t0) / 1000);
  }
  const seconds = Math.min(...runSeconds);
  const sampledTokens = trajectories.reduce((n, t) => n + t.tokens.filter((k) => k.kind === 'policy').length, 0);
  const positions = Math.max(...trajectories.map((t) => t.tokens.length)) - 1;
  const run: SamplingRun = {
    prompts: items.length,
    group,
    rows: trajectories.length,
    sampledTokens,
    positions,
    rowPositions: trajectories.map((t) => t.tokens.length - 1),
    seconds,
    runSeconds,
    warmupSeconds,
    tokensPerSecond: sampledTokens / seconds,
    readbacks: counters.readbacks,
    toolRounds: counters.toolRounds,
    ...(dispatches ? { gpuDispatches: dispatches.count } : {}),
  };
  progress(backend, `${label}: ${sampledTokens} tokens in ${seconds.toFixed(2)}s${repeats === 1 ? '' : ` (fastest of ${runSeconds.map((x) => x.toFixed(2)).join(', ')})`} = ${run.tokensPerSecond.toFixed(0)} tokens/s`);
  return { run, trajectories };
}

/** tfjs kernels (and WebGPU dispatches) of one decodeStep at position 1 for `rows` rows. */
async function countKernels(policy: Policy, rows: number, cacheRun: SamplingRun): Promise<NonNullable<BackendResult['kernels']>> {
  const profileStep = async (p: Policy): Promise<{ kernels: number; dispatches?: number }> => {
    const cache = emptyCache(p);
    const tokens = tf.fill([rows], BOS, 'int32') as tf.Tensor1D;
    try {
      // Position 0 has no cache to append to; profile position 1, as every later position.
      tf.tidy(() => decodeStep(p, tokens, cache)).dispose();
      const info = await tf.profile(() => tf.tidy(() => decodeStep(p, tokens, cache)));
      tf.dispose(info.result);
      // WebGPU: count compute passes actually recorded for one more position.
      const dispatches = await countGpuDispatches(() => tf.tidy(() => decodeStep(p, tokens, cache)));
      return { kernels: info.kernels.length, dispatches };
    } finally {
      tokens.dispose();
      disposeCache(cache);
    }
  };
  const full = await profileStep(policy);
  const layers = policy.config.layers;
  // The same weights with no blocks: what the embedding and the head cost on their own.
  const headOnly: Policy = { config: { ...policy.config, layers: 0 }, weights: { ...policy.weights, blocks: [] } };
  const head = await profileStep(headOnly);
  const result: NonNullable<BackendResult['kernels']> = {
    batchRows: rows,
    perPosition: full.kernels,
    perRow: full.kernels / rows,
    perSampledToken: (full.kernels * cacheRun.positions) / cacheRun.sampledTokens,
    embeddingAndHead: head.kernels,
    perLayer: (full.kernels - head.kernels) / Math.max(1, layers),
  };
  if (full.dispatches !== undefined && head.dispatches !== undefined) {
    result.gpuDispatches = full.dispatches;
    result.gpuDispatchesPerLayer = (full.dispatches - head.dispatches) / Math.max(1, layers);
    result.gpuDispatchesPerSampledToken = (full.dispatches * cacheRun.positions) / cacheRun.sampledTokens;
  }
  return result;
}

/** On WebGPU, the compute dispatches `f` records (its result is read back, then disposed); else undefined. */
async function countGpuDispatches(f: () => tf.Tensor): Promise<number | undefined> {
  const counter = startDispatchCounter();
  try {
    const out = f();
    await out.data();
    out.dispose();
  } finally {
    counter?.stop();
  }
  return counter?.count;
}

/** Dispatches of one fused decoding position (position 1) for `rows` rows, and of the same with no blocks. */
async function countFusedDispatches(policy: Policy, rows: number, cacheRun: SamplingRun): Promise<NonNullable<BackendResult['kernels']>> {
  const countStep = async (p: Policy): Promise<number> => {
    const decoder = new FusedDecoder(p, rows);
    const tokens = new Int32Array(rows).fill(BOS);
    const draws = new Float32Array(rows).fill(0.5);
    try {
      await decoder.step(tokens, draws, TEMPERATURE);
      const counter = startDispatchCounter()!;
      try {
        await decoder.step(tokens, draws, TEMPERATURE);
      } finally {
        counter.stop();
      }
      return counter.count;
    } finally {
      decoder.dispose();
    }
  };
  const layers = policy.config.layers;
  const full = await countStep(policy);
  const head = await countStep({ config: { ...policy.config, layers: 0 }, weights: { ...policy.weights, blocks: [] } });
  return {
    batchRows: rows,
    gpuDispatches: full,
    gpuDispatchesPerLayer: (full - head) / Math.max(1, layers),
    gpuDispatchesPerSampledToken: (full * cacheRun.positions) / cacheRun.sampledTokens,
  };
}

async function benchTraining(
  backend: string,
  policy: Policy,
  scale: ModelScale,
  seed: number,
  plan: BackendPlan,
  group: number,
  pretrained: boolean,
): Promise<{ training: NonNullable<BackendResult['training']>; firstStep: StepReport | undefined }> {
  const steps = plan.steps;
  // A random policy never answers correctly: every group is all-wrong, tao-rl's group filter
  // drops them all and no update would run. Without a checkpoint, train with GRPO (no filter).
  const preset = pretrained ? 'tao-rl' : 'grpo';
  const config = resolveConfig({ preset, scale, seed, promptsPerStep: plan.trainPrompts, groupSize: group });
  const trainer = new Trainer(config, policy);
  const reports: StepReport[] = [];
  /** Each step's update buckets (rows and positions of each pass), by step. */
  const buckets = new Map<number, { rows: number; positions: number }[]>();
  let tensorsAfterFirstStep = 0;
  let tensorsAfterLastStep = 0;
  let updateDispatches: number | undefined;
  try {
    for (let step = 1; step <= steps; step++) {
      const report = await trainer.runStep();
      reports.push(report);
      buckets.set(report.step, trainer.lastUpdateShapes);
      updateDispatches = trainer.lastUpdateDispatches ?? updateDispatches;
      tensorsAfterLastStep = tf.memory().numTensors;
      if (step === 1) tensorsAfterFirstStep = tensorsAfterLastStep;
      const m = (key: StepMetricKey) => report.metrics[key] ?? NaN;
      progress(
        backend,
        `train step ${step}/${steps} (${preset}): ${m('time/step_s').toFixed(2)}s, ` +
          `${report.skipped ? 'skipped (no group survived)' : `${m('perf/trained_tokens_per_s').toFixed(0)} trained tokens/s`}, ` +
          `${m('perf/sampled_tokens_per_s').toFixed(0)} sampled tokens/s, ${tf.memory().numTensors} tensors`,
      );
    }
  } finally {
    trainer.dispose();
  }
  // Step 1 pays one-off costs (Adam state, shader compilation): leave it out when there are more.
  const measured = reports.length > 1 ? reports.slice(1) : reports;
  const updated = measured.filter((r) => !r.skipped);
  const sum = (rs: StepReport[], key: StepMetricKey) => rs.reduce((s, r) => s + (r.metrics[key] ?? 0), 0);
  const sampledTokens = measured.reduce(
    (n, r) => n + (r.metrics['response_length/mean'] ?? 0) * r.trajectories.length,
    0,
  );
  const training: NonNullable<BackendResult['training']> = {
    preset,
    steps,
    promptsPerStep: config.promptsPerStep,
    groupSize: config.groupSize,
    sampledRowsPerStep: reports.reduce((n, r) => n + r.trajectories.length, 0) / Math.max(1, reports.length),
    skippedSteps: reports.filter((r) => r.skipped).length,
    measuredSteps: measured.length,
    trainedTokensPerSecond: updated.length > 0 ? sum(updated, 'batch/tokens') / sum(updated, 'time/update_s') : 0,
    updates: updated.map((report) => ({ ...updateShape(report), buckets: buckets.get(report.step) ?? [] })),
    sampledTokensPerSecond: sampledTokens / sum(measured, 'time/rollout_s'),
    stepSeconds: sum(measured, 'time/step_s') / measured.length,
    rolloutSeconds: sum(measured, 'time/rollout_s') / measured.length,
    updateSeconds: sum(measured, 'time/update_s') / measured.length,
    tensorsAfterFirstStep,
    tensorsAfterLastStep,
    leak: tensorsAfterLastStep !== tensorsAfterFirstStep,
    leftAfterDispose: 0,
    ...(updateDispatches !== undefined ? { updateDispatches } : {}),
  };
  return { training, firstStep: reports[0] };
}

/** The batch a step's update trained: its rows (copies included) and positions (longest trained trajectory - 1), before the update cuts it into buckets. */
function updateShape(report: StepReport): { rows: number; positions: number; trainedTokens: number; seconds: number } {
  const trained = report.trajectories.filter((t) => t.trainedCopies > 0);
  return {
    rows: report.metrics['batch/trajectories'] ?? 0,
    positions: Math.max(...trained.map((t) => t.tokens.text.length)) - 1,
    trainedTokens: report.metrics['batch/tokens'] ?? 0,
    seconds: report.metrics['time/update_s'] ?? 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Output

function fixed(value: number | undefined, digits = 0): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

function columnName(r: BackendResult): string {
  const software = r.device?.toLowerCase().includes('swiftshader') ? ' (SwiftShader)' : '';
  if (r.backend === 'chromium') return `Chromium webgpu ${r.path}${software}`;
  if (r.backend !== 'webgpu') return r.backend;
  return `webgpu ${r.path}${software}`;
}

export function renderMarkdown(results: BackendResult[], scale: ModelScale, seed: number, totalSeconds: number, runtime: string): string {
  const measured = results.filter((r) => !r.skipped);
  const lines: string[] = [];
  const model = MODEL_SCALES[scale];
  lines.push(
    `## Benchmark: ${scale} policy (${parameterCount(model)} parameters, ${model.layers} layers, width ${model.width}), seed ${seed}`,
    '',
  );
  // Side by side on webgpu: the fused path's sampling speed over the stock path's, same batch and seed.
  const stockOf = (r: BackendResult) => (r.path === 'fused' ? measured.find((x) => x.backend === r.backend && x.path === 'stock') : undefined);
  const vsStock = (r: BackendResult): string => {
    const stock = stockOf(r);
    return stock ? `**${fixed(r.sampling!.cache.tokensPerSecond / stock.sampling!.cache.tokensPerSecond, 1)}x**` : '-';
  };
  const stepVsStock = (r: BackendResult): string => {
    const stock = stockOf(r);
    return stock ? `${fixed(stock.training!.stepSeconds / r.training!.stepSeconds, 1)}x` : '-';
  };
  const updateShare = (r: BackendResult): string => {
    const [fused, stock] = [r.training!.updateDispatches, stockOf(r)?.training?.updateDispatches];
    return fused !== undefined && stock !== undefined ? `${fixed((100 * fused) / stock)}%` : '-';
  };
  const ratio = (r: BackendResult) => r.sampling!.ratio;
  const agreed = (r: BackendResult) => r.sampling!.agreement;
  if (measured.length > 0) {
    const header = ['', ...measured.map(columnName)];
    const rows: [string, (r: BackendResult) => string][] = [
      ['device', (r) => r.device ?? '-'],
      ['sampling batch, cache only (prompts x group)', (r) => `${r.sampling!.cache.prompts} x ${r.sampling!.cache.group} = ${r.sampling!.cache.rows} rows`],
      ['sampled tokens/s, KV cache', (r) => fixed(r.sampling!.cache.tokensPerSecond)],
      ['**fused over stock, sampled tokens/s (same run)**', vsStock],
      ['ratio batch, with and without the cache', (r) => (ratio(r) ? `${ratio(r)!.cache.prompts} x ${ratio(r)!.cache.group} = ${ratio(r)!.cache.rows} rows` : '-')],
      ['sampled tokens/s, no cache (ratio batch)', (r) => (ratio(r) ? fixed(ratio(r)!.noCache.tokensPerSecond) : '-')],
      ['speed-up of the cache', (r) => (ratio(r) ? `${fixed(ratio(r)!.speedup, 1)}x` : '-')],
      ['trajectories differing, cache vs no cache', (r) => (ratio(r) ? `${ratio(r)!.differingTrajectories} of ${ratio(r)!.cache.rows}` : '-')],
      ['trajectories differing, fused vs stock (cache batch)', (r) => (agreed(r) ? `${agreed(r)!.differingTrajectories} of ${agreed(r)!.rows}` : '-')],
      ['... max abs. difference, log-prob / entropy', (r) => (agreed(r) ? `${agreed(r)!.maxLogprobDiff.toExponential(1)} / ${agreed(r)!.maxEntropyDiff.toExponential(1)}` : '-')],
      ['**readbacks per rollout** (cache batch)', (r) => fixed(r.sampling!.cache.readbacks)],
      ['**tool-call rounds per rollout**', (r) => fixed(r.sampling!.cache.toolRounds)],
      ['decoding positions of the longest trajectory', (r) => fixed(r.sampling!.cache.positions)],
      ['GPU dispatches per rollout', (r) => (r.sampling!.cache.gpuDispatches === undefined ? '-' : fixed(r.sampling!.cache.gpuDispatches))],
      ['tfjs kernels per decoding position (whole batch)', (r) => fixed(r.kernels!.perPosition)],
      ['... per layer / embedding and head', (r) => (r.kernels!.perLayer === undefined ? '-' : `${fixed(r.kernels!.perLayer)} / ${fixed(r.kernels!.embeddingAndHead)}`)],
      ['... per sampled token (x positions / sampled tokens)', (r) => fixed(r.kernels!.perSampledToken, 2)],
      ['**GPU dispatches per decoding position**', (r) => fixed(r.kernels!.gpuDispatches)],
      ['... per layer', (r) => fixed(r.kernels!.gpuDispatchesPerLayer)],
      ['... per sampled token (x positions / sampled tokens)', (r) => fixed(r.kernels!.gpuDispatchesPerSampledToken, 2)],
      ['training steps (preset, prompts x group per step)', (r) => `${r.training!.steps} (${r.training!.preset}, ${r.training!.promptsPerStep} x ${r.training!.groupSize})`],
      ['trajectories sampled per step', (r) => fixed(r.training!.sampledRowsPerStep)],
      ['trained tokens/s', (r) => fixed(r.training!.trainedTokensPerSecond)],
      ['sampled tokens/s in training rollouts', (r) => fixed(r.training!.sampledTokensPerSecond)],
      ['step time, s (rollout + update)', (r) => `${fixed(r.training!.stepSeconds, 2)} (${fixed(r.training!.rolloutSeconds, 2)} + ${fixed(r.training!.updateSeconds, 2)})`],
      ['fused over stock, step time', stepVsStock],
      ['**GPU dispatches per RL-step update**', (r) => fixed(r.training!.updateDispatches)],
      ['... fused as a share of stock', updateShare],
      [
        'fused vs stock, step 1: same trajectories / max abs. difference of loss, grad norm, entropy, KL',
        (r) => (r.training!.agreement ? `${r.training!.agreement.sameTrajectories ? 'yes' : 'no'} / ${r.training!.agreement.maxMetricDiff.toExponential(1)}` : '-'),
      ],
      ['tensors after step 1 / after last step', (r) => `${r.training!.tensorsAfterFirstStep} / ${r.training!.tensorsAfterLastStep}`],
      ['**tensor leak check**', (r) => `**${r.training!.leak ? 'LEAK' : 'OK'}**`],
      ['tensors left after disposing trainer and policy', (r) => String(r.training!.leftAfterDispose)],
      ['backend time, s', (r) => fixed(r.seconds, 1)],
    ];
    lines.push(`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`);
    for (const [label, cell] of rows) lines.push(`| ${label} | ${measured.map(cell).join(' | ')} |`);
    lines.push('');
  }
  for (const r of results.filter((x) => x.skipped)) lines.push(`- ${columnName(r)}: skipped (${r.skipped})`);
  const policies = [...new Set(measured.map((r) => r.policy))];
  lines.push(
    `- Policy: ${policies.join('; ') || '-'}. ${runtime}; total ${totalSeconds.toFixed(0)}s.` +
      (measured.some((r) => r.training?.preset === 'grpo')
        ? ' A random policy never answers correctly, so tao-rl\'s group filter would skip every update: training uses grpo (no filter) instead.'
        : ''),
    `- Sampling: sampleGroups at temperature ${TEMPERATURE}, up to ${MAX_TOOL_CALLS} calls, fixed training prompts and sampling seed; ` +
      'tokens/s counts policy-sampled tokens (prompt and tool-result tokens are forced, not counted). ' +
      'Each measurement is timed after an identical warm-up run (shader compilation on WebGPU), the fastest of the plan\'s timed runs kept (`samplingRepeats`: 5 on wasm, 1 elsewhere). ' +
      'Without the cache every position recomputes the whole prefix (O(T^2)), so on the slow backends the ratio uses a smaller batch; both paths run on that same batch, same seed.',
    '- Fused vs stock: the fused column\'s cache run against the stock column\'s on the same backend, batch, seed and uniforms; ' +
      'log-probs and entropies are compared at each policy token before a trajectory\'s first differing token (a draw that float rounding flips changes the rest of its trajectory).',
    '- Readbacks per rollout: the reads from the backend to the CPU in the timed cache run; tfjs\'s kernels read the logits back at every position, the fused loop reads its row table back once per tool round (plus the last), so it should be at most tool-call rounds + 2. ' +
      'Tool-call rounds: the most calls one trajectory closed. GPU dispatches per rollout: everything the timed run recorded; the fused loop dispatches each round for a guessed number of positions (docs/kernels.md), rows that have stopped returning at once.',
    '- Kernels: `tf.profile` of one `decodeStep` (position 1) for the whole cache batch; per layer = (total - the same step with no blocks) / layers. ' +
      'tfjs kernels include reshapes and other views; on WebGPU "GPU dispatches" counts the compute passes actually recorded for one position ' +
      '(the fused path runs its WGSL programs through `runWebGPUProgram`, outside tfjs\'s kernel registry, so only dispatches apply to it). ' +
      'Per sampled token = per position x positions / sampled tokens: a position serves every row of the batch, forced prompt and tool-result tokens included.',
    '- Training: `Trainer.runStep` with resolveConfig({ preset, scale, seed, promptsPerStep, groupSize }) (smaller steps on the slow backends; tao-rl samples twice the prompts for its group filter); ' +
      'throughput averages the steps after the first (step 1 is a warm-up); trained tokens are the policy tokens with non-zero loss weight. ' +
      'The leak check compares tf.memory().numTensors after step 1 and after the last step. ' +
      'GPU dispatches per RL-step update: forward, loss, backward and Adam of the last step that updated (`Trainer.lastUpdateDispatches`); ' +
      'the fused column runs the fused dense layers and the two-dispatch Adam (docs/kernels.md).',
    '',
  );
  return lines.join('\n');
}
