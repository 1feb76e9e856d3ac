// The page's frame queue: one job per animation frame, in order, and cancellation of a job that
// has not run.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

let frames: FrameRequestCallback[] = [];

/** Runs the callbacks requested for the next frame, at frame time `now` (ms). */
function frame(now: number): void {
  const due = frames;
  frames = [];
  for (const callback of due) callback(now);
}

beforeEach(() => {
  frames = [];
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => frames.push(callback));
  vi.resetModules();
});

afterEach(() => vi.unstubAllGlobals());

describe('inAFrame', () => {
  it('runs one job per frame, in the order asked', async () => {
    const { inAFrame } = await import('../../src/app/frameQueue');
    const ran: string[] = [];
    for (const name of ['a', 'b', 'c']) inAFrame(() => ran.push(name));
    expect(ran).toEqual([]);
    frame(0);
    expect(ran).toEqual(['a']);
    frame(16);
    expect(ran).toEqual(['a', 'b']);
    frame(33);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(frames).toHaveLength(0); // nothing left: no frame asked for
  });

  it('drops a cancelled job and keeps the others', async () => {
    const { inAFrame } = await import('../../src/app/frameQueue');
    const ran: string[] = [];
    inAFrame(() => ran.push('a'));
    const cancel = inAFrame(() => ran.push('b'));
    inAFrame(() => ran.push('c'));
    cancel();
    frame(0);
    frame(16);
    frame(33);
    expect(ran).toEqual(['a', 'c']);
  });
});
