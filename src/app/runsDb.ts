// Runs saved in the browser (IndexedDB), so a reload, a crash or a closed tab loses at most the
// step in flight. Per run: its description (name, config, last step), every step's metrics, full
// rollouts of its most recent steps, held-out evaluations, live changes, and the weights of its
// last step. When storage runs short, the oldest rollouts go first; metrics and configs never.

import type { Config } from '../core/config';
import type { Evaluation } from '../core/evaluate';
import { currentStepMetrics } from '../core/metrics';
import type { StepReport } from '../core/trainer';
import type { SettingChange } from '../runs/types';
import type { WeightSnapshot } from '../worker/protocol';
import type { AddedChart } from './chartChoice';

export const DB_NAME = 'tao-rl-workbench';
const DB_VERSION = 1;

/** Rollouts kept per run (the page keeps as many in memory). */
export const SAVED_ROLLOUT_STEPS = 200;

export interface RunMeta {
  id: string;
  name: string;
  /** ISO times. */
  created: string;
  updated: string;
  /** The config the run started with, live changes applied. */
  config: Config;
  /** Last step saved (0: none yet). */
  lastStep: number;
  /** Step of the saved weights (0: none; the run starts from the bundled checkpoint). */
  weightsStep: number;
  /** Where it came from: trained on this page, or imported from a file. */
  source: 'page' | 'import';
  /** The charts added on the page for this run ("Add a chart"); absent in runs saved before them. */
  charts?: AddedChart[];
  /** Set while a deletion can still be undone; such runs are hidden from the list. */
  deletedAt?: number;
}

/** A whole run as the page holds it. */
export interface SavedRun {
  meta: RunMeta;
  reports: StepReport[];
  evaluations: { step: number; evaluation: Evaluation }[];
  changes: SettingChange[];
  weights: WeightSnapshot | null;
}

type StepRow = { runId: string; step: number; report: StepReport };
type RolloutRow = { runId: string; step: number; trajectories: StepReport['trajectories'] };
type EvaluationRow = { runId: string; step: number; evaluation: Evaluation };
type ChangesRow = { runId: string; changes: SettingChange[] };
type WeightsRow = { runId: string; step: number; bytes: Uint8Array };

const STORES = ['runs', 'steps', 'rollouts', 'evaluations', 'changes', 'weights'] as const;
type StoreName = (typeof STORES)[number];

/** Storage ran short even after pruning every old rollout it could. */
export class StorageFullError extends Error {}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('the storage transaction was aborted'));
  });
}

function isQuotaError(error: unknown): boolean {
  return error instanceof DOMException && (error.name === 'QuotaExceededError' || error.code === 22);
}

/** A run's key range in the [runId, step] stores. */
function runRange(runId: string): IDBKeyRange {
  return IDBKeyRange.bound([runId, -Infinity], [runId, Infinity]);
}

export class RunsDb {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(factory: IDBFactory = indexedDB): Promise<RunsDb> {
    const req = factory.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('runs', { keyPath: 'id' });
      for (const name of ['steps', 'rollouts', 'evaluations'] as const) db.createObjectStore(name, { keyPath: ['runId', 'step'] });
      db.createObjectStore('changes', { keyPath: 'runId' });
      db.createObjectStore('weights', { keyPath: 'runId' });
    };
    return new RunsDb(await request(req));
  }

  close(): void {
    this.db.close();
  }

  /** Runs a write; when storage is full, prunes the oldest rollouts and tries once more. */
  private async write(stores: StoreName[], body: (tx: IDBTransaction) => void, onPrune?: (pruned: number) => void): Promise<void> {
    const attempt = () => {
      const tx = this.db.transaction(stores, 'readwrite');
      body(tx);
      return done(tx);
    };
    try {
      await attempt();
    } catch (error) {
      if (!isQuotaError(error)) throw error;
      const pruned = await this.pruneOldestRollouts();
      onPrune?.(pruned);
      try {
        await attempt();
      } catch (again) {
        if (isQuotaError(again)) throw new StorageFullError('browser storage is full even after removing old rollouts');
        throw again;
      }
    }
  }

  /** Runs not being deleted, most recently updated first. */
  async listRuns(): Promise<RunMeta[]> {
    const tx = this.db.transaction('runs');
    const runs = (await request(tx.objectStore('runs').getAll())) as RunMeta[];
    return runs.filter((run) => run.deletedAt === undefined).sort((a, b) => b.updated.localeCompare(a.updated));
  }

  async getRun(id: string): Promise<RunMeta | undefined> {
    return (await request(this.db.transaction('runs').objectStore('runs').get(id))) as RunMeta | undefined;
  }

  async putRun(meta: RunMeta): Promise<void> {
    await this.write(['runs'], (tx) => tx.objectStore('runs').put(meta));
  }

  /**
   * Saves a completed step: its report without rollouts (kept for ever), its rollouts (kept for
   * the last SAVED_ROLLOUT_STEPS steps) and the run's last step, in one transaction.
   */
  async saveStep(meta: RunMeta, report: StepReport, onPrune?: (pruned: number) => void): Promise<void> {
    const updated: RunMeta = { ...meta, lastStep: report.step, updated: new Date().toISOString() };
    await this.write(
      ['runs', 'steps', 'rollouts'],
      (tx) => {
        tx.objectStore('runs').put(updated);
        tx.objectStore('steps').put({ runId: meta.id, step: report.step, report: { ...report, trajectories: [] } } satisfies StepRow);
        if (report.trajectories.length > 0) {
          tx.objectStore('rollouts').put({ runId: meta.id, step: report.step, trajectories: report.trajectories } satisfies RolloutRow);
        }
        const stale = report.step - SAVED_ROLLOUT_STEPS;
        if (stale >= 1) tx.objectStore('rollouts').delete(IDBKeyRange.bound([meta.id, -Infinity], [meta.id, stale]));
      },
      onPrune,
    );
  }

  async saveEvaluation(runId: string, step: number, evaluation: Evaluation): Promise<void> {
    await this.write(['evaluations'], (tx) => tx.objectStore('evaluations').put({ runId, step, evaluation } satisfies EvaluationRow));
  }

  async saveChanges(runId: string, changes: SettingChange[]): Promise<void> {
    await this.write(['changes'], (tx) => tx.objectStore('changes').put({ runId, changes } satisfies ChangesRow));
  }

  /** The weights of the run's latest step (earlier ones are overwritten). */
  async saveWeights(meta: RunMeta, weights: WeightSnapshot, onPrune?: (pruned: number) => void): Promise<void> {
    await this.write(
      ['runs', 'weights'],
      (tx) => {
        tx.objectStore('weights').put({ runId: meta.id, step: weights.step, bytes: weights.bytes } satisfies WeightsRow);
        tx.objectStore('runs').put({ ...meta, weightsStep: weights.step });
      },
      onPrune,
    );
  }

  /** Everything saved of a run; steps after its saved weights are dropped (they are re-run). */
  async loadRun(id: string): Promise<SavedRun | undefined> {
    const tx = this.db.transaction(['runs', 'steps', 'rollouts', 'evaluations', 'changes', 'weights']);
    const meta = (await request(tx.objectStore('runs').get(id))) as RunMeta | undefined;
    if (!meta) return undefined;
    const [steps, rollouts, evaluations, changes, weights] = await Promise.all([
      request(tx.objectStore('steps').getAll(runRange(id))) as Promise<StepRow[]>,
      request(tx.objectStore('rollouts').getAll(runRange(id))) as Promise<RolloutRow[]>,
      request(tx.objectStore('evaluations').getAll(runRange(id))) as Promise<EvaluationRow[]>,
      request(tx.objectStore('changes').get(id)) as Promise<ChangesRow | undefined>,
      request(tx.objectStore('weights').get(id)) as Promise<WeightsRow | undefined>,
    ]);
    const trajectories = new Map(rollouts.map((row) => [row.step, row.trajectories]));
    return {
      meta,
      // Runs saved before the metrics took verl's and TRL's names are read under the new names.
      reports: steps.map((row) => ({ ...row.report, metrics: currentStepMetrics(row.report.metrics), trajectories: trajectories.get(row.step) ?? [] })),
      evaluations: evaluations.map((row) => ({ step: row.step, evaluation: row.evaluation })),
      changes: changes?.changes ?? [],
      weights: weights ? { step: weights.step, bytes: weights.bytes } : null,
    };
  }

  /** Saves a whole run at once (an import, or a duplicate). */
  async saveRun(run: SavedRun): Promise<void> {
    await this.write(['runs', 'steps', 'rollouts', 'evaluations', 'changes', 'weights'], (tx) => {
      tx.objectStore('runs').put(run.meta);
      for (const report of run.reports) {
        tx.objectStore('steps').put({ runId: run.meta.id, step: report.step, report: { ...report, trajectories: [] } } satisfies StepRow);
        if (report.trajectories.length > 0) tx.objectStore('rollouts').put({ runId: run.meta.id, step: report.step, trajectories: report.trajectories });
      }
      for (const { step, evaluation } of run.evaluations) tx.objectStore('evaluations').put({ runId: run.meta.id, step, evaluation });
      tx.objectStore('changes').put({ runId: run.meta.id, changes: run.changes });
      if (run.weights) tx.objectStore('weights').put({ runId: run.meta.id, ...run.weights });
    });
  }

  /** Forgets a run's steps (metrics, rollouts, evaluations) after `step`: they are to be run again. */
  async dropStepsAfter(meta: RunMeta, step: number): Promise<RunMeta> {
    const updated = { ...meta, lastStep: Math.min(meta.lastStep, step) };
    await this.write(['runs', 'steps', 'rollouts', 'evaluations'], (tx) => {
      const after = IDBKeyRange.bound([meta.id, step], [meta.id, Infinity], true, false);
      for (const name of ['steps', 'rollouts', 'evaluations'] as const) tx.objectStore(name).delete(after);
      tx.objectStore('runs').put(updated);
    });
    return updated;
  }

  /** Hides a run; `undoDelete` brings it back, `purgeDeleted` removes it for good. */
  async markDeleted(id: string, deleted: boolean): Promise<void> {
    const meta = await this.getRun(id);
    if (!meta) return;
    const { deletedAt: _, ...rest } = meta;
    await this.putRun(deleted ? { ...rest, deletedAt: Date.now() } : rest);
  }

  /** Removes a run and everything saved of it. */
  async deleteRun(id: string): Promise<void> {
    const tx = this.db.transaction(['runs', 'steps', 'rollouts', 'evaluations', 'changes', 'weights'], 'readwrite');
    tx.objectStore('runs').delete(id);
    for (const name of ['steps', 'rollouts', 'evaluations'] as const) tx.objectStore(name).delete(runRange(id));
    tx.objectStore('changes').delete(id);
    tx.objectStore('weights').delete(id);
    await done(tx);
  }

  /** Removes runs whose deletion was not undone (call at startup). */
  async purgeDeleted(): Promise<void> {
    const runs = (await request(this.db.transaction('runs').objectStore('runs').getAll())) as RunMeta[];
    for (const run of runs) if (run.deletedAt !== undefined) await this.deleteRun(run.id);
  }

  /**
   * Deletes the oldest saved rollouts (of any run, oldest update first, lowest steps first):
   * a quarter of them, at least one. Returns how many steps' rollouts went.
   */
  async pruneOldestRollouts(): Promise<number> {
    const runs = ((await request(this.db.transaction('runs').objectStore('runs').getAll())) as RunMeta[]).sort((a, b) =>
      a.updated.localeCompare(b.updated),
    );
    const keys = (await request(this.db.transaction('rollouts').objectStore('rollouts').getAllKeys())) as [string, number][];
    const order = new Map(runs.map((run, i) => [run.id, i]));
    keys.sort((a, b) => (order.get(a[0]) ?? -1) - (order.get(b[0]) ?? -1) || a[1] - b[1]);
    const victims = keys.slice(0, Math.max(1, Math.ceil(keys.length / 4)));
    if (victims.length === 0 || keys.length === 0) return 0;
    const tx = this.db.transaction('rollouts', 'readwrite');
    for (const key of victims) tx.objectStore('rollouts').delete(key);
    await done(tx);
    return victims.length;
  }
}
