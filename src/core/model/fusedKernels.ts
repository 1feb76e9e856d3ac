// Fused WGSL kernels for one decoding position, run through the tfjs WebGPU backend's
// `runWebGPUProgram`. The stock path (transformer.ts `decodeStep`) launches about forty tfjs ops
// per layer; here a layer is five dispatches and the embedding and the sampling head one each:
//
//   embed      each row's token at its position        -> x [B, D]
//   per layer  1 qkv        LayerNorm 1, x @ Wqkv + b  -> the row's position in the layer's cache
//              2 attention  q . keys, softmax, @ values -> attended [B, D]
//              3 proj       x + attended @ Wp + b      -> x1 [B, D]
//              4 fc         relu(LayerNorm 2 (x1) @ Wfc + b) -> hidden [B, M]
//              5 out        x1 + hidden @ Wout + b     -> x2 [B, D]
//   head       the next token of each row: a forced one already in the row table, or the draw
//              from final LayerNorm, tied logits, softmax at temperature over the emittable
//              tokens (with its log-probability and entropy); then the row's new position, and
//              whether it stops (end of text, a closed tool call, the context length)
//
// Every row carries its own position in the row table (ROW_TABLE below), so rows advance on the
// GPU position after position with no readback: a row that closes a tool call or ends stops
// advancing (its threads return at once) until the CPU, reading the table back once per tool
// round, runs the calls and writes the results as forced tokens (rollout.ts).
//
// Rows never interact while decoding, so every kernel is one thread per output element (or per
// row and head, per row, or per 16 outputs of a row) and a LayerNorm is recomputed by each thread
// that needs it: 2D reads per 16 outputs, cheaper than another dispatch. The cache is one [B, T, 3D] tensor per layer (q, k and v of
// every position; q is stored only because a program has one output) written in place.
//
// Shapes: B rows, T context, D width, H heads, K head size, M MLP hidden, V vocabulary.

import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './config';
import { CALL_CLOSE, EMITTABLE, EOS } from '../tokenizer';

/** The part of tfjs-backend-webgpu's WebGPUProgram interface these kernels fill in. */
export interface FusedProgram {
  variableNames: string[];
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  uniforms: string;
  getUserCode: () => string;
}

export interface ProgramUniform {
  type: 'int32' | 'float32';
  data: number[];
}

/** What the kernels need from tfjs's WebGPUBackend (`tf.backend()` on webgpu). */
export interface WebGPUBackendLike {
  runWebGPUProgram(
    program: FusedProgram,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: ProgramUniform[],
    output?: tf.TensorInfo,
  ): tf.TensorInfo;
  device: ErrorScopes;
}

/** The GPUDevice calls used to catch a shader that fails to compile. */
export interface ErrorScopes {
  pushErrorScope(filter: 'validation' | 'out-of-memory' | 'internal'): void;
  popErrorScope(): Promise<{ message: string } | null>;
}

export type DecodeKernel = 'embed' | 'qkv' | 'attention' | 'proj' | 'fc' | 'out' | 'head';
/** Training: causal self-attention (forward, and its backward in two passes), and the column sums of bias gradients. */
export type TrainingKernel = 'attnForward' | 'attnProbGrad' | 'attnInputGrad' | 'columnSum' | 'lnForward' | 'lnStats' | 'lnInputGrad' | 'lnGainGrad';
export type KernelName = DecodeKernel | TrainingKernel;

/**
 * The row table, one row of ROW_TABLE.stride(T) floats per batch row: the position of the token
 * the row feeds next, 1 while it advances (0 once stopped), the first position it samples at
 * (positions before it hold forced tokens), then for every position t < T the token there, its
 * log-probability and the entropy it was drawn from (0, 0 for forced tokens).
 */
export const ROW_TABLE = {
  position: 0,
  active: 1,
  forcedEnd: 2,
  /** Offset of position t's token; its log-probability and entropy follow. */
  slot: (t: number) => 3 + 3 * t,
  stride: (T: number) => 3 + 3 * T,
} as const;

/** Dispatches per decoding position: the embedding, five per layer, the head. */
export function fusedDispatchesPerPosition(layers: number): number {
  return 1 + 5 * layers + 1;
}

const WORKGROUP = 64;
/**
 * Outputs per thread of the kernels that open with a LayerNorm (qkv, fc): the row's statistics
 * are computed once per CHUNK outputs instead of once per output. Divides 3D and M at every scale.
 */
const CHUNK = 16;
const LN_EPSILON = '1e-5'; // transformer.ts LN_EPSILON
const LOWEST = '-3.4e38';

interface Sizes {
  T: number;
  D: number;
  H: number;
  K: number;
  M: number;
  V: number;
  N3: number;
}

function sizesOf(config: ModelConfig): Sizes {
  const D = config.width;
  return { T: config.contextLength, D, H: config.heads, K: D / config.heads, M: D * config.mlpRatio, V: config.vocabSize, N3: 3 * D };
}

/**
 * The opening of a kernel whose thread computes CHUNK consecutive outputs of a row of `width`:
 * returns past the last thread, and sets b (the row), j0 (its first output) and base (the row's
 * start in a [rows, D] input).
 */
function chunkedRowMain(width: number, D: number, guard = ''): string {
  return `
fn main(index : i32) {
  if (index >= uniforms.rows * ${width / CHUNK}) { return; }
  let b = index / ${width / CHUNK};${guard}
  let j0 = (index - b * ${width / CHUNK}) * ${CHUNK};
  let base = b * ${D};`;
}

/**
 * Decoding kernels open with this after \`let b\`: a stopped row's threads return, and \`pos\` is the
 * position the row feeds (from the row table, input \`rowTable\`).
 */
function rowGuard(T: number): string {
  const stride = ROW_TABLE.stride(T);
  return `
  if (rowTable[b * ${stride} + ${ROW_TABLE.active}] == 0.0) { return; }
  let pos = i32(rowTable[b * ${stride} + ${ROW_TABLE.position}]);`;
}

/** Mean and 1 / sqrt(variance + eps) of row `base` of `source` ([*, D]), as tf.moments and layerNorm compute them. */
function layerNormStats(source: string, D: number): string {
  return `
  var mean = 0.0;
  for (var i = 0; i < ${D}; i++) { mean += ${source}[base + i]; }
  mean = mean / ${D}.0;
  var variance = 0.0;
  for (var i = 0; i < ${D}; i++) { let centred = ${source}[base + i] - mean; variance += centred * centred; }
  variance = variance / ${D}.0;
  let scale = inverseSqrt(variance + ${LN_EPSILON});`;
}

/** 1 / sqrt(K) as a WGSL float literal. */
function scaleLiteral(K: number): string {
  const scale = 1 / Math.sqrt(K);
  return Number.isInteger(scale) ? `${scale}.0` : String(scale);
}

/**
 * Shared by the training kernels: exp(score - max) of row \`row\`'s query against keys first ..
 * first + t of head h into \`scores\`, returning their sum (the softmax denominator).
 */
function attentionRow({ T, D, K, N3 }: Sizes): string {
  return `
var<private> scores : array<f32, ${T}>;

fn softmaxScores(row : i32, first : i32, t : i32, h : i32) -> f32 {
  let qBase = row * ${N3} + h * ${K};
  var best = ${LOWEST};
  for (var s = 0; s <= t; s++) {
    let kBase = (first + s) * ${N3} + ${D} + h * ${K};
    var dot = 0.0;
    for (var k = 0; k < ${K}; k++) { dot += qkv[qBase + k] * qkv[kBase + k]; }
    scores[s] = dot * ${scaleLiteral(K)};
    best = max(best, scores[s]);
  }
  var total = 0.0;
  for (var s = 0; s <= t; s++) {
    scores[s] = exp(scores[s] - best);
    total += scores[s];
  }
  return total;
}`;
}

/**
 * LayerNorm of row b of xIn, then its product with wMat [D, width], CHUNK outputs per thread
 * (from column j0); `store(c)` writes output j0 + c from acc[c].
 */
function normedProjection({ T, D }: Sizes, width: number, store: (c: string) => string): string {
  return `${chunkedRowMain(width, D, rowGuard(T))}${layerNormStats('xIn', D)}
  var acc : array<f32, ${CHUNK}>;
  for (var i = 0; i < ${D}; i++) {
    let normed = (xIn[base + i] - mean) * scale * lnGain[i] + lnBias[i];
    for (var c = 0; c < ${CHUNK}; c++) { acc[c] += normed * wMat[i * ${width} + j0 + c]; }
  }
  for (var c = 0; c < ${CHUNK}; c++) { ${store('c')} }
}`;
}

/** residual + (source [B, inner] @ wMat [inner, D] + wBias): one thread per output. */
function projectAndAdd(source: string, inner: number, D: number, T: number): string {
  return `
fn main(index : i32) {
  if (index >= uniforms.rows * ${D}) { return; }
  let b = index / ${D};${rowGuard(T)}
  let j = index - b * ${D};
  var acc = 0.0;
  for (var i = 0; i < ${inner}; i++) { acc += ${source}[b * ${inner} + i] * wMat[i * ${D} + j]; }
  result[index] = residual[index] + (acc + wBias[j]);
}`;
}

/**
 * How both training attention kernels open: thread = (row, head h), the row's position t in its
 * sequence, the sequence's first row, and the softmax's exp(score - max) in \`scores\` with their sum.
 */
function attentionPrologue(H: number): string {
  return `fn main(index : i32) {
  if (index >= uniforms.rows * ${H}) { return; }
  let row = index / ${H};
  let h = index - row * ${H};
  let t = row % uniforms.seqLen;
  let first = row - t;
  let total = softmaxScores(row, first, t, h);`;
}

function userCode(name: KernelName, s: Sizes): string {
  const { T, D, H, K, M, V, N3 } = s;
  const stride = ROW_TABLE.stride(T);
  switch (name) {
    case 'embed': // rowTable, tokEmb [V, D], posEmb [T, D] -> [B, D]
      return `
fn main(index : i32) {
  if (index >= uniforms.rows * ${D}) { return; }
  let b = index / ${D};${rowGuard(T)}
  let j = index - b * ${D};
  let token = i32(rowTable[b * ${ROW_TABLE.stride(T)} + ${ROW_TABLE.slot(0)} + pos * 3]);
  result[index] = tokEmb[token * ${D} + j] + posEmb[pos * ${D} + j];
}`;
    case 'qkv': // xIn [B, D], lnGain [D], lnBias [D], wMat [D, 3D], wBias [3D], rowTable -> cache [B, T, 3D] at each row's position
      return normedProjection(s, N3, (c) => `result[(b * ${T} + pos) * ${N3} + j0 + ${c}] = acc[${c}] + wBias[j0 + ${c}];`);
    case 'attention': // cache [B, T, 3D], rowTable -> attended [B, D]; one thread per row and head
      return `
fn main(index : i32) {
  if (index >= uniforms.rows * ${H}) { return; }
  let b = index / ${H};${rowGuard(T)}
  let h = index - b * ${H};
  let rowBase = b * ${T} * ${N3};
  let qBase = rowBase + pos * ${N3} + h * ${K};
  var scores : array<f32, ${T}>;
  var best = ${LOWEST};
  for (var t = 0; t <= pos; t++) {
    let kBase = rowBase + t * ${N3} + ${D} + h * ${K};
    var dot = 0.0;
    for (var k = 0; k < ${K}; k++) { dot += cache[qBase + k] * cache[kBase + k]; }
    scores[t] = dot * ${scaleLiteral(K)};
    best = max(best, scores[t]);
  }
  var acc : array<f32, ${K}>;
  var total = 0.0;
  for (var t = 0; t <= pos; t++) {
    let weight = exp(scores[t] - best);
    total += weight;
    let vBase = rowBase + t * ${N3} + ${2 * D} + h * ${K};
    for (var k = 0; k < ${K}; k++) { acc[k] += weight * cache[vBase + k]; }
  }
  for (var k = 0; k < ${K}; k++) { result[b * ${D} + h * ${K} + k] = acc[k] / total; }
}`;
    case 'proj': // attended [B, D], wMat [D, D], wBias [D], residual [B, D] -> [B, D]
      return projectAndAdd('attended', D, D, T);
    case 'fc': // xIn [B, D], lnGain, lnBias [D], wMat [D, M], wBias [M] -> [B, M]
      return normedProjection(s, M, (c) => `result[b * ${M} + j0 + ${c}] = max(acc[${c}] + wBias[j0 + ${c}], 0.0);`);
    case 'out': // hidden [B, M], wMat [M, D], wBias [D], residual [B, D] -> [B, D]
      return projectAndAdd('hidden', M, D, T);
    case 'head': // xIn [B, D], lnGain, lnBias [D], tokEmb [V, D], draws [B, T] -> the row table, in place
      return `
var<private> EMITTABLE : array<i32, ${V}> = array<i32, ${V}>(${EMITTABLE.map((e) => (e ? 1 : 0)).join(', ')});

fn main(index : i32) {
  if (index >= uniforms.rows) { return; }
  let row = index * ${stride};
  if (result[row + ${ROW_TABLE.active}] == 0.0) { return; }
  let p = i32(result[row + ${ROW_TABLE.position}]) + 1; // the position of the token this step decides
  result[row + ${ROW_TABLE.position}] = f32(p);
  if (p < i32(result[row + ${ROW_TABLE.forcedEnd}])) { // forced: already in the table
    if (p + 1 >= ${T}) { result[row + ${ROW_TABLE.active}] = 0.0; }
    return;
  }
  let base = index * ${D};${layerNormStats('xIn', D)}
  var normed : array<f32, ${D}>;
  for (var i = 0; i < ${D}; i++) { normed[i] = (xIn[base + i] - mean) * scale * lnGain[i] + lnBias[i]; }
  var logits : array<f32, ${V}>;
  for (var v = 0; v < ${V}; v++) {
    var acc = 0.0;
    for (var i = 0; i < ${D}; i++) { acc += normed[i] * tokEmb[v * ${D} + i]; }
    logits[v] = acc;
  }
  var chosen = -1;
  var logprob = 0.0;
  var entropy = 0.0;
  if (uniforms.temperature == 0.0) {
    for (var v = 0; v < ${V}; v++) {
      if (EMITTABLE[v] == 1 && (chosen < 0 || logits[v] > logits[chosen])) { chosen = v; }
    }
  } else {
    var best = ${LOWEST};
    for (var v = 0; v < ${V}; v++) { if (EMITTABLE[v] == 1) { best = max(best, logits[v] / uniforms.temperature); } }
    var total = 0.0;
    for (var v = 0; v < ${V}; v++) { if (EMITTABLE[v] == 1) { total += exp(logits[v] / uniforms.temperature - best); } }
    let logZ = best + log(total);
    for (var v = 0; v < ${V}; v++) {
      if (EMITTABLE[v] == 1) {
        let lp = logits[v] / uniforms.temperature - logZ;
        entropy -= exp(lp) * lp;
      }
    }
    let u = draws[index * ${T} + p];
    var cumulative = 0.0;
    for (var v = 0; v < ${V}; v++) {
      if (EMITTABLE[v] == 1) {
        chosen = v;
        cumulative += exp(logits[v] / uniforms.temperature - logZ);
        if (u < cumulative) { break; }
      }
    }
    logprob = logits[chosen] / uniforms.temperature - logZ;
  }
  let slot = row + ${ROW_TABLE.slot(0)} + p * 3;
  result[slot] = f32(chosen);
  result[slot + 1] = logprob;
  result[slot + 2] = entropy;
  // The CPU takes over at the end of text or a closed call (it runs the tool); the table ends at T.
  if (chosen == ${EOS} || chosen == ${CALL_CLOSE} || p + 1 >= ${T}) { result[row + ${ROW_TABLE.active}] = 0.0; }
}`;
    // Training: qkv [N, 3D] with row n = b * seqLen + t (q, k, v side by side, head h at
    // columns h K .. h K + K of each), as transformer.ts `forward` computes it. seqLen is a uniform.
    case 'attnForward': // qkv -> attended [N, D]; one thread per row and head
      return `${attentionRow(s)}
${attentionPrologue(H)}
  var acc : array<f32, ${K}>;
  for (var s = 0; s <= t; s++) {
    let weight = scores[s] / total;
    let vBase = (first + s) * ${N3} + ${2 * D} + h * ${K};
    for (var k = 0; k < ${K}; k++) { acc[k] += weight * qkv[vBase + k]; }
  }
  for (var k = 0; k < ${K}; k++) { result[row * ${D} + h * ${K} + k] = acc[k]; }
}`;
    case 'attnProbGrad': // qkv, dOut [N, D] -> [N H, 2 seqLen]: softmax p and score gradient dS per row and head
      return `${attentionRow(s)}
${attentionPrologue(H)}
  var dp : array<f32, ${T}>;
  var rowDot = 0.0;
  for (var s = 0; s <= t; s++) {
    scores[s] = scores[s] / total; // now the probability p_s
    let vBase = (first + s) * ${N3} + ${2 * D} + h * ${K};
    var dot = 0.0;
    for (var k = 0; k < ${K}; k++) { dot += dOut[row * ${D} + h * ${K} + k] * qkv[vBase + k]; }
    dp[s] = dot;
    rowDot += scores[s] * dot;
  }
  let out = index * 2 * uniforms.seqLen;
  for (var s = 0; s <= t; s++) {
    result[out + s] = scores[s];
    result[out + uniforms.seqLen + s] = scores[s] * (dp[s] - rowDot);
  }
}`;
    case 'attnInputGrad': // qkv, dOut [N, D], probGrad [N H, 2 seqLen] -> dQkv [N, 3D]
      return `
fn main(index : i32) {
  if (index >= uniforms.rows * ${N3}) { return; }
  let row = index / ${N3};
  let c = index - row * ${N3};
  let part = c / ${D};
  let h = (c - part * ${D}) / ${K};
  let k = c - part * ${D} - h * ${K};
  let s = row % uniforms.seqLen;
  let first = row - s;
  let width = 2 * uniforms.seqLen;
  var acc = 0.0;
  if (part == 0) { // dq_s = scale sum over s' <= s of dS[s, s'] k_s'
    for (var j = 0; j <= s; j++) {
      acc += probGrad[(row * ${H} + h) * width + uniforms.seqLen + j] * qkv[(first + j) * ${N3} + ${D} + h * ${K} + k];
    }
    acc = acc * ${scaleLiteral(K)};
  } else if (part == 1) { // dk_s = scale sum over t >= s of dS[t, s] q_t
    for (var t = s; t < uniforms.seqLen; t++) {
      acc += probGrad[((first + t) * ${H} + h) * width + uniforms.seqLen + s] * qkv[(first + t) * ${N3} + h * ${K} + k];
    }
    acc = acc * ${scaleLiteral(K)};
  } else { // dv_s = sum over t >= s of p[t, s] dOut_t
    for (var t = s; t < uniforms.seqLen; t++) {
      acc += probGrad[((first + t) * ${H} + h) * width + s] * dOut[(first + t) * ${D} + h * ${K} + k];
    }
  }
  result[index] = acc;
}`;
    // LayerNorm over rows of width D for training (rows = N is a uniform).
    case 'lnForward': // xIn [N, D], lnGain, lnBias [D] -> [N, D]; CHUNK outputs per thread
      return `${chunkedRowMain(D, D)}${layerNormStats('xIn', D)}
  for (var c = 0; c < ${CHUNK}; c++) {
    let j = j0 + c;
    result[base + j] = (xIn[base + j] - mean) * scale * lnGain[j] + lnBias[j];
  }
}`;
    case 'lnStats': // xIn [N, D] -> [N, 2]: mean and 1 / sqrt(variance + eps) per row
      return `
fn main(index : i32) {
  if (index >= uniforms.rows) { return; }
  let base = index * ${D};${layerNormStats('xIn', D)}
  result[index * 2] = mean;
  result[index * 2 + 1] = scale;
}`;
    case 'lnInputGrad': // dOut, xIn [N, D], lnGain [D], stats [N, 2] -> dx [N, D]
      // dx = r (g dy - mean(g dy) - xhat mean(g dy xhat)), xhat = (x - mean) r
      return `${chunkedRowMain(D, D)}
  let mean = stats[b * 2];
  let scale = stats[b * 2 + 1];
  var sumG = 0.0;
  var sumGX = 0.0;
  for (var i = 0; i < ${D}; i++) {
    let g = dOut[base + i] * lnGain[i];
    sumG += g;
    sumGX += g * (xIn[base + i] - mean) * scale;
  }
  for (var c = 0; c < ${CHUNK}; c++) {
    let j = j0 + c;
    let xhat = (xIn[base + j] - mean) * scale;
    result[base + j] = scale * (dOut[base + j] * lnGain[j] - sumG / ${D}.0 - xhat * sumGX / ${D}.0);
  }
}`;
    case 'lnGainGrad': // dOut, xIn [N, D], stats [N, 2] -> [D]: sum over rows of dy xhat
      return `
fn main(index : i32) {
  if (index >= ${D}) { return; }
  var acc = 0.0;
  for (var r = 0; r < uniforms.rows; r++) {
    acc += dOut[r * ${D} + index] * (xIn[r * ${D} + index] - stats[r * 2]) * stats[r * 2 + 1];
  }
  result[index] = acc;
}`;
    case 'columnSum': // matrix [rows, cols] -> [cols]: the gradient of a bias broadcast over rows
      return `
fn main(index : i32) {
  if (index >= uniforms.cols) { return; }
  var acc = 0.0;
  for (var r = 0; r < uniforms.rows; r++) { acc += matrix[r * uniforms.cols + index]; }
  result[index] = acc;
}`;
  }
}

const INPUTS: Record<KernelName, string[]> = {
  embed: ['rowTable', 'tokEmb', 'posEmb'],
  qkv: ['xIn', 'lnGain', 'lnBias', 'wMat', 'wBias', 'rowTable'],
  attention: ['cache', 'rowTable'],
  proj: ['attended', 'wMat', 'wBias', 'residual', 'rowTable'],
  fc: ['xIn', 'lnGain', 'lnBias', 'wMat', 'wBias', 'rowTable'],
  out: ['hidden', 'wMat', 'wBias', 'residual', 'rowTable'],
  head: ['xIn', 'lnGain', 'lnBias', 'tokEmb', 'draws'],
  attnForward: ['qkv'],
  attnProbGrad: ['qkv', 'dOut'],
  attnInputGrad: ['qkv', 'dOut', 'probGrad'],
  columnSum: ['matrix'],
  lnForward: ['xIn', 'lnGain', 'lnBias'],
  lnStats: ['xIn'],
  lnInputGrad: ['dOut', 'xIn', 'lnGain', 'stats'],
  lnGainGrad: ['dOut', 'xIn', 'stats'],
};

/** Program-defined uniforms, in the order the caller passes them. */
const UNIFORMS: Record<KernelName, string> = {
  embed: 'rows : i32,',
  qkv: 'rows : i32,',
  attention: 'rows : i32,',
  proj: 'rows : i32,',
  fc: 'rows : i32,',
  out: 'rows : i32,',
  head: 'rows : i32, temperature : f32,',
  attnForward: 'rows : i32, seqLen : i32,',
  attnProbGrad: 'rows : i32, seqLen : i32,',
  attnInputGrad: 'rows : i32, seqLen : i32,',
  columnSum: 'rows : i32, cols : i32,',
  lnForward: 'rows : i32, unused : i32,',
  lnStats: 'rows : i32, unused : i32,',
  lnInputGrad: 'rows : i32, unused : i32,',
  lnGainGrad: 'rows : i32, unused : i32,',
};

/** Threads each kernel runs for `rows` rows (training kernels: rows = B x seqLen). */
function threads(name: KernelName, rows: number, s: Sizes): number {
  switch (name) {
    case 'columnSum':
      return rows; // called with the column count
    case 'lnForward':
    case 'lnInputGrad':
      return rows * (s.D / CHUNK);
    case 'lnStats':
      return rows;
    case 'lnGainGrad':
      return s.D;
    case 'attnForward':
    case 'attnProbGrad':
      return rows * s.H;
    case 'attnInputGrad':
      return rows * s.N3;
    case 'qkv':
      return rows * (s.N3 / CHUNK);
    case 'attention':
      return rows * s.H;
    case 'fc':
      return rows * (s.M / CHUNK);
    case 'head':
      return rows;
    default:
      return rows * s.D;
  }
}

/**
 * The WGSL of every kernel for one model shape, built once. `program` makes a fresh program
 * object per dispatch: tfjs extends `shaderKey` in place on every run.
 */
export class FusedKernels {
  private static readonly byShape = new WeakMap<ModelConfig, FusedKernels>();

  /** The kernels of one model shape, built once per config object. */
  static for(config: ModelConfig): FusedKernels {
    let kernels = FusedKernels.byShape.get(config);
    if (kernels === undefined) {
      kernels = new FusedKernels(config);
      FusedKernels.byShape.set(config, kernels);
    }
    return kernels;
  }

  private readonly sizes: Sizes;
  private readonly code = new Map<KernelName, string>();
  private readonly key: string;

  constructor(config: ModelConfig) {
    this.sizes = sizesOf(config);
    if (this.sizes.D % CHUNK !== 0 || this.sizes.M % CHUNK !== 0) throw new Error(`fused kernels need the width and the MLP width to be multiples of ${CHUNK}`);
    const { T, D, H, M, V } = this.sizes;
    this.key = `taoFused_T${T}_D${D}_H${H}_M${M}_V${V}`;
  }

  /** The WGSL body of one kernel (for tests and for printing). */
  source(name: KernelName): string {
    let code = this.code.get(name);
    if (code === undefined) {
      code = userCode(name, this.sizes);
      this.code.set(name, code);
    }
    return code;
  }

  program(name: KernelName, rows: number, outputShape: number[]): FusedProgram {
    const code = this.source(name);
    return {
      variableNames: INPUTS[name],
      outputShape,
      shaderKey: `${this.key}_${name}`,
      dispatchLayout: { x: outputShape.map((_, i) => i) },
      dispatch: [Math.ceil(threads(name, rows, this.sizes) / WORKGROUP), 1, 1],
      workgroupSize: [WORKGROUP, 1, 1],
      uniforms: UNIFORMS[name],
      getUserCode: () => code,
    };
  }
}
