// Decoding with the fused WGSL kernels (fusedKernels.ts) on the tfjs WebGPU backend, and the
// choice between that path and the stock one (transformer.ts `decodeStep` + rollout.ts
// `drawToken`). The fused path is the default on WebGPU once a self-check on the first policy
// it meets has compiled its shaders without a validation error and matched the stock path;
// otherwise, and on every other backend, the stock path runs and `decodePathStatus` says why.

import * as tf from '@tensorflow/tfjs';
import { BOS, encode } from '../tokenizer';
import { drawToken } from './draw';
import { FusedKernels, type KernelName, type ProgramUniform, type WebGPUBackendLike } from './fusedKernels';
import { decodeStep, disposeCache, emptyCache, type Policy } from './transformer';

/** Which kernels sample tokens: ours (fused WGSL) or tfjs's own ops. */
export type DecodePath = 'fused' | 'stock';

export interface DecodePathStatus {
  path: DecodePath;
  /** One sentence for a person: why this path runs. */
  reason: string;
  /** Set when the fused path was tried and refused (a shader failed or disagreed). */
  warning?: string;
}

/** 'auto' takes the fused path where it can run; 'stock' always takes tfjs's own kernels. */
export type KernelPreference = 'auto' | 'stock';

/**
 * One fused decoding pass over a batch of rows: feed one token per row at the next position,
 * get back each row's sampled token, its log-probability and the entropy it was drawn from.
 * Owns one [B, T, 3D] cache tensor per layer; call `dispose` when the batch is done.
 */
export class FusedDecoder {
  /** Positions already fed (the next token goes to this position). */
  position = 0;
  private readonly kernels: FusedKernels;
  private readonly caches: tf.Tensor3D[];

  constructor(
    private readonly policy: Policy,
    readonly rows: number,
  ) {
    const { layers, contextLength: T, width: D } = policy.config;
    this.kernels = kernelsFor(policy);
    this.caches = Array.from({ length: layers }, () => tf.zeros([rows, T, 3 * D]) as tf.Tensor3D);
  }

  /**
   * tokens [B] at `position`; draws [B], the uniform each sampling row draws with (ignored for
   * the others); temperature 0 is greedy (log-prob and entropy 0, as the stock path records).
   * Returns [B * 3]: token id, log-probability, entropy, per row.
   */
  async step(tokens: Int32Array, draws: Float32Array, temperature: number): Promise<Float32Array> {
    const { config, weights: w } = this.policy;
    const B = this.rows;
    const { width: D, contextLength: T } = config;
    const M = D * config.mlpRatio;
    if (tokens.length !== B || draws.length !== B) throw new Error(`FusedDecoder.step: expected ${B} tokens and draws, got ${tokens.length} and ${draws.length}`);
    if (this.position >= T) throw new Error(`FusedDecoder.step: position ${this.position} is past the context length ${T}`);
    const backend = tf.backend() as unknown as WebGPUBackendLike;
    const at: ProgramUniform[] = [
      { type: 'int32', data: [B] },
      { type: 'int32', data: [this.position] },
    ];
    const run = (name: KernelName, inputs: tf.TensorInfo[], shape: number[]): tf.Tensor =>
      tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(this.kernels.program(name, B, shape), inputs, 'float32', at));

    const ids = tf.tensor1d(tokens, 'int32');
    const uniforms = tf.tensor1d(draws, 'float32');
    let x = run('embed', [ids, w.tokenEmbedding, w.positionEmbedding], [B, D]); // [B, D]
    w.blocks.forEach((block, layer) => {
      const cache = this.caches[layer];
      backend.runWebGPUProgram(
        this.kernels.program('qkv', B, cache.shape),
        [x, block.ln1Gain, block.ln1Bias, block.qkvWeight, block.qkvBias],
        'float32',
        at,
        cache,
      );
      const attended = run('attention', [cache], [B, D]);
      const x1 = run('proj', [attended, block.projWeight, block.projBias, x], [B, D]);
      const hidden = run('fc', [x1, block.ln2Gain, block.ln2Bias, block.fcWeight, block.fcBias], [B, M]);
      const x2 = run('out', [hidden, block.outWeight, block.outBias, x1], [B, D]);
      tf.dispose([x, attended, x1, hidden]);
      x = x2;
    });
    const sampled = tf.engine().makeTensorFromTensorInfo(
      backend.runWebGPUProgram(
        this.kernels.program('head', B, [B, 3]),
        [x, w.lnFinalGain, w.lnFinalBias, w.tokenEmbedding, uniforms],
        'float32',
        [
          { type: 'int32', data: [B] },
          { type: 'float32', data: [temperature] },
        ],
      ),
    );
    tf.dispose([x, ids, uniforms]);
    this.position += 1;
    try {
      return (await sampled.data()) as Float32Array;
    } finally {
      sampled.dispose();
    }
  }

  dispose(): void {
    tf.dispose(this.caches);
  }
}

const kernelCache = new WeakMap<Policy['config'], FusedKernels>();

function kernelsFor(policy: Policy): FusedKernels {
  let kernels = kernelCache.get(policy.config);
  if (kernels === undefined) {
    kernels = new FusedKernels(policy.config);
    kernelCache.set(policy.config, kernels);
  }
  return kernels;
}

// ---------------------------------------------------------------------------------------------
// Which path runs

let preference: KernelPreference = 'auto';
/** Self-check outcome per WebGPU backend instance and model shape. */
const checks = new WeakMap<object, Map<string, Promise<DecodePathStatus>>>();

/** 'stock' forces tfjs's own kernels everywhere (for side-by-side measurements); 'auto' is the default. */
export function setKernelPreference(value: KernelPreference): void {
  preference = value;
}

export function kernelPreference(): KernelPreference {
  return preference;
}

/**
 * The path `policy` decodes with on the current backend. On WebGPU the first call per model
 * shape runs the self-check (a few milliseconds on a GPU, about a second on SwiftShader).
 */
export async function chooseDecodePath(policy: Policy): Promise<DecodePathStatus> {
  const backendName = tf.getBackend();
  if (backendName !== 'webgpu') {
    return { path: 'stock', reason: `the ${backendName} backend runs tfjs's own kernels (fused kernels are WebGPU only)` };
  }
  if (preference === 'stock') return { path: 'stock', reason: 'stock kernels were asked for' };
  const backend = tf.backend();
  let byShape = checks.get(backend);
  if (byShape === undefined) {
    byShape = new Map();
    checks.set(backend, byShape);
  }
  const key = JSON.stringify(policy.config);
  let check = byShape.get(key);
  if (check === undefined) {
    check = selfCheck(policy);
    byShape.set(key, check);
  }
  return check;
}

/** The status of the last `chooseDecodePath` (for headers and reports), or null before any. */
export function lastDecodePath(): DecodePathStatus | null {
  return last;
}
let last: DecodePathStatus | null = null;

/** How far the fused path may stray from the stock one in the self-check (the tests hold it to 1e-5). */
const SELF_CHECK_TOLERANCE = 1e-3;

async function selfCheck(policy: Policy): Promise<DecodePathStatus> {
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const fed = [BOS, ...encode('12*3=')]; // two rows read the same prefix: enough to exercise every kernel
  const rows = 2;
  const draws = new Float32Array([0.25, 0.75]);
  let fused: Float32Array[] = [];
  let thrown: unknown = null;
  backend.device.pushErrorScope('validation');
  const decoder = new FusedDecoder(policy, rows);
  try {
    for (const id of fed) fused.push(await decoder.step(new Int32Array(rows).fill(id), draws, 1));
  } catch (e) {
    thrown = e;
  } finally {
    decoder.dispose();
  }
  const gpuError = await backend.device.popErrorScope().catch((e: unknown) => ({ message: String(e) }));
  const refuse = (why: string): DecodePathStatus =>
    (last = { path: 'stock', reason: 'the fused kernels failed their self-check, so tfjs\'s own kernels run', warning: why });
  if (gpuError) return refuse(`a fused WebGPU shader did not compile on this adapter: ${gpuError.message}`);
  if (thrown) return refuse(`the fused kernels threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`);

  // The stock path on the same inputs.
  const cache = emptyCache(policy);
  let worst = 0;
  try {
    for (let p = 0; p < fed.length; p++) {
      const logits = tf.tidy(() => decodeStep(policy, tf.tensor1d(new Array(rows).fill(fed[p]), 'int32'), cache));
      const values = (await logits.data()) as Float32Array;
      logits.dispose();
      for (let r = 0; r < rows; r++) {
        const stock = drawToken(values, r, 1, draws[r]);
        const [id, logprob, entropy] = fused[p].subarray(r * 3, r * 3 + 3);
        if (id !== stock.id) worst = Infinity;
        worst = Math.max(worst, Math.abs(logprob - stock.logprob), Math.abs(entropy - stock.entropy));
      }
    }
  } finally {
    disposeCache(cache);
  }
  fused = [];
  if (!(worst <= SELF_CHECK_TOLERANCE)) {
    return refuse(`the fused kernels disagree with tfjs's (largest difference ${worst}), so this adapter computes them wrongly`);
  }
  return (last = { path: 'fused', reason: 'fused WGSL kernels sample on WebGPU' });
}
