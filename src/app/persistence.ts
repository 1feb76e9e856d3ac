// Saves the run the page shows as it goes: each completed step (metrics for ever, rollouts of the
// recent steps), each evaluation, the live changes and the weights of the last step, in the
// order they happened. Remembers which run was open, so a reload reopens it.

import { RunsDb, StorageFullError, type RunMeta, type SavedRun } from './runsDb';
import { useWorkbench, type WorkbenchState } from './store';

const CURRENT_RUN_KEY = 'tao-rl-workbench:current-run';

/** What the page says about saving: null while all is well. */
export type StorageNotice = (message: string) => void;

function newMeta(state: WorkbenchState): RunMeta {
  const now = new Date().toISOString();
  return { id: state.runId, name: state.runName, created: now, updated: now, config: state.config, lastStep: 0, weightsStep: 0, source: 'page', charts: state.charts };
}

const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The run to reopen after a reload: the one open last, if it is still saved. */
export async function lastOpenRun(db: RunsDb): Promise<SavedRun | undefined> {
  const id = globalThis.localStorage?.getItem(CURRENT_RUN_KEY);
  if (!id) return undefined;
  const run = await db.loadRun(id);
  return run && run.meta.deletedAt === undefined ? run : undefined;
}

export interface Persistence {
  stop: () => void;
  /** Resolves once every write queued so far is done. */
  idle: () => Promise<void>;
}

/**
 * Follows the store and writes what changed, one write after another. `onChange` is called after
 * every write that changes the run list (for the runs panel).
 */
export function startPersistence(db: RunsDb, notice: StorageNotice, onChange: () => void): Persistence {
  let meta: RunMeta | null = null;
  let writes: Promise<unknown> = Promise.resolve();
  // Each write starts in a task of its own: IndexedDB copies a step's report (structured clone)
  // when it is put, tens of milliseconds for a large step, and run as a microtask that copy would
  // land in the task that received the step from the worker.
  const enqueue = (write: () => Promise<unknown>) => {
    writes = writes.then(nextTask).then(write).catch((error: unknown) => {
      const why = error instanceof StorageFullError ? error.message : `saving failed: ${(error as Error).message}`;
      notice(`This run is no longer being saved (${why}). Free some space (delete runs) to keep saving.`);
    });
  };
  const pruned = (count: number) =>
    notice(`Browser storage ran short: the rollouts of the ${count} oldest saved steps were removed (metrics and settings are kept).`);

  const adopt = (state: WorkbenchState) => {
    enqueue(async () => {
      // A run left before its first step is not worth a place in the list.
      if (meta && meta.lastStep === 0 && meta.source === 'page' && meta.id !== state.runId) await db.deleteRun(meta.id);
      meta = (await db.getRun(state.runId)) ?? newMeta(state);
      if (meta.name !== state.runName) meta = { ...meta, name: state.runName };
      // A reopened run continues from its saved weights: the steps saved after them are re-run.
      const shown = state.reports.at(-1)?.step ?? 0;
      if (!state.viewOnly && meta.lastStep > shown) meta = await db.dropStepsAfter(meta, shown);
      await db.putRun(meta);
      globalThis.localStorage?.setItem(CURRENT_RUN_KEY, state.runId);
      onChange();
    });
  };
  adopt(useWorkbench.getState());

  const unsubscribe = useWorkbench.subscribe((state, previous) => {
    if (state.runId !== previous.runId) {
      adopt(state);
      return;
    }
    if (state.runName !== previous.runName) {
      enqueue(async () => {
        meta = { ...meta!, name: state.runName };
        await db.putRun(meta);
        onChange();
      });
    }
    if (state.config !== previous.config) {
      enqueue(async () => {
        meta = { ...meta!, config: state.config };
        await db.putRun(meta);
      });
    }
    if (state.charts !== previous.charts) {
      enqueue(async () => {
        meta = { ...meta!, charts: state.charts };
        await db.putRun(meta);
      });
    }
    if (state.reports !== previous.reports) {
      const runId = state.runId;
      for (const report of state.reports.slice(-Math.max(1, state.reports.length - previous.reports.length))) {
        enqueue(async () => {
          if (meta?.id !== runId || report.step <= meta.lastStep) return; // an opened run's own steps
          await db.saveStep(meta, report, pruned);
          meta = { ...meta, lastStep: report.step, updated: new Date().toISOString() };
          onChange();
        });
      }
    }
    if (state.evaluations !== previous.evaluations && state.evaluations.length > previous.evaluations.length) {
      const runId = state.runId;
      for (const { step, evaluation } of state.evaluations.slice(previous.evaluations.length)) {
        enqueue(() => db.saveEvaluation(runId, step, evaluation));
      }
    }
    if (state.changes !== previous.changes && state.changes.length > 0) {
      const runId = state.runId;
      const changes = state.changes;
      enqueue(() => db.saveChanges(runId, changes));
    }
    if (state.lastWeights !== previous.lastWeights && state.lastWeights) {
      const weights = state.lastWeights;
      enqueue(async () => {
        if (!meta || weights.step <= meta.weightsStep) return;
        await db.saveWeights(meta, weights, pruned);
        meta = { ...meta, weightsStep: weights.step };
        onChange();
      });
    }
  });
  return { stop: unsubscribe, idle: () => writes.then(() => undefined) };
}
