// Saves the run the page shows as it goes: each completed step's metrics first, then the weights
// of the last step, then its rollouts (what gives way when storage runs short), each evaluation,
// the live changes. Saving degrades and never stops: when even the metrics do not fit, it says so
// and catches up by itself once space returns. Remembers which run each tab shows and which was
// open last, so a reload reopens it.

import type { Config } from '../core/config';
import { liveFields, sameLeaf } from '../core/settings';
import type { StepReport } from '../core/trainer';
import { RunsDb, StorageFullError, type Pruned, type RunMeta, type SavedRun } from './runsDb';
import { useWorkbench, type WorkbenchState } from './store';
import { configToSearch } from './urlConfig';

/** The run open last in this browser (localStorage): what a new tab without a link reopens. */
const CURRENT_RUN_KEY = 'tao-rl-workbench:current-run';
/** The run this tab shows (sessionStorage, one per tab): what a reload of the tab reopens. */
const TAB_RUN_KEY = 'tao-rl-workbench:tab-run';
/** The browser's last answer to the request for persistent storage, so that it is said once. */
const PERSIST_ANSWER_KEY = 'tao-rl-workbench:persist-answer';

/** What the page says about saving. */
export type StorageNotice = (message: string) => void;

function newMeta(state: WorkbenchState): RunMeta {
  const now = new Date().toISOString();
  return { id: state.runId, name: state.runName, created: now, updated: now, config: state.config, lastStep: 0, weightsStep: 0, source: 'page', charts: state.charts };
}

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

async function loadShown(db: RunsDb, id: string | null | undefined): Promise<SavedRun | undefined> {
  if (!id) return undefined;
  const run = await db.loadRun(id);
  return run && run.meta.deletedAt === undefined ? run : undefined;
}

/** The run open last in this browser, if it is still saved. */
export async function lastOpenRun(db: RunsDb): Promise<SavedRun | undefined> {
  return loadShown(db, globalThis.localStorage?.getItem(CURRENT_RUN_KEY));
}

/** Whether this page load is a reload of its tab (or a step back or forward in its history). */
export function wasReloaded(): boolean {
  const [entry] = (globalThis.performance?.getEntriesByType?.('navigation') ?? []) as PerformanceNavigationTiming[];
  return entry?.type === 'reload' || entry?.type === 'back_forward';
}

/**
 * The saved run to open as the page loads, or undefined for a new run. A reload reopens the run
 * its tab showed, whatever the address says (it may carry a live change or a preview not saved
 * yet: see liveDifference). Otherwise the run open last in this browser, unless the address asks
 * for another setup: a link opened in a new tab starts its own run.
 */
export async function runToReopen(db: RunsDb, linked: Config | null, reloaded: boolean): Promise<SavedRun | undefined> {
  if (reloaded) {
    const shown = await loadShown(db, globalThis.sessionStorage?.getItem(TAB_RUN_KEY));
    if (shown) return shown;
  }
  const last = await lastOpenRun(db);
  if (last && (!linked || configToSearch(linked) === configToSearch(last.meta.config))) return last;
  return undefined;
}

/**
 * The live settings in which `linked` differs from a run's saved config, as an edit to apply
 * (a change made just before a reload that the address carries and storage had not yet written);
 * null when none differ. Settings that need a reset are not taken from the address.
 */
export function liveDifference(config: Config, linked: Config): Partial<Config> | null {
  const fields = liveFields().filter((field) => !sameLeaf(config[field as keyof Config], linked[field as keyof Config]));
  return fields.length > 0 ? (Object.fromEntries(fields.map((field) => [field, linked[field as keyof Config]])) as Partial<Config>) : null;
}

/** The part of StorageManager that asks for persistent storage. */
export type PersistRequest = Pick<StorageManager, 'persist' | 'persisted'>;

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

export interface Persistence {
  stop: () => void;
  /** Resolves once every write queued so far is done. */
  idle: () => Promise<void>;
}

/**
 * Follows the store and writes what changed, one write after another. `onChange` is called after
 * every write that changes the run list (for the runs panel). `storage` is asked to keep the runs
 * (persistent storage) once the first step is saved.
 */
export function startPersistence(
  db: RunsDb,
  notice: StorageNotice,
  onChange: () => void,
  storage: PersistRequest | undefined = globalThis.navigator?.storage,
): Persistence {
  let meta: RunMeta | null = null;
  let writes: Promise<unknown> = Promise.resolve();
  /** Rollouts of steps whose metrics are queued or saved: written after the step's weights. */
  let pendingRollouts: StepReport[] = [];
  /** What storage running short cost so far, said in one sentence. */
  const gaveWay = { rollouts: 0, weights: 0, newRollouts: 0 };
  /** The first step not fully saved (metrics or weights), while saving is behind. */
  let behindFrom: number | null = null;
  let askedToPersist = false;

  // Each write starts in a task of its own: IndexedDB copies a step's report (structured clone)
  // when it is put, tens of milliseconds for a large step, and run as a microtask that copy would
  // land in the task that received the step from the worker.
  const enqueue = (write: () => Promise<unknown>) => {
    writes = writes
      .then(nextTask)
      .then(write)
      .catch((error: unknown) => {
        // An evaluation, the live changes or a rename that did not fit: written again on catching up.
        if (error instanceof StorageFullError) behind((meta?.lastStep ?? 0) + 1);
        else notice(`Saving failed: ${(error as Error).message}. Later steps will try again.`);
      });
  };

  const sayGaveWay = () => {
    if (behindFrom !== null) return; // the sentence that saving is behind matters more
    const parts = [];
    if (gaveWay.rollouts > 0) parts.push(`the rollouts of ${plural(gaveWay.rollouts, 'older step', 'older steps')} were removed`);
    if (gaveWay.weights > 0) parts.push(`the weights of ${plural(gaveWay.weights, 'older run', 'older runs')} (viewable, no longer resumable)`);
    if (gaveWay.newRollouts > 0) parts.push(`the rollouts of ${plural(gaveWay.newRollouts, 'new step were', 'new steps were')} not saved`);
    notice(`Browser storage ran short: to keep saving, ${parts.join('; ')}. Every step's metrics, the settings and the last weights are saved.`);
  };
  const pruned = (removed: Pruned) => {
    if (removed.rollouts + removed.weights === 0) return;
    gaveWay.rollouts += removed.rollouts;
    gaveWay.weights += removed.weights;
    sayGaveWay();
  };

  /** Saving fell behind: a write did not fit even after pruning. Said once. */
  const behind = (from: number) => {
    if (behindFrom !== null) return;
    behindFrom = from;
    notice(
      `Steps from ${from} on are not saved yet: browser storage is full even after removing every old rollout and other runs' weights. ` +
        'Training goes on, and saving catches up by itself once space is freed (delete or export runs).',
    );
  };

  /** The metrics and weights are saved again: what else may have been refused meanwhile is written again. */
  const catchUp = async (runId: string) => {
    if (behindFrom === null || !meta) return;
    const { changes, evaluations } = useWorkbench.getState();
    if (changes.length > 0) await db.saveChanges(runId, changes, pruned);
    for (const { step, evaluation } of evaluations) await db.saveEvaluation(runId, step, evaluation, pruned);
    behindFrom = null;
    notice(`Saving caught up: every step up to ${meta.weightsStep} is saved.`);
  };

  /** Asks once per page for persistent storage, and says the browser's answer when it is new. */
  const askToPersist = async () => {
    askedToPersist = true;
    if (!storage?.persist || (await storage.persisted?.())) return;
    const granted = await storage.persist();
    const answer = granted ? 'granted' : 'refused';
    if (globalThis.localStorage?.getItem(PERSIST_ANSWER_KEY) === answer) return;
    globalThis.localStorage?.setItem(PERSIST_ANSWER_KEY, answer);
    notice(
      granted
        ? 'The browser will keep the saved runs when its disk runs short (persistent storage granted).'
        : 'The browser did not grant persistent storage: it may remove saved runs when its disk runs short. Export the runs you want to keep.',
    );
  };

  const adopt = (state: WorkbenchState) => {
    globalThis.sessionStorage?.setItem(TAB_RUN_KEY, state.runId);
    pendingRollouts = [];
    enqueue(async () => {
      // A run left before its first step is not worth a place in the list.
      if (meta && meta.lastStep === 0 && meta.source === 'page' && meta.id !== state.runId) await db.deleteRun(meta.id);
      meta = (await db.getRun(state.runId)) ?? newMeta(state);
      if (meta.name !== state.runName) meta = { ...meta, name: state.runName };
      // A reopened run continues from its saved weights: the steps saved after them are re-run.
      const shown = state.reports.at(-1)?.step ?? 0;
      if (!state.viewOnly && meta.lastStep > shown) meta = await db.dropStepsAfter(meta, shown);
      await db.putRun(meta, pruned);
      globalThis.localStorage?.setItem(CURRENT_RUN_KEY, state.runId);
      onChange();
    });
  };
  adopt(useWorkbench.getState());

  /** Every shown step of the run whose metrics are not saved yet, in one write. */
  const saveMetrics = async (runId: string) => {
    const state = useWorkbench.getState();
    if (!meta || meta.id !== runId || state.runId !== runId) return;
    const lastSaved = meta.lastStep;
    const unsaved = state.reports.filter((report) => report.step > lastSaved);
    if (unsaved.length === 0) return;
    try {
      meta = await db.saveMetrics(meta, unsaved, pruned);
    } catch (error) {
      if (!(error instanceof StorageFullError)) throw error;
      behind(unsaved[0].step);
      return;
    }
    onChange();
    if (!askedToPersist) void askToPersist().catch(() => {});
  };

  /** The weights of the last step, then the rollouts waiting for them. */
  const saveWeights = async (runId: string, weights: NonNullable<WorkbenchState['lastWeights']>) => {
    if (!meta || meta.id !== runId) return;
    // Weights ahead of the saved metrics would resume a run with steps missing: they wait.
    if (weights.step > meta.weightsStep && weights.step <= meta.lastStep) {
      // The old copy stays until the new one commits: room for one more, kept ahead of time.
      pruned(await db.keepRoom(weights.bytes.byteLength, meta.id));
      try {
        meta = await db.saveWeights(meta, weights, pruned);
        onChange();
      } catch (error) {
        if (!(error instanceof StorageFullError)) throw error;
        behind(meta.weightsStep + 1);
      }
    }
    if (meta.lastStep >= weights.step && meta.weightsStep >= weights.step) await catchUp(runId);
    const rollouts = pendingRollouts.filter((report) => report.step <= meta!.lastStep);
    pendingRollouts = pendingRollouts.filter((report) => report.step > meta!.lastStep);
    for (const report of rollouts) {
      if (!(await db.saveRollouts(runId, report, pruned))) {
        gaveWay.newRollouts += 1;
        sayGaveWay();
      }
    }
  };

  const unsubscribe = useWorkbench.subscribe((state, previous) => {
    if (state.runId !== previous.runId) {
      adopt(state);
      return;
    }
    const runId = state.runId;
    if (state.runName !== previous.runName) {
      enqueue(async () => {
        meta = { ...meta!, name: state.runName };
        await db.putRun(meta, pruned);
        onChange();
      });
    }
    if (state.config !== previous.config) {
      enqueue(async () => {
        meta = { ...meta!, config: state.config };
        await db.putRun(meta, pruned);
      });
    }
    if (state.charts !== previous.charts) {
      enqueue(async () => {
        meta = { ...meta!, charts: state.charts };
        await db.putRun(meta, pruned);
      });
    }
    if (state.reports !== previous.reports && state.reports.length > previous.reports.length) {
      const shownBefore = previous.reports.at(-1)?.step ?? 0;
      pendingRollouts.push(...state.reports.filter((report) => report.step > shownBefore && report.trajectories.length > 0));
      enqueue(() => saveMetrics(runId));
    }
    if (state.evaluations !== previous.evaluations && state.evaluations.length > previous.evaluations.length) {
      for (const { step, evaluation } of state.evaluations.slice(previous.evaluations.length)) {
        enqueue(() => db.saveEvaluation(runId, step, evaluation, pruned));
      }
    }
    if (state.changes !== previous.changes && state.changes.length > 0) {
      const changes = state.changes;
      enqueue(() => db.saveChanges(runId, changes, pruned));
    }
    if (state.lastWeights !== previous.lastWeights && state.lastWeights) {
      const weights = state.lastWeights;
      enqueue(() => saveWeights(runId, weights));
    }
  });
  return { stop: unsubscribe, idle: () => writes.then(() => undefined) };
}
