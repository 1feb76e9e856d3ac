/**
 * Node only: a real WebGPU for tfjs in Node, through the npm `webgpu` package (Dawn) running on
 * Chromium's SwiftShader Vulkan driver (no GPU needed). How to run it headless: docs/commands.md.
 *
 * `installNodeWebGPU()` must run before anything imports '@tensorflow/tfjs-backend-webgpu'
 * (that package registers itself only if navigator.gpu exists when it loads). `useNodeBackend`
 * does this for you.
 *
 * Process exit: a Node process that used this exits by itself once its work is done (checked
 * with tsx and vitest on Dawn 0.6.2); `releaseNodeWebGPU()` frees the GPU device early if wanted.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useBackend, type BackendInfo, type BackendName, type UseBackendOptions } from '../core/backend';

/** Chromium's SwiftShader Vulkan driver (Debian package `chromium-common`, pulled in by `chromium`). */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** The Vulkan loader Chromium ships next to it; used when the system has none (package libvulkan1). */
const CHROMIUM_VULKAN_LOADER = '/usr/lib/chromium/libvulkan.so.1';

/** True when the SwiftShader ICD file is present (what the WebGPU tests need). */
export function nodeWebGPUAvailable(): boolean {
  return existsSync(SWIFTSHADER_ICD) || icdFromEnv() !== undefined;
}

let installing: Promise<void> | undefined;

/**
 * Makes `globalThis.navigator.gpu` a Dawn WebGPU. Idempotent (later calls return the first call's
 * promise; a failed call may be retried). Throws with the fix when the SwiftShader driver is
 * missing.
 */
export function installNodeWebGPU(): Promise<void> {
  if (installing === undefined) {
    installing = install().catch((e: unknown) => {
      installing = undefined;
      throw e;
    });
  }
  return installing;
}

/**
 * Points the Vulkan loader at SwiftShader (unless VK_ICD_FILENAMES names another driver) and
 * gives Vulkan a runtime folder. The loader reads the real process environment, which a worker
 * thread's process.env is only a copy of: a process that trains on WebGPU in worker threads
 * calls this on its main thread before starting them.
 */
export function setVulkanEnvironment(): void {
  // The Vulkan driver: the user's choice if they set one, else SwiftShader.
  const fromEnv = icdFromEnv();
  if (fromEnv === undefined) {
    if (!existsSync(SWIFTSHADER_ICD)) {
      throw new Error(
        `WebGPU in Node needs Chromium's SwiftShader Vulkan driver, and ${SWIFTSHADER_ICD} is missing. ` +
          'Fix: `apt-get update && apt-get install -y chromium` (its chromium-common package provides ' +
          `${SWIFTSHADER_ICD}), or set VK_ICD_FILENAMES to another Vulkan ICD json that Dawn accepts.`,
      );
    }
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }

  // A writable runtime dir (Vulkan/Dawn complain without one).
  if (!process.env.XDG_RUNTIME_DIR) {
    process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'tao-xdg-'));
  }
}

async function install(): Promise<void> {
  if (currentNavigator()?.gpu != null) return; // someone already provided WebGPU

  setVulkanEnvironment();

  // 3. The Vulkan loader (libvulkan.so.1). Dawn dlopens it by name; Debian has it only when the
  //    libvulkan1 package is installed, but Chromium ships its own copy next to SwiftShader.
  //    Loading that copy once by full path (and never unloading it) makes Dawn's dlopen find it.
  preloadVulkanLoader();

  // 4. Dawn, and navigator.gpu.
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (e) {
    throw new Error(
      `WebGPU in Node: the 'webgpu' package failed to load (${e instanceof Error ? e.message : String(e)}). ` +
        'Fix: `npm install` (it is a devDependency).',
    );
  }
  Object.assign(globalThis, webgpu.globals);
  const gpu = webgpu.create([]);
  setNavigatorGpu(gpu);
}

function icdFromEnv(): string | undefined {
  return process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES || undefined;
}

function currentNavigator(): { gpu?: unknown } | undefined {
  const nav = (globalThis as { navigator?: unknown }).navigator;
  return typeof nav === 'object' && nav !== null ? (nav as { gpu?: unknown }) : undefined;
}

/** Node 20 has no `navigator`; Node 21+ has a read-only one. Handle both. */
function setNavigatorGpu(gpu: GPU): void {
  const nav = currentNavigator();
  if (nav !== undefined) {
    try {
      Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, enumerable: true, writable: true });
      if (nav.gpu === gpu) return;
    } catch {
      // not extensible: replace the whole object below
    }
  }
  Object.defineProperty(globalThis, 'navigator', {
    value: { ...(nav ?? {}), gpu },
    configurable: true,
    enumerable: true,
    writable: true,
  });
}

let vulkanLoaderPreloaded = false;

function preloadVulkanLoader(): void {
  if (vulkanLoaderPreloaded || process.platform !== 'linux') return;
  vulkanLoaderPreloaded = true;
  // RTLD_NOW | RTLD_NODELETE (glibc). process.dlopen loads the library, finds no Node addon in it
  // and throws "did not self-register"; with RTLD_NODELETE the library stays loaded anyway.
  const flags = 0x2 | 0x1000;
  const tryLoad = (file: string): boolean => {
    try {
      process.dlopen({ exports: {} }, file, flags);
      return true;
    } catch (e) {
      return e instanceof Error && /did not self-register/.test(e.message);
    }
  };
  if (tryLoad('libvulkan.so.1')) return; // the system has a Vulkan loader
  if (existsSync(CHROMIUM_VULKAN_LOADER)) tryLoad(CHROMIUM_VULKAN_LOADER);
  // else: Dawn will report "Couldn't load Vulkan" and requestAdapter() returns null; useBackend
  // then throws "WebGPU is not available: ... found no adapter".
}

/** `useBackend`, after installing Dawn's WebGPU when `name` is 'webgpu'. */
export async function useNodeBackend(name: BackendName, options: UseBackendOptions = {}): Promise<BackendInfo> {
  if (name === 'webgpu') await installNodeWebGPU();
  return useBackend(name, options);
}

/**
 * Disposes tfjs's WebGPU backend, which destroys its GPUDevice, and re-registers the factory so a
 * later useBackend('webgpu') starts a fresh one. Tensors still held on WebGPU become unusable:
 * read or dispose them first. If WebGPU was the active backend, tfjs switches to cpu.
 * Not needed for the process to exit (it exits by itself); useful to free GPU memory early.
 */
export async function releaseNodeWebGPU(): Promise<void> {
  // engine().registry holds only started backends (tf.findBackend would start one).
  if (!('webgpu' in tf.engine().registry)) return;
  const factory = tf.findBackendFactory('webgpu');
  if (tf.getBackend() === 'webgpu') await tf.setBackend('cpu');
  tf.removeBackend('webgpu');
  if (factory != null) tf.registerBackend('webgpu', factory);
}
