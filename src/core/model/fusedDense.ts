// A dense layer as one WebGPU dispatch forward and two backward, in the three forms the
// transformer's blocks use (transformer.ts `forward`):
//
//   dense          x @ w + bias                (qkv projection)
//   denseRelu      relu(x @ w + bias)          (MLP up)
//   denseResidual  residual + (x @ w + bias)   (attention output and MLP down projections)
//
// Forward: one thread per output. Backward, with g = dy (masked by output > 0 for the ReLU):
//   1 dx [N, I] = g @ w^T, one thread per input element
//   2 [dw; dbias] [I + 1, O]: row r < I is sum over rows of x[n, r] g[n, :], row I is the column
//     sum of g; the two parts are copied out into dw and dbias (copies, not dispatches)
// The residual's gradient is dy itself. tfjs's stock path takes 2-3 dispatches forward (matmul,
// bias add, ReLU or residual add) and 4-5 backward (a transpose, two matmuls, the bias column sum,
// the ReLU's gradient).
//
// Shapes: N rows, I inputs, O outputs (uniforms, so one shader serves every layer).

import * as tf from '@tensorflow/tfjs';
import type { ProgramUniform } from './fusedKernels';
import { copyFloats, makeProgram, runProgram, uninitialised } from './gpuPrograms';

export type DenseForm = 'dense' | 'denseRelu' | 'denseResidual';

const UNIFORMS = 'rows : i32, inner : i32, outer : i32,';

function forwardCode(form: DenseForm): string {
  const value = {
    dense: 'acc + bias[o]',
    denseRelu: 'max(acc + bias[o], 0.0)',
    denseResidual: 'residual[index] + (acc + bias[o])',
  }[form];
  return `
fn main(index : i32) {
  if (index >= uniforms.rows * uniforms.outer) { return; }
  let n = index / uniforms.outer;
  let o = index - n * uniforms.outer;
  var acc = 0.0;
  for (var i = 0; i < uniforms.inner; i++) { acc += x[n * uniforms.inner + i] * w[i * uniforms.outer + o]; }
  result[index] = ${value};
}`;
}

/** The upstream gradient at [n, o] as the layer's pre-activation sees it. */
function upstream(relu: boolean): string {
  return relu
    ? `fn upstream(n : i32, o : i32) -> f32 {
  let at = n * uniforms.outer + o;
  return select(0.0, dy[at], y[at] > 0.0);
}`
    : `fn upstream(n : i32, o : i32) -> f32 { return dy[n * uniforms.outer + o]; }`;
}

function inputGradCode(relu: boolean): string {
  return `${upstream(relu)}

fn main(index : i32) {
  if (index >= uniforms.rows * uniforms.inner) { return; }
  let n = index / uniforms.inner;
  let i = index - n * uniforms.inner;
  var acc = 0.0;
  for (var o = 0; o < uniforms.outer; o++) { acc += upstream(n, o) * w[i * uniforms.outer + o]; }
  result[index] = acc;
}`;
}

function weightGradCode(relu: boolean): string {
  return `${upstream(relu)}

fn main(index : i32) {
  if (index >= (uniforms.inner + 1) * uniforms.outer) { return; }
  let r = index / uniforms.outer;
  let o = index - r * uniforms.outer;
  var acc = 0.0;
  if (r < uniforms.inner) {
    for (var n = 0; n < uniforms.rows; n++) { acc += x[n * uniforms.inner + r] * upstream(n, o); }
  } else {
    for (var n = 0; n < uniforms.rows; n++) { acc += upstream(n, o); }
  }
  result[index] = acc;
}`;
}

const CODE = {
  forward: { dense: forwardCode('dense'), denseRelu: forwardCode('denseRelu'), denseResidual: forwardCode('denseResidual') },
  inputGrad: { plain: inputGradCode(false), relu: inputGradCode(true) },
  weightGrad: { plain: weightGradCode(false), relu: weightGradCode(true) },
};

function sizes(rows: number, inner: number, outer: number): ProgramUniform[] {
  return [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [inner] },
    { type: 'int32', data: [outer] },
  ];
}

/** The forward pass of one form: [N, O]. */
export function denseForward(form: DenseForm, x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor, residual?: tf.Tensor2D): tf.Tensor2D {
  const [N, I] = x.shape;
  const O = w.shape[1];
  const inputs = form === 'denseResidual' ? [x, w, bias, residual!] : [x, w, bias];
  const names = form === 'denseResidual' ? ['x', 'w', 'bias', 'residual'] : ['x', 'w', 'bias'];
  return runProgram(makeProgram(`taoDense_${form}`, names, [N, O], N * O, UNIFORMS, CODE.forward[form]), inputs, sizes(N, I, O)) as tf.Tensor2D;
}

/** dx, dw and dbias of a dense layer from its upstream gradient (`y`, the output, for the ReLU form). */
export function denseBackward(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D, y: tf.Tensor2D | null): [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D] {
  const [N, I] = x.shape;
  const O = w.shape[1];
  const relu = y !== null;
  const variant = relu ? 'relu' : 'plain';
  const uniforms = sizes(N, I, O);
  const dx = runProgram(
    makeProgram(`taoDenseInputGrad_${variant}`, relu ? ['dy', 'w', 'y'] : ['dy', 'w'], [N, I], N * I, UNIFORMS, CODE.inputGrad[variant]),
    relu ? [dy, w, y] : [dy, w],
    uniforms,
  ) as tf.Tensor2D;
  const both = runProgram(
    makeProgram(`taoDenseWeightGrad_${variant}`, relu ? ['dy', 'x', 'y'] : ['dy', 'x'], [I + 1, O], (I + 1) * O, UNIFORMS, CODE.weightGrad[variant]),
    relu ? [dy, x, y] : [dy, x],
    uniforms,
  );
  const dw = uninitialised([I, O]) as tf.Tensor2D;
  const dbias = uninitialised([O]) as tf.Tensor1D;
  copyFloats([
    { from: both, fromOffset: 0, to: dw, toOffset: 0, count: I * O },
    { from: both, fromOffset: I * O, to: dbias, toOffset: 0, count: O },
  ]);
  both.dispose(); // freed once the copies have been submitted
  return [dx, dw, dbias];
}

type Grad = (...args: never[]) => unknown;
const asOp = <F>(f: Grad): F => tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as F;

export interface FusedDenseOps {
  /** x [N, I] @ w [I, O] + bias [O]. */
  dense(x: tf.Tensor2D, w: tf.Tensor, bias: tf.Tensor): tf.Tensor2D;
  /** relu(x @ w + bias). */
  denseRelu(x: tf.Tensor2D, w: tf.Tensor, bias: tf.Tensor): tf.Tensor2D;
  /** residual [N, O] + (x @ w + bias). */
  denseResidual(x: tf.Tensor2D, w: tf.Tensor, bias: tf.Tensor, residual: tf.Tensor2D): tf.Tensor2D;
}

/** The three forms with their gradients (WebGPU only; transformer.ts decides when). */
export const fusedDenseOps: FusedDenseOps = {
  dense: asOp<FusedDenseOps['dense']>((x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: denseForward('dense', x, w, bias),
      gradFunc: (dy: tf.Tensor2D, [xs, ws]: tf.Tensor2D[]) => denseBackward(dy, xs, ws, null),
    };
  }),
  denseRelu: asOp<FusedDenseOps['denseRelu']>((x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor, save: tf.GradSaveFunc) => {
    const y = denseForward('denseRelu', x, w, bias);
    save([x, w, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor2D, [xs, ws, ys]: tf.Tensor2D[]) => denseBackward(dy, xs, ws, ys),
    };
  }),
  denseResidual: asOp<FusedDenseOps['denseResidual']>((x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor, residual: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: denseForward('denseResidual', x, w, bias, residual),
      gradFunc: (dy: tf.Tensor2D, [xs, ws]: tf.Tensor2D[]) => [...denseBackward(dy, xs, ws, null), dy],
    };
  }),
};
