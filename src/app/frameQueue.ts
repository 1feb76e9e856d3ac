// Page work that would be one long main-thread task if done at once (a step's trajectory cards,
// the six chart redraws, the token view following the live step) is queued here and started one
// job per animation frame, in the order it was asked for. One queue for the whole page means
// that these never pile up in one frame: each frame lays out and paints one job's changes.

import { useEffect, useRef, useState } from 'react';

const queue: (() => void)[] = [];
let scheduled = false;

function onFrame(): void {
  scheduled = false;
  queue.shift()?.();
  if (queue.length > 0) schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(onFrame);
}

/**
 * Run `job` in a coming animation frame, after the jobs queued before it. Returns a function
 * that cancels the job if it has not run yet.
 */
export function inAFrame(job: () => void): () => void {
  const entry = () => job(); // its own identity, so a cancel removes this request only
  queue.push(entry);
  schedule();
  return () => {
    const at = queue.indexOf(entry);
    if (at >= 0) queue.splice(at, 1);
  };
}

/**
 * `value` as the frame queue lets it through: the first value at once, and each change in a
 * coming frame, after the jobs queued before it. A change that arrives while one is waiting
 * keeps the waiting one's place and is what it shows. With `minIntervalMs`, changes are taken at
 * most that often; while `paused` (e.g. off screen) none is taken, and the newest is taken on
 * resuming.
 */
export function useQueuedValue<T>(value: T, { minIntervalMs = 0, paused = false } = {}): T {
  const [shown, setShown] = useState(value);
  const latest = useRef(value);
  const lastShown = useRef(-Infinity);
  const cancel = useRef<(() => void) | null>(null);
  useEffect(() => {
    latest.current = value;
    if (paused) {
      cancel.current?.();
      return;
    }
    if (Object.is(shown, value) || cancel.current) return;
    const take = () => {
      cancel.current = null;
      lastShown.current = performance.now();
      setShown(latest.current);
    };
    const wait = lastShown.current + minIntervalMs - performance.now();
    let cancelJob: (() => void) | null = null;
    const timer = wait <= 0 ? undefined : setTimeout(() => (cancelJob = inAFrame(take)), wait);
    if (timer === undefined) cancelJob = inAFrame(take);
    // Cancelling also clears the mark of a waiting change: otherwise a change cancelled by going
    // off screen would look as if it still waited, and none would be taken on coming back.
    cancel.current = () => {
      clearTimeout(timer);
      cancelJob?.();
      cancel.current = null;
    };
  }, [value, shown, paused, minIntervalMs]);
  useEffect(() => () => cancel.current?.(), []);
  return shown;
}
