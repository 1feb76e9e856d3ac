// Which backend 'auto' trains on (src/worker/backendChoice.ts): software renderers recognised from
// the strings real browsers report, the order tried, and the plain words the page shows.

import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../src/core/backendNames';
import { backendOrder, choiceNotice, softwareAdapter, softwareRenderer, startPreferredBackend, type SoftwareRenderers } from '../../src/worker/backendChoice';

// WEBGL_debug_renderer_info's UNMASKED_RENDERER_WEBGL as browsers report it. The first is this
// project's headless Chromium 156 (Debian), read in a worker.
const SWIFTSHADER_ANGLE = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const SWIFTSHADER_OLD = 'Google SwiftShader';
const LLVMPIPE_ANGLE = 'ANGLE (Mesa, llvmpipe (LLVM 15.0.6, 256 bits), OpenGL 4.5)';
const LLVMPIPE_MESA = 'llvmpipe (LLVM 12.0.0, 256 bits)';
const SOFTPIPE = 'softpipe';
const WARP = 'ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0, D3D11)';
const APPLE_SOFTWARE = 'Apple Software Renderer';
const NVIDIA_ANGLE = 'ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 (0x00002206) Direct3D11 vs_5_0 ps_5_0, D3D11)';
const INTEL_ANGLE = 'ANGLE (Intel, Intel(R) UHD Graphics 620 (0x00005917) Direct3D11 vs_5_0 ps_5_0, D3D11)';
const APPLE_M1 = 'ANGLE (Apple, ANGLE Metal Renderer: Apple M1, Unspecified Version)';
const MESA_INTEL = 'Mesa Intel(R) Xe Graphics (TGL GT2)';
const MASKED = 'WebKit WebGL';

describe('softwareRenderer', () => {
  it('names the software renderers', () => {
    expect(softwareRenderer(SWIFTSHADER_ANGLE)).toBe('SwiftShader');
    expect(softwareRenderer(SWIFTSHADER_OLD)).toBe('SwiftShader');
    expect(softwareRenderer(LLVMPIPE_ANGLE)).toBe('llvmpipe');
    expect(softwareRenderer(LLVMPIPE_MESA)).toBe('llvmpipe');
    expect(softwareRenderer(SOFTPIPE)).toBe('softpipe');
    expect(softwareRenderer(WARP)).toBe('Microsoft Basic Render Driver');
    expect(softwareRenderer(APPLE_SOFTWARE)).toBe('Apple Software Renderer');
  });

  it('takes real GPUs, and strings that say nothing, for hardware', () => {
    for (const renderer of [NVIDIA_ANGLE, INTEL_ANGLE, APPLE_M1, MESA_INTEL, MASKED, '', null, undefined]) {
      expect(softwareRenderer(renderer)).toBeNull();
    }
  });
});

describe('softwareAdapter', () => {
  it("Chromium's SwiftShader adapter, and any fallback adapter", () => {
    // This project's headless Chromium 156 with --enable-unsafe-webgpu (adapter.info).
    expect(softwareAdapter({ vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true })).toBe('SwiftShader');
    expect(softwareAdapter({ vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe('llvmpipe');
    expect(softwareAdapter({ vendor: 'unknown', isFallbackAdapter: true })).toBe('fallback adapter');
  });

  it('a hardware adapter is not software', () => {
    expect(softwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: '', description: '', isFallbackAdapter: false })).toBeNull();
    expect(softwareAdapter({ vendor: 'intel', architecture: 'gen-12lp' })).toBeNull();
    expect(softwareAdapter({})).toBeNull();
  });
});

describe('backendOrder', () => {
  it("'auto': hardware WebGPU, hardware WebGL, wasm, cpu, then software renderers", () => {
    expect(backendOrder('auto')).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(backendOrder('auto', { webgl: 'SwiftShader' })).toEqual(['webgpu', 'wasm', 'cpu', 'webgl']);
    expect(backendOrder('auto', { webgpu: 'SwiftShader' })).toEqual(['webgl', 'wasm', 'cpu', 'webgpu']);
    expect(backendOrder('auto', { webgpu: 'SwiftShader', webgl: 'SwiftShader' })).toEqual(['wasm', 'cpu', 'webgpu', 'webgl']);
  });

  it('a chosen backend first, software or not, then the same order', () => {
    expect(backendOrder('webgl', { webgl: 'SwiftShader' })).toEqual(['webgl', 'webgpu', 'wasm', 'cpu']);
    expect(backendOrder('cpu', { webgpu: 'SwiftShader' })).toEqual(['cpu', 'webgl', 'wasm', 'webgpu']);
    expect(backendOrder('wasm')).toEqual(['wasm', 'webgpu', 'webgl', 'cpu']);
  });
});

describe('choiceNotice', () => {
  const unavailable = (name: BackendName) => ({ name, reason: `${name} is not available: this browser does not offer it` });
  const broken = (name: BackendName) => ({ name, reason: `${name} backend could not start: a test error` });

  it('nothing to say when the first choice runs on real hardware', () => {
    expect(choiceNotice('auto', 'webgpu', [])).toBeUndefined();
    expect(choiceNotice('wasm', 'wasm', [], { webgl: 'SwiftShader' })).toBeUndefined();
    expect(choiceNotice('webgl', 'webgl', [])).toBeUndefined();
  });

  it("headless Chromium: no WebGPU, SwiftShader WebGL, so wasm", () => {
    expect(choiceNotice('auto', 'wasm', [unavailable('webgpu')], { webgl: 'SwiftShader' })).toBe(
      'Training on WebAssembly (wasm): WebGPU is not available in this browser and WebGL here is a software renderer (SwiftShader) that draws on the CPU, many times slower.',
    );
    expect(choiceNotice('auto', 'wasm', [], { webgpu: 'SwiftShader', webgl: 'SwiftShader' })).toBe(
      'Training on WebAssembly (wasm): WebGPU and WebGL here are software renderers (SwiftShader) that draw on the CPU, many times slower.',
    );
  });

  it('a software WebGPU passed over for a hardware WebGL', () => {
    expect(choiceNotice('auto', 'webgl', [], { webgpu: 'fallback adapter' })).toBe(
      'Training on WebGL: WebGPU here is a software renderer (fallback adapter) that draws on the CPU, slower than WebGL.',
    );
  });

  it('a chosen software renderer runs, said so', () => {
    expect(choiceNotice('webgl', 'webgl', [], { webgl: 'SwiftShader' })).toBe(
      'Training on WebGL, as chosen: WebGL here is a software renderer (SwiftShader) that draws on the CPU, many times slower than WebAssembly (wasm). Backend auto would train on WebAssembly (wasm).',
    );
    expect(choiceNotice('webgpu', 'webgpu', [], { webgpu: 'SwiftShader' })).toMatch(/^Training on WebGPU, as chosen: WebGPU here is a software renderer \(SwiftShader\)/);
  });

  it('falls back as before, in plain words', () => {
    expect(choiceNotice('auto', 'webgl', [unavailable('webgpu')])).toBe('Training on WebGL: WebGPU is not available in this browser.');
    expect(choiceNotice('auto', 'cpu', [unavailable('webgpu'), broken('webgl'), broken('wasm')])).toBe(
      'Training on plain JavaScript (cpu): WebGPU is not available in this browser, WebGL could not start and WASM could not start.',
    );
    expect(choiceNotice('wasm', 'webgpu', [broken('wasm')])).toBe('Training on WebGPU: WASM (your choice) could not start.');
    expect(choiceNotice('webgpu', 'wasm', [unavailable('webgpu')], { webgl: 'SwiftShader' })).toBe(
      'Training on WebAssembly (wasm): WebGPU (your choice) is not available in this browser.',
    );
  });

  it('never shows a source path or a stack, whatever the reasons say', () => {
    const reason = { name: 'webgpu' as const, reason: 'WebGPU is not available: navigator.gpu is missing (in Node, see src/cli/nodeWebgpu.ts)\n    at registerWebGPU (backend.ts:140:11)' };
    const notice = choiceNotice('auto', 'wasm', [reason], { webgl: 'SwiftShader' })!;
    expect(notice).not.toMatch(/src\/|\.ts|\bat \w+ \(/);
  });
});

describe('startPreferredBackend', () => {
  const starter = (available: BackendName[], tried: BackendName[] = []) => async (name: BackendName) => {
    tried.push(name);
    if (!available.includes(name)) throw new Error(`${name} is not available: test`);
    return { name, floatPrecision: 32, ...(name === 'webgpu' ? { adapter: 'nvidia / hopper' } : {}) };
  };
  const all: BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

  it("'auto' takes a hardware WebGPU when it runs, with its adapter and no notice", async () => {
    expect(await startPreferredBackend('auto', starter(all))).toEqual({ name: 'webgpu', adapter: 'nvidia / hopper' });
  });

  it("'auto' never starts a software renderer while wasm runs", async () => {
    const tried: BackendName[] = [];
    const software: SoftwareRenderers = { webgpu: 'SwiftShader', webgl: 'SwiftShader' };
    const report = await startPreferredBackend('auto', starter(all, tried), { software });
    expect(report.name).toBe('wasm');
    expect(tried).toEqual(['wasm']);
    expect(report.fallback).toMatch(/^Training on WebAssembly \(wasm\): WebGPU and WebGL here are software renderers/);
  });

  it('a chosen software backend is honoured, and a failing choice still falls back', async () => {
    const software: SoftwareRenderers = { webgl: 'SwiftShader' };
    const chosen = await startPreferredBackend('webgl', starter(all), { software });
    expect(chosen.name).toBe('webgl');
    expect(chosen.fallback).toMatch(/^Training on WebGL, as chosen: WebGL here is a software renderer \(SwiftShader\)/);
    const fellBack = await startPreferredBackend('webgpu', starter(['webgl', 'wasm', 'cpu']), { software });
    expect(fellBack.name).toBe('wasm');
    expect(fellBack.fallback).toBe('Training on WebAssembly (wasm): WebGPU (your choice) is not available in this browser.');
    // Without wasm, cpu comes before a software WebGL.
    expect((await startPreferredBackend('auto', starter(['webgl', 'cpu']), { software })).name).toBe('cpu');
    // Only a software renderer left: it runs.
    expect((await startPreferredBackend('auto', starter(['webgl']), { software })).name).toBe('webgl');
  });

  it('logs the reasons in full for the console', async () => {
    const lines: string[] = [];
    await startPreferredBackend('auto', starter(['wasm', 'cpu']), { software: { webgl: 'SwiftShader' }, log: (line) => lines.push(line) });
    expect(lines).toEqual(["Backend 'auto': training on wasm. webgpu: webgpu is not available: test. webgl: software renderer SwiftShader."]);
  });

  it('throws every reason when nothing starts', async () => {
    await expect(startPreferredBackend('auto', starter([]))).rejects.toThrow(
      'webgpu is not available: test; webgl is not available: test; wasm is not available: test; cpu is not available: test',
    );
  });
});
