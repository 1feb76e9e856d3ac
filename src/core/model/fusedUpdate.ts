// When the fused update runs: the fused dense layers (fusedDense.ts) in the training forward and
// backward, and the flat two-dispatch Adam (fusedAdam.ts). Only on WebGPU, only where the fused
// kernels' own self-check passed (kernelPath.ts `fusedKernelsActive`), and only after a probe of
// its own has compiled every shader of the update inside a validation error scope and found it
// within SELF_CHECK_TOLERANCE of tfjs's ops. The probe runs once per backend and model shape,
// before the first update (`prepareFusedUpdate`); until it has passed, the stock ops run.

import * as tf from '@tensorflow/tfjs';
import { Adam, ADAM_DEFAULTS } from './adam';
import type { ModelConfig } from './config';
import { fusedDenseOps, type DenseForm } from './fusedDense';
import type { ErrorScopes } from './fusedKernels';
import { fusedKernelsActive } from './kernelPath';

/** Largest difference from tfjs's ops the probe accepts (fused.test.ts asserts 1e-5 at full size). */
const SELF_CHECK_TOLERANCE = 1e-4;

interface Probe {
  outcome: Promise<string | null>;
  /** null: passed; a sentence: why the fused update stays off. undefined while it runs. */
  problem?: string | null;
}
const probes = new WeakMap<object, Map<string, Probe>>();

function shapeKey(config: ModelConfig): string {
  const { vocabSize, contextLength, layers, width, heads, mlpRatio } = config;
  return `${vocabSize}/${contextLength}/${layers}/${width}/${heads}/${mlpRatio}`;
}

/** True when the fused update runs for this shape now (synchronous; see `prepareFusedUpdate`). */
export function fusedUpdateActive(config: ModelConfig): boolean {
  if (!fusedKernelsActive(config)) return false;
  return probes.get(tf.backend())?.get(shapeKey(config))?.problem === null;
}

/**
 * Runs the probe for this shape on the current backend once, when the fused kernels are active;
 * afterwards `fusedUpdateActive` says whether the update is fused. A failed probe warns once.
 */
export async function prepareFusedUpdate(config: ModelConfig): Promise<boolean> {
  if (!fusedKernelsActive(config)) return false;
  let byShape = probes.get(tf.backend());
  if (byShape === undefined) {
    byShape = new Map();
    probes.set(tf.backend(), byShape);
  }
  const key = shapeKey(config);
  let probe = byShape.get(key);
  if (probe === undefined) {
    const created: Probe = {
      outcome: fusedUpdateProbe(config).then((problem) => {
        if (problem !== null) console.warn(`The fused update is off, tfjs's ops run instead: ${problem}`);
        return (created.problem = problem);
      }),
    };
    probe = created;
    byShape.set(key, probe);
  }
  return (await probe.outcome) === null;
}

/**
 * The fused update's shaders at this shape's widths against tfjs's ops: each dense form's value
 * and gradients, and three clipped Adam steps on two variables. Null when they agree; otherwise
 * why not (a shader that does not compile, throws, or disagrees).
 */
export async function fusedUpdateProbe(config: ModelConfig): Promise<string | null> {
  const device = (tf.backend() as unknown as { device: ErrorScopes }).device;
  const D = config.width;
  const M = D * config.mlpRatio;
  let worst = 0;
  let thrown: unknown = null;
  device.pushErrorScope('validation');
  try {
    for (const [form, inner, outer] of [
      ['dense', D, 3 * D],
      ['denseRelu', D, M],
      ['denseResidual', M, D],
    ] as [DenseForm, number, number][]) {
      const [fused, stock] = [await denseProbe(form, inner, outer, true), await denseProbe(form, inner, outer, false)];
      fused.forEach((values, i) => (worst = Math.max(worst, maxDifference(values, stock[i]))));
    }
    const [fused, stock] = [await adamProbe(true), await adamProbe(false)];
    worst = Math.max(worst, maxDifference(fused, stock));
  } catch (e) {
    thrown = e;
  }
  const gpuError = await device.popErrorScope().catch((e: unknown) => ({ message: String(e) }));
  if (gpuError) return `a fused update shader did not compile on this adapter: ${gpuError.message}`;
  if (thrown) return `the fused update threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`;
  if (!(worst <= SELF_CHECK_TOLERANCE)) return `the fused update disagrees with tfjs's ops (largest difference ${worst})`;
  return null;
}

/** tfjs's ops for each dense form (transformer.ts's stock path composes the same ones). */
export function stockDense(form: DenseForm, x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor, residual?: tf.Tensor2D): tf.Tensor2D {
  const linear = tf.matMul(x, w).add(bias) as tf.Tensor2D;
  if (form === 'denseRelu') return tf.relu(linear);
  return form === 'denseResidual' ? residual!.add(linear) : linear;
}

/** Value and gradients (x, w, bias, and residual where there is one) of sum(dense(...) * u) on 7 rows of fixed inputs. */
async function denseProbe(form: DenseForm, inner: number, outer: number, fused: boolean): Promise<Float32Array[]> {
  const rows = 7;
  const tensors = tf.tidy(() => {
    const filled = (shape: number[], f: (i: number) => number) => tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)), shape);
    const x = filled([rows, inner], (i) => Math.sin(i * 0.37));
    const w = filled([inner, outer], (i) => 0.2 * Math.cos(i * 0.61));
    const bias = filled([outer], (i) => 0.1 * Math.sin(i * 1.7));
    const residual = filled([rows, outer], (i) => Math.cos(i * 0.23));
    const u = filled([rows, outer], (i) => Math.sin(i * 0.91));
    const withResidual = form === 'denseResidual';
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, r?: tf.Tensor): tf.Tensor2D => {
      if (!fused) return stockDense(form, a as tf.Tensor2D, b as tf.Tensor2D, c, r as tf.Tensor2D);
      if (withResidual) return fusedDenseOps.denseResidual(a as tf.Tensor2D, b, c, r as tf.Tensor2D);
      return fusedDenseOps[form](a as tf.Tensor2D, b, c);
    };
    const { grads } = tf.valueAndGrads((...inputs: tf.Tensor[]) => f(inputs[0], inputs[1], inputs[2], inputs[3]).mul(u).sum())(
      withResidual ? [x, w, bias, residual] : [x, w, bias],
    );
    const value = f(x, w, bias, residual);
    return [value, ...grads];
  });
  try {
    return await Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
  } finally {
    tf.dispose(tensors);
  }
}

/** Two variables after three Adam steps with the clip active on the first two; their values concatenated. */
async function adamProbe(fused: boolean): Promise<Float32Array> {
  // tidy frees each initial value once its variable holds the data.
  const a = tf.tidy(() => tf.variable(tf.tensor2d([0.5, -1, 2, 0.25, -0.75, 1.5], [2, 3])));
  const b = tf.tidy(() => tf.variable(tf.tensor1d([1, -2, 0.5, 3, -0.125])));
  const adam = new Adam({ ...ADAM_DEFAULTS, learningRate: 0.05, gradClip: 1 });
  const variables = new Map<string, tf.Variable>([
    ['a', a],
    ['b', b],
  ]);
  try {
    for (const scale of [3, 2, 0.1]) {
      const grads = tf.tidy(() => ({ a: tf.tensor2d([1, -2, 0.5, 3, -1, 0.25], [2, 3]).mul(scale), b: tf.tensor1d([-0.5, 1, 2, -3, 0.75]).mul(scale) }));
      await adam.apply(variables, grads, fused);
      tf.dispose(Object.values(grads));
    }
    return Float32Array.from([...(await a.data()), ...(await b.data())]);
  } finally {
    adam.dispose();
    tf.dispose([a, b]);
  }
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
