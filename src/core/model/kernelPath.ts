// Which kernels run: tfjs's own ops ("stock") or the fused WGSL kernels (WebGPU only). The
// choice is made once per WebGPU backend and model shape by a self-check (fusedDecoder.ts
// `chooseKernelPath`) and read synchronously by the forward passes afterwards.

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

interface Check {
  /** The self-check, run once per WebGPU backend instance and model shape. */
  outcome: Promise<KernelPathStatus>;
  /** Its result once settled: what the synchronous `fusedKernelsActive` reads. */
  status?: KernelPathStatus;
}
const checks = new WeakMap<object, Map<string, Check>>();

/** 'stock' forces tfjs's own kernels everywhere (for side-by-side measurements); 'auto' is the default. */
export function setKernelPreference(value: KernelPreference): void {
  preference = value;
}

export function kernelPreference(): KernelPreference {
  return preference;
}

function shapeKey(config: ModelConfig): string {
  const { vocabSize, contextLength, layers, width, heads, mlpRatio } = config;
  return `${vocabSize}/${contextLength}/${layers}/${width}/${heads}/${mlpRatio}`;
}

/** `selfCheck`'s outcome for this shape on the current backend, run on the first call only. */
export function checkOnce(config: ModelConfig, selfCheck: () => Promise<KernelPathStatus>): Promise<KernelPathStatus> {
  const backend = tf.backend();
  let byShape = checks.get(backend);
  if (byShape === undefined) {
    byShape = new Map();
    checks.set(backend, byShape);
  }
  const key = shapeKey(config);
  let check = byShape.get(key);
  if (check === undefined) {
    const created: Check = { outcome: selfCheck().then((status) => (created.status = status)) };
    check = created;
    byShape.set(key, check);
  }
  return check.outcome;
}

/**
 * True when the fused kernels run for this shape now: WebGPU, preference 'auto', and a passed
 * self-check. Before the self-check has run (say, a forward pass before any sampling) it is false.
 */
export function fusedKernelsActive(config: ModelConfig): boolean {
  if (preference !== 'auto' || tf.getBackend() !== 'webgpu') return false;
  return checks.get(tf.backend())?.get(shapeKey(config))?.status?.path === 'fused';
}
