/**
 * Kernels for tfjs's wasm backend, written in JavaScript on the wasm heap.
 *
 * LayerNorm for decoding (`TaoLayerNorm`): tfjs has no LayerNorm kernel, so the model's is nine
 * kernels (model/transformer.ts stockLayerNorm), and each kernel's fixed cost in JavaScript (its
 * tensor objects, the call into wasm) is larger than its arithmetic at decoding's sizes: five
 * LayerNorms were 45 of a tiny decoding position's 97 kernels. This is one kernel, one pass over
 * the rows. Decoding records no gradient, so it has none; training keeps the nine kernels.
 *
 * Three of tfjs's own kernels, replaced by versions that copy within the wasm heap.
 *
 * tfjs-backend-wasm (4.22) implements Slice, SplitV and Concat in JavaScript:
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
 * Both replacements move bytes with `HEAPU8.copyWithin`, from the input's place in the heap to
 * the output's: no intermediate buffer, no object per run. They return the same values as the
 * originals (test/core/model/wasmKernels.test.ts checks them against the cpu backend). String
 * tensors, which live outside the heap, still go to tfjs's own kernels.
 */
import * as tf from '@tensorflow/tfjs';

/** The part of tfjs's BackendWasm these kernels use. */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array; HEAPF32: Float32Array };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  getMemoryOffset(dataId: tf.DataId): number;
}

type KernelFunc = tf.KernelConfig['kernelFunc'];

const BYTES: Partial<Record<tf.DataType, number>> = { float32: 4, int32: 4, bool: 1 };

let installed = false;

/**
 * Replaces tfjs's wasm Slice and Concat kernels (once; later calls do nothing). Call after
 * `@tensorflow/tfjs-backend-wasm` is imported (it registers its kernels on import) and before
 * the backend runs anything that slices: `useBackend('wasm')` does.
 */
export function installWasmCopyKernels(): void {
  if (installed) return;
  const slice = tf.getKernel(tf.Slice, 'wasm');
  const split = tf.getKernel(tf.SplitV, 'wasm');
  const concat = tf.getKernel(tf.Concat, 'wasm');
  if (slice === undefined || split === undefined || concat === undefined) return; // the wasm backend is not loaded
  replaceKernel(tf.Slice, heapSlice(slice.kernelFunc));
  replaceKernel(tf.SplitV, heapSplit(split.kernelFunc));
  replaceKernel(tf.Concat, heapConcat(concat.kernelFunc));
  tf.registerKernel({ kernelName: LAYER_NORM, backendName: 'wasm', kernelFunc: heapLayerNorm });
  installed = true;
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

function replaceKernel(name: string, kernelFunc: KernelFunc): void {
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
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
