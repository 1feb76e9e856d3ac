// The training session the worker runs (src/worker/session.ts), driven in Node on the wasm
// backend with the bundled tiny checkpoint read from disk. Every message it posts goes through
// structuredClone, as postMessage would.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { useBackend } from '../../src/core/backend';
import { serializePolicy, type CheckpointManifest } from '../../src/core/checkpoint';
import { resolveConfig, type Config } from '../../src/core/config';
import type { ModelScale } from '../../src/core/model/config';
import { namedWeights } from '../../src/core/model/transformer';
import { Trainer } from '../../src/core/trainer';
import type { FromWorker } from '../../src/worker/protocol';
import { BROWSER_EVAL_PROMPTS, TrainingSession, type Checkpoint } from '../../src/worker/session';

const MODELS = path.resolve(__dirname, '../../public/models');

// Small steps: 2 prompts x 4 samples, no over-sampling; no periodic evaluation unless a test asks.
const CONFIG: Config = resolveConfig({ preset: 'tao-rl', groupSize: 4, promptsPerStep: 2, overSample: 1, evalEvery: 0 });

async function loadCheckpoint(scale: ModelScale): Promise<Checkpoint> {
  if (scale !== 'tiny') throw new Error(`no bundled checkpoint for the ${scale} scale`);
  const manifest = JSON.parse(fs.readFileSync(path.join(MODELS, 'tiny.json'), 'utf8')) as CheckpointManifest;
  return { manifest, bytes: new Uint8Array(fs.readFileSync(path.join(MODELS, 'tiny.bin'))) };
}

interface Harness {
  session: TrainingSession;
  posted: FromWorker[];
  backendStarts: () => number;
}

function harness(startBackend?: () => Promise<void>): Harness {
  const posted: FromWorker[] = [];
  let starts = 0;
  const session = new TrainingSession({
    post: (message) => posted.push(structuredClone(message)),
    loadCheckpoint,
    startBackend: async () => {
      starts += 1;
      const info = await useBackend('wasm');
      await startBackend?.();
      return { name: info.name };
    },
  });
  return { session, posted, backendStarts: () => starts };
}

async function ready(config: Config = CONFIG, startBackend?: () => Promise<void>): Promise<Harness> {
  const h = harness(startBackend);
  await h.session.handle({ type: 'init', config, backend: 'wasm' });
  expect(h.posted.at(-1)).toMatchObject({ type: 'status', status: 'ready' });
  return h;
}

function ofType<T extends FromWorker['type']>(posted: FromWorker[], type: T): Extract<FromWorker, { type: T }>[] {
  return posted.filter((m): m is Extract<FromWorker, { type: T }> => m.type === type);
}

const statuses = (posted: FromWorker[]) => ofType(posted, 'status').map((m) => m.status);
const stepsOf = (posted: FromWorker[]) => ofType(posted, 'step').map((m) => m.report.step);

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function weightBytes(h: Harness): Promise<Uint8Array> {
  return (await serializePolicy(h.session.policy!, {})).bytes;
}

beforeAll(async () => {
  await useBackend('wasm');
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('TrainingSession', () => {
  it('init starts the backend, loads the checkpoint and is ready at step 0', async () => {
    const h = await ready();
    expect(ofType(h.posted, 'backend')).toEqual([{ type: 'backend', backend: { name: 'wasm' } }]);
    expect(statuses(h.posted)).toEqual(['loading', 'loading', 'ready']);
    expect(h.session.lastGoodStep).toBe(0);
    // the starting weights are the bundled ones, byte for byte
    expect(Buffer.from(await weightBytes(h)).equals(fs.readFileSync(path.join(MODELS, 'tiny.bin')))).toBe(true);
  });

  it("'step' runs exactly one step, then pauses", async () => {
    const h = await ready();
    const before = h.posted.length;
    await h.session.handle({ type: 'step' });
    const after = h.posted.slice(before);
    expect(after.map((m) => m.type).filter((type) => type !== 'heartbeat')).toEqual(['status', 'step', 'weights', 'status']);
    expect(statuses(after)).toEqual(['running', 'paused']);
    const [report] = ofType(after, 'step');
    expect(report.report.step).toBe(1);
    expect(report.report.trajectories).toHaveLength(8); // 2 prompts x 4 samples
    expect(report.report.metrics['time/snapshot_s']).toBeGreaterThanOrEqual(0);
    expect(report.report.metrics['memory/tensors']).toBeGreaterThan(0);
    expect(h.session.lastGoodStep).toBe(1);
    // the snapshot is the weights after the step, and the page is sent them to save
    expect(Buffer.from(h.session.lastGoodWeights!.bytes).equals(Buffer.from(await weightBytes(h)))).toBe(true);
    const [weights] = ofType(after, 'weights');
    expect(weights.step).toBe(1);
    expect(Buffer.from(weights.bytes).equals(Buffer.from(await weightBytes(h)))).toBe(true);
  });

  it("'init' with saved weights continues the run from their step, paused", async () => {
    const first = await ready();
    await first.session.handle({ type: 'step' });
    const [saved] = ofType(first.posted, 'weights');
    const h = await ready();
    const before = h.posted.length;
    await h.session.handle({ type: 'init', config: CONFIG, backend: 'wasm', resume: saved });
    expect(statuses(h.posted.slice(before)).at(-1)).toBe('paused');
    expect(h.session.lastGoodStep).toBe(1);
    expect(Buffer.from(await weightBytes(h)).equals(Buffer.from(saved.bytes))).toBe(true);
    // The next step is numbered after the saved one.
    await h.session.handle({ type: 'step' });
    expect(ofType(h.posted, 'step').at(-1)!.report.step).toBe(2);
  });

  it('a live change sent while a resumed run loads (a reload applying what the address carries) applies from the step after the saved one', async () => {
    const first = await ready();
    await first.session.handle({ type: 'step' });
    const [saved] = ofType(first.posted, 'weights');
    const h = harness();
    const loading = h.session.handle({ type: 'init', config: CONFIG, backend: 'wasm', resume: saved });
    await h.session.handle({ type: 'settings', settings: { learningRate: 0.002 } });
    await loading;
    expect(ofType(h.posted, 'settingsApplied')).toEqual([{ type: 'settingsApplied', changes: [{ field: 'learningRate', from: CONFIG.learningRate, to: 0.002, step: 2 }] }]);
  });

  it("'start' trains until 'pause', which stops after the step in flight", async () => {
    const h = await ready();
    const training = h.session.handle({ type: 'start' });
    await until(() => stepsOf(h.posted).length >= 1, 'a first step');
    await h.session.handle({ type: 'pause' });
    const stepsAtPause = stepsOf(h.posted);
    await training;
    expect(stepsAtPause.length).toBeGreaterThanOrEqual(1);
    expect(stepsAtPause).toEqual(stepsAtPause.map((_, i) => i + 1));
    expect(h.posted.at(-1)).toMatchObject({ type: 'status', status: 'paused' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stepsOf(h.posted)).toEqual(stepsAtPause);
    expect(h.session.lastGoodStep).toBe(stepsAtPause.length);
  });

  it("live settings answer 'settingsApplied' and apply from the next step", async () => {
    const h = await ready();
    await h.session.handle({ type: 'step' });
    const shape = { ...CONFIG.shape, bonus: { ...CONFIG.shape.bonus, coef: 0.05 } };
    await h.session.handle({ type: 'settings', settings: { shape, learningRate: CONFIG.learningRate } });
    // learningRate did not change, so only the bonus coefficient is reported
    expect(ofType(h.posted, 'settingsApplied')).toEqual([
      { type: 'settingsApplied', changes: [{ field: 'shape.bonus.coef', from: 0.01, to: 0.05, step: 2 }] },
    ]);
    await h.session.handle({ type: 'step' });
    const [first, second] = ofType(h.posted, 'step').map((m) => m.report);
    expect(first.settings.shape.bonus.coef).toBe(0.01);
    expect(second.step).toBe(2);
    expect(second.settings.shape.bonus.coef).toBe(0.05);
  });

  it('a change made while a step runs first applies to the step after it', async () => {
    const h = await ready();
    const stepping = h.session.handle({ type: 'step' }); // step 1 is now in flight
    await h.session.handle({ type: 'settings', settings: { temperature: 0.5 } });
    expect(ofType(h.posted, 'settingsApplied')[0].changes).toEqual([{ field: 'temperature', from: 1, to: 0.5, step: 2 }]);
    await stepping;
    await h.session.handle({ type: 'step' });
    expect(ofType(h.posted, 'step').map((m) => m.report.settings.temperature)).toEqual([1, 0.5]);
  });

  it('settings outside their range are refused and change nothing', async () => {
    const h = await ready();
    await h.session.handle({ type: 'settings', settings: { learningRate: -1 } });
    expect(ofType(h.posted, 'settingsApplied')).toEqual([]);
    expect(h.posted.at(-1)).toMatchObject({ type: 'status', status: 'ready' });
    expect((h.posted.at(-1) as { message: string }).message).toMatch(/Settings not applied: learningRate: -1 is out of range/);
    await h.session.handle({ type: 'step' });
    expect(ofType(h.posted, 'step')[0].report.settings.learningRate).toBe(CONFIG.learningRate);
  });

  it('klCoef can be turned on while training (the KL reference is the starting checkpoint)', async () => {
    const h = await ready();
    await h.session.handle({ type: 'settings', settings: { klCoef: 0.1 } });
    await h.session.handle({ type: 'step' });
    await h.session.handle({ type: 'step' });
    expect(ofType(h.posted, 'failure')).toEqual([]);
    const reports = ofType(h.posted, 'step').map((m) => m.report);
    expect(reports.map((r) => r.settings.klCoef)).toEqual([0.1, 0.1]);
    // Step 1 trains the starting weights, which are the reference: KL 0. After one update the
    // policy has moved away from it, and the k3 estimator is positive.
    expect(reports.map((r) => r.skipped)).toEqual([false, false]);
    expect(reports[0].metrics['kl/reference']).toBe(0);
    expect(reports[1].metrics['kl/reference']).toBeGreaterThan(0);
  });

  it("a NaN loss fails with 'nan', keeps the last good weights, and 'resume' continues from them", async () => {
    const h = await ready();
    await h.session.handle({ type: 'step' });
    const good = new Uint8Array(h.session.lastGoodWeights!.bytes);
    // Train on every group (a NaN policy's groups are all wrong, which the filter drops) and
    // corrupt one weight: the next step's loss is NaN.
    await h.session.handle({ type: 'settings', settings: { shape: { ...CONFIG.shape, groupFilter: false, toolFailFilter: false } } });
    const gain = namedWeights(h.session.policy!.weights).find(([name]) => name === 'lnFinalGain')![1];
    gain.assign(tf.fill(gain.shape, NaN));
    await h.session.handle({ type: 'step' });
    const failures = ofType(h.posted, 'failure');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ kind: 'nan', lastGoodStep: 1 });
    // The detail alone: the page says what stopped and what Resume does (Header's failureSentence).
    expect(failures[0].message).toMatch(/^the loss became NaN at step 2; weights were not updated$/);
    expect(h.posted.at(-1)).toMatchObject({ type: 'status', status: 'error' });
    expect(stepsOf(h.posted)).toEqual([1]);

    // Training is refused until resume
    await h.session.handle({ type: 'start' });
    expect(stepsOf(h.posted)).toEqual([1]);
    expect(h.posted.at(-1)).toMatchObject({ type: 'status', status: 'error' });

    await h.session.handle({ type: 'resume' });
    expect(h.posted.at(-1)).toMatchObject({ type: 'status', status: 'ready' });
    expect(Buffer.from(await weightBytes(h)).equals(Buffer.from(good))).toBe(true);
    await h.session.handle({ type: 'step' });
    expect(stepsOf(h.posted)).toEqual([1, 2]);
    expect(ofType(h.posted, 'failure')).toHaveLength(1);
  });

  it("an exception in a step fails with 'crash' and the message", async () => {
    const h = await ready();
    await h.session.handle({ type: 'step' });
    vi.spyOn(Trainer.prototype, 'runStep').mockRejectedValueOnce(new Error('out of memory in the sampler'));
    const training = h.session.handle({ type: 'start' });
    await training; // the loop ends on the failure
    const [failure] = ofType(h.posted, 'failure');
    expect(failure).toMatchObject({ kind: 'crash', lastGoodStep: 1 });
    expect(failure.message).toBe('out of memory in the sampler');
    expect(stepsOf(h.posted)).toEqual([1]);
    await h.session.handle({ type: 'resume' });
    await h.session.handle({ type: 'step' });
    expect(stepsOf(h.posted)).toEqual([1, 2]);
  });

  /** Runs `work` on a clock that moves 0.6 s per reading: a silence of HEARTBEAT_MS passes every other progress call. */
  async function withFastClock(work: () => Promise<void>): Promise<void> {
    let now = performance.now();
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => (now += 600));
    try {
      await work();
    } finally {
      clock.mockRestore();
    }
  }

  it('says it is alive during a step that never yields to timers, and only while loading or training', async () => {
    const h = await ready();
    h.session.heartbeat(); // idle: the page expects nothing
    expect(ofType(h.posted, 'heartbeat')).toEqual([]);
    await withFastClock(() => h.session.handle({ type: 'step' }));
    const beats = h.posted.findIndex((m) => m.type === 'heartbeat');
    expect(beats).toBeGreaterThan(-1);
    // Sent from inside the step, before its report.
    expect(beats).toBeLessThan(h.posted.findIndex((m) => m.type === 'step'));
  });

  it('says it is alive during a held-out evaluation too (its rollouts never yield to timers either)', async () => {
    const h = await ready({ ...CONFIG, evalPrompts: 4, evalSamples: 1 });
    await withFastClock(() => h.session.handle({ type: 'evaluate' }));
    const types = h.posted.map((m) => m.type);
    const evaluation = types.indexOf('evaluation');
    expect(evaluation).toBeGreaterThan(-1);
    expect(types.slice(0, evaluation)).toContain('heartbeat');
  });

  it("a lost WebGPU device fails with 'device_lost'; resume restarts the backend", async () => {
    // The wasm backend with a stand-in for the WebGPU device's `lost` promise.
    let loseDevice: (info: { reason: string; message: string }) => void = () => {};
    const backend = tf.backend() as unknown as { device?: unknown };
    const h = await ready(CONFIG, async () => {
      backend.device = { lost: new Promise((resolve) => (loseDevice = resolve)) };
    });
    try {
      await h.session.handle({ type: 'step' });
      loseDevice({ reason: 'unknown', message: 'the GPU process restarted' });
      await until(() => ofType(h.posted, 'failure').length > 0, 'the failure');
      const [failure] = ofType(h.posted, 'failure');
      expect(failure).toMatchObject({ kind: 'device_lost', lastGoodStep: 1 });
      expect(failure.message).toBe('the GPU process restarted (reason: unknown)');
      await h.session.handle({ type: 'resume' });
      expect(h.backendStarts()).toBe(2);
      expect(ofType(h.posted, 'backend')).toHaveLength(2);
      await h.session.handle({ type: 'step' });
      expect(stepsOf(h.posted)).toEqual([1, 2]);
    } finally {
      delete backend.device;
    }
  });

  it("a scale without a bundled checkpoint fails with 'load' and says so", async () => {
    const h = harness();
    await h.session.handle({ type: 'init', config: { ...CONFIG, scale: 'base' }, backend: 'wasm' });
    const [failure] = ofType(h.posted, 'failure');
    expect(failure).toMatchObject({ kind: 'load', lastGoodStep: 0 });
    expect(failure.message).toBe('no bundled checkpoint for the base scale');
    await h.session.handle({ type: 'step' });
    expect(stepsOf(h.posted)).toEqual([]);
    expect((h.posted.at(-1) as { message: string }).message).toMatch(/reset to load a run/);
    // a new init recovers
    await h.session.handle({ type: 'init', config: CONFIG, backend: 'wasm' });
    expect(h.posted.at(-1)).toMatchObject({ type: 'status', status: 'ready' });
  });

  it('commands sent while loading run once the policy is ready', async () => {
    const h = harness();
    const loading = h.session.handle({ type: 'init', config: CONFIG, backend: 'wasm' });
    await h.session.handle({ type: 'step' });
    expect(h.posted.at(-1)).toMatchObject({ type: 'status', status: 'loading' });
    expect((h.posted.at(-1) as { message: string }).message).toMatch(/'step' will run once the policy is ready/);
    await loading;
    await until(() => statuses(h.posted).at(-1) === 'paused', 'the queued step');
    expect(stepsOf(h.posted)).toEqual([1]);
  });

  it('evaluates on held-out prompts every evalEvery steps and on request, capped for the browser', async () => {
    const h = await ready({ ...CONFIG, evalEvery: 2, evalPrompts: 4, evalSamples: 1 });
    await h.session.handle({ type: 'step' });
    await h.session.handle({ type: 'step' });
    const periodic = ofType(h.posted, 'evaluation');
    expect(periodic.map((m) => m.step)).toEqual([2]);
    expect(periodic[0].evaluation).toMatchObject({ prompts: 4, samples: 1 });
    expect(periodic[0].evaluation.greedyAccuracy).not.toBeNull();
    expect(h.posted.at(-1)).toMatchObject({ type: 'status', status: 'paused' });

    const capped = await ready({ ...CONFIG, evalPrompts: 512, evalSamples: 1 });
    await capped.session.handle({ type: 'evaluate' });
    const [evaluation] = ofType(capped.posted, 'evaluation');
    expect(evaluation.step).toBe(0);
    expect(evaluation.evaluation.prompts).toBe(BROWSER_EVAL_PROMPTS);
    expect(statuses(capped.posted).slice(-2)).toEqual(['running', 'ready']);
  });

  it('a second init while the first is loading replaces it', async () => {
    const h = harness();
    const first = h.session.handle({ type: 'init', config: { ...CONFIG, seed: 1 }, backend: 'wasm' });
    await h.session.handle({ type: 'init', config: { ...CONFIG, seed: 2 }, backend: 'wasm' });
    await first;
    expect(ofType(h.posted, 'backend')).toHaveLength(1);
    expect(statuses(h.posted).filter((s) => s === 'ready')).toHaveLength(1);
    await h.session.handle({ type: 'step' });
    expect(ofType(h.posted, 'step').map((m) => m.report.seed)).toEqual([2]);
  });

  it('a second init while training replaces the run', async () => {
    const h = await ready();
    const training = h.session.handle({ type: 'start' });
    await until(() => stepsOf(h.posted).length >= 1, 'a first step');
    await h.session.handle({ type: 'init', config: CONFIG, backend: 'wasm' });
    await training;
    const stepsBefore = stepsOf(h.posted).length;
    expect(h.posted.at(-1)).toMatchObject({ type: 'status', status: 'ready' });
    expect(h.session.lastGoodStep).toBe(0);
    await h.session.handle({ type: 'step' });
    expect(stepsOf(h.posted).slice(stepsBefore)).toEqual([1]);
  });
});
