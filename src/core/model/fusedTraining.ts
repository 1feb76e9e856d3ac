// The training forward's differentiable pieces on WebGPU, restructured after profiling a step
// (README, "Fused WebGPU kernels"): tfjs's attention (split, reshapes, transposes, batched
// matmuls, mask, softmax and their gradients) was the largest share of GPU time, then the bias
// and LayerNorm gradients (a transpose and a workgroup reduction per sum over rows), then
// LayerNorm's moments, then the transposes of the activations in the matmul gradients. Here
// attention is one fused dispatch forward and two backward, LayerNorm one forward and four
// backward, every bias gradient one dispatch, and the weight gradient reads the activations
// transposed in place. transformer.ts takes these ops when `fusedKernelsActive`.
//
// qkv [B T, 3D] (row b T + t; q, k and v side by side) -> attended [B T, D], both as
// transformer.ts `forward` lays them out.

import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config';
import { FusedKernels, type ProgramUniform, type TrainingKernel, type WebGPUBackendLike } from './fusedKernels';

function run(config: ModelConfig, name: TrainingKernel, inputs: tf.TensorInfo[], rows: number, second: number, shape: number[]): tf.Tensor {
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const uniforms: ProgramUniform[] = [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [second] },
  ];
  // columnSum runs one thread per column; the others one per row (and head).
  const program = FusedKernels.for(config).program(name, name === 'columnSum' ? second : rows, shape);
  return tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(program, inputs, 'float32', uniforms));
}

/** Fused causal attention with its gradient; WebGPU only (transformer.ts decides when). */
export function fusedCausalAttention(config: ModelConfig, qkv: tf.Tensor2D, seqLen: number): tf.Tensor2D {
  const rows = qkv.shape[0];
  const { width: D, heads: H } = config;
  if (rows % seqLen !== 0) throw new Error(`fusedCausalAttention: ${rows} rows are not whole sequences of ${seqLen}`);
  if (seqLen > config.contextLength) throw new Error(`fusedCausalAttention: ${seqLen} positions exceed the context length ${config.contextLength}`);
  const attention = tf.customGrad(((input: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([input]);
    return {
      value: run(config, 'attnForward', [input], rows, seqLen, [rows, D]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedQkv] = saved;
        const probGrad = run(config, 'attnProbGrad', [savedQkv, dy], rows, seqLen, [rows * H, 2 * seqLen]);
        const dQkv = run(config, 'attnInputGrad', [savedQkv, dy, probGrad], rows, seqLen, [rows, 3 * D]);
        probGrad.dispose();
        return [dQkv];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (input: tf.Tensor2D) => tf.Tensor2D;
  return attention(qkv);
}

/** Sum over rows, [N, O] -> [O], in one dispatch. */
export function columnSum(config: ModelConfig, matrix: tf.Tensor2D): tf.Tensor1D {
  const [rows, cols] = matrix.shape;
  return run(config, 'columnSum', [matrix], rows, cols, [cols]) as tf.Tensor1D;
}

type Grad = (...args: never[]) => unknown;
const asOp = <F>(f: Grad): F => tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as F;

/** The ops transformer.ts `forward` runs on the fused path (same values as the stock ones). */
export interface FusedTrainingOps {
  /** x [N, I] @ w [I, O]; dW without transposing the activations. */
  linear(x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D;
  /** x [N, O] + bias [O]; the bias gradient as one column sum. */
  addBias(x: tf.Tensor2D, bias: tf.Tensor): tf.Tensor2D;
  /** LayerNorm of x [N, D] with gain and bias [D]: one dispatch forward, four backward. */
  layerNorm(x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D;
  /** x [B, T, D] + positions [T, D]; the positions' gradient as one column sum. */
  addPositions(x: tf.Tensor3D, positions: tf.Tensor2D): tf.Tensor3D;
  /** Causal attention over sequences of seqLen positions. */
  attention(qkv: tf.Tensor2D, seqLen: number): tf.Tensor2D;
}

const opsByShape = new WeakMap<ModelConfig, FusedTrainingOps>();

/** The fused ops of one model shape, made once per config object. */
export function fusedTrainingOps(config: ModelConfig): FusedTrainingOps {
  let ops = opsByShape.get(config);
  if (ops === undefined) {
    ops = makeFusedTrainingOps(config);
    opsByShape.set(config, ops);
  }
  return ops;
}

function makeFusedTrainingOps(config: ModelConfig): FusedTrainingOps {
  const linear = asOp<FusedTrainingOps['linear']>((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([x, w]);
    return {
      value: tf.matMul(x, w),
      // dx with an explicit transpose of the (small) weight: tfjs's WebGPU matmul is slower with
      // transposeB than that transpose plus a plain matmul. dW reads x transposed in place:
      // transposing the activations [N, I] was the costly one.
      gradFunc: (dy: tf.Tensor2D, [xs, ws]: tf.Tensor2D[]) => [tf.matMul(dy, tf.transpose(ws)), tf.matMul(xs, dy, true, false)],
    };
  });
  const addBias = asOp<FusedTrainingOps['addBias']>((x: tf.Tensor2D, bias: tf.Tensor1D) => ({
    value: x.add(bias),
    gradFunc: (dy: tf.Tensor2D) => [dy, columnSum(config, dy)],
  }));
  const D = config.width;
  const layerNorm = asOp<FusedTrainingOps['layerNorm']>((x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, save: tf.GradSaveFunc) => {
    save([x, gain]);
    const rows = x.shape[0];
    return {
      value: run(config, 'lnForward', [x, gain, bias], rows, 0, [rows, D]),
      gradFunc: (dy: tf.Tensor2D, [xs, gs]: tf.Tensor[]) => {
        const stats = run(config, 'lnStats', [xs], rows, 0, [rows, 2]);
        const dx = run(config, 'lnInputGrad', [dy, xs, gs, stats], rows, 0, [rows, D]);
        const dGain = run(config, 'lnGainGrad', [dy, xs, stats], rows, 0, [D]);
        stats.dispose();
        return [dx, dGain, columnSum(config, dy)];
      },
    };
  });
  const addPositions = asOp<FusedTrainingOps['addPositions']>((x: tf.Tensor3D, positions: tf.Tensor2D) => ({
    value: x.add(positions),
    gradFunc: (dy: tf.Tensor3D) => {
      const [B, T, D] = dy.shape;
      return [dy, columnSum(config, dy.reshape([B, T * D]) as tf.Tensor2D).reshape([T, D])];
    },
  }));
  return { linear, addBias, layerNorm, addPositions, attention: (qkv, seqLen) => fusedCausalAttention(config, qkv, seqLen) };
}
