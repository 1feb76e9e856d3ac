// Causal self-attention for training on the fused WGSL kernels (fusedKernels.ts): one dispatch
// forward, two backward, in place of tfjs's split, reshapes, transposes, batched matmuls, mask,
// softmax and their gradients (the largest share of a training step's GPU time, see the bench).
//
// qkv [B T, 3D] (row b T + t; q, k and v side by side) -> attended [B T, D], both as
// transformer.ts `forward` lays them out.

import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config';
import { FusedKernels, type ProgramUniform, type TrainingKernel, type WebGPUBackendLike } from './fusedKernels';

const kernelsByShape = new WeakMap<ModelConfig, FusedKernels>();

export function kernelsFor(config: ModelConfig): FusedKernels {
  let kernels = kernelsByShape.get(config);
  if (kernels === undefined) {
    kernels = new FusedKernels(config);
    kernelsByShape.set(config, kernels);
  }
  return kernels;
}

function run(config: ModelConfig, name: TrainingKernel, inputs: tf.TensorInfo[], rows: number, seqLen: number, shape: number[]): tf.Tensor {
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const uniforms: ProgramUniform[] = [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [seqLen] },
  ];
  const program = kernelsFor(config).program(name, rows, shape);
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
