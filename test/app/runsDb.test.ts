// @vitest-environment jsdom
// Runs saved in the browser (src/app/runsDb.ts, persistence.ts, savedRuns.ts) on an in-memory
// IndexedDB: what is kept and for how long, a reload reopening the run where it was, pruning when
// storage runs short, delete with undo, and imports that change nothing when a file is bad.

import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lastOpenRun, startPersistence, type Persistence } from '../../src/app/persistence';
import { DB_NAME, RunsDb, SAVED_ROLLOUT_STEPS, type RunMeta } from '../../src/app/runsDb';
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

beforeEach(async () => {
  await new Promise<void>((resolve) => {
    const req = indexedDB.deleteDatabase(DB_NAME);
    req.onsuccess = req.onerror = () => resolve();
  });
  localStorage.clear();
  db = await RunsDb.open();
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

  it('prunes the oldest rollouts first, a quarter of them, never metrics', async () => {
    const old = meta('old', '2026-01-01T00:00:00Z');
    const recent = meta('recent', '2026-02-01T00:00:00Z');
    await db.putRun(old);
    await db.putRun(recent);
    for (let step = 1; step <= 4; step++) {
      await db.saveStep(old, report(step));
      await db.saveStep(recent, report(step));
    }
    // saveStep updates `updated` to now: set the order back to old before recent.
    await db.putRun({ ...old, lastStep: 4 });
    await db.putRun({ ...recent, lastStep: 4 });
    // 8 steps with rollouts: a quarter is 2, the old run's steps 1 and 2.
    expect(await db.pruneOldestRollouts()).toBe(2);
    const oldRun = (await db.loadRun('old'))!;
    expect(oldRun.reports.map((r) => r.trajectories.length)).toEqual([0, 0, 1, 1]);
    expect(oldRun.reports).toHaveLength(4);
    expect((await db.loadRun('recent'))!.reports.every((r) => r.trajectories.length === 1)).toBe(true);
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
