// Page work that would be one long main-thread task if done at once (a step's trajectory cards,
// the six chart redraws) is queued here and started one job per animation frame, in the order it
// was asked for. A job may ask for rest after it: a recharts redraw finishes over the next
// frames (its store notifies its subscribers from requestAnimationFrame), so the next job waits
// until that is done rather than landing in the same task. One queue for the whole page means
// that the inspector's cards and the charts never pile up in one frame either.

interface Job {
  run: () => void;
  restMs: number;
}

const queue: Job[] = [];
let scheduled = false;
/** Frame time (requestAnimationFrame's clock) before which no job starts. */
let restUntil = 0;

function onFrame(now: number): void {
  scheduled = false;
  if (now >= restUntil) {
    const job = queue.shift();
    if (job) {
      job.run();
      restUntil = now + job.restMs;
    }
  }
  if (queue.length > 0) schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(onFrame);
}

/**
 * Run `job` in a coming animation frame, after the jobs queued before it, and start nothing
 * else for `restMs` after it. Returns a function that cancels the job if it has not run yet.
 */
export function inAFrame(job: () => void, restMs = 0): () => void {
  const entry: Job = { run: job, restMs };
  queue.push(entry);
  schedule();
  return () => {
    const at = queue.indexOf(entry);
    if (at >= 0) queue.splice(at, 1);
  };
}
