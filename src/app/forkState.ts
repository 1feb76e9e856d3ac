// The page's side of forking a trajectory at a token (src/core/fork.ts, src/worker/fork.ts): which
// token is chosen, the requests sent to the worker, and their replies. A reply belongs to one
// trajectory of one step of one run (its key); the token view shows the replies of the
// trajectory it shows and ignores the others.

import { create } from 'zustand';
import { firstPostToolPosition, type Continuation, type ForkSource, type NextTokenDistribution } from '../core/fork';
import type { StepReport, TrajectoryReport } from '../core/trainer';
import type { ForkReply, ForkRequest, ForkWeights } from '../worker/protocol';
import { useWorkbench } from './store';

/** Continuations "Resample from here" asks for by default, and a scan per position. */
export const DEFAULT_SAMPLES = 16;
export const DEFAULT_SCAN_SAMPLES = 8;

/** The trajectory a fork is about: run, step and index in the step. */
export interface ForkTarget {
  runId: string;
  report: StepReport;
  index: number;
}

/** "run:step:index": the trajectory a reply belongs to. */
export function trajectoryKey(target: ForkTarget): string {
  return `${target.runId}:${target.report.step}:${target.index}`;
}

export interface ScanPoint {
  position: number;
  entropy: number;
  passed: number;
  total: number;
}

export interface ForkResults {
  distribution?: { position: number; weights: ForkWeights; distribution: NextTokenDistribution };
  continuations?: { position: number; weights: ForkWeights; continuations: Continuation[]; seconds: number };
  scan?: { id: number; weights: ForkWeights | null; points: ScanPoint[]; of: number; running: boolean; cancelled: boolean; seconds: number | null };
  /** What the worker refused or failed at, last. */
  problem?: string;
}

interface ForkState {
  /** The token chosen in each trajectory that had one chosen (key -> position). */
  chosen: Record<string, number>;
  samples: number;
  scanSamples: number;
  seed: number;
  /** Replies, per trajectory key. */
  results: Record<string, ForkResults>;
  /** Requests in flight: id -> what they are. */
  pending: Record<number, { key: string; kind: ForkRequest['kind']; position: number | null }>;

  choose: (target: ForkTarget, position: number) => void;
  setSamples: (samples: number) => void;
  setScanSamples: (samples: number) => void;
  setSeed: (seed: number) => void;
  requestDistribution: (target: ForkTarget, position: number) => void;
  resample: (target: ForkTarget, position: number) => void;
  scan: (target: ForkTarget, positions: number[]) => void;
  cancelScan: (target: ForkTarget) => void;
  receive: (reply: ForkReply) => void;
  /** The worker will not answer what is in flight (a new run, a crash): nothing stays waiting. */
  abandon: () => void;
}

/** What the worker needs of a reported trajectory to fork it. */
export function forkSource(trajectory: TrajectoryReport): ForkSource {
  return { prompt: trajectory.prompt, expected: trajectory.expected, text: trajectory.tokens.text, kind: trajectory.tokens.kind, toolCalls: trajectory.toolCalls };
}

/** The token a trajectory forks at: the one chosen, else the first policy token after its first tool result. */
export function chosenPosition(chosen: Record<string, number>, target: ForkTarget): number | null {
  const trajectory = target.report.trajectories[target.index];
  if (!trajectory) return null;
  const picked = chosen[trajectoryKey(target)];
  return picked !== undefined && trajectory.tokens.kind[picked] === 'policy' ? picked : firstPostToolPosition(trajectory.tokens.kind);
}

let nextId = 1;

export const useFork = create<ForkState>()((set, get) => {
  /** Sends a request about `target` and remembers what it was. */
  const send = (target: ForkTarget, body: Pick<ForkRequest, 'kind'> & Record<string, unknown>, position: number | null): number => {
    const id = nextId++;
    const key = trajectoryKey(target);
    const { report, index } = target;
    const request = {
      id,
      step: report.step,
      source: forkSource(report.trajectories[index]),
      temperature: report.settings.temperature,
      flakyProbability: report.settings.flakyProbability,
      seed: get().seed,
      ...body,
    } as ForkRequest;
    set((state) => ({ pending: { ...state.pending, [id]: { key, kind: request.kind, position } } }));
    try {
      useWorkbench.getState().send({ type: 'fork', request });
    } catch (error) {
      // No worker to ask (the page is starting, or its worker is gone): said like a refusal.
      get().receive({ id, kind: 'failed', message: (error as Error).message });
    }
    return id;
  };
  const update = (key: string, change: (results: ForkResults) => ForkResults) =>
    set((state) => ({ results: { ...state.results, [key]: change(state.results[key] ?? {}) } }));

  return {
    chosen: {},
    samples: DEFAULT_SAMPLES,
    scanSamples: DEFAULT_SCAN_SAMPLES,
    seed: 1,
    results: {},
    pending: {},

    choose: (target, position) => set((state) => ({ chosen: { ...state.chosen, [trajectoryKey(target)]: position } })),
    setSamples: (samples) => set({ samples }),
    setScanSamples: (scanSamples) => set({ scanSamples }),
    setSeed: (seed) => set({ seed }),

    requestDistribution: (target, position) => {
      const key = trajectoryKey(target);
      const asked = Object.values(get().pending).some((p) => p.key === key && p.kind === 'distribution' && p.position === position);
      if (!asked) send(target, { kind: 'distribution', position }, position);
    },
    resample: (target, position) => {
      update(trajectoryKey(target), ({ continuations: _, problem: __, ...rest }) => rest);
      send(target, { kind: 'resample', position, samples: get().samples }, position);
    },
    scan: (target, positions) => {
      const id = send(target, { kind: 'scan', positions, samples: get().scanSamples }, null);
      const sent = id in get().pending; // not when there was no worker to send it to
      update(trajectoryKey(target), ({ problem, ...rest }) => ({
        ...rest,
        ...(sent ? {} : { problem }),
        scan: { id, weights: null, points: [], of: positions.length, running: sent, cancelled: false, seconds: null },
      }));
    },
    cancelScan: (target) => {
      const scan = get().results[trajectoryKey(target)]?.scan;
      if (scan?.running) useWorkbench.getState().send({ type: 'cancelFork', id: scan.id });
    },

    abandon: () =>
      set((state) => ({
        pending: {},
        results: Object.fromEntries(
          Object.entries(state.results).map(([key, results]) => [key, results.scan?.running ? { ...results, scan: { ...results.scan, running: false, cancelled: true } } : results]),
        ),
      })),

    receive: (reply) => {
      const request = get().pending[reply.id];
      if (!request) return;
      const { key } = request;
      const settled = reply.kind !== 'scanPoint';
      if (settled) {
        set((state) => {
          const { [reply.id]: _, ...pending } = state.pending;
          return { pending };
        });
      }
      switch (reply.kind) {
        case 'distribution':
          update(key, (results) => ({ ...results, distribution: { position: reply.position, weights: reply.weights, distribution: reply.distribution } }));
          break;
        case 'continuations':
          update(key, (results) => ({
            ...results,
            continuations: { position: reply.position, weights: reply.weights, continuations: reply.continuations, seconds: reply.seconds },
          }));
          break;
        case 'scanPoint':
          update(key, (results) =>
            results.scan?.id === reply.id
              ? {
                  ...results,
                  scan: {
                    ...results.scan,
                    weights: reply.weights,
                    points: [...results.scan.points, { position: reply.position, entropy: reply.entropy, passed: reply.passed, total: reply.total }],
                  },
                }
              : results,
          );
          break;
        case 'scanDone':
          update(key, (results) =>
            results.scan?.id === reply.id ? { ...results, scan: { ...results.scan, weights: reply.weights, running: false, cancelled: reply.cancelled, seconds: reply.seconds } } : results,
          );
          break;
        case 'failed':
          update(key, (results) => ({
            ...results,
            problem: reply.message,
            scan: results.scan?.id === reply.id ? { ...results.scan, running: false } : results.scan,
          }));
          break;
      }
    },
  };
});

/** Whether a request of this kind is in flight for the trajectory. */
export function isPending(pending: ForkState['pending'], key: string, kind: ForkRequest['kind']): boolean {
  return Object.values(pending).some((request) => request.key === key && request.kind === kind);
}
