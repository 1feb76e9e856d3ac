// The wasm Slice, SplitV and Concat kernels that copy within the heap (src/core/model/wasmKernels.ts)
// against tfjs's cpu backend (its reference kernels), value for value, for every dtype that
// lives in the heap, boxes that are and are not contiguous, and gradients through all three.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../src/core/backend';
import { Rng } from '../../../src/core/rng';

beforeAll(async () => {
  await useBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

type Dtype = 'float32' | 'int32' | 'bool';

/** Values for a tensor of `shape`, distinct at every index so a misplaced copy shows. */
function values(shape: number[], dtype: Dtype): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => (dtype === 'bool' ? (i * 7) % 3 === 0 ? 1 : 0 : dtype === 'int32' ? i - 17 : i * 0.5 - 3.25));
}

/** Runs `f` on the cpu backend and on wasm with the same inputs; returns both results' values. */
async function onBoth<T>(f: () => T, read: (t: T) => unknown): Promise<{ cpu: unknown; wasm: unknown }> {
  const run = () => {
    tf.engine().startScope();
    try {
      return read(f());
    } finally {
      tf.engine().endScope();
    }
  };
  await tf.setBackend('cpu');
  const cpu = run();
  await tf.setBackend('wasm');
  const wasm = run();
  return { cpu, wasm };
}

const arrayOf = (t: tf.Tensor) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) });

describe('wasm Slice, SplitV and Concat', () => {
  it('copy without reading the input back out of the heap', () => {
    const backend = tf.backend() as unknown as { readSync: (...args: unknown[]) => unknown };
    const original = backend.readSync;
    let reads = 0;
    backend.readSync = function (this: unknown, ...args: unknown[]) {
      reads++;
      return original.apply(this, args);
    };
    try {
      tf.tidy(() => {
        const x = tf.tensor3d(values([4, 5, 6], 'float32'), [4, 5, 6]);
        tf.slice(x, [1, 2, 0], [2, 2, 6]);
        tf.split(x, [1, 3], 0);
        tf.concat([x, x], 1);
      });
    } finally {
      backend.readSync = original;
    }
    // tfjs's own Slice and SplitV call readSync once per slice (a copy of the whole input).
    expect(reads).toBe(0);
  });

  it('slice as the cpu backend does, for 200 random boxes of rank 1 to 5 and each dtype', async () => {
    const rng = new Rng(11);
    const cases: { shape: number[]; begin: number[]; size: number[]; dtype: Dtype }[] = [];
    for (let c = 0; c < 200; c++) {
      const rank = 1 + Math.floor(rng.next() * 5);
      const shape = Array.from({ length: rank }, () => 1 + Math.floor(rng.next() * 5));
      const begin = shape.map((d) => Math.floor(rng.next() * d));
      // -1 (to the end) now and then, and whole trailing dimensions, the contiguous case.
      const size = shape.map((d, i) => (rng.next() < 0.2 ? -1 : 1 + Math.floor(rng.next() * (d - begin[i]))));
      cases.push({ shape, begin, size, dtype: (['float32', 'int32', 'bool'] as const)[c % 3] });
    }
    cases.push({ shape: [3, 4], begin: [0, 0], size: [3, 4], dtype: 'float32' }); // the whole tensor
    cases.push({ shape: [3, 4], begin: [1, 0], size: [0, 4], dtype: 'float32' }); // empty
    for (const { shape, begin, size, dtype } of cases) {
      const { cpu, wasm } = await onBoth(() => tf.slice(tf.tensor(values(shape, dtype), shape, dtype), begin, size), arrayOf);
      expect(wasm, JSON.stringify({ shape, begin, size, dtype })).toEqual(cpu);
    }
  });

  it('split and concat as the cpu backend does, empty parts included', async () => {
    const shape = [3, 6, 4];
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      for (const [splits, axis] of [[3, 1], [[1, 2, -1], 1], [[2, 2], 2], [[1, 0, 2], 0]] as [number | number[], number][]) {
        const { cpu, wasm } = await onBoth(() => tf.split(tf.tensor(values(shape, dtype), shape, dtype), splits, axis), (parts) => parts.map(arrayOf));
        expect(wasm, JSON.stringify({ dtype, splits, axis })).toEqual(cpu);
      }
      for (const axis of [0, 1, 2, -1]) {
        const { cpu, wasm } = await onBoth(() => {
          const a = tf.tensor(values(shape, dtype), shape, dtype);
          const parts = [a, tf.slice(a, [0, 0, 0], axis === 0 ? [1, 6, 4] : axis === 1 ? [3, 2, 4] : [3, 6, 1])];
          const empty = tf.zeros(axis === 0 ? [0, 6, 4] : axis === 1 ? [3, 0, 4] : [3, 6, 0], dtype);
          return tf.concat([parts[1], empty, a, parts[1]], axis);
        }, arrayOf);
        expect(wasm, JSON.stringify({ dtype, axis })).toEqual(cpu);
      }
      // One non-empty input among empty ones: a copy of it.
      const single = await onBoth(() => tf.concat([tf.zeros([0, 2], dtype), tf.tensor(values([3, 2], dtype), [3, 2], dtype)], 0), arrayOf);
      expect(single.wasm).toEqual(single.cpu);
    }
  });

  it('pass gradients through split, slice and concat as the cpu backend does', async () => {
    const { cpu, wasm } = await onBoth(
      () =>
        tf.grad((x: tf.Tensor) => {
          const [a, b, c] = tf.split(x, 3, 1);
          const joined = tf.concat([c, tf.slice(a, [1, 0], [2, 2]).pad([[0, 1], [0, 0]]), b.square()], 0);
          return joined.mul(tf.range(0, joined.size).reshape(joined.shape)).sum();
        })(tf.tensor2d(values([3, 6], 'float32'), [3, 6])),
      arrayOf,
    );
    expect(wasm).toEqual(cpu);
  });

  it('leave strings to tfjs\'s own kernels (split refuses strings)', () => {
    tf.tidy(() => {
      const s = tf.tensor(['a', 'b', 'c', 'd'], [2, 2], 'string');
      expect(tf.slice(s, [1, 0], [1, 2]).arraySync()).toEqual([['c', 'd']]);
      expect(tf.concat([s, s], 0).arraySync()).toEqual([['a', 'b'], ['c', 'd'], ['a', 'b'], ['c', 'd']]);
    });
  });
});
