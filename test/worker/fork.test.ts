// Forks in the training session (src/worker/fork.ts through session.ts), driven in Node on the
// wasm backend with the bundled tiny checkpoint: the distribution is the one the step sampled
// from, resampling is seeded and runs the tool, a scan reports each position and can be
// cancelled, no tensor is left over, and training after a fork is what it would have been.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/core/backend';
import type { CheckpointManifest } from '../../src/core/checkpoint';
import { resolveConfig, type Config } from '../../src/core/config';
import { firstPostToolPosition, forbiddenTokens, scanPositions, type ForkSource } from '../../src/core/fork';
import type { StepReport, TrajectoryReport } from '../../src/core/trainer';
import { VOCAB } from '../../src/core/tokenizer';
import { evaluateExpression } from '../../src/core/tools/calculator';
import type { ForkReply, ForkRequest, FromWorker } from '../../src/worker/protocol';
import { TrainingSession, type Checkpoint } from '../../src/worker/session';

const MODELS = path.resolve(__dirname, '../../public/models');
const CONFIG: Config = resolveConfig({ preset: 'tao-rl', groupSize: 4, promptsPerStep: 2, overSample: 1, evalEvery: 0 });

async function loadCheckpoint(): Promise<Checkpoint> {
  const manifest = JSON.parse(fs.readFileSync(path.join(MODELS, 'tiny.json'), 'utf8')) as CheckpointManifest;
  return { manifest, bytes: new Uint8Array(fs.readFileSync(path.join(MODELS, 'tiny.bin'))) };
}

async function session(): Promise<{ session: TrainingSession; posted: FromWorker[] }> {
  const posted: FromWorker[] = [];
  const created = new TrainingSession({
    post: (message) => posted.push(structuredClone(message)),
    loadCheckpoint,
    startBackend: async () => ({ name: (await useBackend('wasm')).name }),
  });
  await created.handle({ type: 'init', config: CONFIG, backend: 'wasm' });
  return { session: created, posted };
}

const reports = (posted: FromWorker[]): StepReport[] => posted.flatMap((m) => (m.type === 'step' ? [m.report] : []));
const replies = (posted: FromWorker[], id: number): ForkReply[] => posted.flatMap((m) => (m.type === 'fork' && m.reply.id === id ? [m.reply] : []));

const sourceOf = (trajectory: TrajectoryReport): ForkSource => ({
  prompt: trajectory.prompt,
  expected: trajectory.expected,
  text: trajectory.tokens.text,
  kind: trajectory.tokens.kind,
  toolCalls: trajectory.toolCalls,
});

/** A trajectory of the step that called the tool, and its first post-tool token. */
function forkTarget(report: StepReport): { trajectory: TrajectoryReport; position: number } {
  const trajectory = report.trajectories.find((t) => t.tokens.kind.includes('tool'));
  if (!trajectory) throw new Error(`no trajectory of step ${report.step} called the tool`);
  return { trajectory, position: firstPostToolPosition(trajectory.tokens.kind)! };
}

function request(report: StepReport, trajectory: TrajectoryReport, id: number, body: Pick<ForkRequest, 'kind'> & Record<string, unknown>): ForkRequest {
  return {
    id,
    step: report.step,
    source: sourceOf(trajectory),
    temperature: report.settings.temperature,
    flakyProbability: report.settings.flakyProbability,
    seed: 7,
    ...body,
  } as ForkRequest;
}

/** A step report with its timings left out (they differ from run to run). */
function untimed(report: StepReport): unknown {
  const metrics = Object.fromEntries(Object.entries(report.metrics).filter(([key]) => !key.startsWith('time/') && !key.startsWith('perf/')));
  return { ...report, metrics };
}

beforeAll(async () => {
  await useBackend('wasm');
});

describe('forks in the training session', () => {
  it('the distribution at a token is the one the step sampled it from, on the weights it sampled with', async () => {
    const { session: s, posted } = await session();
    await s.handle({ type: 'step' });
    const [report] = reports(posted);
    const { trajectory, position } = forkTarget(report);
    await s.handle({ type: 'fork', request: request(report, trajectory, 1, { kind: 'distribution', position }) });
    const [reply] = replies(posted, 1);
    if (reply.kind !== 'distribution') throw new Error(`expected a distribution, got ${JSON.stringify(reply)}`);
    expect(reply.weights).toEqual({ step: 0, sampledWith: true });
    const { probabilities, entropy } = reply.distribution;
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    for (const symbol of forbiddenTokens()) expect(probabilities[VOCAB.indexOf(symbol)]).toBe(0);
    expect(entropy).toBeCloseTo(trajectory.tokens.entropy[position], 3);
    const drawn = VOCAB.indexOf(trajectory.tokens.text[position]);
    expect(Math.log(probabilities[drawn])).toBeCloseTo(trajectory.tokens.logprob[position], 3);
  });

  it('resamples with the same seed to the same continuations, runs the tool, leaves no tensor and does not change training', async () => {
    const forked = await session();
    const plain = await session();
    await forked.session.handle({ type: 'step' });
    await plain.session.handle({ type: 'step' });
    const [report] = reports(forked.posted);
    const { trajectory, position } = forkTarget(report);

    const tensors = tf.memory().numTensors;
    await forked.session.handle({ type: 'fork', request: request(report, trajectory, 2, { kind: 'resample', position, samples: 12 }) });
    await forked.session.handle({ type: 'fork', request: request(report, trajectory, 3, { kind: 'resample', position, samples: 12 }) });
    expect(tf.memory().numTensors).toBe(tensors);

    const [first] = replies(forked.posted, 2);
    const [second] = replies(forked.posted, 3);
    if (first.kind !== 'continuations' || second.kind !== 'continuations') throw new Error('expected continuations');
    expect(second.continuations).toEqual(first.continuations);
    expect(first.continuations).toHaveLength(12);
    expect(first.weights).toEqual({ step: 0, sampledWith: true });
    for (const continuation of first.continuations) {
      expect(continuation.reward).toBe(continuation.answer === trajectory.expected ? 1 : 0);
      for (const call of continuation.toolCalls) {
        const outcome = evaluateExpression(call.expression);
        expect(call.ok).toBe(outcome.ok);
        if (outcome.ok) expect(call.value).toBe(outcome.value);
      }
    }

    // The next step is the one a session that never forked takes.
    await forked.session.handle({ type: 'step' });
    await plain.session.handle({ type: 'step' });
    expect(untimed(reports(forked.posted)[1])).toEqual(untimed(reports(plain.posted)[1]));
  });

  it('scans positions one reply at a time, says when it is done, and stops when cancelled', async () => {
    const { session: s, posted } = await session();
    await s.handle({ type: 'step' });
    const [report] = reports(posted);
    const { trajectory } = forkTarget(report);
    const positions = scanPositions(trajectory.tokens.kind, trajectory.tokens.postTool, 2, 4);
    await s.handle({ type: 'fork', request: request(report, trajectory, 4, { kind: 'scan', positions, samples: 4 }) });
    const scan = replies(posted, 4);
    expect(scan.filter((r) => r.kind === 'scanPoint').map((r) => (r.kind === 'scanPoint' ? [r.position, r.done, r.of, r.total] : []))).toEqual(
      positions.map((position, i) => [position, i + 1, positions.length, 4]),
    );
    expect(scan.at(-1)).toMatchObject({ kind: 'scanDone', cancelled: false });

    const cancelled = s.handle({ type: 'fork', request: request(report, trajectory, 5, { kind: 'scan', positions, samples: 4 }) });
    await s.handle({ type: 'cancelFork', id: 5 });
    await cancelled;
    const stopped = replies(posted, 5);
    expect(stopped.at(-1)).toMatchObject({ kind: 'scanDone', cancelled: true });
    expect(stopped.filter((r) => r.kind === 'scanPoint').length).toBeLessThan(positions.length);
  });

  it('uses the current weights for a step whose sampling weights are gone, and says so', async () => {
    const { session: s, posted } = await session();
    for (let i = 0; i < 10; i++) await s.handle({ type: 'step' });
    const first = reports(posted)[0];
    const { trajectory, position } = forkTarget(first);
    await s.handle({ type: 'fork', request: request(first, trajectory, 6, { kind: 'distribution', position }) });
    expect(replies(posted, 6)[0]).toMatchObject({ kind: 'distribution', weights: { step: 10, sampledWith: false } });
  });

  it('refuses a token the policy did not sample, and forks before a run is loaded', async () => {
    const { session: s, posted } = await session();
    await s.handle({ type: 'step' });
    const [report] = reports(posted);
    const { trajectory } = forkTarget(report);
    await s.handle({ type: 'fork', request: request(report, trajectory, 7, { kind: 'resample', position: 1, samples: 4 }) });
    expect(replies(posted, 7)).toEqual([{ id: 7, kind: 'failed', message: expect.stringMatching(/not sampled by the policy/) }]);

    const empty: FromWorker[] = [];
    const fresh = new TrainingSession({ post: (m) => empty.push(m), loadCheckpoint, startBackend: async () => ({ name: 'wasm' }) });
    await fresh.handle({ type: 'fork', request: request(report, trajectory, 8, { kind: 'distribution', position: firstPostToolPosition(trajectory.tokens.kind)! }) });
    expect(replies(empty, 8)).toEqual([{ id: 8, kind: 'failed', message: 'no policy is loaded yet' }]);
  });
});
