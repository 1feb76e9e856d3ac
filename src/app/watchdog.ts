// The page's watch on the training worker. While the worker loads or trains it speaks at least
// every HEARTBEAT_MS (a heartbeat fills silences, also inside a long step); a worker that closed,
// hung in a kernel or lost its GPU without an error says nothing at all. When nothing arrives for
// longer than a limit tied to the measured step time, the watchdog calls `onSilent` once, and the
// page offers Resume in a new worker (workerClient.ts).

import type { FromWorker } from '../worker/protocol';

/** Silence allowed before any step was measured (loading, the first step with its warm-up), in s. */
export const FIRST_STEP_LIMIT_S = 60;
/** Silence always allowed, however fast the steps, in s. */
export const MIN_LIMIT_S = 15;
/** The limit once steps are measured: this many times the slowest step so far. */
export const STEP_TIME_FACTOR = 3;
/**
 * A timer that fires this late (ms) means the page itself was busy: the worker's messages may be
 * waiting behind it, so the silence is measured again after them.
 */
export const LATE_MS = 1000;

/** How long silence may last, in s: generous before the first step, then tied to the slowest step. */
export function silenceLimit(slowestStepSeconds: number | null): number {
  return slowestStepSeconds === null ? FIRST_STEP_LIMIT_S : Math.max(MIN_LIMIT_S, STEP_TIME_FACTOR * slowestStepSeconds);
}

export interface Silence {
  /** How long nothing was heard, in s. */
  seconds: number;
  /** The limit it passed, in s. */
  limit: number;
  /** The slowest step this worker ran, in s; null before its first. */
  slowestStep: number | null;
  /** What the worker was doing when it went quiet. */
  during: 'loading' | 'training';
}

/** Time and timers; tests pass a fake clock. */
export interface Clock {
  now: () => number;
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
}

const pageClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export class Watchdog {
  /** What the worker is doing that it must be heard during; null while it may be quiet (idle, stopped). */
  private during: Silence['during'] | null = null;
  private lastHeard = 0;
  private slowestStep: number | null = null;
  private timer: unknown = null;
  /** When the pending timer should fire. */
  private due = 0;

  constructor(
    private readonly onSilent: (silence: Silence) => void,
    private readonly clock: Clock = pageClock,
  ) {}

  /** Every message from the worker: it is alive; its status arms or disarms the watch. */
  heard(message: FromWorker): void {
    this.lastHeard = this.clock.now();
    if (message.type === 'step') {
      const seconds = message.report.metrics['time/step_s'];
      if (seconds !== undefined && seconds > (this.slowestStep ?? 0)) this.slowestStep = seconds;
    } else if (message.type === 'status') {
      this.during = message.status === 'running' ? 'training' : message.status === 'loading' ? 'loading' : null;
    } else if (message.type === 'failure') {
      this.during = null;
    }
    this.schedule();
  }

  /** A new worker: nothing measured yet, nothing expected until it speaks. */
  restart(): void {
    this.stop();
    this.slowestStep = null;
  }

  stop(): void {
    this.during = null;
    this.schedule();
  }

  /** The limit now, in s. */
  get limit(): number {
    return silenceLimit(this.slowestStep);
  }

  private schedule(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.during === null) return;
    this.arm(this.lastHeard + this.limit * 1000 - this.clock.now());
  }

  private arm(ms: number): void {
    this.due = this.clock.now() + ms;
    this.timer = this.clock.setTimeout(() => this.check(), Math.max(0, ms));
  }

  private check(): void {
    this.timer = null;
    if (this.during === null) return;
    const now = this.clock.now();
    const silent = now - this.lastHeard;
    if (silent < this.limit * 1000) {
      this.arm(this.lastHeard + this.limit * 1000 - now);
      return;
    }
    if (now - this.due > LATE_MS) {
      this.arm(LATE_MS);
      return;
    }
    const during = this.during;
    this.during = null;
    this.onSilent({ seconds: silent / 1000, limit: this.limit, slowestStep: this.slowestStep, during });
  }
}
