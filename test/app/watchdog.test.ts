// The watchdog on the training worker (src/app/watchdog.ts) on a fake clock: when it is armed,
// how long it waits (60 s before the first step, then 3 x the slowest step, at least 15 s), that
// every message resets it, that it fires once, and that a timer the busy page ran late does not
// count the page's own delay as the worker's silence.

import { describe, expect, it } from 'vitest';
import { silenceLimit, Watchdog, type Clock, type Silence } from '../../src/app/watchdog';
import type { StepReport } from '../../src/core/trainer';
import type { FromWorker } from '../../src/worker/protocol';

/** A clock whose time moves only when told; timers fire in time order as it moves. */
class FakeClock implements Clock {
  time = 0;
  private timers: { at: number; callback: () => void; id: number }[] = [];
  private nextId = 1;
  now = () => this.time;
  setTimeout = (callback: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.push({ at: this.time + ms, callback, id });
    return id;
  };
  clearTimeout = (handle: unknown) => {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  };
  /** Moves time on by `ms`, firing each timer due on the way at its own time. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.time = Math.max(this.time, due.at);
      due.callback();
    }
    this.time = end;
  }
  /** The page is busy for `ms`: time moves and no timer runs; those due fire late, after it. */
  block(ms: number): void {
    this.time += ms;
  }
}

const running: FromWorker = { type: 'status', status: 'running', message: 'Training…' };
const heartbeat: FromWorker = { type: 'heartbeat' };
function step(n: number, seconds: number): FromWorker {
  return { type: 'step', report: { step: n, metrics: { 'time/step_s': seconds } } as unknown as StepReport };
}

function watch(): { clock: FakeClock; watchdog: Watchdog; alarms: Silence[] } {
  const clock = new FakeClock();
  const alarms: Silence[] = [];
  return { clock, watchdog: new Watchdog((silence) => alarms.push(silence), clock), alarms };
}

describe('silenceLimit', () => {
  it('allows 60 s before a step is measured, then 3 x the slowest step, never under 15 s', () => {
    expect(silenceLimit(null)).toBe(60);
    expect(silenceLimit(1.2)).toBe(15);
    expect(silenceLimit(5)).toBe(15);
    expect(silenceLimit(8)).toBe(24);
  });
});

describe('Watchdog', () => {
  it('waits for nothing until the worker says it is loading or training', () => {
    const { clock, watchdog, alarms } = watch();
    watchdog.heard(heartbeat);
    watchdog.heard({ type: 'status', status: 'ready' });
    clock.advance(600_000);
    expect(alarms).toEqual([]);
  });

  it('before the first step, fires after 60 s of silence and not before', () => {
    const { clock, watchdog, alarms } = watch();
    watchdog.heard({ type: 'status', status: 'loading', message: 'Starting the backend…' });
    clock.advance(59_999);
    expect(alarms).toEqual([]);
    clock.advance(1);
    expect(alarms).toEqual([{ seconds: 60, limit: 60, slowestStep: null, during: 'loading' }]);
  });

  it('every message restarts the wait; steps of 2 s and 8 s set the limit to 15 s, then 24 s', () => {
    const { clock, watchdog, alarms } = watch();
    watchdog.heard(running);
    for (let i = 0; i < 10; i++) {
      clock.advance(50_000); // under 60 s each time: the heartbeats keep it quiet
      watchdog.heard(heartbeat);
    }
    watchdog.heard(step(1, 2));
    clock.advance(14_999);
    expect(alarms).toEqual([]);
    watchdog.heard(step(2, 8)); // the slowest so far: 3 x 8 s
    clock.advance(23_999);
    expect(alarms).toEqual([]);
    watchdog.heard(step(3, 1)); // faster steps do not lower the limit
    clock.advance(24_000);
    expect(alarms).toEqual([{ seconds: 24, limit: 24, slowestStep: 8, during: 'training' }]);
  });

  it('fires once, and not while paused or after a failure', () => {
    const { clock, watchdog, alarms } = watch();
    watchdog.heard(running);
    watchdog.heard(step(1, 1));
    watchdog.heard({ type: 'status', status: 'paused', message: 'Paused after step 1.' });
    clock.advance(100_000);
    expect(alarms).toEqual([]);
    watchdog.heard(running);
    watchdog.heard({ type: 'failure', kind: 'nan', message: 'the loss became NaN at step 2', lastGoodStep: 1 });
    clock.advance(100_000);
    expect(alarms).toEqual([]);
    watchdog.heard(running);
    clock.advance(100_000);
    expect(alarms).toHaveLength(1);
    clock.advance(100_000);
    expect(alarms).toHaveLength(1);
  });

  it("does not take the page's own busy time for the worker's silence", () => {
    const { clock, watchdog, alarms } = watch();
    watchdog.heard(running);
    watchdog.heard(step(1, 1)); // limit 15 s
    clock.block(40_000); // the page's thread was busy; the worker's messages wait behind its timer
    clock.advance(0); // the timer, 25 s late: it looks again after the messages waiting
    expect(alarms).toEqual([]);
    watchdog.heard(heartbeat); // one was waiting
    clock.advance(14_999);
    expect(alarms).toEqual([]);
    // A worker truly gone: the second look, on time, fires.
    clock.block(20_001);
    clock.advance(0);
    clock.advance(1_000);
    expect(alarms).toEqual([{ seconds: 36, limit: 15, slowestStep: 1, during: 'training' }]);
  });

  it('a new worker starts with nothing measured', () => {
    const { clock, watchdog, alarms } = watch();
    watchdog.heard(running);
    watchdog.heard(step(1, 1));
    watchdog.restart();
    watchdog.heard(running);
    clock.advance(59_999);
    expect(alarms).toEqual([]);
    clock.advance(1);
    expect(alarms).toHaveLength(1);
  });
});
