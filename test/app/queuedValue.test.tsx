// @vitest-environment jsdom
// useQueuedValue: a value that changes is let through by the page's frame queue, one job per
// animation frame, after the jobs queued before it.

import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

let frames: FrameRequestCallback[] = [];

function frame(): void {
  const due = frames;
  frames = [];
  act(() => due.forEach((callback) => callback(0)));
}

beforeEach(() => {
  frames = [];
  vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback) => frames.push(callback));
  vi.resetModules();
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('useQueuedValue', () => {
  it('shows the first value at once, a change one frame later, after the jobs queued before it', async () => {
    const { inAFrame, useQueuedValue } = await import('../../src/app/frameQueue');
    const Shown = ({ value }: { value: string }) => <p>{useQueuedValue(value)}</p>;
    const { rerender } = render(<Shown value="step 1" />);
    expect(screen.getByRole('paragraph').textContent).toBe('step 1');
    const ran: string[] = [];
    inAFrame(() => ran.push('cards'));
    rerender(<Shown value="step 2" />);
    expect(screen.getByRole('paragraph').textContent).toBe('step 1');
    frame(); // the cards queued first
    expect(ran).toEqual(['cards']);
    expect(screen.getByRole('paragraph').textContent).toBe('step 1');
    frame();
    expect(screen.getByRole('paragraph').textContent).toBe('step 2');
  });

  it('keeps its place when the value changes again while waiting, and shows the newest', async () => {
    const { inAFrame, useQueuedValue } = await import('../../src/app/frameQueue');
    const Shown = ({ value }: { value: string }) => <p>{useQueuedValue(value)}</p>;
    const { rerender } = render(<Shown value="step 1" />);
    rerender(<Shown value="step 2" />);
    const ran: string[] = [];
    inAFrame(() => ran.push('cards'));
    rerender(<Shown value="step 3" />);
    frame(); // its job was queued before the cards: it runs first, with the newest value
    expect(screen.getByRole('paragraph').textContent).toBe('step 3');
    expect(ran).toEqual([]);
    frame();
    expect(ran).toEqual(['cards']);
    expect(frames).toHaveLength(0);
  });

  it('takes changes at most once per interval, and none while paused, then the newest on resuming', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }); // rAF stays the test's own
    try {
      const { useQueuedValue } = await import('../../src/app/frameQueue');
      const Shown = ({ value, paused }: { value: string; paused: boolean }) => <p>{useQueuedValue(value, { minIntervalMs: 500, paused })}</p>;
      const { rerender } = render(<Shown value="step 1" paused={false} />);
      rerender(<Shown value="step 2" paused={false} />);
      frame(); // the first change: nothing shown for 500 ms before it, so at the next frame
      expect(screen.getByRole('paragraph').textContent).toBe('step 2');
      act(() => vi.advanceTimersByTime(100));
      rerender(<Shown value="step 3" paused={false} />);
      frame();
      expect(screen.getByRole('paragraph').textContent).toBe('step 2'); // waits until 500 ms after step 2
      act(() => vi.advanceTimersByTime(399));
      expect(frames).toHaveLength(0);
      act(() => vi.advanceTimersByTime(1));
      frame();
      expect(screen.getByRole('paragraph').textContent).toBe('step 3');
      act(() => vi.advanceTimersByTime(2000));
      rerender(<Shown value="step 4" paused={true} />);
      rerender(<Shown value="step 5" paused={true} />);
      frame();
      expect(screen.getByRole('paragraph').textContent).toBe('step 3');
      rerender(<Shown value="step 5" paused={false} />);
      frame();
      expect(screen.getByRole('paragraph').textContent).toBe('step 5');
    } finally {
      vi.useRealTimers();
    }
  });
  it('goes off screen while a change waits in the frame queue, and still catches up on coming back', async () => {
    const { inAFrame, useQueuedValue } = await import('../../src/app/frameQueue');
    const Shown = ({ value, paused }: { value: string; paused: boolean }) => <p>{useQueuedValue(value, { paused })}</p>;
    const { rerender } = render(<Shown value="step 1" paused={false} />);
    inAFrame(() => undefined); // the frame queue is busy: step 2 waits behind this job
    rerender(<Shown value="step 2" paused={false} />);
    rerender(<Shown value="step 2" paused={true} />); // scrolled away before its frame came
    frame();
    frame();
    expect(screen.getByRole('paragraph').textContent).toBe('step 1');
    rerender(<Shown value="step 3" paused={true} />);
    rerender(<Shown value="step 3" paused={false} />); // scrolled back
    frame();
    expect(screen.getByRole('paragraph').textContent).toBe('step 3');
  });
});
