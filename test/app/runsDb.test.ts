// @vitest-environment jsdom
// Runs saved in the browser (src/app/runsDb.ts, persistence.ts, savedRuns.ts) on an in-memory
// IndexedDB: what is kept and for how long, a reload reopening the run where it was, delete with
// undo, and imports that change nothing when a file is bad. When storage runs short: what gives way
// and in which order, pruning a little more each round, room kept ahead of writes, saving that
// falls behind and catches up, and persistent storage asked for. The browser's real quota is
// tested in test/e2e/resilience.test.ts: an in-memory IndexedDB frees space at once and has none.

import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastOpenRun, liveDifference, runToReopen, startPersistence, type Persistence } from '../../src/app/persistence';
import { DB_NAME, pruneOrder, RunsDb, SAVED_ROLLOUT_STEPS, StorageFullError, type RunMeta, type StorageEstimator } from '../../src/app/runsDb';
import { savedFromImport, useSavedRuns } from '../../src/app/savedRuns';
import { initialConfig, useWorkbench } from '../../src/app/store';
import { importRun } from '../../src/runs/format';
import type { Evaluation } from '../../src/core/evaluate';
import type { StepReport, TrajectoryReport } from '../../src/core/trainer';
import type { ToWorker } from '../../src/worker/protocol';

function trajectory(step: number): TrajectoryReport {
  return {
    group: 0, prompt: '2+3', expected: '5', answer: '5', reward: 1, finishReason: 'eos', kept: true, reason: null,
    trainedCopies: 1, advantage: 0.5, toolCalls: [], segments: [{ kind: 'policy', text: String(step) }],
    tokens: { text: [String(step)], kind: ['policy'], entropy: [0.5], logprob: [-1], postTool: [0], lossWeight: [1], advantage: [0.5], bonus: [0] },
  };
}

function report(step: number): StepReport {
  const config = initialConfig();
  return {
    step, preset: 'tao-rl', seed: 1, skipped: false,
    settings: {
      learningRate: config.learningRate, temperature: config.temperature, clipLow: config.clipLow, clipHigh: config.clipHigh,
      dualClip: config.dualClip, entropyCoef: config.entropyCoef, klCoef: config.klCoef, gradClip: config.gradClip,
      flakyProbability: config.flakyProbability, shape: config.shape,
    },
    metrics: { 'critic/score/mean': step / 100 },
    trajectories: [trajectory(step)],
  };
}

const EVALUATION: Evaluation = {
  prompts: 8, samples: 2, sampledAccuracy: 0.5, passAtK: 0.75, greedyAccuracy: null, callRate: 0.5, callFailureRate: 0.25,
  environmentFailureRate: 0, allCallsFailedRate: 0.125, mixedGroups: 0.5, byKind: { sum: 0.5 },
};

function meta(id: string, updated: string): RunMeta {
  return { id, name: id, created: updated, updated, config: initialConfig(), lastStep: 0, weightsStep: 0, source: 'page' };
}

let db: RunsDb;
const sent: ToWorker[] = [];

// A browser refusing writes: the next `refusals` puts into the stores that grow (steps, rollouts,
// weights) throw QuotaExceededError, as Chromium's transactions abort with it. `written` records
// which store each put went to, in order.
let refusals = 0;
const written: string[] = [];
const put = IDBObjectStore.prototype.put;
IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
  if (this.name !== 'runs' && refusals > 0) {
    refusals -= 1;
    throw new DOMException('the quota is exceeded', 'QuotaExceededError');
  }
  written.push(this.name);
  return put.apply(this, args);
};

/** Steps (by run) whose rollouts are saved. */
async function rolloutSteps(runId: string): Promise<number[]> {
  return (await db.loadRun(runId))!.reports.filter((r) => r.trajectories.length > 0).map((r) => r.step);
}

/** Saves `steps` steps of a run with rollouts, and weights of the last, then dates the run. */
async function savedRun(id: string, updated: string, steps: number): Promise<RunMeta> {
  let run = meta(id, updated);
  await db.putRun(run);
  for (let step = 1; step <= steps; step++) run = await db.saveStep(run, report(step));
  run = await db.saveWeights(run, { step: steps, bytes: new Uint8Array(8) });
  run = { ...run, updated };
  await db.putRun(run);
  return run;
}

beforeEach(async () => {
  await new Promise<void>((resolve) => {
    const req = indexedDB.deleteDatabase(DB_NAME);
    req.onsuccess = req.onerror = () => resolve();
  });
  localStorage.clear();
  sessionStorage.clear();
  refusals = 0;
  db = await RunsDb.open();
  written.length = 0;
  sent.length = 0;
  useWorkbench.setState({ send: (command) => void sent.push(command), backendChoice: 'wasm' });
  useWorkbench.getState().reset();
});

afterEach(() => db.close());

describe('saved runs', () => {
  it('keeps every step\'s metrics and the rollouts of the last steps only', async () => {
    const run = meta('a', '2026-01-01T00:00:00Z');
    await db.putRun(run);
    const steps = SAVED_ROLLOUT_STEPS + 5;
    for (let step = 1; step <= steps; step++) await db.saveStep(run, report(step));
    const saved = (await db.loadRun('a'))!;
    expect(saved.reports.map((r) => r.step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
    expect(saved.reports.map((r) => r.metrics['critic/score/mean'])).toEqual(saved.reports.map((r) => r.step / 100));
    // Steps 1-5 lost their rollouts; 6 .. 205 (the last 200) keep theirs.
    expect(saved.reports.filter((r) => r.trajectories.length > 0).map((r) => r.step)[0]).toBe(6);
    expect(saved.reports.filter((r) => r.trajectories.length > 0)).toHaveLength(SAVED_ROLLOUT_STEPS);
    expect(saved.meta.lastStep).toBe(steps);
  });

  it('gives way in order: rollouts of the run updated longest ago first, lowest steps first, then other runs\' weights', () => {
    const runs = [
      { id: 'new', updated: '2026-03-01T00:00:00Z' },
      { id: 'old', updated: '2026-01-01T00:00:00Z' },
      { id: 'mid', updated: '2026-02-01T00:00:00Z' },
    ];
    const rollouts: [string, number][] = [['new', 2], ['mid', 9], ['old', 5], ['new', 1], ['old', 4], ['gone', 7]];
    const weights = [{ runId: 'new', step: 2 }, { runId: 'old', step: 5 }, { runId: 'mid', step: 9 }];
    const order = pruneOrder(runs, rollouts, weights, 'new').map((v) => `${v.store} ${v.runId} ${v.step}`);
    expect(order).toEqual([
      'rollouts gone 7', // a run no longer listed
      'rollouts old 4',
      'rollouts old 5',
      'rollouts mid 9',
      'rollouts new 1',
      'rollouts new 2',
      'weights old 5',
      'weights mid 9',
      // never the weights of the run being trained ('new'), never metrics or settings
    ]);
    expect(pruneOrder(runs, rollouts, weights, 'new', 'rollouts').every((v) => v.store === 'rollouts')).toBe(true);
  });

  it('when a write is refused, removes a little more each round until it goes through; metrics never', async () => {
    await savedRun('old', '2026-01-01T00:00:00Z', 10);
    let run = await savedRun('recent', '2026-02-01T00:00:00Z', 10);
    const removed: { rollouts: number; weights: number }[] = [];
    refusals = 3; // refused three times: rounds of 2, 4 and 8 entries go before the fourth try
    run = await db.saveMetrics(run, [report(11)], (pruned) => removed.push(pruned));
    expect(removed).toEqual([{ rollouts: 2, weights: 0 }, { rollouts: 4, weights: 0 }, { rollouts: 8, weights: 0 }]);
    expect(await rolloutSteps('old')).toEqual([]); // 10 of the old run's, then the recent run's 1-4
    expect(await rolloutSteps('recent')).toEqual([5, 6, 7, 8, 9, 10]);
    expect((await db.loadRun('recent'))!.reports.map((r) => r.step)).toEqual([...Array(11).keys()].map((i) => i + 1));
    expect((await db.loadRun('old'))!.reports).toHaveLength(10);
    expect(run.lastStep).toBe(11);
  });

  it("after every rollout, other runs' weights go; the trained run's weights and everyone's metrics stay; then it says storage is full", async () => {
    await savedRun('old', '2026-01-01T00:00:00Z', 2);
    const run = await savedRun('recent', '2026-02-01T00:00:00Z', 2);
    refusals = 100;
    await expect(db.saveMetrics(run, [report(3)])).rejects.toThrow(StorageFullError);
    const [old, recent] = [(await db.loadRun('old'))!, (await db.loadRun('recent'))!];
    expect(old.weights).toBeNull();
    expect(old.meta.weightsStep).toBe(0); // listed as viewable, no longer resumable
    expect(recent.weights!.step).toBe(2);
    expect([old.reports.length, recent.reports.length]).toEqual([2, 2]);
    expect(old.reports.concat(recent.reports).every((r) => r.trajectories.length === 0)).toBe(true);
  });

  it('rollouts give way: refused, they replace older rollouts only, and are dropped when that is not enough', async () => {
    await savedRun('old', '2026-01-01T00:00:00Z', 1);
    const run = await savedRun('recent', '2026-02-01T00:00:00Z', 1);
    refusals = 100;
    expect(await db.saveRollouts(run.id, report(2))).toBe(false);
    expect((await db.loadRun('old'))!.weights).not.toBeNull();
    refusals = 0;
    expect(await db.saveRollouts(run.id, report(2))).toBe(true);
  });

  it('keeps room ahead of writes, by the estimate or by the limit a refusal showed when the estimate hides it', async () => {
    db.close();
    // Usage: 100 bytes per saved rollout; a quota reported far above the real one (as a quota
    // set through the DevTools protocol is not reported).
    const rows = async () => (await db.loadRun('r'))?.reports.filter((r) => r.trajectories.length > 0).length ?? 0;
    const storage: StorageEstimator = { estimate: async () => ({ usage: 100 * (await rows()), quota: 1e12 }) };
    db = await RunsDb.open(indexedDB, storage);
    let run = await savedRun('r', '2026-01-01T00:00:00Z', 10);
    expect(await db.keepRoom(600, run.id)).toEqual({ rollouts: 0, weights: 0 }); // the reported quota is huge
    refusals = 1; // refused at a usage of 1000 with 200 bytes to write: the limit is 1200
    run = await db.saveWeights(run, { step: 10, bytes: new Uint8Array(200) });
    expect(await rolloutSteps('r')).toEqual([3, 4, 5, 6, 7, 8, 9, 10]); // the round that let it through
    // 600 more with a twentieth of 1200 to spare: usage may be at most 540, so 5 rollouts stay.
    expect(await db.keepRoom(600, run.id)).toEqual({ rollouts: 3, weights: 0 });
    expect(await rolloutSteps('r')).toEqual([6, 7, 8, 9, 10]);
  });

  it('saves metrics first, then the weights, then the rollouts; falls behind when even metrics do not fit, says so once, and catches up', async () => {
    const notices: string[] = [];
    const persistence = startPersistence(db, (text) => notices.push(text), () => {}, undefined);
    const { receive } = useWorkbench.getState();
    const runId = useWorkbench.getState().runId;
    const stepAndWeights = async (step: number) => {
      receive({ type: 'step', report: report(step) });
      receive({ type: 'weights', step, bytes: new Uint8Array([step]) });
      await persistence.idle();
    };
    await stepAndWeights(1);
    expect(written.filter((store) => store !== 'runs')).toEqual(['steps', 'weights', 'rollouts']);
    refusals = 4; // step 2's metrics: refused, step 1's rollouts removed, refused again: nothing left
    await stepAndWeights(2);
    refusals = 0;
    expect(notices).toEqual([
      'Browser storage ran short: to keep saving, the rollouts of 1 older step were removed. Every step\'s metrics, the settings and the last weights are saved.',
      "Steps from 2 on are not saved yet: browser storage is full even after removing every old rollout and other runs' weights. " +
        'Training goes on, and saving catches up by itself once space is freed (delete or export runs).',
    ]);
    expect((await db.loadRun(runId))!.meta).toMatchObject({ lastStep: 1, weightsStep: 1 });
    await stepAndWeights(3); // space is back: steps 2 and 3 are saved at once
    expect(notices.at(-1)).toBe('Saving caught up: every step up to 3 is saved.');
    persistence.stop();
    const saved = (await db.loadRun(runId))!;
    expect(saved.reports.map((r) => r.step)).toEqual([1, 2, 3]);
    expect(saved.weights!.step).toBe(3);
  });

  it('asks for persistent storage once the first step is saved, and says a new answer once', async () => {
    const asked: string[] = [];
    const storage = { persisted: async () => false, persist: async () => (asked.push('persist'), false) };
    for (let page = 0; page < 2; page++) {
      const notices: string[] = [];
      const persistence = startPersistence(db, (text) => notices.push(text), () => {}, storage);
      useWorkbench.getState().receive({ type: 'step', report: report(page + 1) });
      await persistence.idle();
      await new Promise((resolve) => setTimeout(resolve, 0));
      persistence.stop();
      expect(notices).toEqual(
        page === 0
          ? ['The browser did not grant persistent storage: it may remove saved runs when its disk runs short. Export the runs you want to keep.']
          : [],
      );
    }
    expect(asked).toEqual(['persist', 'persist']);
  });

  it('a reload reopens the run its tab showed whatever the address says; a new tab follows the address', async () => {
    const shown = await savedRun('shown', '2026-01-01T00:00:00Z', 2);
    await savedRun('other', '2026-02-01T00:00:00Z', 1);
    localStorage.setItem('tao-rl-workbench:current-run', 'other'); // open last in another tab
    sessionStorage.setItem('tao-rl-workbench:tab-run', 'shown');
    const previewed = { ...shown.config, shape: { ...shown.config.shape, bonus: { ...shown.config.shape.bonus, coef: 0.5 } } };
    expect((await runToReopen(db, previewed, true))!.meta.id).toBe('shown');
    expect((await runToReopen(db, null, false))!.meta.id).toBe('other');
    expect(await runToReopen(db, previewed, false)).toBeUndefined(); // a link of another setup: a new run
    // The live change the address carries and storage had not written yet is applied again.
    expect(liveDifference(shown.config, previewed)).toEqual({ shape: previewed.shape });
    expect(liveDifference(shown.config, { ...shown.config, seed: 9 })).toBeNull(); // needs a reset: not taken
  });

  it('saves the shown run as it trains and reopens it after a reload, from its saved weights', async () => {
    const persistence: Persistence = startPersistence(db, () => {}, () => {});
    const { receive } = useWorkbench.getState();
    const runId = useWorkbench.getState().runId;
    for (let step = 1; step <= 3; step++) {
      receive({ type: 'step', report: report(step) });
      if (step < 3) receive({ type: 'weights', step, bytes: new Uint8Array([step, step, step]) });
    }
    receive({ type: 'evaluation', step: 2, evaluation: EVALUATION });
    receive({ type: 'settingsApplied', changes: [{ field: 'shape.bonus.coef', from: 0.01, to: 0.3, step: 2 }] });
    await persistence.idle();
    persistence.stop();

    // A reload: the page state is gone, the saved run is what was open.
    useWorkbench.getState().reset();
    const restored = (await lastOpenRun(db))!;
    expect(restored.meta.id).toBe(runId);
    expect(restored.reports.map((r) => r.step)).toEqual([1, 2, 3]); // step 3's weights never arrived
    expect(restored.weights!.step).toBe(2);
    expect([...restored.weights!.bytes]).toEqual([2, 2, 2]);
    expect(restored.evaluations).toEqual([{ step: 2, evaluation: EVALUATION }]);
    expect(restored.changes).toHaveLength(1);

    sent.length = 0;
    useWorkbench.getState().openRun(restored);
    // Resumes from step 2's weights: step 3 (after them) is dropped and will be run again.
    expect(useWorkbench.getState().reports.map((r) => r.step)).toEqual([1, 2]);
    expect(sent).toEqual([{ type: 'init', config: restored.meta.config, backend: 'wasm', resume: restored.weights }]);

    // Saving goes on from there: step 3 is saved again as it is re-run, not kept from before.
    const again = startPersistence(db, () => {}, () => {});
    await again.idle();
    expect((await db.loadRun(runId))!.reports.map((r) => r.step)).toEqual([1, 2]);
    useWorkbench.getState().receive({ type: 'step', report: { ...report(3), metrics: { 'critic/score/mean': 0.99 } } });
    await again.idle();
    again.stop();
    expect((await db.loadRun(runId))!.reports.map((r) => r.metrics['critic/score/mean'])).toEqual([0.01, 0.02, 0.99]);
  });

  it('deletes with undo, and purges a deletion that was not undone', async () => {
    await db.putRun(meta('x', '2026-01-01T00:00:00Z'));
    useSavedRuns.setState({ db, runs: [], undoable: null, notice: null });
    await useSavedRuns.getState().remove('x');
    expect(useSavedRuns.getState().runs.map((r) => r.id)).not.toContain('x');
    expect(useSavedRuns.getState().undoable?.id).toBe('x');
    await useSavedRuns.getState().undo();
    expect((await db.listRuns()).map((r) => r.id)).toContain('x');
    await db.markDeleted('x', true);
    await db.purgeDeleted();
    expect(await db.getRun('x')).toBeUndefined();
  });

  it('imports nothing when one of the files is bad, and names it', async () => {
    useSavedRuns.setState({ db, runs: [], notice: null });
    const good = { name: 'good.jsonl', size: 10, text: async () => [JSON.stringify({ type: 'run', config: initialConfig(), steps: 1, started: '2026-11-26T00:00:00.000Z' }), JSON.stringify({ type: 'step', ...report(1) })].join('\n') };
    const bad = { name: 'bad.json', size: 10, text: async () => '{"hello": 1}' };
    await useSavedRuns.getState().importFiles([good, bad]);
    expect(useSavedRuns.getState().notice).toBe('bad.json was not imported: not a TAO-RL Workbench run: the JSON object has no "format" field');
    expect(await db.listRuns()).toEqual([]);
    await useSavedRuns.getState().importFiles([good]);
    const runs = await db.listRuns();
    expect(runs.map((r) => [r.name, r.source, r.lastStep])).toEqual([['good', 'import', 1]]);
  });

  it('exports a run that imports back as the same run', async () => {
    const run = meta('e', '2026-01-01T00:00:00Z');
    await db.putRun(run);
    for (let step = 1; step <= 2; step++) await db.saveStep(run, report(step));
    await db.saveEvaluation('e', 2, EVALUATION);
    useSavedRuns.setState({ db });
    const file = (await useSavedRuns.getState().exportRun('e', 'json', false))!;
    expect(file.fileName).toBe('e.json');
    const imported = savedFromImport(importRun(file.text, file.text.length, file.fileName));
    const original = (await db.loadRun('e'))!;
    expect(imported.reports).toEqual(original.reports);
    expect(imported.meta.config).toEqual(original.meta.config);
    const jsonl = (await useSavedRuns.getState().exportRun('e', 'jsonl'))!;
    expect(jsonl.text.split('\n')[0]).toContain('"type":"run"');
  });
});
