// A dense layer as one WebGPU dispatch forward and two backward, in the three forms the
// transformer's blocks use (transformer.ts `forward`):
//
//   dense          x @ w + bias                (qkv projection)
//   denseRelu      relu(x @ w + bias)          (MLP up)
//   denseResidual  residual + (x @ w + bias)   (attention output and MLP down projections)
//
// Every pass is one product computed as 4 x 4 blocks of outputs per thread (each value read
// serves four outputs). Forward: x @ w and the form's epilogue. Backward, with g = dy (masked by
// output > 0 for the ReLU):
//   1 dx [N, I] = g @ w^T
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

/**
 * A product C [rowsOut, colsOut] = sum over k < depth of a(row, k) b(k, col), a 4 x 4 block of C
 * per thread (each a and b read serves four outputs); `helpers` defines a, b and
 * store(row, col, value), the three sizes are WGSL expressions. Rows and columns past the edge
 * read the last valid one and are not stored.
 */
function tiledProduct(helpers: string, rowsOut: string, colsOut: string, depth: string): string {
  const rows = [0, 1, 2, 3];
  const stores = rows
    .flatMap((r) => ['x', 'y', 'z', 'w'].map((c, j) => `  if (row0 + ${r} < rowsOut && col0 + ${j} < colsOut) { store(row0 + ${r}, col0 + ${j}, acc${r}.${c}); }`))
    .join('\n');
  return `${helpers}

fn main(index : i32) {
  let rowsOut = ${rowsOut};
  let colsOut = ${colsOut};
  let tileCols = (colsOut + 3) / 4;
  if (index >= ((rowsOut + 3) / 4) * tileCols) { return; }
  let row0 = (index / tileCols) * 4;
  let col0 = (index - (index / tileCols) * tileCols) * 4;
${rows.map((r) => `  let r${r} = min(row0 + ${r}, rowsOut - 1);`).join('\n')}
${rows.map((r) => `  let c${r} = min(col0 + ${r}, colsOut - 1);`).join('\n')}
${rows.map((r) => `  var acc${r} = vec4<f32>(0.0);`).join('\n')}
  for (var k = 0; k < ${depth}; k++) {
    let bk = vec4<f32>(b(k, c0), b(k, c1), b(k, c2), b(k, c3));
${rows.map((r) => `    acc${r} += a(r${r}, k) * bk;`).join('\n')}
  }
${stores}
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

/** [N, O] = x [N, I] @ w [I, O], then the form's bias, ReLU or residual. */
function forwardCode(form: DenseForm): string {
  const value = {
    dense: 'value + bias[col]',
    denseRelu: 'max(value + bias[col], 0.0)',
    denseResidual: 'residual[row * uniforms.outer + col] + (value + bias[col])',
  }[form];
  const helpers = `fn a(row : i32, k : i32) -> f32 { return x[row * uniforms.inner + k]; }
fn b(k : i32, col : i32) -> f32 { return w[k * uniforms.outer + col]; }
fn store(row : i32, col : i32, value : f32) { result[row * uniforms.outer + col] = ${value}; }`;
  return tiledProduct(helpers, 'uniforms.rows', 'uniforms.outer', 'uniforms.inner');
}

/** dx [N, I] = g [N, O] @ w^T. */
function inputGradCode(relu: boolean): string {
  const helpers = `${upstream(relu)}
fn a(row : i32, k : i32) -> f32 { return upstream(row, k); }
fn b(k : i32, col : i32) -> f32 { return w[col * uniforms.outer + k]; }
fn store(row : i32, col : i32, value : f32) { result[row * uniforms.inner + col] = value; }`;
  return tiledProduct(helpers, 'uniforms.rows', 'uniforms.inner', 'uniforms.outer');
}

/** [dw; dbias] [I + 1, O] = [x^T; ones] @ g: row I sums g over the rows. */
function weightGradCode(relu: boolean): string {
  const helpers = `${upstream(relu)}
fn a(row : i32, k : i32) -> f32 { return select(x[k * uniforms.inner + min(row, uniforms.inner - 1)], 1.0, row == uniforms.inner); }
fn b(k : i32, col : i32) -> f32 { return upstream(k, col); }
fn store(row : i32, col : i32, value : f32) { result[row * uniforms.outer + col] = value; }`;
  return tiledProduct(helpers, 'uniforms.inner + 1', 'uniforms.outer', 'uniforms.rows');
}

const CODE = {
  forward: { dense: forwardCode('dense'), denseRelu: forwardCode('denseRelu'), denseResidual: forwardCode('denseResidual') },
  inputGrad: { plain: inputGradCode(false), relu: inputGradCode(true) },
  weightGrad: { plain: weightGradCode(false), relu: weightGradCode(true) },
};

/** Threads of a product with [rows, cols] outputs: one per 4 x 4 block. */
function blocks(rows: number, cols: number): number {
  return Math.ceil(rows / 4) * Math.ceil(cols / 4);
}

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
  return runProgram(makeProgram(`taoDense_${form}`, names, [N, O], blocks(N, O), UNIFORMS, CODE.forward[form]), inputs, sizes(N, I, O)) as tf.Tensor2D;
}

/** dx, dw and dbias of a dense layer from its upstream gradient (`y`, the output, for the ReLU form). */
export function denseBackward(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D, y: tf.Tensor2D | null): [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D] {
  const [N, I] = x.shape;
  const O = w.shape[1];
  const relu = y !== null;
  const variant = relu ? 'relu' : 'plain';
  const uniforms = sizes(N, I, O);
  const dx = runProgram(
    makeProgram(`taoDenseInputGrad_${variant}`, relu ? ['dy', 'w', 'y'] : ['dy', 'w'], [N, I], blocks(N, I), UNIFORMS, CODE.inputGrad[variant]),
    relu ? [dy, w, y] : [dy, w],
    uniforms,
  ) as tf.Tensor2D;
  const both = runProgram(
    makeProgram(`taoDenseWeightGrad_${variant}`, relu ? ['dy', 'x', 'y'] : ['dy', 'x'], [I + 1, O], blocks(I + 1, O), UNIFORMS, CODE.weightGrad[variant]),
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
