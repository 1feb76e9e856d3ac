// Where a checkpoint's files are and what they are called, for every reader: the commands (files
// under public/), the training worker and the page (URLs under the page's base). No tfjs here, so
// the page's main thread can use it; the format itself is src/core/checkpoint.ts.

import type { ModelScale } from './model/config';

/** The task family whose bundled checkpoints are named by their scale alone. */
const FIRST_TASK = 'arithmetic';

/** A checkpoint is two files side by side: the manifest `<stem>.json` and the float32 weights `<stem>.bin`. */
export function checkpointFiles(stem: string): { manifest: string; weights: string } {
  return { manifest: `${stem}.json`, weights: `${stem}.bin` };
}

/**
 * The stem of the bundled warm-start checkpoint of a scale and task, relative to public/ and so to
 * the page's base URL: models/<scale> for arithmetic, models/<scale>-<task> for any other task.
 */
export function bundledCheckpointStem(scale: ModelScale, task: string = FIRST_TASK): string {
  return `models/${task === FIRST_TASK ? scale : `${scale}-${task}`}`;
}
