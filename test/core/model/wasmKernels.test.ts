// The wasm kernels of src/core/model/wasmKernels.ts against tfjs's cpu backend (its reference
// kernels): Slice, SplitV and Concat value for value, for every dtype that lives in the heap,
// boxes that are and are not contiguous, and gradients through all three; the decoding
// LayerNorm against a row worked by hand and against the stock ops.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleWasmMatmul } from '../../../src/cli/buildWasmKernels';
import { useBackend } from '../../../src/core/backend';
import { type CheckpointManifest, deserializePolicy } from '../../../src/core/checkpoint';
import { checkpointFiles } from '../../../src/core/checkpointFiles';
import { disposePolicy, forward, stockLayerNorm } from '../../../src/core/model/transformer';
import { wasmLayerNorm, wasmMatmulActive } from '../../../src/core/model/wasmKernels';
import { Rng } from '../../../src/core/rng';
import { decodeGap, decodeRows } from './decodeCheck';

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

/** `shape`'s count of uniform draws in [-1, 1). */
function uniform(rng: Rng, shape: number[]): number[] {
  return Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() * 2 - 1);
}

/** The largest absolute difference between two arrays of the same length. */
function largestGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i] - b[i]));
  return largest;
}

/** Runs `f` on the cpu backend and on wasm with the same inputs; returns both results' values. */
async function onBoth<T, R>(f: () => T, read: (t: T) => R): Promise<{ cpu: R; wasm: R }> {
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

describe('wasm LayerNorm for decoding', () => {
  it('normalises a row as worked by hand', () => {
    // mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25; then gain 2 and bias 1.
    const y = tf.tidy(() => wasmLayerNorm(tf.tensor2d([[1, 2, 3, 4]]), tf.fill([4], 2), tf.ones([4]), 1e-5)!.arraySync());
    const s = 1 / Math.sqrt(1.25 + 1e-5);
    [-1.5, -0.5, 0.5, 1.5].forEach((c, i) => expect(y[0][i]).toBeCloseTo(c * s * 2 + 1, 6));
  });

  it('gives the stock ops\' LayerNorm on the cpu backend within 1e-6, for 64 rows of trained-model scale', async () => {
    const rng = new Rng(5);
    const [N, D] = [64, 64];
    const x = uniform(rng, [N, D]).map((u) => 0.5 + 4 * u);
    const gain = uniform(rng, [D]).map((u) => 1 + u);
    const bias = uniform(rng, [D]).map((u) => 0.3 * u);
    await tf.setBackend('cpu');
    const expected = tf.tidy(() => stockLayerNorm(tf.tensor2d(x, [N, D]), tf.tensor1d(gain), tf.tensor1d(bias)).dataSync());
    await tf.setBackend('wasm');
    const actual = tf.tidy(() => wasmLayerNorm(tf.tensor2d(x, [N, D]), tf.tensor1d(gain), tf.tensor1d(bias), 1e-5)!.dataSync());
    expect(largestGap(expected, actual)).toBeLessThan(1e-6);
  });

  it('is used by nothing but wasm', async () => {
    await tf.setBackend('cpu');
    const [x, gain, bias] = [tf.ones([2, 4]) as tf.Tensor2D, tf.ones([4]), tf.zeros([4])];
    expect(wasmLayerNorm(x, gain, bias, 1e-5)).toBeNull();
    tf.dispose([x, gain, bias]);
    await tf.setBackend('wasm');
  });
});

describe('decoding on wasm with these kernels', () => {
  // The stock ops on wasm come within 2.1e-5 of the cpu backend here (XNNPACK sums in another
  // order). A LayerNorm without its epsilon misses by 0.095, one with the variance over D - 1 by 0.40.
  it('gives the cpu backend\'s full forward pass at every position, within 5e-5', async () => {
    const files = checkpointFiles(path.resolve('public/models/tiny'));
    const manifest = JSON.parse(fs.readFileSync(files.manifest, 'utf8')) as CheckpointManifest;
    const bytes = new Uint8Array(fs.readFileSync(files.weights));
    const T = 40;
    const rows = decodeRows(T);
    await tf.setBackend('cpu');
    const onCpu = deserializePolicy(manifest, bytes);
    const full = tf.tidy(() => forward(onCpu, tf.tensor2d(rows, [rows.length, T], 'int32')).arraySync());
    disposePolicy(onCpu);
    await tf.setBackend('wasm');
    const policy = deserializePolicy(manifest, bytes);
    let largest: number;
    try {
      ({ largest } = decodeGap(policy, rows, full));
    } finally {
      disposePolicy(policy);
    }
    expect(largest).toBeLessThan(5e-5);
  });
});

describe('wasm SIMD BatchMatMul', () => {
  it('starts in Node (wasm SIMD, tfjs\'s unthreaded build)', () => {
    expect(wasmMatmulActive()).toBe(true);
  });

  it('multiplies as the cpu backend does, batched and transposed, with column and depth tails', async () => {
    const rng = new Rng(23);
    const cases: { a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [];
    for (const [M, K, N] of [[1, 16, 41], [7, 5, 3], [40, 16, 40], [3, 1, 9], [5, 9, 1], [6, 17, 8]]) {
      for (const lead of [[], [3], [2, 4]]) {
        for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
          cases.push({ a: [...lead, ...(ta ? [K, M] : [M, K])], b: [...lead, ...(tb ? [N, K] : [K, N])], ta, tb });
        }
      }
    }
    cases.push({ a: [1, 4, 6], b: [3, 6, 5], ta: false, tb: false }); // broadcast batch: tfjs's own kernel
    for (const { a, b, ta, tb } of cases) {
      const [av, bv] = [uniform(rng, a), uniform(rng, b)];
      const { cpu, wasm } = await onBoth(() => tf.matMul(tf.tensor(av, a), tf.tensor(bv, b), ta, tb), arrayOf);
      expect(wasm.shape, JSON.stringify({ a, b, ta, tb })).toEqual(cpu.shape);
      expect(largestGap(cpu.values, wasm.values), JSON.stringify({ a, b, ta, tb })).toBeLessThan(1e-5);
    }
  });

  it('passes gradients through attention-shaped products as the cpu backend does', async () => {
    const rng = new Rng(29);
    const shape = [2, 3, 7, 4];
    const inputs = [uniform(rng, shape), uniform(rng, shape), uniform(rng, shape)];
    const attention = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) => tf.matMul(tf.softmax(tf.matMul(qq, kk, false, true)), vv).square().sum();
    // The inputs are made on each backend in turn, inside onBoth's scope.
    const grads = () => tf.grads(attention)(inputs.map((values) => tf.tensor(values, shape)));
    const { cpu, wasm } = await onBoth(grads, (gs) => gs.map(arrayOf));
    cpu.forEach((c, n) => expect(largestGap(c.values, wasm[n].values)).toBeLessThan(1e-5));
  });
});

describe('the SIMD module\'s bytes', () => {
  it('are what wasmMatmul.wat assembles to (npm run build:wasm-kernels)', async () => {
    const committed = fs.readFileSync(path.resolve('src/core/model/wasmMatmulBinary.ts'), 'utf8');
    expect(await assembleWasmMatmul()).toBe(committed);
  });
});
