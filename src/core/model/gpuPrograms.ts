// Two things the fused update needs from tfjs's WebGPU backend beyond `runWebGPUProgram`: a
// program object built from a WGSL body, and buffer-to-buffer copies between tensors recorded in
// the backend's own command stream (copies are not compute dispatches, and they run in order with
// the dispatches around them). The backend fields used here are tfjs-backend-webgpu 4.22's.

import * as tf from '@tensorflow/tfjs';
import type { FusedProgram, ProgramUniform, WebGPUBackendLike } from './fusedKernels';

/** The part of tfjs's WebGPUBackend the copies use (some of it private in its typings). */
interface BackendInternals extends WebGPUBackendLike {
  tensorMap: { get(dataId: object): { resource?: unknown } | undefined };
  uploadToGPU(dataId: object): void;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: { copyBufferToBuffer(from: unknown, fromOffset: number, to: unknown, toOffset: number, size: number): void };
  /** Data ids the pending commands use: tfjs defers freeing their buffers until the next submit. */
  commandQueueOwnedIds: WeakSet<object>;
}

export function webgpuBackend(): BackendInternals {
  if (tf.getBackend() !== 'webgpu') throw new Error('the fused update runs on the webgpu backend only');
  return tf.backend() as unknown as BackendInternals;
}

const WORKGROUP = 64;

/**
 * A program of `threads` threads (`main(index)`, one index each) in workgroups of `workgroup`,
 * reading `inputs` by name and writing `result` of `outputShape`. A fresh object per dispatch:
 * tfjs extends `shaderKey` in place on every run.
 */
export function makeProgram(
  key: string,
  inputs: string[],
  outputShape: number[],
  threads: number,
  uniforms: string,
  code: string,
  workgroup = WORKGROUP,
): FusedProgram {
  return {
    variableNames: inputs,
    outputShape,
    shaderKey: key,
    dispatchLayout: { x: outputShape.map((_, i) => i) },
    dispatch: [Math.ceil(threads / workgroup), 1, 1],
    workgroupSize: [workgroup, 1, 1],
    uniforms,
    getUserCode: () => code,
  };
}

/** Runs `program` (one dispatch) into a new float32 tensor. */
export function runProgram(program: FusedProgram, inputs: tf.TensorInfo[], uniforms: ProgramUniform[]): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(webgpuBackend().runWebGPUProgram(program, inputs, 'float32', uniforms));
}

/** A float32 tensor of `shape` with a GPU buffer and no values yet (to be filled by copies). */
export function uninitialised(shape: number[]): tf.Tensor {
  const backend = webgpuBackend();
  const info = backend.makeTensorInfo(shape, 'float32');
  backend.uploadToGPU(info.dataId);
  return tf.engine().makeTensorFromTensorInfo(info);
}

export interface FloatCopy {
  from: tf.TensorInfo;
  /** In floats. */
  fromOffset: number;
  to: tf.TensorInfo;
  toOffset: number;
  count: number;
}

/** Records the copies after the dispatches already recorded; no dispatch, no readback. */
export function copyFloats(copies: FloatCopy[]): void {
  const backend = webgpuBackend();
  for (const { from, to } of copies) {
    backend.uploadToGPU(from.dataId); // a tensor tfjs kept on the CPU (small constants) goes up first
    backend.uploadToGPU(to.dataId);
  }
  backend.ensureCommandEncoderReady();
  backend.endComputePassEncoder();
  for (const { from, fromOffset, to, toOffset, count } of copies) {
    if (count === 0) continue;
    backend.commandEncoder.copyBufferToBuffer(bufferOf(backend, from), 4 * fromOffset, bufferOf(backend, to), 4 * toOffset, 4 * count);
    // As recordAndSubmit does for a dispatch's bindings: neither buffer is reused before the submit.
    backend.commandQueueOwnedIds.add(from.dataId);
    backend.commandQueueOwnedIds.add(to.dataId);
  }
}

function bufferOf(backend: BackendInternals, tensor: tf.TensorInfo): unknown {
  const resource = backend.tensorMap.get(tensor.dataId)?.resource;
  if (resource === undefined || resource === null) throw new Error('copyFloats: a tensor has no GPU buffer');
  return resource;
}
