// The tfjs backends by name, and their labels. No tfjs here: the page's main thread reads these
// (the `?backend=` address, the header) and must not load tfjs, which runs in the worker.

export type BackendName = 'cpu' | 'wasm' | 'webgpu' | 'webgl';

export const BACKEND_NAMES: readonly BackendName[] = ['cpu', 'wasm', 'webgpu', 'webgl'];

export const BACKEND_LABELS: Record<BackendName, string> = { cpu: 'CPU', wasm: 'WASM', webgpu: 'WebGPU', webgl: 'WebGL' };

export function isBackendName(s: string): s is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(s);
}
