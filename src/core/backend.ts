/**
 * Choosing and starting a tfjs backend, for Node (CLI, tests) and the browser (worker).
 *
 * This module is bundled for the browser, so it imports nothing Node-only. In Node, WebGPU
 * needs a `navigator.gpu` first: use `useNodeBackend` from `src/cli/nodeWebgpu.ts` (Node only),
 * which installs Dawn's WebGPU before the tfjs WebGPU backend is loaded.
 */
import * as tf from '@tensorflow/tfjs';
import { installWasmKernels } from './model/wasmKernels';
import { BACKEND_LABELS, BACKEND_NAMES, isBackendName, type BackendName } from './backendNames';

export { BACKEND_NAMES, isBackendName, type BackendName };

export interface BackendInfo {
  name: BackendName;
  /** WebGPU only: the adapter, e.g. "google / swiftshader / SwiftShader driver 5.0.0 (fallback adapter)". */
  adapter?: string;
  /**
   * Bits of float precision the backend computes with (tfjs `backend.floatPrecision()`).
   * 32 everywhere except WebGL on devices that cannot render to float32 textures, where tfjs
   * falls back to float16 (and `tf.backend().epsilon()` becomes 1e-4, so pass Adam's epsilon
   * explicitly).
   */
  floatPrecision: number;
}

export interface UseBackendOptions {
  /**
   * Where the wasm backend finds its .wasm binaries: a folder URL ending in '/', or a map from
   * each binary name to its URL (see `setWasmPaths` in @tensorflow/tfjs-backend-wasm).
   * Node needs nothing (the backend reads them from node_modules). In the browser the default
   * points Vite at the files in node_modules (see `defaultBrowserWasmPaths`).
   */
  wasmPaths?: string | Record<string, string>;
}

/**
 * Registers (importing its package when needed) and switches tfjs to `name`, waits until it is
 * ready and checks it is really active. Throws an Error that says which backend could not start
 * and why. Tensors made on a previous backend stay usable (tfjs moves their data lazily).
 */
export async function useBackend(name: BackendName, options: UseBackendOptions = {}): Promise<BackendInfo> {
  if (!isBackendName(name)) {
    throw new Error(`Unknown backend '${String(name)}': choose one of ${BACKEND_NAMES.join(', ')}.`);
  }
  const label = BACKEND_LABELS[name];
  let adapter: string | undefined;

  if (name === 'wasm') {
    await registerWasm(label, options);
  } else if (name === 'webgpu') {
    adapter = await registerWebGPU(label);
  } else if (name === 'webgl') {
    if (tf.findBackendFactory('webgl') == null) {
      throw new Error(
        `${label} is not available: tfjs registers WebGL only in a browser ` +
          (tf.env().getBool('IS_NODE') ? '(this is Node: use cpu, wasm or webgpu).' : 'with WebGL support.'),
      );
    }
    // tfjs already defaults to float32 textures; make sure nobody forced float16. If the device
    // cannot render to float32 textures tfjs still falls back to float16: see floatPrecision.
    tf.env().set('WEBGL_FORCE_F16_TEXTURES', false);
  }

  if (tf.getBackend() !== name) {
    let ok = false;
    let warnings: string[] = [];
    try {
      ({ ok, warnings } = await withCapturedWarnings(() => tf.setBackend(name)));
    } catch (e) {
      throw new Error(`${label} backend could not start: ${errText(e)}`);
    }
    if (!ok) {
      const why = warnings.length > 0 ? warnings.join(' ') : 'tfjs gave no reason';
      throw new Error(`${label} backend could not start: ${why}`);
    }
    for (const w of warnings) console.warn(w);
  }
  await tf.ready();
  const active = tf.getBackend();
  if (active !== name) {
    throw new Error(`${label} backend could not start: tfjs is running on '${active}' instead.`);
  }
  const info: BackendInfo = { name, floatPrecision: tf.backend().floatPrecision() };
  if (adapter !== undefined) info.adapter = adapter;
  return info;
}

// ---------------------------------------------------------------------------------------------
// WASM

// Note for Node: once the wasm backend has loaded, its Emscripten runtime adds process handlers
// that rethrow any unhandled rejection or uncaught exception, so such an error kills the process
// and prints a huge minified source line before the real message. Await and catch your promises.
async function registerWasm(label: string, options: UseBackendOptions): Promise<void> {
  let wasmModule: typeof import('@tensorflow/tfjs-backend-wasm');
  try {
    wasmModule = await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    throw new Error(`${label} backend could not start: @tensorflow/tfjs-backend-wasm failed to load (${errText(e)}).`);
  }
  // Before anything runs on it: our copies, LayerNorm and SIMD matmul (model/wasmKernels.ts).
  installWasmKernels();
  if (tf.getBackend() === 'wasm') return; // already running: its paths can no longer change
  const paths = options.wasmPaths ?? (tf.env().getBool('IS_NODE') ? undefined : defaultBrowserWasmPaths());
  if (paths !== undefined) {
    try {
      wasmModule.setWasmPaths(paths);
    } catch {
      // Only throws once an earlier wasm start has failed; the paths stay as they were.
    }
  }
}

/**
 * In the browser, the wasm backend fetches its binaries relative to the page (or worker) URL,
 * which Vite does not serve. `new URL(<relative literal>, import.meta.url)` is the pattern Vite
 * understands: in dev it serves the files from node_modules, in a build it copies them into the
 * output as assets. Never called in Node.
 */
export function defaultBrowserWasmPaths(): Record<string, string> {
  return {
    'tfjs-backend-wasm.wasm': new URL(
      '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
      import.meta.url,
    ).href,
    'tfjs-backend-wasm-simd.wasm': new URL(
      '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm',
      import.meta.url,
    ).href,
    'tfjs-backend-wasm-threaded-simd.wasm': new URL(
      '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm',
      import.meta.url,
    ).href,
  };
}

// ---------------------------------------------------------------------------------------------
// WebGPU

/** Checks WebGPU is usable, loads the tfjs WebGPU backend, and returns the adapter description. */
async function registerWebGPU(label: string): Promise<string> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (gpu == null) {
    // A person reads the browser's message on the page: no source paths there.
    throw new Error(
      tf.env().getBool('IS_NODE')
        ? `${label} is not available: navigator.gpu is missing (in Node, call installNodeWebGPU() or useNodeBackend() from src/cli/nodeWebgpu.ts first).`
        : `${label} is not available: this browser does not offer WebGPU (recent Chrome and Edge do, on pages served over https or from localhost).`,
    );
  }
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    throw new Error(`${label} backend could not start: @tensorflow/tfjs-backend-webgpu failed to load (${errText(e)}).`);
  }
  if (tf.findBackendFactory('webgpu') == null) {
    // The package registers itself only if navigator.gpu existed when it was first imported.
    throw new Error(
      `${label} backend could not start: @tensorflow/tfjs-backend-webgpu was loaded before navigator.gpu ` +
        'existed, so it never registered (in Node, call installNodeWebGPU() before anything imports it).',
    );
  }

  // Ask for the adapter the way tfjs will, to fail with a clear reason and to describe it.
  let adapter: GPUAdapter | null;
  try {
    const powerPreference: GPUPowerPreference = tf.env().getBool('WEBGPU_USE_LOW_POWER_GPU')
      ? 'low-power'
      : 'high-performance';
    adapter = await gpu.requestAdapter({ powerPreference });
  } catch (e) {
    throw new Error(`${label} is not available: navigator.gpu.requestAdapter() failed (${errText(e)}).`);
  }
  if (adapter == null) {
    throw new Error(
      tf.env().getBool('IS_NODE')
        ? `${label} is not available: navigator.gpu.requestAdapter() found no adapter (no usable GPU or driver; see src/cli/nodeWebgpu.ts).`
        : `${label} is not available: this browser found no GPU it can use for WebGPU (no usable GPU or driver, or WebGPU ` +
            'is turned off; headless Chromium needs --enable-unsafe-webgpu).',
    );
  }
  return describeAdapter(adapter);
}

async function describeAdapter(adapter: GPUAdapter): Promise<string> {
  type Info = Partial<Pick<GPUAdapterInfo, 'vendor' | 'architecture' | 'device' | 'description'>> & {
    isFallbackAdapter?: boolean;
  };
  const withOldApi = adapter as GPUAdapter & { requestAdapterInfo?: () => Promise<Info> };
  let info: Info | undefined = (adapter as { info?: Info }).info;
  if (info == null && typeof withOldApi.requestAdapterInfo === 'function') {
    info = await withOldApi.requestAdapterInfo();
  }
  if (info == null) return 'unknown adapter';
  const parts = [info.vendor, info.architecture, info.description || info.device].filter(
    (p): p is string => typeof p === 'string' && p.length > 0,
  );
  const fallback =
    info.isFallbackAdapter === true || (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  return (parts.length > 0 ? parts.join(' / ') : 'unknown adapter') + (fallback ? ' (fallback adapter)' : '');
}

// ---------------------------------------------------------------------------------------------

/**
 * Runs `f` while collecting console.warn messages (tfjs reports why a backend failed to start only
 * through console.warn), so the reason can go into the thrown Error instead of the console.
 */
async function withCapturedWarnings<T>(f: () => Promise<T>): Promise<{ ok: T; warnings: string[] }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map((a) => (a instanceof Error ? a.message : String(a)).split('\n')[0]).join(' '));
  };
  try {
    const ok = await f();
    return { ok, warnings };
  } finally {
    console.warn = original;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
