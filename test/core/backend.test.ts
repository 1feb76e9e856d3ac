import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BackendName, useBackend } from '../../src/core/backend';
import { SWIFTSHADER_ICD, useNodeBackend } from '../../src/cli/nodeWebgpu';

// WebGPU in Node runs Dawn (npm `webgpu`) on Chromium's SwiftShader Vulkan driver.
const noWebGPU = !existsSync(SWIFTSHADER_ICD) && !process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES;
if (noWebGPU) {
  console.log(
    `[backend.test] skipping the WebGPU tests: ${SWIFTSHADER_ICD} is missing ` +
      '(`apt-get install -y chromium` provides it).',
  );
}

const BACKENDS: { name: BackendName; skip: boolean }[] = [
  { name: 'cpu', skip: false },
  { name: 'wasm', skip: false },
  { name: 'webgpu', skip: noWebGPU },
];

const TOL = 1e-5;
const GRAD_TOL = 1e-4;

/** Deterministic values in [-0.5, 0.5), rounded to float32 so JS references see what tfjs sees. */
function det(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(Math.fround(s / 2 ** 32 - 0.5));
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i]));
    if (!(err <= worst)) {
      worst = err;
      at = i;
    }
  }
  expect(worst, `${what}: worst error at [${at}]: got ${actual[at]}, want ${expected[at]}`).toBeLessThanOrEqual(tol);
}

// ---------------------------------------------------------------------------------------------
// Plain-JS references

function jsMatMul(a: number[], b: number[], m: number, k: number, n: number): number[] {
  const c = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a[i * k + t] * b[t * n + j];
      c[i * n + j] = s;
    }
  return c;
}

function jsSoftmax(x: number[]): number[] {
  const m = Math.max(...x);
  const e = x.map((v) => Math.exp(v - m));
  const z = e.reduce((p, v) => p + v, 0);
  return e.map((v) => v / z);
}

function jsLayerNorm(x: number[], rows: number, cols: number, g: number[], b: number[], eps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const row = x.slice(r * cols, (r + 1) * cols);
    const mean = row.reduce((p, v) => p + v, 0) / cols;
    const variance = row.reduce((p, v) => p + (v - mean) ** 2, 0) / cols;
    for (let c = 0; c < cols; c++) out.push(((row[c] - mean) / Math.sqrt(variance + eps)) * g[c] + b[c]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Forward results per backend

for (const { name, skip } of BACKENDS) {
  describe.skipIf(skip)(`backend ${name}`, () => {
    let tensorsAtStart = 0;
    beforeAll(async () => {
      tensorsAtStart = tf.memory().numTensors;
      const t0 = performance.now();
      const info = await useNodeBackend(name);
      console.log(`[backend.test] ${name} started in ${(performance.now() - t0).toFixed(0)} ms`, info);
    });

    it('is the active backend, computing in float32', () => {
      expect(tf.getBackend()).toBe(name);
      expect(tf.backend().floatPrecision()).toBe(32);
    });

    it('matMul of small known matrices', async () => {
      const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
      const b = tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2]);
      const c = tf.matMul(a, b);
      // [1 2 3; 4 5 6] x [7 8; 9 10; 11 12], by hand
      expectClose(await c.data(), [58, 64, 139, 154], TOL, 'matMul 2x3x2');
      const ct = tf.matMul(a, b, true, true); // a^T (3x2) x b^T (2x3) -> 3x3
      expectClose(await ct.data(), jsMatMul([1, 4, 2, 5, 3, 6], [7, 9, 11, 8, 10, 12], 3, 2, 3), TOL, 'matMul transposed');
      tf.dispose([a, b, c, ct]);
    });

    it('64x64 matMul matches a JS loop', async () => {
      const A = det(64 * 64, 1);
      const B = det(64 * 64, 2);
      const a = tf.tensor2d(A, [64, 64]);
      const b = tf.tensor2d(B, [64, 64]);
      const c = tf.matMul(a, b);
      expectClose(await c.data(), jsMatMul(A, B, 64, 64, 64), TOL, 'matMul 64');
      const t0 = performance.now();
      const reps = 10;
      for (let i = 0; i < reps; i++) {
        const d = tf.matMul(a, b);
        await d.data();
        d.dispose();
      }
      console.log(`[backend.test] ${name}: 64x64 matMul + read ${((performance.now() - t0) / reps).toFixed(2)} ms`);
      tf.dispose([a, b, c]);
    });

    it('softmax and logSoftmax of a known vector', async () => {
      const v = [1, 2, 3, 4, -1, 0.5];
      const want = jsSoftmax(v);
      const x = tf.tensor1d(v);
      const s = tf.softmax(x);
      const ls = tf.logSoftmax(x);
      expectClose(await s.data(), want, TOL, 'softmax');
      expectClose(await ls.data(), want.map(Math.log), TOL, 'logSoftmax');
      // softmax of [0, ln 3] is exactly [1/4, 3/4]
      const two = tf.tidy(() => tf.softmax(tf.tensor1d([0, Math.log(3)])));
      expectClose(await two.data(), [0.25, 0.75], TOL, 'softmax [0, ln3]');
      tf.dispose([x, s, ls, two]);
    });

    it('a tiny layer norm (moments, rsqrt, broadcasting)', async () => {
      const rows = 3;
      const cols = 8;
      const X = det(rows * cols, 3).map((v) => v * 4);
      const G = det(cols, 4).map((v) => 1 + v);
      const Bv = det(cols, 5);
      const eps = 1e-5;
      const y = tf.tidy(() => {
        const x = tf.tensor2d(X, [rows, cols]);
        const { mean, variance } = tf.moments(x, -1, true);
        return x.sub(mean).mul(tf.rsqrt(variance.add(eps))).mul(tf.tensor1d(G)).add(tf.tensor1d(Bv));
      });
      expectClose(await y.data(), jsLayerNorm(X, rows, cols, G, Bv, eps), TOL, 'layer norm');
      y.dispose();
    });

    it('oneHot + matMul picks embedding rows', async () => {
      const E = det(5 * 3, 6);
      const out = tf.tidy(() => tf.matMul(tf.oneHot(tf.tensor1d([4, 0, 2, 2], 'int32'), 5), tf.tensor2d(E, [5, 3])));
      const want = [4, 0, 2, 2].flatMap((r) => E.slice(r * 3, r * 3 + 3));
      expectClose(await out.data(), want, TOL, 'oneHot matMul');
      out.dispose();
    });

    it('the tests above left no tensors behind', () => {
      expect(tf.memory().numTensors).toBe(tensorsAtStart);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Gradients: each case is a scalar loss of some inputs; webgpu and wasm must match cpu.

interface GradCase {
  name: string;
  inputs: { shape: number[]; values: number[] }[];
  loss: (...xs: tf.Tensor[]) => tf.Scalar;
}

/** A fixed weight tensor, so that sum(f(x) * W) has non-trivial gradients (sum(softmax) has none). */
function W(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((p, v) => p * v, 1);
  return tf.tensor(det(n, seed).map((v) => 2 * v), shape);
}

const input = (shape: number[], seed: number, scale = 2) => ({
  shape,
  values: det(shape.reduce((p, v) => p * v, 1), seed).map((v) => v * scale),
});

// Straight-through clip: forward clips to [-0.5, 0.5], backward passes dy * 3 unchanged
// (deliberately not the true derivative, so a working customGrad is visible).
const clipStraightThrough = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x = args[0] as tf.Tensor;
  const save = args[1] as tf.GradSaveFunc;
  save([x]);
  return {
    value: tf.clipByValue(x, -0.5, 0.5),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [dy.mul(3).add(saved[0].mul(0))],
  };
});

const GRAD_CASES: GradCase[] = [
  {
    name: 'matMul',
    inputs: [input([3, 4], 11), input([4, 5], 12)],
    loss: (a, b) => tf.matMul(a, b).mul(W([3, 5], 13)).sum() as tf.Scalar,
  },
  {
    name: 'matMul transposeB (attention scores)',
    inputs: [input([4, 6], 14), input([5, 6], 15)],
    loss: (q, k) => tf.matMul(q, k, false, true).mul(W([4, 5], 16)).sum() as tf.Scalar,
  },
  {
    name: 'softmax',
    inputs: [input([2, 5], 21, 4)],
    loss: (x) => tf.softmax(x).mul(W([2, 5], 22)).sum() as tf.Scalar,
  },
  {
    name: 'oneHot-matMul (embedding lookup)',
    inputs: [input([6, 3], 31)],
    loss: (e) => tf.matMul(tf.oneHot(tf.tensor1d([5, 0, 2, 2], 'int32'), 6), e).mul(W([4, 3], 32)).sum() as tf.Scalar,
  },
  {
    name: 'customGrad',
    inputs: [input([2, 4], 41)],
    loss: (x) => clipStraightThrough(x).mul(W([2, 4], 42)).sum() as tf.Scalar,
  },
  {
    name: 'transpose',
    inputs: [input([2, 3, 4], 51)],
    loss: (x) => tf.transpose(x, [2, 0, 1]).mul(W([4, 2, 3], 52)).sum() as tf.Scalar,
  },
  {
    name: 'split',
    inputs: [input([2, 6], 61)],
    loss: (x) => {
      const [a, b, c] = tf.split(x, [2, 3, 1], 1);
      return tf.addN([a.mul(W([2, 2], 62)).sum(), b.mul(W([2, 3], 63)).sum().mul(2), c.square().sum()]) as tf.Scalar;
    },
  },
  {
    name: 'concat',
    inputs: [input([2, 3], 65), input([2, 2], 66)],
    loss: (a, b) => tf.concat([a, b], 1).square().mul(W([2, 5], 67)).sum() as tf.Scalar,
  },
  {
    name: 'moments',
    inputs: [input([3, 5], 71)],
    loss: (x) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return mean.mul(W([3, 1], 72)).sum().add(variance.mul(W([3, 1], 73)).sum()) as tf.Scalar;
    },
  },
  {
    name: 'layer norm (moments + rsqrt)',
    inputs: [input([3, 6], 75), input([6], 76)],
    loss: (x, g) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(g).mul(W([3, 6], 77)).sum() as tf.Scalar;
    },
  },
  {
    name: 'relu',
    // Away from 0, where relu's derivative is ambiguous.
    inputs: [{ shape: [2, 5], values: det(10, 81).map((v, i) => (v >= 0 ? v + 0.1 : v - 0.1) * (i % 2 ? 1 : 3)) }],
    loss: (x) => tf.relu(x).mul(W([2, 5], 82)).sum() as tf.Scalar,
  },
  {
    name: 'logSoftmax',
    inputs: [input([2, 5], 91, 4)],
    loss: (x) => tf.logSoftmax(x).mul(W([2, 5], 92)).sum() as tf.Scalar,
  },
  {
    name: 'causal mask + softmax',
    inputs: [input([4, 4], 95, 3)],
    loss: (s) => {
      const keep = tf.linalg.bandPart(tf.ones([4, 4]), -1, 0);
      const masked = s.add(tf.scalar(1).sub(keep).mul(-1e9));
      return tf.softmax(masked).mul(W([4, 4], 96)).sum() as tf.Scalar;
    },
  },
];

async function computeGrads(c: GradCase): Promise<{ loss: number; grads: Float32Array[] }> {
  const xs = c.inputs.map((i) => tf.tensor(i.values, i.shape));
  const { value, grads } = tf.valueAndGrads((...ts: tf.Tensor[]) => c.loss(...ts))(xs);
  const out = { loss: (await value.data())[0], grads: await Promise.all(grads.map((g) => g.data() as Promise<Float32Array>)) };
  tf.dispose([...xs, value, ...grads]);
  return out;
}

describe('gradients match the cpu backend', () => {
  const reference = new Map<string, { loss: number; grads: Float32Array[] }>();

  beforeAll(async () => {
    await useNodeBackend('cpu');
    for (const c of GRAD_CASES) reference.set(c.name, await computeGrads(c));
  });

  it('the cpu references are not trivial', () => {
    for (const c of GRAD_CASES) {
      const ref = reference.get(c.name)!;
      expect(ref.grads.length, c.name).toBe(c.inputs.length);
      for (const g of ref.grads) expect(g.some((v) => Math.abs(v) > 1e-3), `${c.name}: gradient all ~0`).toBe(true);
    }
    // customGrad really used its own gradient: 3 * W everywhere, even where the clip saturates.
    const w = det(8, 42).map((v) => 2 * v * 3);
    expectClose(reference.get('customGrad')!.grads[0], w, 1e-6, 'customGrad on cpu');
  });

  for (const { name, skip } of BACKENDS.filter((b) => b.name !== 'cpu')) {
    describe.skipIf(skip)(`on ${name}`, () => {
      beforeAll(async () => {
        await useNodeBackend(name);
      });
      for (const c of GRAD_CASES) {
        it(c.name, async () => {
          expect(tf.getBackend()).toBe(name);
          const ref = reference.get(c.name)!;
          const got = await computeGrads(c);
          expectClose([got.loss], [ref.loss], GRAD_TOL, `${c.name}: loss`);
          got.grads.forEach((g, i) => expectClose(g, ref.grads[i], GRAD_TOL, `${c.name}: d/dx${i}`));
        });
      }
    });
  }
});

describe('errors say which backend failed and why', () => {
  it('WebGL in Node', async () => {
    await useNodeBackend('cpu');
    await expect(useBackend('webgl')).rejects.toThrow(/WebGL is not available: .*Node/);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('an unknown backend name', async () => {
    await expect(useBackend('tpu' as BackendName)).rejects.toThrow(/Unknown backend 'tpu'/);
  });
});
