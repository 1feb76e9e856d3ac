// A causal decoder-only transformer: pre-LayerNorm blocks, multi-head attention, learned
// positions, ReLU MLP, output head tied to the token embedding. Weights are plain tf.Variables
// so the trainer, the sampler and the checkpoint code see the same named tensors.
//
// Shapes: B batch, T time, D width, H heads, K head size (D / H), V vocabulary, M MLP hidden.

import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import type { ModelConfig } from './config';
import { type FusedDenseOps, fusedDenseOps } from './fusedDense';
import { type FusedTrainingOps, fusedTrainingOps } from './fusedTraining';
import { fusedUpdateActive } from './fusedUpdate';
import { fusedKernelsActive } from './kernelPath';
import { wasmLayerNorm } from './wasmKernels';

export interface BlockWeights {
  ln1Gain: tf.Variable; // [D]
  ln1Bias: tf.Variable; // [D]
  qkvWeight: tf.Variable; // [D, 3D]
  qkvBias: tf.Variable; // [3D]
  projWeight: tf.Variable; // [D, D]
  projBias: tf.Variable; // [D]
  ln2Gain: tf.Variable; // [D]
  ln2Bias: tf.Variable; // [D]
  fcWeight: tf.Variable; // [D, M]
  fcBias: tf.Variable; // [M]
  outWeight: tf.Variable; // [M, D]
  outBias: tf.Variable; // [D]
}

export interface PolicyWeights {
  tokenEmbedding: tf.Variable; // [V, D], also the output head
  positionEmbedding: tf.Variable; // [T, D]
  blocks: BlockWeights[];
  lnFinalGain: tf.Variable; // [D]
  lnFinalBias: tf.Variable; // [D]
}

export interface Policy {
  config: ModelConfig;
  weights: PolicyWeights;
}

const LN_EPSILON = 1e-5;

/** Weights in a fixed order with stable names: the checkpoint format and the optimiser use it. */
export function namedWeights(weights: PolicyWeights): [string, tf.Variable][] {
  const named: [string, tf.Variable][] = [
    ['tokenEmbedding', weights.tokenEmbedding],
    ['positionEmbedding', weights.positionEmbedding],
  ];
  weights.blocks.forEach((block, i) => {
    for (const [key, variable] of Object.entries(block)) named.push([`blocks.${i}.${key}`, variable]);
  });
  named.push(['lnFinalGain', weights.lnFinalGain], ['lnFinalBias', weights.lnFinalBias]);
  return named;
}

/**
 * GPT-2 style initialisation, drawn from our own seeded generator rather than tfjs's so that
 * every backend starts from bit-identical weights.
 */
export function initPolicy(config: ModelConfig, seed: number): Policy {
  const rng = new Rng(seed).fork('init');
  const gaussian = (size: number, std: number): Float32Array => {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      const u = 1 - rng.next();
      const v = rng.next();
      out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
    return out;
  };
  const { vocabSize: V, contextLength: T, width: D, layers } = config;
  const M = D * config.mlpRatio;
  const residualStd = 0.02 / Math.sqrt(2 * layers); // scaled residual projections (GPT-2)
  // tidy frees each initial value once the variable has copied it.
  const normal = (shape: number[], std = 0.02) =>
    tf.tidy(() => tf.variable(tf.tensor(gaussian(shape.reduce((a, b) => a * b, 1), std), shape)));
  const filled = (size: number, value: number) => tf.tidy(() => tf.variable(tf.fill([size], value)));
  const blocks: BlockWeights[] = [];
  for (let i = 0; i < layers; i++) {
    blocks.push({
      ln1Gain: filled(D, 1),
      ln1Bias: filled(D, 0),
      qkvWeight: normal([D, 3 * D]),
      qkvBias: filled(3 * D, 0),
      projWeight: normal([D, D], residualStd),
      projBias: filled(D, 0),
      ln2Gain: filled(D, 1),
      ln2Bias: filled(D, 0),
      fcWeight: normal([D, M]),
      fcBias: filled(M, 0),
      outWeight: normal([M, D], residualStd),
      outBias: filled(D, 0),
    });
  }
  return {
    config,
    weights: {
      tokenEmbedding: normal([V, D]),
      positionEmbedding: normal([T, D], 0.01),
      blocks,
      lnFinalGain: filled(D, 1),
      lnFinalBias: filled(D, 0),
    },
  };
}

export function disposePolicy(policy: Policy): void {
  for (const [, variable] of namedWeights(policy.weights)) variable.dispose();
}

/** Copy of the weights (e.g. a frozen reference policy for the KL penalty). */
export function clonePolicy(policy: Policy): Policy {
  const copy = (v: tf.Variable) => tf.tidy(() => tf.variable(v.clone(), false));
  const w = policy.weights;
  return {
    config: policy.config,
    weights: {
      tokenEmbedding: copy(w.tokenEmbedding),
      positionEmbedding: copy(w.positionEmbedding),
      blocks: w.blocks.map(
        (block) =>
          Object.fromEntries(Object.entries(block).map(([k, v]) => [k, copy(v)])) as unknown as BlockWeights,
      ),
      lnFinalGain: copy(w.lnFinalGain),
      lnFinalBias: copy(w.lnFinalBias),
    },
  };
}

/** The differentiable pieces `forward` is built from: tfjs's ops, or ours on WebGPU (fusedTraining.ts). */
type Ops = Omit<FusedTrainingOps, 'attention'> & FusedDenseOps & { attention(qkv: tf.Tensor2D, B: number, T: number, H: number): tf.Tensor2D };

function layerNorm(x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor, ops: Ops = STOCK_OPS): tf.Tensor2D {
  return ops.layerNorm(x, gain, bias);
}

/**
 * LayerNorm with tfjs's ops: (x - mean) / sqrt(variance + eps) * gain + bias over the last axis.
 * The same arithmetic as tf.moments, whose cast, reshape and second subtraction cost three more
 * kernels (15 of a tiny decoding position's 125).
 */
export function stockLayerNorm(x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  return normalise(x).mul(gain).add(bias);
}

/** (x - mean) / sqrt(variance + eps) over the last axis: LayerNorm before its gain and bias. */
function normalise(x: tf.Tensor2D): tf.Tensor2D {
  const centred = x.sub(x.mean(-1, true)); // [N, D]
  const variance = centred.square().mean(-1, true); // [N, 1]
  return centred.mul(tf.rsqrt(variance.add(LN_EPSILON)));
}

/**
 * x @ w with a hand-written gradient that transposes explicitly: the wasm backend's matmul is
 * fast on plain layouts and 20x slower with transposeA/transposeB, which the stock gradient uses.
 * [N, I] @ [I, O] -> [N, O]
 */
const linear = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, save: tf.GradSaveFunc) => {
  save([x, w]);
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xSaved, wSaved] = saved as tf.Tensor2D[];
      return [tf.matMul(dy as tf.Tensor2D, tf.transpose(wSaved)), tf.matMul(tf.transpose(xSaved), dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D;

/**
 * Column sums, [N, C] -> [C], as ones[1, N] @ x: the gradient of a bias, a gain or the position
 * table. tfjs's sum over the first axis transposes first, and on wasm took 1.1-4.1 ms at
 * [2560, 64-256] against 0.6-1.8 ms for the matmul (a fresh x each time, as in training).
 */
function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  return tf.matMul(tf.ones([1, x.shape[0]]) as tf.Tensor2D, x).reshape([x.shape[1]]);
}

/** x [N, C] + bias [C], its bias gradient summed by sumRows. */
const addRowBias = tf.customGrad(((x: tf.Tensor2D, bias: tf.Tensor1D) => ({
  value: x.add(bias),
  // The clone, not dy itself: tfjs disposes dy once the gradients are taken.
  gradFunc: (dy: tf.Tensor) => [dy.clone(), sumRows(dy as tf.Tensor2D)],
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor2D, bias: tf.Tensor) => tf.Tensor2D;

/** normalised [N, C] * gain [C] + bias [C], LayerNorm's last step, its gain and bias gradients summed by sumRows. */
const scaleAndShift = tf.customGrad(((normalised: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, save: tf.GradSaveFunc) => {
  save([normalised, gain]);
  return {
    value: normalised.mul(gain).add(bias),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [normalisedSaved, gainSaved] = saved as [tf.Tensor2D, tf.Tensor1D];
      return [dy.mul(gainSaved), sumRows(dy.mul(normalisedSaved) as tf.Tensor2D), sumRows(dy as tf.Tensor2D)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (normalised: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor) => tf.Tensor2D;

/** tokens [B, T, D] + positions [T, D], the positions' gradient summed over the batch by sumRows. */
const addPositionRows = tf.customGrad(((x: tf.Tensor3D, positions: tf.Tensor2D) => ({
  value: x.add(positions),
  gradFunc: (dy: tf.Tensor) => {
    const [B, T, D] = dy.shape;
    return [dy.clone(), sumRows(dy.reshape([B, T * D])).reshape([T, D])];
  },
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor3D, positions: tf.Tensor2D) => tf.Tensor3D;

/** stockLayerNorm with scaleAndShift's gradients (training; decoding needs no gradient and skips the scope). */
function trainingLayerNorm(x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  return scaleAndShift(normalise(x), gain, bias);
}

/** The dense forms out of `linear` and `addBias` (tfjs's ops, one each for bias, ReLU, residual). */
function composedDense(ops: Pick<Ops, 'linear' | 'addBias'>): FusedDenseOps {
  const dense = (x: tf.Tensor2D, w: tf.Tensor, bias: tf.Tensor) => ops.addBias(ops.linear(x, w as tf.Tensor2D), bias);
  return {
    dense,
    denseRelu: (x, w, bias) => tf.relu(dense(x, w, bias)),
    denseResidual: (x, w, bias, residual) => residual.add(dense(x, w, bias)),
  };
}

const STOCK_LINEAR = { linear, addBias: addRowBias };
const STOCK_OPS: Ops = {
  ...STOCK_LINEAR,
  ...composedDense(STOCK_LINEAR),
  layerNorm: trainingLayerNorm,
  addPositions: addPositionRows,
  attention: causalAttention,
};

function opsFor(config: ModelConfig): Ops {
  if (!fusedKernelsActive(config)) return STOCK_OPS;
  const fused = fusedTrainingOps(config);
  // The dense layers in one dispatch each once the fused update's probe has passed (fusedUpdate.ts).
  const dense = fusedUpdateActive(config) ? fusedDenseOps : composedDense(fused);
  return { ...fused, ...dense, attention: (qkv, _B, T) => fused.attention(qkv, T) };
}

function dense(x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor, ops: Ops = STOCK_OPS): tf.Tensor2D {
  return ops.dense(x, weight, bias);
}

/** [N, D] -> [N, D] */
function mlp(x: tf.Tensor2D, block: BlockWeights, ops: Ops = STOCK_OPS): tf.Tensor2D {
  const h = layerNorm(x, block.ln2Gain, block.ln2Bias, ops);
  return dense(tf.relu(dense(h, block.fcWeight, block.fcBias, ops)), block.outWeight, block.outBias, ops);
}

/** [B, T] -> [B, T, D] */
function embed(weights: PolicyWeights, tokens: tf.Tensor2D, positionStart: number, ops: Ops = STOCK_OPS): tf.Tensor3D {
  const [B, T] = tokens.shape;
  const D = weights.tokenEmbedding.shape[1] as number;
  // A one-hot product instead of a gather: with a vocabulary of ~30 it costs little, and its
  // gradient is a matmul, where gather's (UnsortedSegmentSum) is slow on cpu and missing on wasm.
  const oneHot = tf.oneHot(tokens.reshape([B * T]) as tf.Tensor1D, weights.tokenEmbedding.shape[0] as number); // [B*T, V]
  const tokenVectors = ops.linear(oneHot.toFloat() as tf.Tensor2D, weights.tokenEmbedding as tf.Tensor2D).reshape([B, T, D]) as tf.Tensor3D;
  const positions = weights.positionEmbedding.slice([positionStart, 0], [T, D]) as tf.Tensor2D; // [T, D]
  return ops.addPositions(tokenVectors, positions);
}

/** Final LayerNorm and tied head: [N, D] -> [N, V] */
function head(weights: PolicyWeights, x: tf.Tensor2D, ops: Ops = STOCK_OPS): tf.Tensor2D {
  const h = layerNorm(x, weights.lnFinalGain, weights.lnFinalBias, ops);
  return ops.linear(h, tf.transpose(weights.tokenEmbedding) as tf.Tensor2D);
}

/**
 * Causal multi-head self-attention with tfjs's ops: qkv [B*T, 3D] (q, k, v side by side) ->
 * attended [B*T, D], heads merged back.
 */
export function causalAttention(qkv: tf.Tensor2D, B: number, T: number, H: number): tf.Tensor2D {
  const D = qkv.shape[1] / 3;
  const K = D / H;
  // -1e9 above the diagonal: position t attends to positions <= t only.
  const causalMask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9); // [T, T]
  const [q, k, v] = tf.split(qkv, 3, 1).map((part) => part.reshape([B, T, H, K]).transpose([0, 2, 1, 3]) as tf.Tensor4D); // each [B, H, T, K]
  const scores = tf.matMul(q, k, false, true).mul(1 / Math.sqrt(K)).add(causalMask); // [B, H, T, T]
  const attended = tf.matMul(tf.softmax(scores), v); // [B, H, T, K]
  return attended.transpose([0, 2, 1, 3]).reshape([B * T, D]) as tf.Tensor2D;
}

/** Full causal forward for training: tokens [B, T] int32 -> logits [B, T, V]. */
export function forward(policy: Policy, tokens: tf.Tensor2D): tf.Tensor3D {
  const { width: D, heads: H } = policy.config;
  const [B, T] = tokens.shape;
  const w = policy.weights;
  // Our WebGPU ops (fused attention and LayerNorm, one-dispatch bias gradients) once their self-check passed.
  const ops = opsFor(policy.config);
  let x = embed(w, tokens, 0, ops).reshape([B * T, D]) as tf.Tensor2D; // [B*T, D]
  for (const block of w.blocks) {
    const h = layerNorm(x, block.ln1Gain, block.ln1Bias, ops);
    const qkv = dense(h, block.qkvWeight, block.qkvBias, ops); // [B*T, 3D]
    const merged = ops.attention(qkv, B, T, H); // [B*T, D]
    x = ops.denseResidual(merged, block.projWeight, block.projBias, x);
    const hidden = ops.denseRelu(layerNorm(x, block.ln2Gain, block.ln2Bias, ops), block.fcWeight, block.fcBias); // [B*T, M]
    x = ops.denseResidual(hidden, block.outWeight, block.outBias, x);
  }
  return head(w, x, ops).reshape([B, T, policy.config.vocabSize]);
}

/** Per-layer key/value cache for incremental decoding: each [B, H, t, K]. */
export interface KVCache {
  keys: (tf.Tensor4D | null)[];
  values: (tf.Tensor4D | null)[];
  /** Positions already in the cache. */
  length: number;
}

export function emptyCache(policy: Policy): KVCache {
  const n = policy.config.layers;
  return { keys: new Array(n).fill(null), values: new Array(n).fill(null), length: 0 };
}

export function disposeCache(cache: KVCache): void {
  for (const t of [...cache.keys, ...cache.values]) t?.dispose();
  cache.keys.fill(null);
  cache.values.fill(null);
}

/**
 * One decoding position for the whole batch: tokens [B] at position `cache.length` -> logits
 * [B, V] for the next position. The cache grows by one position and keeps its tensors alive
 * (call inside tf.tidy; the new cache tensors are kept, the old ones disposed).
 *
 * The same arithmetic as `forward`, without `linear`'s custom gradient (decoding records none):
 * its scope is a kernel of its own in tfjs's count and costs JavaScript at every call.
 */
export function decodeStep(policy: Policy, tokens: tf.Tensor1D, cache: KVCache): tf.Tensor2D {
  const { width: D, heads: H, vocabSize: V } = policy.config;
  const K = D / H;
  const B = tokens.shape[0];
  const w = policy.weights;
  // One-hot rows select embedding rows exactly, as embed() does.
  const tokenVectors = tf.matMul(tf.oneHot(tokens, V).toFloat() as tf.Tensor2D, w.tokenEmbedding as tf.Tensor2D); // [B, D]
  let x = tokenVectors.add(w.positionEmbedding.slice([cache.length, 0], [1, D])) as tf.Tensor2D; // [B, D]
  w.blocks.forEach((block, layer) => {
    const h = decodingLayerNorm(x, block.ln1Gain, block.ln1Bias);
    const qkv = plainDense(h, block.qkvWeight, block.qkvBias); // [B, 3D]
    const [q, k, v] = tf.split(qkv, 3, 1).map((part) => part.reshape([B, H, 1, K]) as tf.Tensor4D); // each [B, H, 1, K]
    const keys = appendToCache(cache.keys, layer, k); // [B, H, t+1, K]
    const values = appendToCache(cache.values, layer, v);
    const scores = tf.matMul(q, keys, false, true).mul(1 / Math.sqrt(K)); // [B, H, 1, t+1]
    const attended = tf.matMul(tf.softmax(scores), values); // [B, H, 1, K]
    x = x.add(plainDense(attended.reshape([B, D]) as tf.Tensor2D, block.projWeight, block.projBias));
    const hidden = tf.relu(plainDense(decodingLayerNorm(x, block.ln2Gain, block.ln2Bias), block.fcWeight, block.fcBias)) as tf.Tensor2D; // [B, M]
    x = x.add(plainDense(hidden, block.outWeight, block.outBias));
  });
  cache.length += 1;
  const h = decodingLayerNorm(x, w.lnFinalGain, w.lnFinalBias);
  return tf.matMul(h, tf.transpose(w.tokenEmbedding) as tf.Tensor2D); // [B, V]
}

/** LayerNorm without a gradient: one kernel on wasm (model/wasmKernels.ts), the stock ops elsewhere. */
function decodingLayerNorm(x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  return wasmLayerNorm(x, gain, bias, LN_EPSILON) ?? stockLayerNorm(x, gain, bias);
}

/** [N, I] @ [I, O] + [O] without `linear`'s custom gradient (decoding records no gradient). */
function plainDense(x: tf.Tensor2D, weight: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  return tf.matMul(x, weight as tf.Tensor2D).add(bias);
}

function appendToCache(slots: (tf.Tensor4D | null)[], layer: number, entry: tf.Tensor4D): tf.Tensor4D {
  const previous = slots[layer];
  const next = previous ? tf.concat([previous, entry], 2) : entry;
  tf.keep(next);
  previous?.dispose();
  slots[layer] = next;
  return next;
}
