// The page's whole state in one zustand store. The worker's messages flow in through
// `receive`; user intents flow out as protocol commands through the `send` the client installs.
// Panels read state and call actions; none of them computes the algorithm.

import type { KernelPathStatus } from '../core/model/fusedDecoder';
import { create } from 'zustand';
import { resolveConfig, type Config } from '../core/config';
import { stepSettingFields } from '../core/settings';
import type { Evaluation } from '../core/evaluate';
import type { StepReport, StepSettings } from '../core/trainer';
import type { BackendChoice, BackendReport, FailureKind, FromWorker, SettingChange, ToWorker, WeightSnapshot, WorkerStatus } from '../worker/protocol';
import type { AddedChart } from './chartChoice';
import { useFork } from './forkState';
import type { SavedRun } from './runsDb';

/** Full rollouts are kept for this many most recent steps; metrics for all. */
export const ROLLOUT_HISTORY = 200;

export interface WorkbenchState {
  /** The run shown and trained: its id in the browser's saved runs, and its name. */
  runId: string;
  runName: string;
  /** The config the current run was started with, live changes applied. */
  config: Config;
  /** The config as edited; fields other than the step settings that differ from `config` need a reset. */
  draft: Config;
  backendChoice: BackendChoice;
  backend: BackendReport | null;
  /** Which kernels sample tokens, once the worker has loaded the policy. */
  kernels: KernelPathStatus | null;
  status: WorkerStatus;
  statusMessage: string | null;
  failure: { kind: FailureKind; message: string; lastGoodStep: number } | null;
  /** Every completed step in order; `trajectories` emptied for steps older than ROLLOUT_HISTORY. */
  reports: StepReport[];
  evaluations: { step: number; evaluation: Evaluation }[];
  /** Live hyperparameter changes, for the vertical marks on the curves. */
  changes: SettingChange[];
  /** Step shown in the inspector; null follows the latest step. */
  selectedStep: number | null;
  /** Index into the shown step's trajectories; null when none is open. */
  selectedTrajectory: number | null;
  /** The weights of the run's last step: saved in the browser, and what a crashed worker resumes from. */
  lastWeights: WeightSnapshot | null;
  /** A saved run opened without weights (imported metrics): it can be viewed and compared, not trained. */
  viewOnly: boolean;
  /** Charts added below the standard curves: saved with the run, carried in the link. */
  charts: AddedChart[];

  /** Installed by the worker client; tests install a fake. */
  send: (command: ToWorker) => void;
  receive: (message: FromWorker) => void;

  start: () => void;
  pause: () => void;
  step: () => void;
  /** Restart the run with the draft config (and the chosen backend): a new run. */
  reset: () => void;
  /** Show a saved run and continue training it from its saved weights. */
  openRun: (run: SavedRun) => void;
  renameRun: (name: string) => void;
  resume: () => void;
  /** Edit the draft; live fields are sent to the worker at once. */
  editConfig: (patch: Partial<Config>) => void;
  setBackendChoice: (choice: BackendChoice) => void;
  selectStep: (step: number | null) => void;
  selectTrajectory: (index: number | null) => void;
  setCharts: (charts: AddedChart[]) => void;
}

/** Steps with their rollouts still kept. */
export function withRolloutHistory(reports: StepReport[]): StepReport[] {
  const cut = reports.length - ROLLOUT_HISTORY;
  if (cut <= 0) return reports;
  const stale = reports[cut - 1];
  if (stale.trajectories.length === 0) return reports;
  const copy = reports.slice();
  copy[cut - 1] = { ...stale, trajectories: [] };
  return copy;
}

/** Fields whose draft value differs from the run's and that only a reset can apply. */
export function pendingResetFields(state: Pick<WorkbenchState, 'config' | 'draft'>): string[] {
  const live = new Set(stepSettingFields());
  return (Object.keys(state.draft) as (keyof Config)[]).filter(
    (field) => !live.has(field) && JSON.stringify(state.draft[field]) !== JSON.stringify(state.config[field]),
  );
}

/** The live part of a config patch (the fields the trainer applies at its next step), or null when it has none. */
function liveSettings(patch: Partial<Config>): Partial<StepSettings> | null {
  const fields = stepSettingFields().filter((field) => field in patch);
  return fields.length > 0 ? (Object.fromEntries(fields.map((field) => [field, patch[field as keyof Config]])) as Partial<StepSettings>) : null;
}

export function initialConfig(): Config {
  return resolveConfig({ preset: 'tao-rl' });
}

/** A fresh run id (ids are local to this browser). */
export function newRunId(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : `run-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

/** "tao-rl on arithmetic, tiny, seed 1, 14:05": what a new run is called until renamed. */
export function defaultRunName(config: Config, now = new Date()): string {
  const time = `${String(now.getHours()).padStart(2, '0')}:${String(now.getMinutes()).padStart(2, '0')}`;
  return `${config.preset} on ${config.task}, ${config.scale}, seed ${config.seed}, ${time}`;
}

export const useWorkbench = create<WorkbenchState>()((set, get) => ({
  runId: newRunId(),
  runName: defaultRunName(initialConfig()),
  config: initialConfig(),
  draft: initialConfig(),
  backendChoice: 'auto',
  backend: null,
  kernels: null,
  status: 'loading',
  statusMessage: null,
  failure: null,
  reports: [],
  evaluations: [],
  changes: [],
  selectedStep: null,
  selectedTrajectory: null,
  lastWeights: null,
  viewOnly: false,
  charts: [],

  send: () => {
    throw new Error('no training worker is connected');
  },

  receive: (message) => {
    switch (message.type) {
      case 'backend':
        set({ backend: message.backend, kernels: null });
        break;
      case 'kernels':
        set({ kernels: message.kernels });
        break;
      case 'status':
        set({ status: message.status, statusMessage: message.message ?? null, ...(message.status !== 'error' ? { failure: null } : {}) });
        break;
      case 'step':
        set((state) => ({ reports: withRolloutHistory([...state.reports, message.report]) }));
        break;
      case 'weights':
        set({ lastWeights: { step: message.step, bytes: message.bytes } });
        break;
      case 'evaluation':
        set((state) => ({ evaluations: [...state.evaluations, { step: message.step, evaluation: message.evaluation }] }));
        break;
      case 'settingsApplied':
        set((state) => ({ changes: [...state.changes, ...message.changes] }));
        break;
      case 'failure':
        set({ failure: { kind: message.kind, message: message.message, lastGoodStep: message.lastGoodStep }, status: 'error' });
        useFork.getState().abandon();
        break;
      case 'fork':
        useFork.getState().receive(message.reply);
        break;
    }
  },

  start: () => (get().viewOnly ? viewOnlyNotice(set) : get().send({ type: 'start' })),
  pause: () => get().send({ type: 'pause' }),
  step: () => (get().viewOnly ? viewOnlyNotice(set) : get().send({ type: 'step' })),
  resume: () => get().send({ type: 'resume' }),

  reset: () => {
    const { draft, backendChoice } = get();
    useFork.getState().abandon();
    set({
      runId: newRunId(),
      runName: defaultRunName(draft),
      config: draft,
      reports: [],
      evaluations: [],
      changes: [],
      selectedStep: null,
      selectedTrajectory: null,
      failure: null,
      status: 'loading',
      lastWeights: null,
      viewOnly: false,
    });
    get().send({ type: 'init', config: draft, backend: backendChoice });
  },

  openRun: (run) => {
    const { backendChoice } = get();
    useFork.getState().abandon();
    const viewOnly = run.weights === null && run.reports.length > 0;
    const upTo = viewOnly ? Infinity : (run.weights?.step ?? 0);
    set({
      runId: run.meta.id,
      runName: run.meta.name,
      config: run.meta.config,
      draft: run.meta.config,
      // Steps after the saved weights (at most the one in flight when the page went away) are re-run.
      reports: withRolloutHistory(run.reports.filter((r) => r.step <= upTo)),
      evaluations: run.evaluations.filter((e) => e.step <= upTo),
      changes: run.changes,
      selectedStep: null,
      selectedTrajectory: null,
      failure: null,
      status: 'loading',
      lastWeights: run.weights,
      viewOnly,
      // A run saved before charts could be added keeps the charts shown.
      ...(run.meta.charts ? { charts: run.meta.charts } : {}),
    });
    get().send({ type: 'init', config: run.meta.config, backend: backendChoice, resume: run.weights ?? undefined });
  },

  renameRun: (name) => set({ runName: name }),

  editConfig: (patch) => {
    const draft = { ...get().draft, ...patch };
    set({ draft });
    const settings = liveSettings(patch);
    if (settings) {
      set((state) => ({ config: { ...state.config, ...settings } }));
      get().send({ type: 'settings', settings });
    }
  },

  setBackendChoice: (choice) => set({ backendChoice: choice }),
  selectStep: (step) => set({ selectedStep: step, selectedTrajectory: null }),
  selectTrajectory: (index) => set({ selectedTrajectory: index }),
  setCharts: (charts) => set({ charts }),
}));

function viewOnlyNotice(set: (partial: Partial<WorkbenchState>) => void): void {
  set({ statusMessage: 'This run was imported without weights: it can be viewed and compared; Reset starts a new run with its settings.' });
}

/** The report the inspector shows: the selected step, or the latest. */
export function shownReport(state: Pick<WorkbenchState, 'reports' | 'selectedStep'>): StepReport | null {
  if (state.reports.length === 0) return null;
  if (state.selectedStep === null) return state.reports[state.reports.length - 1];
  return state.reports.find((report) => report.step === state.selectedStep) ?? null;
}
