/**
 * Kernels for tfjs's wasm backend, on the wasm heap.
 *
 * BatchMatMul, batched or transposed (`wasmMatmul.wat`): tfjs sends every batched or transposed
 * product to a scalar loop in its wasm (about 1 GMAC/s here), and all of the attention's products
 * are batched: over half of a decoding position's time. Ours is a small WebAssembly SIMD module
 * that imports tfjs's own memory and multiplies the tensors where they lie, four lanes at a time.
 * Plain products (one batch, no transpose) stay with tfjs, which runs them on XNNPACK. Where the
 * module cannot start (no wasm SIMD, or tfjs's threaded build, whose memory is shared), tfjs's
 * kernel stays in place.
 *
 * LayerNorm for decoding (`TaoLayerNorm`): tfjs has no LayerNorm kernel, so the model's is nine
 * kernels (model/transformer.ts stockLayerNorm), and each kernel's fixed cost in JavaScript (its
 * tensor objects, the call into wasm) is larger than its arithmetic at decoding's sizes: five
 * LayerNorms were 45 of a tiny decoding position's 97 kernels. This is one kernel, one pass over
 * the rows. Decoding records no gradient, so it has none; training keeps the nine kernels.
 *
 * Slice, SplitV and Concat, which tfjs-backend-wasm (4.22) implements in JavaScript, replaced by
 * versions that copy within the wasm heap:
 * - Slice (and SplitV, once per part) reads its whole input with `readSync`, which copies the
 *   input into a fresh ArrayBuffer (`HEAPU8.slice`), and then copies the slice out of that copy.
 *   Decoding slices at every position and layer (tf.split of the fused q/k/v projection, the
 *   position embedding), and the rollout slices the key/value cache when rows end, so every
 *   position paid for copies of whole tensors, and for the garbage they leave. In profiles of
 *   the default batch on wasm, `readSync` was the largest single entry, ahead of any wasm
 *   function, in Node and in Chromium.
 * - Concat (the key/value cache grows by concatenation) makes a subarray object for every run it
 *   copies: B x H of them per cache tensor per position.
 *
 * The replacements move bytes with `HEAPU8.copyWithin`, from the input's place in the heap to
 * the output's: no intermediate buffer, no object per run. They return the same values as the
 * originals (test/core/model/wasmKernels.test.ts checks them against the cpu backend). String
 * tensors, which live outside the heap, still go to tfjs's own kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { WASM_MATMUL_BASE64 } from './wasmMatmulBinary';

/** The part of tfjs's BackendWasm these kernels use. */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array; HEAPF32: Float32Array; asm?: { memory?: WebAssembly.Memory } };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  getMemoryOffset(dataId: tf.DataId): number;
}

type KernelFunc = tf.KernelConfig['kernelFunc'];

const BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

let installed = false;

/**
 * Registers these kernels for the wasm backend (once; later calls do nothing): tfjs's Slice,
 * SplitV, Concat and BatchMatMul replaced, TaoLayerNorm added. Call after
 * `@tensorflow/tfjs-backend-wasm` is imported (it registers its kernels on import) and before
 * the backend starts: `useBackend('wasm')` does.
 */
export function installWasmKernels(): void {
  if (installed) return;
  const slice = tf.getKernel(tf.Slice, 'wasm');
  const split = tf.getKernel(tf.SplitV, 'wasm');
  const concat = tf.getKernel(tf.Concat, 'wasm');
  if (slice === undefined || split === undefined || concat === undefined) return; // the wasm backend is not loaded
  replaceKernel(tf.Slice, heapSlice(slice.kernelFunc));
  replaceKernel(tf.SplitV, heapSplit(split.kernelFunc));
  replaceKernel(tf.Concat, heapConcat(concat.kernelFunc));
  tf.registerKernel({ kernelName: LAYER_NORM, backendName: 'wasm', kernelFunc: heapLayerNorm });
  const matmul = tf.getKernel(tf.BatchMatMul, 'wasm');
  if (matmul !== undefined) replaceKernel(tf.BatchMatMul, simdBatchMatMul(matmul.kernelFunc));
  installed = true;
}

/** The SIMD module's two products (wasmMatmul.wat); pointers are byte offsets into tfjs's memory. */
interface MatmulExports {
  /** out[z] = A[z] @ B[z]; A's element (i, k) at rowStride * i + colStride * k. */
  matmulRows(a: number, b: number, out: number, batch: number, M: number, K: number, N: number, rowStride: number, colStride: number): void;
  /** out[z] = A[z] @ B[z]^T, B[z] stored N x K. */
  matmulDots(a: number, b: number, out: number, batch: number, M: number, K: number, N: number): void;
}

/** The module instantiated on `memory`, or null (with the reason on the console) when it cannot be. */
export function instantiateWasmMatmul(memory: WebAssembly.Memory): MatmulExports | null {
  try {
    const bytes = Uint8Array.from(atob(WASM_MATMUL_BASE64), (c) => c.charCodeAt(0));
    // 736 bytes: small enough for a synchronous compile on any thread.
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    return instance.exports as unknown as MatmulExports;
  } catch (error) {
    console.warn(`The SIMD matmul could not start (${error instanceof Error ? error.message : String(error)}); tfjs's own runs instead.`);
    return null;
  }
}

/** Per backend instance (tfjs may make a new one): its module, or null where it cannot run. */
const matmulModules = new WeakMap<object, MatmulExports | null>();

function matmulFor(backend: WasmBackendLike): MatmulExports | null {
  let module = matmulModules.get(backend);
  if (module === undefined) {
    const memory = backend.wasm.asm?.memory;
    module = memory instanceof WebAssembly.Memory ? instantiateWasmMatmul(memory) : null;
    matmulModules.set(backend, module);
  }
  return module;
}

/** Whether the SIMD matmul runs on the current backend (false anywhere but a wasm backend that could start it). */
export function wasmMatmulActive(): boolean {
  if (!installed || tf.getBackend() !== 'wasm') return false;
  return matmulFor(tf.backend() as unknown as WasmBackendLike) !== null;
}

function simdBatchMatMul(original: KernelFunc): KernelFunc {
  return (args) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
    const rank = a.shape.length;
    // Ours: float32, the same batch dimensions on both sides (no broadcasting), at most one
    // side transposed, and batched or transposed (a plain product goes to XNNPACK).
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || rank < 2 || b.shape.length !== rank) return original(args);
    if (transposeA && transposeB) return original(args);
    const lead = a.shape.slice(0, -2);
    if (lead.some((d, i) => d !== b.shape[i])) return original(args);
    const batch = tf.util.sizeFromShape(lead);
    if (batch === 1 && !transposeA && !transposeB) return original(args);
    const M = transposeA ? a.shape[rank - 1] : a.shape[rank - 2];
    const K = transposeA ? a.shape[rank - 2] : a.shape[rank - 1];
    const N = transposeB ? b.shape[rank - 2] : b.shape[rank - 1];
    if ((transposeB ? b.shape[rank - 1] : b.shape[rank - 2]) !== K) return original(args); // tfjs says what is wrong
    const backend = args.backend as unknown as WasmBackendLike;
    const module = matmulFor(backend);
    if (module === null) return original(args);
    const out = backend.makeOutput([...lead, M, N], 'float32');
    if (batch * M * N === 0) return out;
    const [aAt, bAt, outAt] = [a, b, out].map((t) => backend.getMemoryOffset(t.dataId));
    if (transposeB) module.matmulDots(aAt, bAt, outAt, batch, M, K, N);
    else if (transposeA) module.matmulRows(aAt, bAt, outAt, batch, M, K, N, 1, M);
    else module.matmulRows(aAt, bAt, outAt, batch, M, K, N, K, 1);
    return out;
  };
}

const LAYER_NORM = 'TaoLayerNorm';

/**
 * (x - mean) / sqrt(variance + epsilon) * gain + bias over the last axis of x [N, D], in one
 * kernel, on the wasm backend; null on any other backend (use the stock ops there). No gradient.
 */
export function wasmLayerNorm(x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor2D | null {
  if (!installed || tf.getBackend() !== 'wasm' || x.dtype !== 'float32') return null;
  return tf.engine().runKernel(LAYER_NORM, { x, gain, bias }, { epsilon } as unknown as tf.NamedAttrMap) as tf.Tensor2D;
}

const heapLayerNorm: KernelFunc = (args) => {
  const { x, gain, bias } = args.inputs as { x: tf.TensorInfo; gain: tf.TensorInfo; bias: tf.TensorInfo };
  const { epsilon } = args.attrs as unknown as { epsilon: number };
  const backend = args.backend as unknown as WasmBackendLike;
  const D = x.shape[x.shape.length - 1];
  const N = tf.util.sizeFromShape(x.shape) / D;
  if (tf.util.sizeFromShape(gain.shape) !== D || tf.util.sizeFromShape(bias.shape) !== D) {
    throw new Error(`TaoLayerNorm: gain ${JSON.stringify(gain.shape)} and bias ${JSON.stringify(bias.shape)} must have ${D} values`);
  }
  const out = backend.makeOutput(x.shape, 'float32');
  // The heap as floats (Emscripten's own view, renewed when the heap grows: read after
  // makeOutput); offsets in floats. No view per call: in Chromium each costs microseconds.
  const heap = backend.wasm.HEAPF32;
  const xAt = backend.getMemoryOffset(x.dataId) / 4;
  const gAt = backend.getMemoryOffset(gain.dataId) / 4;
  const bAt = backend.getMemoryOffset(bias.dataId) / 4;
  const yAt = backend.getMemoryOffset(out.dataId) / 4;
  for (let row = 0; row < N; row++) {
    const from = xAt + row * D;
    const to = yAt + row * D;
    let sum = 0;
    for (let i = 0; i < D; i++) sum += heap[from + i];
    const mean = sum / D;
    let squares = 0;
    for (let i = 0; i < D; i++) {
      const centred = heap[from + i] - mean;
      squares += centred * centred;
    }
    const scale = 1 / Math.sqrt(squares / D + epsilon);
    for (let i = 0; i < D; i++) heap[to + i] = (heap[from + i] - mean) * scale * heap[gAt + i] + heap[bAt + i];
  }
  return out;
};

/** Registers `kernelFunc` in place of tfjs's kernel, keeping its setup (which binds its wasm function, still called as a fallback). */
function replaceKernel(name: string, kernelFunc: KernelFunc): void {
  const { setupFunc, disposeFunc } = tf.getKernel(name, 'wasm')!;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc, setupFunc, disposeFunc });
}

function heapSlice(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (BYTES[x.dtype] === undefined) return original(args);
    const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
    const [start, extent] = tf.slice_util.parseSliceParams(x, begin, size);
    return sliceOnHeap(args.backend as unknown as WasmBackendLike, x, start, extent);
  };
}

function heapSplit(original: KernelFunc): KernelFunc {
  return (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    if (BYTES[x.dtype] === undefined) return original(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
    const dim = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, dim);
    const start = new Array<number>(x.shape.length).fill(0);
    return sizes.map((size) => {
      const extent = x.shape.slice();
      extent[dim] = size;
      const part = sliceOnHeap(args.backend as unknown as WasmBackendLike, x, start.slice(), extent);
      start[dim] += size;
      return part;
    });
  };
}

/** The box `start`..`start + extent` of `x` as a new tensor; `x` is not a string tensor. */
function sliceOnHeap(backend: WasmBackendLike, x: tf.TensorInfo, start: number[], extent: number[]): tf.TensorInfo {
  const out = backend.makeOutput(extent, x.dtype);
  if (tf.util.sizeFromShape(extent) === 0) return out;
  // Offsets are read after makeOutput: allocating may grow the heap, and HEAPU8 is then a new
  // view (the offsets stay valid).
  copyBox(backend.wasm.HEAPU8, backend.getMemoryOffset(x.dataId), x.shape, start, extent, backend.getMemoryOffset(out.dataId), BYTES[x.dtype]!);
  return out;
}

/**
 * Copies the box `start`..`start + extent` of a row-major array of `shape` (at byte `from`) to a
 * dense array at byte `to`. The innermost dimensions the box spans whole are copied as one run.
 */
function copyBox(heap: Uint8Array, from: number, shape: number[], start: number[], extent: number[], to: number, bytes: number): void {
  const rank = shape.length;
  if (rank === 0) {
    heap.copyWithin(to, from, from + bytes);
    return;
  }
  const strides = new Array<number>(rank); // in elements
  strides[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  // The run: dimension `inner` and everything after it is one contiguous block in the input.
  let inner = rank - 1;
  while (inner > 0 && extent[inner] === shape[inner]) inner--;
  const run = extent[inner] * strides[inner] * bytes;
  let base = 0;
  for (let d = 0; d < rank; d++) base += start[d] * strides[d];
  // Walk the outer dimensions (0 .. inner-1) as an odometer.
  const index = new Array<number>(inner).fill(0);
  let out = to;
  for (;;) {
    let offset = base;
    for (let d = 0; d < inner; d++) offset += index[d] * strides[d];
    const source = from + offset * bytes;
    heap.copyWithin(out, source, source + run);
    out += run;
    let d = inner - 1;
    while (d >= 0 && ++index[d] === extent[d]) index[d--] = 0;
    if (d < 0) break;
  }
}

function heapConcat(original: KernelFunc): KernelFunc {
  return (args) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    const dtype = inputs[0].dtype;
    const bytes = BYTES[dtype];
    if (bytes === undefined || inputs.some((t) => t.dtype !== dtype)) return original(args);
    const backend = args.backend as unknown as WasmBackendLike;
    const { axis } = args.attrs as unknown as tf.ConcatAttrs;
    const shapes = inputs.map((t) => t.shape);
    const dim = tf.util.parseAxisParam(axis, shapes[0])[0];
    tf.backend_util.assertParamsConsistent(shapes, dim);
    const outShape = tf.backend_util.computeOutShape(shapes, dim);
    const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    if (parts.length === 1) return original(args); // tfjs's kernel returns that input's copy
    const out = backend.makeOutput(outShape, dtype);
    if (tf.util.sizeFromShape(outShape) === 0) return out;
    const heap = backend.wasm.HEAPU8;
    // Each input is [outer, inner_i] with outer = the product of the dimensions before `dim`;
    // the output's row b is the inputs' rows b side by side.
    const outer = tf.util.sizeFromShape(outShape.slice(0, dim));
    const runs = parts.map((t) => tf.util.sizeFromShape(t.shape.slice(dim)) * bytes);
    const sources = parts.map((t) => backend.getMemoryOffset(t.dataId));
    let to = backend.getMemoryOffset(out.dataId);
    for (let b = 0; b < outer; b++) {
      for (let i = 0; i < parts.length; i++) {
        const source = sources[i] + b * runs[i];
        heap.copyWithin(to, source, source + runs[i]);
        to += runs[i];
      }
    }
    return out;
  };
}
