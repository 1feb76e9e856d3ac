// Decoding with the fused WGSL kernels (fusedKernels.ts) on the tfjs WebGPU backend, and the
// choice between the fused kernels (decoding here, the training forward's ops in fusedTraining.ts) and
// the stock ones (transformer.ts `decodeStep` and `causalAttention`, draw.ts `drawToken`). The
// fused path is the default on WebGPU once a self-check on the first policy of each shape has
// compiled every shader without a validation error and matched the stock path; otherwise, and on
// every other backend, the stock path runs and the status says why.

import * as tf from '@tensorflow/tfjs';
import { BOS, encode } from '../tokenizer';
import { drawToken } from './draw';
import { columnSum, fusedCausalAttention, fusedTrainingOps } from './fusedTraining';
import { FusedKernels, type KernelName, type ProgramUniform, ROW_TABLE, type WebGPUBackendLike } from './fusedKernels';
import { checkOnce, kernelPreference, type KernelPathStatus } from './kernelPath';
import { causalAttention, decodeStep, disposeCache, emptyCache, type Policy, stockLayerNorm } from './transformer';

export { kernelPreference, setKernelPreference, type KernelPathStatus } from './kernelPath';

/**
 * Fused decoding over a batch of rows that each carry their own position (the row table,
 * fusedKernels.ts ROW_TABLE): `run` advances every active row position after position on the GPU
 * and reads the table back once at the end. Owns one [B, T, 3D] cache tensor per layer; call
 * `dispose` when the batch is done.
 */
export class FusedDecoder {
  /** Positions already fed through `step` (the next token goes to this position). */
  position = 0;
  private readonly kernels: FusedKernels;
  private readonly caches: tf.Tensor3D[];

  constructor(
    private readonly policy: Policy,
    readonly rows: number,
  ) {
    const { layers, contextLength: T, width: D } = policy.config;
    this.kernels = FusedKernels.for(policy.config);
    this.caches = Array.from({ length: layers }, () => tf.zeros([rows, T, 3 * D]) as tf.Tensor3D);
  }

  /**
   * Runs `steps` decoding positions for the active rows of `table` ([B * ROW_TABLE.stride(T)]),
   * each drawing the token at position t of row b with the uniform draws[b * T + t]; temperature
   * 0 is greedy (log-prob and entropy 0, as the stock path records). A row stops at the end of
   * text, a closed tool call or the context length. Returns the table after the last position:
   * one readback.
   */
  async run(table: Float32Array, draws: Float32Array, steps: number, temperature: number): Promise<Float32Array> {
    const { config, weights: w } = this.policy;
    const B = this.rows;
    const { width: D, contextLength: T } = config;
    const M = D * config.mlpRatio;
    if (table.length !== B * ROW_TABLE.stride(T) || draws.length !== B * T) {
      throw new Error(`FusedDecoder.run: expected a table of ${B} x ${ROW_TABLE.stride(T)} and ${B} x ${T} draws, got ${table.length} and ${draws.length}`);
    }
    const backend = tf.backend() as unknown as WebGPUBackendLike;
    const rowsUniform: ProgramUniform[] = [{ type: 'int32', data: [B] }];
    const rowTable = tf.tensor1d(table, 'float32');
    const uniforms = tf.tensor1d(draws, 'float32');
    const run = (name: KernelName, inputs: tf.TensorInfo[], shape: number[]): tf.Tensor =>
      tf.engine().makeTensorFromTensorInfo(backend.runWebGPUProgram(this.kernels.program(name, B, shape), inputs, 'float32', rowsUniform));
    try {
      for (let step = 0; step < steps; step++) {
        let x = run('embed', [rowTable, w.tokenEmbedding, w.positionEmbedding], [B, D]); // [B, D]
        w.blocks.forEach((block, layer) => {
          const cache = this.caches[layer];
          backend.runWebGPUProgram(
            this.kernels.program('qkv', B, cache.shape),
            [x, block.ln1Gain, block.ln1Bias, block.qkvWeight, block.qkvBias, rowTable],
            'float32',
            rowsUniform,
            cache,
          );
          const attended = run('attention', [cache, rowTable], [B, D]);
          const x1 = run('proj', [attended, block.projWeight, block.projBias, x, rowTable], [B, D]);
          const hidden = run('fc', [x1, block.ln2Gain, block.ln2Bias, block.fcWeight, block.fcBias, rowTable], [B, M]);
          const x2 = run('out', [hidden, block.outWeight, block.outBias, x1, rowTable], [B, D]);
          tf.dispose([x, attended, x1, hidden]);
          x = x2;
        });
        backend.runWebGPUProgram(
          this.kernels.program('head', B, rowTable.shape),
          [x, w.lnFinalGain, w.lnFinalBias, w.tokenEmbedding, uniforms],
          'float32',
          [
            { type: 'int32', data: [B] },
            { type: 'float32', data: [temperature] },
          ],
          rowTable,
        );
        x.dispose();
      }
      return (await rowTable.data()) as Float32Array;
    } finally {
      tf.dispose([rowTable, uniforms]);
    }
  }

  /**
   * One position for every row: tokens [B] fed at `position`, each row drawing with draws[b].
   * Returns [B * 3]: token id, log-probability, entropy, per row. (The self-check and the tests
   * compare the kernels position by position through this.)
   */
  async step(tokens: Int32Array, draws: Float32Array, temperature: number): Promise<Float32Array> {
    const B = this.rows;
    const T = this.policy.config.contextLength;
    const stride = ROW_TABLE.stride(T);
    if (tokens.length !== B || draws.length !== B) throw new Error(`FusedDecoder.step: expected ${B} tokens and draws, got ${tokens.length} and ${draws.length}`);
    if (this.position >= T - 1) throw new Error(`FusedDecoder.step: position ${this.position} leaves no room for a token before the context length ${T}`);
    const p = this.position;
    const table = new Float32Array(B * stride);
    const perPosition = new Float32Array(B * T);
    for (let b = 0; b < B; b++) {
      table[b * stride + ROW_TABLE.position] = p;
      table[b * stride + ROW_TABLE.active] = 1;
      table[b * stride + ROW_TABLE.forcedEnd] = p + 1;
      table[b * stride + ROW_TABLE.slot(p)] = tokens[b];
      perPosition[b * T + p + 1] = draws[b];
    }
    const after = await this.run(table, perPosition, 1, temperature);
    this.position += 1;
    const sampled = new Float32Array(B * 3);
    for (let b = 0; b < B; b++) sampled.set(after.subarray(b * stride + ROW_TABLE.slot(p + 1), b * stride + ROW_TABLE.slot(p + 2)), b * 3);
    return sampled;
  }

  dispose(): void {
    tf.dispose(this.caches);
  }
}

// ---------------------------------------------------------------------------------------------
// Which path runs

/**
 * The kernels `policy` runs with on the current backend. On WebGPU the first call per model
 * shape runs the self-check (a few milliseconds on a GPU, about a second on SwiftShader).
 */
export async function chooseKernelPath(policy: Policy): Promise<KernelPathStatus> {
  const backendName = tf.getBackend();
  if (backendName !== 'webgpu') {
    return { path: 'stock', reason: `the ${backendName} backend runs tfjs's own kernels (fused kernels are WebGPU only)` };
  }
  if (kernelPreference() === 'stock') return { path: 'stock', reason: 'stock kernels were asked for' };
  return checkOnce(policy.config, async () => {
    const status = await selfCheck(policy);
    if (status.warning) console.warn(`Fused WebGPU kernels refused: ${status.warning}`);
    return status;
  });
}

/** How far the fused path may stray from the stock one in the self-check (the tests hold it to 1e-5). */
const SELF_CHECK_TOLERANCE = 1e-3;

async function selfCheck(policy: Policy): Promise<KernelPathStatus> {
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const fed = [BOS, ...encode('12*3=')]; // two rows read the same prefix: enough to exercise every kernel
  const rows = 2;
  const draws = new Float32Array([0.25, 0.75]);
  const fused: Float32Array[] = [];
  let attention: { forward: Float32Array; gradient: Float32Array } | null = null;
  let thrown: unknown = null;
  backend.device.pushErrorScope('validation');
  let decoder: FusedDecoder | null = null;
  try {
    decoder = new FusedDecoder(policy, rows);
    for (const id of fed) fused.push(await decoder.step(new Int32Array(rows).fill(id), draws, 1));
    attention = await attentionProbe(policy, (qkv, seqLen) => fusedCausalAttention(policy.config, qkv, seqLen));
  } catch (e) {
    thrown = e;
  } finally {
    decoder?.dispose();
  }
  const gpuError = await backend.device.popErrorScope().catch((e: unknown) => ({ message: String(e) }));
  const refuse = (why: string): KernelPathStatus => ({
    path: 'stock',
    reason: "the fused kernels failed their self-check, so tfjs's own kernels run",
    warning: why,
  });
  if (gpuError) return refuse(`a fused WebGPU shader did not compile on this adapter: ${gpuError.message}`);
  if (thrown || attention === null) return refuse(`the fused kernels threw: ${thrown instanceof Error ? thrown.message : String(thrown)}`);

  // The stock path on the same inputs.
  let worst = 0;
  const cache = emptyCache(policy);
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
  const stock = await attentionProbe(policy, (qkv, seqLen) => causalAttention(qkv, qkv.shape[0] / seqLen, seqLen, policy.config.heads));
  worst = Math.max(worst, maxDifference(attention.forward, stock.forward), maxDifference(attention.gradient, stock.gradient));
  // The column sum of the bias gradients, against tfjs's sum over rows.
  const matrix = tf.tensor2d(Float32Array.from({ length: 7 * 5 }, (_, i) => Math.sin(i)), [7, 5]);
  const [fusedSum, stockSum] = [columnSum(policy.config, matrix), tf.sum(matrix, 0)];
  worst = Math.max(worst, maxDifference((await fusedSum.data()) as Float32Array, (await stockSum.data()) as Float32Array));
  tf.dispose([matrix, fusedSum, stockSum]);
  // LayerNorm and its gradients, against tfjs's ops.
  const fusedNorm = await layerNormProbe(policy, fusedTrainingOps(policy.config).layerNorm);
  const stockNorm = await layerNormProbe(policy, stockLayerNorm);
  fusedNorm.forEach((values, i) => (worst = Math.max(worst, maxDifference(values, stockNorm[i]))));
  if (!(worst <= SELF_CHECK_TOLERANCE)) {
    return refuse(`the fused kernels disagree with tfjs's (largest difference ${worst}), so this adapter computes them wrongly`);
  }
  return { path: 'fused', reason: 'fused WGSL kernels sample and run attention on WebGPU' };
}

/** Attention on two sequences of 5 positions of fixed pseudo-random q, k, v: output and d(sum(out * w))/dqkv. */
async function attentionProbe(
  policy: Policy,
  attention: (qkv: tf.Tensor2D, seqLen: number) => tf.Tensor2D,
): Promise<{ forward: Float32Array; gradient: Float32Array }> {
  const seqLen = 5;
  const rows = 2 * seqLen;
  const D = policy.config.width;
  const [forward, gradient] = tf.tidy(() => {
    const qkv = tf.tensor2d(Float32Array.from({ length: rows * 3 * D }, (_, i) => Math.sin(i * 0.7)), [rows, 3 * D]);
    const weights = tf.tensor2d(Float32Array.from({ length: rows * D }, (_, i) => Math.cos(i * 1.3)), [rows, D]);
    const { grads } = tf.valueAndGrads((x: tf.Tensor) => attention(x as tf.Tensor2D, seqLen).mul(weights).sum())([qkv]);
    return [attention(qkv, seqLen), grads[0]];
  });
  try {
    return { forward: (await forward.data()) as Float32Array, gradient: (await gradient.data()) as Float32Array };
  } finally {
    tf.dispose([forward, gradient]);
  }
}

/** LayerNorm of 6 rows of pseudo-random x: output, and d(sum(out * w)) / d x, gain, bias. */
async function layerNormProbe(
  policy: Policy,
  norm: (x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor) => tf.Tensor2D,
): Promise<Float32Array[]> {
  const D = policy.config.width;
  const tensors = tf.tidy(() => {
    const x = tf.tensor2d(Float32Array.from({ length: 6 * D }, (_, i) => Math.sin(i * 0.3) * 2), [6, D]);
    const gain = tf.tensor1d(Float32Array.from({ length: D }, (_, i) => 1 + Math.cos(i)));
    const bias = tf.tensor1d(Float32Array.from({ length: D }, (_, i) => Math.sin(i * 2)));
    const weights = tf.tensor2d(Float32Array.from({ length: 6 * D }, (_, i) => Math.cos(i * 0.9)), [6, D]);
    const { grads } = tf.valueAndGrads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => norm(a as tf.Tensor2D, g, b).mul(weights).sum())([x, gain, bias]);
    return [norm(x, gain, bias), ...grads];
  });
  try {
    return await Promise.all(tensors.map(async (t) => (await t.data()) as Float32Array));
  } finally {
    tf.dispose(tensors);
  }
}

function maxDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
