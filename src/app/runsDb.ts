// Runs saved in the browser (IndexedDB), so a reload, a crash or a closed tab loses at most the
// step in flight. Per run: its description (name, config, last step), every step's metrics, full
// rollouts of its most recent steps, held-out evaluations, live changes, and the weights of its
// last step. When storage runs short, saved data gives way in `pruneOrder`'s order (old rollouts,
// then other runs' weights), a little more each time until the write goes through; metrics and
// settings never. Room is kept ahead of the writes where the browser's estimate allows.

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
type Trajectories = StepReport['trajectories'];
/** A step's rollouts: packed (see packTrajectories) where the browser keeps Blobs, else as they are. */
type RolloutRow = { runId: string; step: number; trajectories?: Trajectories; packed?: Blob };
type EvaluationRow = { runId: string; step: number; evaluation: Evaluation };
type ChangesRow = { runId: string; changes: SettingChange[] };
type WeightsRow = { runId: string; step: number; bytes: Uint8Array };

const STORES = ['runs', 'steps', 'rollouts', 'evaluations', 'changes', 'weights'] as const;
type StoreName = (typeof STORES)[number];

// Rollouts are packed into a gzip Blob where the browser keeps Blobs as files (Chromium): removing
// one gives its space back at once, whereas the space of a record kept inline in the database
// returns only when the database compacts, which a nearly full origin may never reach. The text
// is JSON with NaN and the infinities spelt {"~": "NaN"}.

const NON_FINITE = '~';

export async function packTrajectories(trajectories: Trajectories): Promise<Blob> {
  const json = JSON.stringify(trajectories, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isFinite(value) ? { [NON_FINITE]: String(value) } : value,
  );
  return new Response(new Blob([json]).stream().pipeThrough(new CompressionStream('gzip'))).blob();
}

export async function unpackTrajectories(packed: Blob): Promise<Trajectories> {
  const json = await new Response(packed.stream().pipeThrough(new DecompressionStream('gzip'))).text();
  return JSON.parse(json, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length === 1 && keys[0] === NON_FINITE) return Number((value as Record<string, string>)[NON_FINITE]);
    }
    return value;
  }) as Trajectories;
}

/** Storage ran short even after removing everything that may give way. */
export class StorageFullError extends Error {}

/** Saved data that may give way when storage runs short: a step's rollouts, or a run's weights. */
export interface Prunable {
  store: 'rollouts' | 'weights';
  runId: string;
  step: number;
}

/** What was removed to make room: steps' rollouts, and runs' weights. */
export interface Pruned {
  rollouts: number;
  weights: number;
}

/** What a write may remove when storage runs short: rollouts only, or other runs' weights too. */
type GiveWay = 'rollouts' | 'rollouts and weights';

/** Entries removed in the first round of pruning; each further round removes twice as many. */
const FIRST_PRUNE = 2;

/**
 * The order in which saved data gives way when storage runs short, first to last: rollouts, those
 * of the run updated longest ago first (rollouts of no listed run before any), lowest steps
 * first; then the weights of runs other than `keep`, updated longest ago first (such a run can
 * still be viewed and compared, no longer resumed). Metrics, settings, evaluations, live changes
 * and the weights of `keep` (the run being trained) never give way. With `giveWay` 'rollouts',
 * only rollouts.
 */
export function pruneOrder(
  runs: readonly Pick<RunMeta, 'id' | 'updated'>[],
  rollouts: readonly (readonly [string, number])[],
  weights: readonly { runId: string; step: number }[],
  keep: string | null,
  giveWay: GiveWay = 'rollouts and weights',
): Prunable[] {
  const age = new Map([...runs].sort((a, b) => a.updated.localeCompare(b.updated)).map((run, i) => [run.id, i]));
  const rank = (runId: string) => age.get(runId) ?? -1;
  const oldRollouts = [...rollouts]
    .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
    .map(([runId, step]): Prunable => ({ store: 'rollouts', runId, step }));
  if (giveWay === 'rollouts') return oldRollouts;
  const otherWeights = weights
    .filter((row) => row.runId !== keep)
    .sort((a, b) => rank(a.runId) - rank(b.runId))
    .map(({ runId, step }): Prunable => ({ store: 'weights', runId, step }));
  return [...oldRollouts, ...otherWeights];
}

/** The part of `StorageManager` the runs use (absent where the browser has none, as in tests). */
export type StorageEstimator = Pick<StorageManager, 'estimate'>;

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
  /**
   * The usage at which the browser last refused a write, plus that write's size: a limit its
   * estimate may not show (a quota set from outside, a nearly full disk). Null until a refusal.
   */
  private refusedAbove: number | null = null;

  private constructor(
    private readonly db: IDBDatabase,
    private readonly storage: StorageEstimator | undefined,
    /** Whether rollouts are packed into Blobs (this browser's IndexedDB keeps a Blob as a Blob). */
    private readonly packsRollouts: boolean,
  ) {}

  /** Whether `db` gives a stored Blob back as a Blob, and the browser can gzip: then rollouts are packed. */
  private static async keepsBlobs(db: IDBDatabase): Promise<boolean> {
    if (typeof CompressionStream !== 'function' || typeof DecompressionStream !== 'function') return false;
    const key: [string, number] = ['\u0000probe', 0];
    try {
      const write = db.transaction('rollouts', 'readwrite');
      write.objectStore('rollouts').put({ runId: key[0], step: key[1], packed: new Blob(['probe']) } satisfies RolloutRow);
      await done(write);
      const row = (await request(db.transaction('rollouts').objectStore('rollouts').get(key))) as RolloutRow | undefined;
      const erase = db.transaction('rollouts', 'readwrite');
      erase.objectStore('rollouts').delete(key);
      await done(erase);
      return row?.packed instanceof Blob && (await row.packed.text()) === 'probe';
    } catch {
      return false;
    }
  }

  static async open(factory: IDBFactory = indexedDB, storage: StorageEstimator | undefined = globalThis.navigator?.storage): Promise<RunsDb> {
    const req = factory.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('runs', { keyPath: 'id' });
      for (const name of ['steps', 'rollouts', 'evaluations'] as const) db.createObjectStore(name, { keyPath: ['runId', 'step'] });
      db.createObjectStore('changes', { keyPath: 'runId' });
      db.createObjectStore('weights', { keyPath: 'runId' });
    };
    const db = await request(req);
    return new RunsDb(db, storage, await RunsDb.keepsBlobs(db));
  }

  close(): void {
    this.db.close();
  }

  /**
   * Runs a write. When storage is full, removes what may give way (`pruneOrder`), a little more
   * each round, until the write goes through; throws StorageFullError when nothing is left to
   * remove. `bytes`: the write's rough size, for the limit learnt from a refusal.
   */
  private async write(
    stores: StoreName[],
    body: (tx: IDBTransaction) => void,
    options: { keep?: string | null; giveWay?: GiveWay; bytes?: number; onPrune?: (pruned: Pruned) => void } = {},
  ): Promise<void> {
    const attempt = () => {
      const tx = this.db.transaction(stores, 'readwrite');
      try {
        body(tx);
      } catch (error) {
        tx.abort();
        throw error;
      }
      return done(tx);
    };
    for (let round = 0; ; round++) {
      try {
        await attempt();
        return;
      } catch (error) {
        if (!isQuotaError(error)) throw error;
        await this.learnRefusal(options.bytes ?? 0);
        const pruned = await this.prune(FIRST_PRUNE * 2 ** round, options.keep ?? null, options.giveWay ?? 'rollouts and weights');
        if (pruned.rollouts + pruned.weights === 0) {
          const what = options.giveWay === 'rollouts' ? 'every old rollout' : "every old rollout and other runs' weights";
          throw new StorageFullError(`browser storage is full even after removing ${what}`);
        }
        options.onPrune?.(pruned);
      }
    }
  }

  /** Usage and quota as the browser estimates them; null where it gives no estimate. */
  private async estimate(): Promise<{ usage: number; quota: number } | null> {
    try {
      const estimate = await this.storage?.estimate();
      if (estimate?.usage === undefined || estimate.quota === undefined) return null;
      return { usage: estimate.usage, quota: estimate.quota };
    } catch {
      return null;
    }
  }

  private async learnRefusal(bytes: number): Promise<void> {
    const estimate = await this.estimate();
    if (estimate) this.refusedAbove = estimate.usage + bytes;
  }

  /**
   * Bytes that can still be written before the browser refuses, as far as it can be told: the
   * estimate's quota, or the limit learnt from a refusal when lower. Null without an estimate.
   */
  async room(): Promise<{ room: number; limit: number } | null> {
    const estimate = await this.estimate();
    if (!estimate) return null;
    // Usage above the learnt limit: the browser gave more room since; forget it.
    if (this.refusedAbove !== null && estimate.usage > this.refusedAbove) this.refusedAbove = null;
    const limit = Math.min(estimate.quota, this.refusedAbove ?? Infinity);
    return { room: limit - estimate.usage, limit };
  }

  /**
   * Removes old rollouts, oldest first, until `bytes` more fit with a twentieth of the limit to
   * spare: room kept before the writes, instead of found missing by a refused one. Does nothing
   * where the browser gives no estimate.
   */
  async keepRoom(bytes: number, keep: string | null): Promise<Pruned> {
    const total: Pruned = { rollouts: 0, weights: 0 };
    let space = await this.room();
    let count = FIRST_PRUNE;
    while (space !== null && space.room < bytes + space.limit / 20) {
      const pruned = await this.prune(count, keep, 'rollouts');
      if (pruned.rollouts === 0) break;
      total.rollouts += pruned.rollouts;
      const before = space.room;
      space = await this.room();
      if (space === null) break;
      // As many more as the space one rollout freed says are needed (twice as many if none showed).
      const perRollout = (space.room - before) / pruned.rollouts;
      const missing = bytes + space.limit / 20 - space.room;
      count = perRollout > 0 ? Math.max(1, Math.ceil(missing / perRollout)) : 2 * count;
    }
    return total;
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

  async putRun(meta: RunMeta, onPrune?: (pruned: Pruned) => void): Promise<void> {
    await this.write(['runs'], (tx) => tx.objectStore('runs').put(meta), { keep: meta.id, onPrune });
  }

  /**
   * Saves steps' metrics (their reports without rollouts, kept for ever) and the run's last step,
   * in one transaction: what is saved before anything else. Several steps at once when earlier
   * ones could not be saved.
   */
  async saveMetrics(meta: RunMeta, reports: readonly StepReport[], onPrune?: (pruned: Pruned) => void): Promise<RunMeta> {
    const last = reports.at(-1);
    if (!last) return meta;
    const updated: RunMeta = { ...meta, lastStep: last.step, updated: new Date().toISOString() };
    await this.write(
      ['runs', 'steps'],
      (tx) => {
        tx.objectStore('runs').put(updated);
        for (const report of reports) {
          tx.objectStore('steps').put({ runId: meta.id, step: report.step, report: { ...report, trajectories: [] } } satisfies StepRow);
        }
      },
      { keep: meta.id, onPrune },
    );
    return updated;
  }

  /**
   * Saves a step's rollouts and forgets those older than SAVED_ROLLOUT_STEPS. Rollouts give way:
   * when storage is short they may replace older rollouts only, and when even that is not enough
   * they are not saved (returns false).
   */
  async saveRollouts(runId: string, report: StepReport, onPrune?: (pruned: Pruned) => void): Promise<boolean> {
    const row = report.trajectories.length > 0 ? await this.rolloutRow(runId, report) : null;
    try {
      await this.write(
        ['rollouts'],
        (tx) => {
          if (row) tx.objectStore('rollouts').put(row);
          const stale = report.step - SAVED_ROLLOUT_STEPS;
          if (stale >= 1) tx.objectStore('rollouts').delete(IDBKeyRange.bound([runId, -Infinity], [runId, stale]));
        },
        { keep: runId, giveWay: 'rollouts', onPrune },
      );
      return true;
    } catch (error) {
      if (error instanceof StorageFullError) return false;
      throw error;
    }
  }

  private async rolloutRow(runId: string, report: StepReport): Promise<RolloutRow> {
    return this.packsRollouts
      ? { runId, step: report.step, packed: await packTrajectories(report.trajectories) }
      : { runId, step: report.step, trajectories: report.trajectories };
  }

  /** A completed step: its metrics, then its rollouts (see saveMetrics and saveRollouts). */
  async saveStep(meta: RunMeta, report: StepReport, onPrune?: (pruned: Pruned) => void): Promise<RunMeta> {
    const updated = await this.saveMetrics(meta, [report], onPrune);
    await this.saveRollouts(meta.id, report, onPrune);
    return updated;
  }

  async saveEvaluation(runId: string, step: number, evaluation: Evaluation, onPrune?: (pruned: Pruned) => void): Promise<void> {
    await this.write(['evaluations'], (tx) => tx.objectStore('evaluations').put({ runId, step, evaluation } satisfies EvaluationRow), {
      keep: runId,
      onPrune,
    });
  }

  async saveChanges(runId: string, changes: SettingChange[], onPrune?: (pruned: Pruned) => void): Promise<void> {
    await this.write(['changes'], (tx) => tx.objectStore('changes').put({ runId, changes } satisfies ChangesRow), { keep: runId, onPrune });
  }

  /** The weights of the run's latest step (earlier ones are overwritten). */
  async saveWeights(meta: RunMeta, weights: WeightSnapshot, onPrune?: (pruned: Pruned) => void): Promise<RunMeta> {
    const updated: RunMeta = { ...meta, weightsStep: weights.step };
    await this.write(
      ['runs', 'weights'],
      (tx) => {
        tx.objectStore('weights').put({ runId: meta.id, step: weights.step, bytes: weights.bytes } satisfies WeightsRow);
        tx.objectStore('runs').put(updated);
      },
      { keep: meta.id, bytes: weights.bytes.byteLength, onPrune },
    );
    return updated;
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
    // A packed step the browser cannot read back (its file gone) loses its rollouts, not the run.
    const unpacked = (packed: Blob) => unpackTrajectories(packed).catch((): Trajectories => []);
    const trajectories = new Map(
      await Promise.all(rollouts.map(async (row) => [row.step, row.packed ? await unpacked(row.packed) : (row.trajectories ?? [])] as const)),
    );
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
    const rollouts = await Promise.all(run.reports.filter((report) => report.trajectories.length > 0).map((report) => this.rolloutRow(run.meta.id, report)));
    await this.write(['runs', 'steps', 'rollouts', 'evaluations', 'changes', 'weights'], (tx) => {
      tx.objectStore('runs').put(run.meta);
      for (const report of run.reports) {
        tx.objectStore('steps').put({ runId: run.meta.id, step: report.step, report: { ...report, trajectories: [] } } satisfies StepRow);
      }
      for (const row of rollouts) tx.objectStore('rollouts').put(row);
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
   * Removes up to `count` entries in `pruneOrder`'s order, then waits (briefly) for the browser to
   * count the space as free: deleted records may take a moment to leave its usage.
   */
  async prune(count: number, keep: string | null, giveWay: GiveWay = 'rollouts and weights'): Promise<Pruned> {
    const read = this.db.transaction(['runs', 'rollouts', 'weights']);
    const [runs, rolloutKeys, weightRows] = await Promise.all([
      request(read.objectStore('runs').getAll()) as Promise<RunMeta[]>,
      request(read.objectStore('rollouts').getAllKeys()) as Promise<[string, number][]>,
      giveWay === 'rollouts' ? Promise.resolve([]) : (request(read.objectStore('weights').getAll()) as Promise<WeightsRow[]>),
    ]);
    const victims = pruneOrder(runs, rolloutKeys, weightRows, keep, giveWay).slice(0, count);
    const pruned: Pruned = { rollouts: 0, weights: 0 };
    if (victims.length === 0) return pruned;
    const before = await this.estimate();
    const tx = this.db.transaction(['rollouts', 'weights'], 'readwrite');
    for (const victim of victims) {
      if (victim.store === 'rollouts') tx.objectStore('rollouts').delete([victim.runId, victim.step]);
      else tx.objectStore('weights').delete(victim.runId);
      pruned[victim.store] += 1;
    }
    await done(tx);
    // The runs list says which runs can be resumed; a separate write, as deletions alone always fit.
    const lostWeights = runs.filter((run) => victims.some((v) => v.store === 'weights' && v.runId === run.id));
    if (lostWeights.length > 0) {
      const update = this.db.transaction('runs', 'readwrite');
      for (const run of lostWeights) update.objectStore('runs').put({ ...run, weightsStep: 0 });
      await done(update).catch(() => {});
    }
    for (let poll = 0; before && poll < 5; poll++) {
      const after = await this.estimate();
      if (!after || after.usage < before.usage) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return pruned;
  }
}
