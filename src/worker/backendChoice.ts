// Which tfjs backend the worker trains on. 'auto' goes by what the machine really has: a WebGPU or
// WebGL that is a software renderer (SwiftShader, llvmpipe, ...) draws on the CPU, and on the
// policies here it is many times slower than WebAssembly, slower even than tfjs's plain JavaScript
// (docs/page.md, "The backend"), so it ranks last. The detection is a pure function of the strings the browser gives (unit-tested); the
// browser probe that reads them is the thin part at the bottom. No tfjs in here.

import type { BackendInfo } from '../core/backend';
import { BACKEND_LABELS, type BackendName } from '../core/backendNames';
import type { BackendChoice, BackendReport } from './protocol';

/** Fastest first on real hardware; a software WebGPU or WebGL goes last (backendOrder). */
export const BACKEND_ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** The GPU backends whose renderer can be software, with the software renderer's name where it is. */
export type SoftwareRenderers = Partial<Record<'webgpu' | 'webgl', string>>;

/** What a person reads: the backend's label and, where the label alone is opaque, what it is. */
const BACKEND_WORDS: Record<BackendName, string> = {
  webgpu: 'WebGPU',
  webgl: 'WebGL',
  wasm: 'WebAssembly (wasm)',
  cpu: 'plain JavaScript (cpu)',
};

// ---------------------------------------------------------------------------------------------
// Detection: pure functions of the strings a browser reports

/** Named software renderers, then the generic word. */
const SOFTWARE_RENDERERS: readonly [RegExp, string][] = [
  [/swift\s*shader/i, 'SwiftShader'],
  [/lavapipe/i, 'lavapipe'],
  [/llvmpipe/i, 'llvmpipe'],
  [/softpipe/i, 'softpipe'],
  [/microsoft basic render/i, 'Microsoft Basic Render Driver'],
];

/**
 * The software renderer a WebGL renderer string names (WEBGL_debug_renderer_info's
 * UNMASKED_RENDERER_WEBGL, or RENDERER where that is not masked), or null for a hardware GPU or a
 * string that says nothing (Chromium's masked "WebKit WebGL"). E.g. "ANGLE (Google, Vulkan 1.3.0
 * (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)" gives "SwiftShader";
 * "ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 Direct3D11 vs_5_0 ps_5_0, D3D11)" gives null.
 */
export function softwareRenderer(renderer: string | null | undefined): string | null {
  if (typeof renderer !== 'string') return null;
  for (const [pattern, name] of SOFTWARE_RENDERERS) if (pattern.test(renderer)) return name;
  // "Apple Software Renderer", "Software Rasterizer" and the like: the string itself names it.
  if (/\bsoftware\b/i.test(renderer)) return renderer.trim().slice(0, 60);
  return null;
}

/** What a WebGPU adapter says of itself (GPUAdapterInfo, and the older adapter.isFallbackAdapter). */
export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}

/**
 * The software renderer behind a WebGPU adapter, or null for a hardware one. Chromium's
 * SwiftShader adapter is { vendor: 'google', architecture: 'swiftshader', isFallbackAdapter: true };
 * a fallback adapter is by the spec one that may be much slower (in practice a CPU renderer).
 */
export function softwareAdapter(info: AdapterFacts): string | null {
  const named = softwareRenderer([info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' '));
  if (named !== null) return named;
  return info.isFallbackAdapter === true ? 'fallback adapter' : null;
}

// ---------------------------------------------------------------------------------------------
// Order and words

/**
 * The backends in the order to try: for 'auto', hardware WebGPU, hardware WebGL, wasm, cpu, then
 * a software WebGPU or WebGL; a chosen backend first, then the same order. Software GPU backends
 * come after cpu too: one default step in headless Chromium on 2 cores took 1.9-2.2 s on wasm,
 * 16 s on cpu, 44 s on SwiftShader WebGPU and 51 s on SwiftShader WebGL (docs/page.md).
 */
export function backendOrder(choice: BackendChoice, software: SoftwareRenderers = {}): BackendName[] {
  const isSoftware = (name: BackendName) => softwareOf(software, name) !== undefined;
  const ranked = [...BACKEND_ORDER.filter((name) => !isSoftware(name)), ...BACKEND_ORDER.filter(isSoftware)];
  return choice === 'auto' ? ranked : [choice, ...ranked.filter((name) => name !== choice)];
}

function softwareOf(software: SoftwareRenderers, name: BackendName): string | undefined {
  return name === 'webgpu' || name === 'webgl' ? software[name] : undefined;
}

export interface Failure {
  name: BackendName;
  reason: string;
}

/**
 * Plain words on why training runs on `running`, or undefined when it is simply the first choice
 * on real hardware. E.g. "Training on WebAssembly (wasm): WebGPU is not available in this browser
 * and WebGL here is a software renderer (SwiftShader) that draws on the CPU, many times slower."
 * No reasons from the code (those go to the console): what was passed over and why, in a sentence.
 */
export function choiceNotice(choice: BackendChoice, running: BackendName, failed: Failure[], software: SoftwareRenderers = {}): string | undefined {
  const clauses: string[] = [];
  const passedOver: BackendName[] = []; // software, ranked below what runs
  for (const name of BACKEND_ORDER) {
    if (name === running) continue;
    const failure = failed.find((f) => f.name === name);
    if (failure) {
      const mine = name === choice ? ' (your choice)' : '';
      clauses.push(`${BACKEND_LABELS[name]}${mine} ${/\bis not available\b/.test(failure.reason) ? 'is not available in this browser' : 'could not start'}`);
    } else if (choice === 'auto' && BACKEND_ORDER.indexOf(name) < BACKEND_ORDER.indexOf(running) && softwareOf(software, name) !== undefined) {
      passedOver.push(name);
    }
  }
  // Measured: many times slower than wasm (about 20x for WebGL, docs/page.md); against a hardware
  // GPU backend, only "slower" (not measured).
  const slower = (than: BackendName | null) => (than === null ? 'many times slower' : than === 'wasm' ? `many times slower than ${BACKEND_WORDS.wasm}` : `slower than ${BACKEND_WORDS[than]}`);
  if (passedOver.length > 0) clauses.push(`${softwareClause(passedOver, software)}, ${slower(running === 'wasm' ? null : running)}`);
  let advice = '';
  if (softwareOf(software, running) !== undefined) {
    const wasmFailed = failed.some((f) => f.name === 'wasm');
    clauses.push(`${softwareClause([running], software)}, ${slower(wasmFailed ? null : 'wasm')}`);
    if (choice === running && !wasmFailed) advice = ` Backend auto would train on ${BACKEND_WORDS.wasm}.`;
  }
  if (clauses.length === 0) return undefined;
  const chosen = choice === running ? ', as chosen' : '';
  return `Training on ${BACKEND_WORDS[running]}${chosen}: ${joinWords(clauses)}.${advice}`;
}

/** "WebGL here is a software renderer (SwiftShader) that draws on the CPU", one or two backends. */
function softwareClause(names: BackendName[], software: SoftwareRenderers): string {
  const renderers = [...new Set(names.map((name) => softwareOf(software, name)!))].join(', ');
  const labels = joinWords(names.map((name) => BACKEND_LABELS[name]));
  return names.length === 1
    ? `${labels} here is a software renderer (${renderers}) that draws on the CPU`
    : `${labels} here are software renderers (${renderers}) that draw on the CPU`;
}

function joinWords(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

// ---------------------------------------------------------------------------------------------
// Starting

export interface StartOptions {
  /** The software renderers found before starting (probeRenderers); none: every GPU counts as hardware. */
  software?: SoftwareRenderers;
  /** Where the reasons in full go (the worker: the browser's console). */
  log?: (line: string) => void;
}

/**
 * Starts the chosen backend, or for 'auto' the fastest the machine really has (backendOrder),
 * falling back along that order when one does not start, and says in plain words why it runs
 * where it does (choiceNotice). Throws every reason when none starts.
 */
export async function startPreferredBackend(
  choice: BackendChoice,
  start: (name: BackendName) => Promise<BackendInfo>,
  options: StartOptions = {},
): Promise<BackendReport> {
  const software = options.software ?? {};
  const failed: Failure[] = [];
  for (const name of backendOrder(choice, software)) {
    let info: BackendInfo;
    try {
      info = await start(name);
    } catch (error) {
      failed.push({ name, reason: errorText(error) });
      continue;
    }
    const report: BackendReport = { name: info.name };
    if (info.adapter !== undefined) report.adapter = info.adapter;
    const notice = choiceNotice(choice, info.name, failed, software);
    if (notice !== undefined) report.fallback = notice;
    if (options.log && (failed.length > 0 || notice !== undefined)) {
      const why = failed.map((f) => `${f.name}: ${f.reason}`);
      for (const [gpu, renderer] of Object.entries(software)) why.push(`${gpu}: software renderer ${renderer}`);
      options.log(`Backend ${choice === 'auto' ? "'auto'" : `'${choice}' chosen`}: training on ${info.name}. ${why.join('. ')}.`);
    }
    return report;
  }
  throw new Error(failed.map((f) => f.reason).join('; '));
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/[.\s]+$/, '');
}

// ---------------------------------------------------------------------------------------------
// The browser probe (worker or page): reads the renderer strings, starts nothing of tfjs

/** What the probe read, for the console. */
export interface RendererProbe {
  software: SoftwareRenderers;
  /** The strings read, e.g. "webgl: ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device ...))". */
  seen: string[];
  /** How long reading them took. */
  ms: number;
}

/**
 * Reads WebGL's renderer string (a throwaway 1x1 OffscreenCanvas context, lost again at once) and
 * the WebGPU adapter's info, as tfjs would ask for it. A few tens of ms; what it cannot read
 * counts as hardware, so the order stays what it was without this probe.
 */
export async function probeRenderers(): Promise<RendererProbe> {
  const started = performance.now();
  const software: SoftwareRenderers = {};
  const seen: string[] = [];
  const webgl = readWebGLRenderer();
  if (webgl !== null) {
    seen.push(`webgl: ${webgl}`);
    const name = softwareRenderer(webgl);
    if (name !== null) software.webgl = name;
  }
  const adapter = await readWebGPUAdapter();
  if (adapter === 'no adapter') seen.push('webgpu: no adapter');
  else if (adapter !== null) {
    seen.push(`webgpu: ${JSON.stringify(adapter)}`);
    const name = softwareAdapter(adapter);
    if (name !== null) software.webgpu = name;
  }
  return { software, seen, ms: performance.now() - started };
}

/** The unmasked renderer where the browser gives it, else RENDERER; null without WebGL. */
function readWebGLRenderer(): string | null {
  try {
    if (typeof OffscreenCanvas === 'undefined') return null;
    const canvas = new OffscreenCanvas(1, 1);
    const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
    if (gl === null) return null;
    const debug = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = debug ? gl.getParameter(debug.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return typeof renderer === 'string' ? renderer : null;
  } catch {
    return null;
  }
}

/** The adapter's facts; null without navigator.gpu. */
async function readWebGPUAdapter(): Promise<AdapterFacts | 'no adapter' | null> {
  try {
    const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    if (gpu == null) return null;
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (adapter == null) return 'no adapter';
    const info = ((adapter as { info?: AdapterFacts }).info ?? {}) as AdapterFacts;
    const facts: AdapterFacts = {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      isFallbackAdapter: info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter,
    };
    return facts;
  } catch {
    return null;
  }
}
