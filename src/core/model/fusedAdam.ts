// Adam with the global-norm clip for every parameter at once, on WebGPU, in two dispatches:
//
//   copies   each gradient into one flat [P], each parameter into the flat state (no dispatch)
//   1 norm   sqrt of the sum of squares of the flat gradient, one workgroup      -> [1]
//   2 adam   clip scale from that norm, then m, v and the parameter, per element -> state [3P]
//   copies   each parameter's new values into a fresh tensor it is assigned (no dispatch)
//
// The state [3P] holds the parameters, then m, then v, in the order of the variables that have a
// gradient; m and v carry over from step to step, the parameters are copied in afresh every step
// (so a weight assigned between steps is what gets updated). The norm stays on the GPU until the
// update is recorded and is read back after it, for the step's metrics. adam.ts `Adam` decides
// when this runs and holds the state.

import * as tf from '@tensorflow/tfjs';
import type { AdamOptions } from './adam';
import { copyFloats, makeProgram, runProgram, uninitialised, type FloatCopy } from './gpuPrograms';

/** Threads of the one workgroup that reduces the norm. */
const NORM_WORKGROUP = 256;

const NORM_CODE = `
var<workgroup> partial : array<f32, ${NORM_WORKGROUP}>;

fn main(index : i32) {
  let lane = i32(localId.x);
  var acc = 0.0;
  for (var i = lane; i < uniforms.params; i += ${NORM_WORKGROUP}) { let g = grads[i]; acc += g * g; }
  partial[lane] = acc;
  workgroupBarrier();
  for (var stride = ${NORM_WORKGROUP / 2}; stride > 0; stride = stride / 2) {
    if (lane < stride) { partial[lane] += partial[lane + stride]; }
    workgroupBarrier();
  }
  if (lane == 0) { result[0] = sqrt(partial[0]); }
}`;

// The stock update's arithmetic in its order (adam.ts): g = grad scale; m = m b1 + g (1 - b1);
// v = v b2 + g^2 (1 - b2); param -= m / c1 / (sqrt(v / c2) + eps) lr.
const ADAM_CODE = `
fn main(index : i32) {
  let P = uniforms.params;
  if (index >= P) { return; }
  var scale = 1.0;
  let norm = gradNorm[0];
  if (uniforms.clipOn == 1 && norm > uniforms.clip) { scale = uniforms.clip / (norm + 1e-6); }
  let g = grads[index] * scale;
  let m = state[P + index] * uniforms.beta1 + g * uniforms.oneMinusBeta1;
  let v = state[2 * P + index] * uniforms.beta2 + g * g * uniforms.oneMinusBeta2;
  let update = m / uniforms.correction1 / (sqrt(v / uniforms.correction2) + uniforms.epsilon) * uniforms.learningRate;
  result[index] = state[index] - update;
  result[P + index] = m;
  result[2 * P + index] = v;
}`;

const ADAM_UNIFORMS =
  'params : i32, clipOn : i32, clip : f32, beta1 : f32, oneMinusBeta1 : f32, beta2 : f32, oneMinusBeta2 : f32, ' +
  'correction1 : f32, correction2 : f32, epsilon : f32, learningRate : f32,';

/** Where each variable's values sit in the flat vectors. */
export interface FlatLayout {
  names: string[];
  offsets: number[];
  sizes: number[];
  /** Parameters in all. */
  total: number;
}

export function flatLayout(entries: [string, tf.Tensor][]): FlatLayout {
  const names: string[] = [];
  const offsets: number[] = [];
  const sizes: number[] = [];
  let total = 0;
  for (const [name, tensor] of entries) {
    names.push(name);
    offsets.push(total);
    sizes.push(tensor.size);
    total += tensor.size;
  }
  return { names, offsets, sizes, total };
}

export function sameLayout(a: FlatLayout, b: FlatLayout): boolean {
  return a.total === b.total && a.names.length === b.names.length && a.names.every((name, i) => name === b.names[i] && a.sizes[i] === b.sizes[i]);
}

/**
 * One clipped Adam step for the variables of `layout` (all with a gradient in `grads`): `state`
 * [3P] is the previous step's (its m and v are read; it is disposed), and the new state is
 * returned with the gradient norm before clipping, as a [1] tensor still on the GPU. `step` is
 * the update's number (1 first), for the bias corrections.
 */
export function fusedAdamStep(
  layout: FlatLayout,
  variables: Map<string, tf.Variable>,
  grads: Record<string, tf.Tensor>,
  state: tf.Tensor,
  options: AdamOptions,
  step: number,
): { state: tf.Tensor; gradNorm: tf.Tensor } {
  const P = layout.total;
  const { learningRate, beta1, beta2, epsilon, gradClip } = options;
  const flatGrads = uninitialised([P]);
  const gather: FloatCopy[] = [];
  layout.names.forEach((name, i) => {
    const offset = layout.offsets[i];
    const count = layout.sizes[i];
    gather.push({ from: grads[name], fromOffset: 0, to: flatGrads, toOffset: offset, count });
    gather.push({ from: variables.get(name)!, fromOffset: 0, to: state, toOffset: offset, count });
  });
  copyFloats(gather);
  const gradNorm = runProgram(makeProgram('taoAdamNorm', ['grads'], [1], NORM_WORKGROUP, 'params : i32,', NORM_CODE, NORM_WORKGROUP), [flatGrads], [
    { type: 'int32', data: [P] },
  ]);
  const clipOn = Number.isFinite(gradClip);
  const next = runProgram(makeProgram('taoAdamUpdate', ['grads', 'gradNorm', 'state'], [3 * P], P, ADAM_UNIFORMS, ADAM_CODE), [flatGrads, gradNorm, state], [
    { type: 'int32', data: [P] },
    { type: 'int32', data: [clipOn ? 1 : 0] },
    { type: 'float32', data: [clipOn ? gradClip : 0] },
    { type: 'float32', data: [beta1] },
    { type: 'float32', data: [1 - beta1] },
    { type: 'float32', data: [beta2] },
    { type: 'float32', data: [1 - beta2] },
    { type: 'float32', data: [1 - beta1 ** step] },
    { type: 'float32', data: [1 - beta2 ** step] },
    { type: 'float32', data: [epsilon] },
    { type: 'float32', data: [learningRate] },
  ]);
  const updated = layout.names.map((name) => uninitialised(variables.get(name)!.shape));
  copyFloats(layout.names.map((_, i) => ({ from: next, fromOffset: layout.offsets[i], to: updated[i], toOffset: 0, count: layout.sizes[i] })));
  layout.names.forEach((name, i) => {
    variables.get(name)!.assign(updated[i]);
    updated[i].dispose(); // the variable holds the data now
  });
  tf.dispose([flatGrads, state]);
  return { state: next, gradNorm };
}

/** A zero state for `layout` (uploaded, no dispatch). */
export function zeroState(layout: FlatLayout): tf.Tensor {
  return tf.tensor1d(new Float32Array(3 * layout.total));
}

/** m and v of each variable out of a flat state (when the stock update takes over). */
export function momentsOfState(layout: FlatLayout, state: tf.Tensor, shapes: Map<string, number[]>): Map<string, { m: tf.Tensor; v: tf.Tensor }> {
  const P = layout.total;
  const moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
  layout.names.forEach((name, i) => {
    const part = (start: number) => tf.tidy(() => state.slice([start + layout.offsets[i]], [layout.sizes[i]]).reshape(shapes.get(name)!));
    moments.set(name, { m: part(P), v: part(2 * P) });
  });
  return moments;
}

/** A flat state from per-variable m and v (zeros where a variable has none yet). */
export function stateOfMoments(layout: FlatLayout, moments: Map<string, { m: tf.Tensor; v: tf.Tensor }>): tf.Tensor {
  return tf.tidy(() => {
    const part = (which: 'm' | 'v') => layout.names.map((name, i) => moments.get(name)?.[which].reshape([-1]) ?? tf.zeros([layout.sizes[i]]));
    return tf.concat([tf.zeros([layout.total]), ...part('m'), ...part('v')]);
  });
}
