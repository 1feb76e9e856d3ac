// Counting GPU dispatches: every compute pass tfjs's WebGPU backend records goes through its
// `recordAndSubmit`, tfjs's own ops and the fused kernels alike. Views (reshape) and kernels that
// run on the CPU dispatch nothing, so this is the GPU's real work count, not tfjs's kernel count.

import * as tf from '@tensorflow/tfjs';

export interface DispatchCounter {
  /** Dispatches so far. */
  readonly count: number;
  /** Stops counting (counters started later must stop first) and returns the count. */
  stop(): number;
}

type Recording = { recordAndSubmit?: (...args: unknown[]) => unknown };

/** A counter on the current backend, or null when it is not WebGPU. */
export function startDispatchCounter(): DispatchCounter | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const backend = tf.backend() as unknown as Recording;
  const original = backend.recordAndSubmit;
  if (typeof original !== 'function') return null;
  let count = 0;
  let stopped = false;
  backend.recordAndSubmit = function (this: unknown, ...args: unknown[]) {
    if (!stopped) count += 1;
    return original.apply(this, args);
  };
  return {
    get count() {
      return count;
    },
    stop() {
      if (!stopped) {
        stopped = true;
        backend.recordAndSubmit = original;
      }
      return count;
    },
  };
}
