// The typed messages between the page and the training worker. Data flows one way: the page
// sends commands, the worker sends what happened. Everything here is structured-clone safe.

import type { BackendName } from '../core/backend';
import type { Config } from '../core/config';
import type { KernelPathStatus } from '../core/model/fusedDecoder';
import type { Evaluation } from '../core/evaluate';
import type { Continuation, ForkSource, NextTokenDistribution } from '../core/fork';
import type { StepReport, StepSettings } from '../core/trainer';
import type { SettingChange } from '../runs/types';

// 'settingsApplied' carries the changes a run file stores: the type is the file format's.
export type { SettingChange };

/**
 * Backend preference: 'auto' tries hardware WebGPU, hardware WebGL, WASM, CPU, then a software
 * WebGPU or WebGL (worker/backendChoice.ts).
 */
export type BackendChoice = BackendName | 'auto';

export type ToWorker =
  /**
   * Start (or restart) a run: load the bundled checkpoint of config.scale, set up the trainer.
   * With `resume`, the run continues from those weights of a later step (a run saved in the
   * browser, or a worker that crashed): the bundled checkpoint stays its KL reference.
   */
  | { type: 'init'; config: Config; backend: BackendChoice; resume?: WeightSnapshot }
  /** Train continuously until paused. */
  | { type: 'start' }
  /** Stop after the step in flight. */
  | { type: 'pause' }
  /** Exactly one RL step, then pause. */
  | { type: 'step' }
  /** Live settings: take effect at the next step. */
  | { type: 'settings'; settings: Partial<StepSettings> }
  /** Held-out evaluation now. */
  | { type: 'evaluate' }
  /** After an error: restore the last good weights and continue from there (paused). */
  | { type: 'resume' }
  /** What the policy does from a token of a shown trajectory (src/worker/fork.ts); training state is not touched. */
  | { type: 'fork'; request: ForkRequest }
  /** Stop a scan after the position in flight. */
  | { type: 'cancelFork'; id: number };

/** A fork of one trajectory of a step: its distribution at a token, continuations from there, or a scan of its tokens. */
export type ForkRequest = {
  /** Chosen by the page; every reply carries it. */
  id: number;
  /** The step the trajectory was sampled in: the weights it sampled with are used while the worker holds them. */
  step: number;
  source: ForkSource;
  /** The step's sampling temperature and tool flakiness. */
  temperature: number;
  flakyProbability: number;
  /** Seeds the sampling and the tool: the same request gives the same continuations. */
  seed: number;
} & (
  | { kind: 'distribution'; position: number }
  | { kind: 'resample'; position: number; samples: number }
  /** Pass rate from each position, one reply per position as it is done. */
  | { kind: 'scan'; positions: number[]; samples: number }
);

/** Which weights a fork ran on: those after `step` (0: the starting checkpoint). */
export interface ForkWeights {
  step: number;
  /** True when they are the weights the requested step sampled its trajectories with. */
  sampledWith: boolean;
}

export type ForkReply =
  | { id: number; kind: 'distribution'; weights: ForkWeights; position: number; distribution: NextTokenDistribution }
  | { id: number; kind: 'continuations'; weights: ForkWeights; position: number; continuations: Continuation[]; seconds: number }
  | { id: number; kind: 'scanPoint'; weights: ForkWeights; position: number; entropy: number; passed: number; total: number; done: number; of: number }
  | { id: number; kind: 'scanDone'; weights: ForkWeights; cancelled: boolean; seconds: number }
  | { id: number; kind: 'failed'; message: string };

/** Weights of a completed step, as checkpoint bytes in the layout of the run's starting checkpoint. */
export interface WeightSnapshot {
  step: number;
  bytes: Uint8Array;
}

export interface BackendReport {
  name: BackendName;
  /** WebGPU adapter description, when WebGPU runs. */
  adapter?: string;
  /**
   * Plain words on why training runs here when it is not simply the first choice on real hardware,
   * e.g. "Training on WebAssembly (wasm): WebGPU is not available in this browser and WebGL here is
   * a software renderer (SwiftShader) that draws on the CPU, many times slower."
   */
  fallback?: string;
}

export type WorkerStatus = 'loading' | 'ready' | 'running' | 'paused' | 'error';

/**
 * Why training stopped on its own. 'unresponsive' is the page's own finding: the worker went
 * quiet while it should have been heard from (src/app/watchdog.ts).
 */
export type FailureKind = 'crash' | 'device_lost' | 'nan' | 'load' | 'unresponsive';

/** While loading or training, the worker says it is alive at least this often (ms). */
export const HEARTBEAT_MS = 1000;

export type FromWorker =
  | { type: 'backend'; backend: BackendReport }
  /** Which kernels sample tokens (fused WGSL on WebGPU, else tfjs's own), once the policy is loaded. */
  | { type: 'kernels'; kernels: KernelPathStatus }
  | { type: 'status'; status: WorkerStatus; message?: string }
  /** A completed RL step. */
  | { type: 'step'; report: StepReport }
  /** The weights after a step, sent right after its report: what the page saves and resumes from. */
  | ({ type: 'weights' } & WeightSnapshot)
  | { type: 'evaluation'; step: number; evaluation: Evaluation }
  /** Live settings accepted: which fields changed, from what to what, from which step. */
  | { type: 'settingsApplied'; changes: SettingChange[] }
  /**
   * Training stopped: what happened (a clause the page words around: what stopped, then what
   * Resume does), and the last step whose weights are kept.
   */
  | { type: 'failure'; kind: FailureKind; message: string; lastGoodStep: number }
  /** Still loading or training: sent when nothing else was sent for HEARTBEAT_MS, also during a long step. */
  | { type: 'heartbeat' }
  | { type: 'fork'; reply: ForkReply };
