// One training run inside the worker: the page's commands (ToWorker) in, what happened
// (FromWorker) out. It holds the Trainer and a copy of the weights after the last completed step,
// so that a crash, a lost GPU device or a NaN loss stops training without losing finished work.
// No Worker API in here: tests drive it in Node with a plain `post`.

import * as tf from '@tensorflow/tfjs';
import { chooseKernelPath } from '../core/model/fusedDecoder';
import { deserializePolicy, loadWeights, serializePolicy, type CheckpointManifest } from '../core/checkpoint';
import { resolveConfig, type Config } from '../core/config';
import { diffLeaves, isPlainObject, liveFields, mergeDeep } from '../core/settings';
import { evaluateHeldOut } from '../core/evaluate';
import type { ModelScale } from '../core/model/config';
import { disposePolicy, namedWeights, type Policy } from '../core/model/transformer';
import { NonFiniteLossError, Trainer } from '../core/trainer';
import { ForkRunner } from './fork';
import type {
  BackendChoice,
  BackendReport,
  FailureKind,
  ForkRequest,
  FromWorker,
  SettingChange,
  ToWorker,
  WeightSnapshot,
  WorkerStatus,
} from './protocol';
import { HEARTBEAT_MS } from './protocol';

/**
 * Held-out evaluation in the browser is capped to 64 prompts x 2 samples (plus one greedy
 * trajectory per prompt): about the cost of one RL step at the default batch (8 prompts x 8
 * samples x over-sample 2), instead of the CLI's 256 x 4.
 */
export const BROWSER_EVAL_PROMPTS = 64;
export const BROWSER_EVAL_SAMPLES = 2;

export interface Checkpoint {
  manifest: CheckpointManifest;
  bytes: Uint8Array;
}

export interface SessionEnvironment {
  post: (message: FromWorker) => void;
  /** The bundled warm-start checkpoint of a scale and task family; rejects with a plain-words reason. */
  loadCheckpoint: (scale: ModelScale, task: string) => Promise<Checkpoint>;
  /** Starts tfjs on the chosen backend (or the best fallback) and says which one runs. */
  startBackend: (choice: BackendChoice) => Promise<BackendReport>;
}


type Phase =
  | 'empty' // no run yet
  | 'loading' // backend, checkpoint or restore in progress; commands wait in `queued`
  | 'idle' // ready or paused
  | 'busy' // the work loop is running steps or an evaluation
  | 'failed'; // stopped on an error; 'resume' or 'init' leave it

/** Failed to start the backend or read the checkpoint: a 'load' failure. */
class LoadError extends Error {}

export class TrainingSession {
  private phase: Phase = 'empty';
  /** What an idle run reports: 'ready' before its first step (after init or resume), then 'paused'. */
  private idleStatus: 'ready' | 'paused' = 'ready';
  /** The run's config with live settings applied: what the next step runs with. */
  private config: Config | null = null;
  private backendChoice: BackendChoice = 'auto';
  private backendName = '';
  /** The checkpoint the run started from: the KL reference and the manifest of every snapshot. */
  private startCheckpoint: Checkpoint | null = null;
  private trainer: Trainer | null = null;
  private lastGood: WeightSnapshot | null = null;
  /** The step the run being loaded starts after (that of the weights it resumes from). */
  private startStep = 0;

  /** Bumped by init, resume and every failure: work of an older run drops out at its next await. */
  private run = 0;
  /** The work loop of the current run, while one runs. */
  private work: Promise<void> | null = null;
  /** Steps the work loop still has to run (Infinity while training continuously). */
  private stepsLeft = 0;
  private evaluationRequested = false;
  private stepInFlight = false;
  /** Commands that arrived while loading; handled once the run is ready. */
  private queued: ToWorker[] = [];
  /** When the last message went out (performance.now()): the heartbeat fills silences. */
  private lastPostAt = 0;
  /** Forks of shown trajectories, each on a policy of its own (fork.ts). */
  private readonly forks: ForkRunner;

  /** Bumped whenever a backend starts or is dropped: stale device-loss notices are ignored. */
  private backendWatch = 0;
  /** The latest backend start (settled): the next one waits for it. */
  private backendStarting: Promise<unknown> = Promise.resolve();
  /** The WebGPU device of the current backend was lost: resume or init must restart the backend. */
  private deviceLost: { reason: string; message: string } | null = null;

  constructor(private readonly environment: SessionEnvironment) {
    this.forks = new ForkRunner((message) => this.post(message));
  }

  /** The last completed step whose weights are kept (0: the checkpoint itself). */
  get lastGoodStep(): number {
    return this.lastGood?.step ?? 0;
  }

  /** The weights resume restores. */
  get lastGoodWeights(): WeightSnapshot | null {
    return this.lastGood;
  }

  /** The policy being trained (tests read and corrupt its weights). */
  get policy(): Policy | null {
    return this.trainer?.policy ?? null;
  }

  /**
   * Handles one command. Resolves when its work is done ('start' when training has paused or
   * failed, 'pause' once the step in flight has finished). Never rejects: every error becomes a
   * 'failure' message.
   */
  async handle(message: ToWorker): Promise<void> {
    try {
      await this.dispatch(message);
    } catch (error) {
      // Only reached by errors outside a run's own guarded work (those check `run` themselves).
      this.fail('crash', `the training worker failed on '${message.type}': ${errorText(error)}`);
    }
  }

  /** An error the session could not catch itself (the worker's onerror, unhandled rejections). */
  reportCrash(message: string): void {
    if (this.phase === 'failed') return;
    this.fail('crash', message);
  }

  // Everything up to the first await runs synchronously, so commands handled in a row (the queue)
  // see each other's phase changes.
  private dispatch(message: ToWorker): Promise<void> {
    switch (message.type) {
      case 'init':
        return this.init(message.config, message.backend, message.resume);
      case 'settings':
        this.applySettings(message.settings);
        return Promise.resolve();
      case 'fork':
        return this.fork(message.request);
      case 'cancelFork':
        this.forks.cancel(message.id);
        return Promise.resolve();
    }
    if (this.phase === 'empty') {
      this.post({ type: 'status', status: 'loading', message: `Nothing is loaded yet: '${message.type}' needs a run (reset to start one).` });
      return Promise.resolve();
    }
    if (this.phase === 'loading') return this.queue(message);
    switch (message.type) {
      case 'start':
        return this.train(Infinity, 'start');
      case 'step':
        return this.train(1, 'step');
      case 'pause':
        return this.pause();
      case 'evaluate':
        return this.requestEvaluation();
      case 'resume':
        return this.resume();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Loading

  private async init(config: Config, choice: BackendChoice, resume?: WeightSnapshot): Promise<void> {
    const run = ++this.run;
    const previous = this.phase === 'busy' ? this.work : null;
    this.resetWork();
    this.queued = [];
    this.config = config;
    this.backendChoice = choice;
    this.phase = 'loading';
    this.lastGood = null;
    this.startStep = resume?.step ?? 0;
    this.startCheckpoint = null;
    this.forks.clear();
    this.post({ type: 'status', status: 'loading', message: 'Starting the backend…' });
    try {
      // The step in flight ends within one step (it drops out because `run` moved on); its
      // tensors are freed only after it.
      if (previous) await previous;
      if (run !== this.run) return;
      this.disposeTrainer();
      if (this.deviceLost) this.dropLostWebGPU();
      const backend = await this.startBackend(choice, run);
      if (backend === null) return;
      this.post({ type: 'status', status: 'loading', message: `Loading the bundled ${config.scale} checkpoint…` });
      let checkpoint: Checkpoint;
      try {
        checkpoint = await this.environment.loadCheckpoint(config.scale, config.task);
      } catch (error) {
        throw new LoadError(errorText(error));
      }
      if (run !== this.run) return;
      this.startCheckpoint = checkpoint;
      const start = resume ?? { step: 0, bytes: checkpoint.bytes };
      try {
        this.trainer = this.makeTrainer(start);
      } catch (error) {
        const what = resume ? `the saved weights of step ${resume.step}` : `the bundled ${config.scale} checkpoint`;
        throw new LoadError(`${what} could not be used: ${errorText(error)}`);
      }
      this.lastGood = start;
      // The fused kernels' self-check runs now, so the header names the path before Start.
      const kernels = await chooseKernelPath(this.trainer.policy);
      if (run !== this.run) return;
      if (kernels.warning) console.warn(`Fused kernels refused: ${kernels.warning}`);
      this.post({ type: 'kernels', kernels });
      const from = resume ? `resumed from the weights of step ${resume.step} (optimizer state reset), ` : '';
      this.becomeIdle(resume ? 'paused' : 'ready', `${from}${parameters(this.trainer.policy).toLocaleString('en')} parameters on ${backend.name}`);
    } catch (error) {
      if (run === this.run) this.fail(this.kindOf(error), errorText(error));
    }
  }

  /** Starts the backend for `run`; null when a newer run took over meanwhile. */
  private async startBackend(choice: BackendChoice, run: number): Promise<BackendReport | null> {
    // One start at a time, in order: a superseded start finishing late must not switch tfjs
    // away from the backend of the newer run.
    const starting = this.backendStarting.then(() => this.environment.startBackend(choice));
    this.backendStarting = starting.catch(() => {});
    let backend: BackendReport;
    try {
      backend = await starting;
    } catch (error) {
      throw new LoadError(`no backend could start: ${errorText(error)}`);
    }
    if (run !== this.run) return null;
    this.backendName = backend.name;
    this.post({ type: 'backend', backend });
    this.watchDeviceLoss();
    return backend;
  }

  /**
   * A Trainer on the run's starting checkpoint with `weights` loaded into its policy. Built from
   * the starting weights so that the frozen KL reference is always the run's start.
   */
  private makeTrainer(weights: WeightSnapshot): Trainer {
    const config = this.config!;
    const start = this.startCheckpoint!;
    const policy = deserializePolicy(start.manifest, start.bytes);
    let trainer: Trainer;
    try {
      trainer = new Trainer(config, policy);
    } catch (error) {
      disposePolicy(policy);
      throw error;
    }
    if (weights.bytes !== start.bytes) loadWeights(trainer.policy, weights.bytes);
    trainer.step = weights.step;
    trainer.onProgress = () => this.heartbeat();
    return trainer;
  }

  private queue(message: ToWorker): Promise<void> {
    if (message.type === 'pause') {
      this.queued = this.queued.filter((m) => m.type !== 'start' && m.type !== 'step');
      this.post({ type: 'status', status: 'loading', message: 'Still loading: training will not start on its own.' });
    } else {
      this.queued.push(message);
      this.post({ type: 'status', status: 'loading', message: `Still loading: '${message.type}' will run once the policy is ready.` });
    }
    return Promise.resolve();
  }

  private becomeIdle(status: 'ready' | 'paused', message: string): void {
    this.phase = 'idle';
    this.idleStatus = status;
    this.post({ type: 'status', status, message });
    const queued = this.queued;
    this.queued = [];
    for (const message of queued) void this.handle(message);
  }

  // -------------------------------------------------------------------------------------------
  // Training

  /** Runs `steps` more steps (Infinity: until paused), joining the loop if one already runs. */
  private train(steps: number, command: 'start' | 'step'): Promise<void> {
    if (this.phase === 'failed') return this.refuseAfterFailure(command);
    if (this.phase === 'busy') {
      if (this.stepsLeft === Infinity && steps !== Infinity) {
        this.post({ type: 'status', status: 'running', message: 'Already training: pause first to run single steps.' });
      } else {
        this.stepsLeft = steps === Infinity ? Infinity : this.stepsLeft + steps;
      }
      return this.work ?? Promise.resolve();
    }
    this.stepsLeft = steps;
    return this.startWork();
  }

  private requestEvaluation(): Promise<void> {
    if (this.phase === 'failed') return this.refuseAfterFailure('evaluate');
    this.evaluationRequested = true;
    if (this.phase === 'busy') return this.work ?? Promise.resolve(); // after the step in flight
    this.stepsLeft = 0;
    return this.startWork();
  }

  private pause(): Promise<void> {
    if (this.phase !== 'busy') return Promise.resolve();
    this.stepsLeft = 0;
    return this.work ?? Promise.resolve();
  }

  private startWork(): Promise<void> {
    this.phase = 'busy';
    this.post({ type: 'status', status: 'running', message: this.stepsLeft > 0 ? 'Training…' : 'Evaluating on held-out prompts…' });
    this.work = this.workLoop(this.run);
    return this.work;
  }

  /**
   * Steps and evaluations one at a time until no step is left. Between steps it waits for a
   * macrotask, so that 'pause', 'settings' and 'evaluate' are handled between steps even on
   * backends whose reads resolve at once (cpu, wasm).
   */
  private async workLoop(run: number): Promise<void> {
    let ranSteps = false;
    try {
      for (;;) {
        if (this.evaluationRequested) {
          this.evaluationRequested = false;
          await this.evaluate(run);
          if (run !== this.run) return;
        }
        if (this.stepsLeft <= 0) break;
        this.stepsLeft -= 1;
        const step = await this.runStep(run);
        if (run !== this.run) return;
        ranSteps = true;
        const every = this.config!.evalEvery;
        if (every > 0 && step % every === 0) this.evaluationRequested = true;
        await nextMacrotask();
        if (run !== this.run) return;
      }
    } catch (error) {
      if (run === this.run) this.fail(this.kindOf(error), errorText(error));
      return;
    }
    this.work = null;
    const status = ranSteps || this.idleStatus === 'paused' ? 'paused' : 'ready';
    this.becomeIdle(status, status === 'paused' ? `Paused after step ${this.lastGoodStep}.` : 'Ready.');
  }

  /** One RL step with the live settings, then a snapshot of its weights; returns its number. */
  private async runStep(run: number): Promise<number> {
    const trainer = this.trainer!;
    trainer.updateSettings(liveSettings(this.config!));
    if (this.lastGood) this.forks.recordSampling(this.lastGood.step + 1, this.lastGood);
    this.stepInFlight = true;
    try {
      const report = await trainer.runStep();
      const t0 = performance.now();
      const { bytes } = await serializePolicy(trainer.policy, {});
      const snapshotSeconds = (performance.now() - t0) / 1000;
      if (run !== this.run) return report.step;
      // The snapshot is taken before the report goes out: every step the page shows can be resumed from.
      this.lastGood = { step: report.step, bytes };
      const workerMetrics = { 'time/snapshot_s': snapshotSeconds, 'memory/tensors': tf.memory().numTensors };
      this.post({ type: 'step', report: { ...report, metrics: { ...report.metrics, ...workerMetrics } } });
      this.post({ type: 'weights', step: report.step, bytes });
      return report.step;
    } finally {
      if (run === this.run) this.stepInFlight = false;
    }
  }

  private async evaluate(run: number): Promise<void> {
    const config = this.config!;
    const evaluation = await evaluateHeldOut(this.trainer!.policy, {
      ...config,
      evalPrompts: Math.min(config.evalPrompts, BROWSER_EVAL_PROMPTS),
      evalSamples: Math.min(config.evalSamples, BROWSER_EVAL_SAMPLES),
    }, true, () => this.heartbeat());
    if (run !== this.run) return;
    this.post({ type: 'evaluation', step: this.lastGoodStep, evaluation });
  }

  // -------------------------------------------------------------------------------------------
  // Forks: what the policy does from a token of a shown trajectory (fork.ts)

  private fork(request: ForkRequest): Promise<void> {
    const refuse = (message: string) => {
      this.post({ type: 'fork', reply: { id: request.id, kind: 'failed', message } });
      return Promise.resolve();
    };
    if (this.phase === 'busy') return refuse('training is running: pause it to fork (the weights change with every step)');
    if (this.phase !== 'idle' || !this.config || !this.startCheckpoint || !this.lastGood) {
      return refuse(this.phase === 'failed' ? 'training stopped on an error: resume first' : 'no policy is loaded yet');
    }
    return this.forks.run(request, { config: this.config, manifest: this.startCheckpoint.manifest, current: this.lastGood });
  }

  // -------------------------------------------------------------------------------------------
  // Live settings

  private applySettings(settings: Partial<Config>): void {
    if (!this.config) {
      this.post({ type: 'status', status: 'loading', message: 'Settings not applied: nothing is loaded yet.' });
      return;
    }
    const live = new Set(liveFields());
    const ignored = Object.keys(settings).filter((field) => !live.has(field));
    const next: Config = { ...this.config };
    for (const [field, value] of Object.entries(settings)) {
      if (!live.has(field)) continue;
      // An object (the shaping) merges leaf by leaf over the current one; validation names anything else.
      const current = (this.config as unknown as Record<string, unknown>)[field];
      (next as unknown as Record<string, unknown>)[field] = isPlainObject(current) ? mergeDeep(current, value) : value;
    }
    try {
      resolveConfig(next as unknown as Record<string, unknown>);
    } catch (error) {
      this.post({ type: 'status', status: this.currentStatus(), message: `Settings not applied: ${errorText(error)}` });
      return;
    }
    // A step in flight keeps the settings it started with; the change first applies to the one after.
    // While loading, the run starts after the step it resumes from.
    const step = (this.lastGood?.step ?? this.startStep) + 1 + (this.stepInFlight ? 1 : 0);
    const changes: SettingChange[] = [];
    for (const field of Object.keys(settings)) {
      if (!live.has(field)) continue;
      const from = (this.config as unknown as Record<string, unknown>)[field];
      const to = (next as unknown as Record<string, unknown>)[field];
      for (const change of diffLeaves(from, to, field)) changes.push({ field: change.path, from: change.from, to: change.to, step });
    }
    this.config = next;
    this.post({ type: 'settingsApplied', changes });
    if (ignored.length > 0) {
      this.post({
        type: 'status',
        status: this.currentStatus(),
        message: `Not live settings, ignored (reset to change them): ${ignored.join(', ')}.`,
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Failures

  private kindOf(error: unknown): FailureKind {
    if (this.deviceLost) return 'device_lost';
    if (error instanceof NonFiniteLossError) return 'nan';
    if (error instanceof LoadError) return 'load';
    return 'crash';
  }

  /** Stops the run. The message is the detail alone: the page words what stopped and what Resume does. */
  private fail(kind: FailureKind, detail: string): void {
    this.run += 1;
    this.resetWork();
    this.queued = [];
    this.phase = 'failed';
    this.post({ type: 'failure', kind, message: detail, lastGoodStep: this.lastGoodStep });
    this.post({ type: 'status', status: 'error', message: detail });
  }

  private refuseAfterFailure(command: string): Promise<void> {
    const how = this.lastGood ? 'resume from the last good weights, or reset' : 'reset to load a run';
    this.post({ type: 'status', status: 'error', message: `Training is stopped after an error: ${how} before '${command}'.` });
    return Promise.resolve();
  }

  /** Restores the last good weights into a fresh Trainer (restarting the backend if its device was lost). */
  private async resume(): Promise<void> {
    if (this.phase !== 'failed') {
      this.post({ type: 'status', status: this.currentStatus(), message: 'Nothing to resume: training has not stopped on an error.' });
      return;
    }
    if (!this.lastGood || !this.startCheckpoint) return this.refuseAfterFailure('resume');
    const run = ++this.run;
    const weights = this.lastGood;
    this.phase = 'loading';
    this.post({ type: 'status', status: 'loading', message: `Restoring the weights of step ${weights.step}…` });
    try {
      this.disposeTrainer();
      if (this.deviceLost) {
        this.dropLostWebGPU();
        if ((await this.startBackend(this.backendChoice, run)) === null) return;
      }
      // A fresh Trainer: the Adam moments start again from zero (they are not part of the
      // snapshot, and after a crash they may hold the failed step's half-applied update).
      this.trainer = this.makeTrainer(weights);
      this.becomeIdle('ready', `Resumed from the weights of step ${weights.step} on ${this.backendName} (optimizer state reset).`);
    } catch (error) {
      if (run === this.run) this.fail(this.kindOf(error), errorText(error));
    }
  }

  // -------------------------------------------------------------------------------------------
  // WebGPU device loss

  /** Fails the run when the WebGPU device of the backend just started is lost. */
  private watchDeviceLoss(): void {
    const watch = ++this.backendWatch;
    this.deviceLost = null;
    type LostInfo = { reason?: string; message?: string } | undefined;
    const device = (tf.backend() as unknown as { device?: { lost?: Promise<LostInfo> } }).device;
    const lost = device?.lost;
    if (!lost || typeof lost.then !== 'function') return;
    lost.then(
      (info) => {
        if (watch !== this.backendWatch) return;
        this.deviceLost = { reason: info?.reason ?? 'unknown', message: info?.message ?? '' };
        if (this.phase === 'empty') return;
        const { reason, message } = this.deviceLost;
        const detail = message ? `${message} (reason: ${reason})` : `reason: ${reason}`;
        // Also when the run already failed: a crash seen first is often the device loss itself.
        this.fail('device_lost', detail);
      },
      () => {},
    );
  }

  /**
   * The tfjs WebGPU backend keeps its lost device forever; remove it and register its factory
   * again so that the next start asks for a new device. Its tensors are gone with it.
   */
  private dropLostWebGPU(): void {
    this.backendWatch += 1; // destroying the old device resolves its `lost` again
    this.deviceLost = null;
    const registry = (tf.engine() as unknown as { registryFactory?: Record<string, { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number }> })
      .registryFactory;
    const entry = registry?.webgpu;
    if (tf.getBackend() !== 'webgpu' || !entry) return;
    try {
      tf.removeBackend('webgpu');
    } catch {
      // disposing a backend whose device is gone may throw; the registration is what matters
    }
    if (tf.findBackendFactory('webgpu') == null) tf.registerBackend('webgpu', entry.factory, entry.priority);
  }

  // -------------------------------------------------------------------------------------------

  private currentStatus(): WorkerStatus {
    switch (this.phase) {
      case 'empty':
      case 'loading':
        return 'loading';
      case 'idle':
        return this.idleStatus;
      case 'busy':
        return 'running';
      case 'failed':
        return 'error';
    }
  }

  private resetWork(): void {
    this.work = null;
    this.stepsLeft = 0;
    this.evaluationRequested = false;
    this.stepInFlight = false;
  }

  private disposeTrainer(): void {
    const trainer = this.trainer;
    this.trainer = null;
    if (!trainer) return;
    try {
      trainer.dispose();
      disposePolicy(trainer.policy);
    } catch {
      // tensors of a lost device or a crashed backend: nothing left to free
    }
  }

  /**
   * Says the worker is alive while it loads or trains, when it said nothing else for
   * HEARTBEAT_MS: called by a timer (trainingWorker.ts) and as a step makes progress, since on
   * some backends (wasm, cpu) a whole step runs without yielding to timers.
   */
  heartbeat(): void {
    if (this.phase !== 'loading' && this.phase !== 'busy') return;
    if (performance.now() - this.lastPostAt < HEARTBEAT_MS) return;
    this.post({ type: 'heartbeat' });
  }

  private post(message: FromWorker): void {
    this.lastPostAt = performance.now();
    try {
      this.environment.post(message);
    } catch (error) {
      console.error('the training worker could not post a message', error);
    }
  }
}

/** The live part of a config, to hand to Trainer.updateSettings before each step. */
function liveSettings(config: Config): Partial<Config> {
  return Object.fromEntries(liveFields().map((field) => [field, config[field as keyof Config]]));
}

/** Loads checkpoint bytes (manifest order, float32) into a policy of the same model. */
function parameters(policy: Policy): number {
  return namedWeights(policy.weights).reduce((n, [, v]) => n + v.size, 0);
}

/** Resolves on a later macrotask: the worker handles queued messages first. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/[.\s]+$/, '');
}
