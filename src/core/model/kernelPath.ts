// Which kernels run: tfjs's own ops ("stock") or the fused WGSL kernels (WebGPU only). The
// choice is made once per WebGPU backend and model shape by a self-check (fusedDecoder.ts
// `chooseDecodePath`) and read synchronously by the forward passes afterwards.

import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config';

export type KernelPath = 'fused' | 'stock';

export interface KernelPathStatus {
  path: KernelPath;
  /** One sentence for a person: why this path runs. */
  reason: string;
  /** Set when the fused path was tried and refused (a shader failed or disagreed). */
  warning?: string;
}

/** 'auto' takes the fused path where it runs; 'stock' always takes tfjs's own kernels. */
export type KernelPreference = 'auto' | 'stock';

let preference: KernelPreference = 'auto';
/** Settled self-checks per WebGPU backend instance, by model shape. */
const settled = new WeakMap<object, Map<string, KernelPathStatus>>();

/** 'stock' forces tfjs's own kernels everywhere (for side-by-side measurements); 'auto' is the default. */
export function setKernelPreference(value: KernelPreference): void {
  preference = value;
}

export function kernelPreference(): KernelPreference {
  return preference;
}

export function shapeKey(config: ModelConfig): string {
  const { vocabSize, contextLength, layers, width, heads, mlpRatio } = config;
  return `${vocabSize}/${contextLength}/${layers}/${width}/${heads}/${mlpRatio}`;
}

export function recordKernelPath(config: ModelConfig, status: KernelPathStatus): void {
  const backend = tf.backend();
  let byShape = settled.get(backend);
  if (byShape === undefined) {
    byShape = new Map();
    settled.set(backend, byShape);
  }
  byShape.set(shapeKey(config), status);
}

/**
 * True when the fused kernels run for this shape now: WebGPU, preference 'auto', and a passed
 * self-check. Before the self-check has run (say, a forward pass before any sampling) it is false.
 */
export function fusedKernelsActive(config: ModelConfig): boolean {
  if (preference !== 'auto' || tf.getBackend() !== 'webgpu') return false;
  return settled.get(tf.backend())?.get(shapeKey(config))?.path === 'fused';
}
