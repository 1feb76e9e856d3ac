// bench.html: the bench's measurements inside a browser, on its WebGPU (stock and fused kernels
// side by side). Query: scale, kernels, prompts, ratioPrompts, steps, trainPrompts, samplingRepeats,
// group, seed.
// The results land in `window.__benchResults` (what `npm run bench` reads) and as a table on the page.

import { useBackend } from '../core/backend';
import { deserializePolicy, type CheckpointManifest } from '../core/checkpoint';
import { bundledCheckpointStem, checkpointFiles } from '../core/checkpointFiles';
import { MODEL_SCALES, type ModelScale } from '../core/model/config';
import { initPolicy, type Policy } from '../core/model/transformer';
import { type BackendPlan, type BackendResult, DEFAULT_GROUP, DEFAULT_PLANS, KERNEL_PATHS, type KernelPath, measure, renderMarkdown, setProgressReporter } from './measure';

interface BenchWindow {
  __benchResults?: BackendResult[];
  __benchError?: string;
}

const log = document.getElementById('log')!;
setProgressReporter((label, message) => {
  const line = `[${label}] ${message}`;
  console.log(line);
  log.textContent += `${line}\n`;
});

async function fetchCheckpoint(scale: ModelScale): Promise<{ manifest: CheckpointManifest; bytes: Uint8Array } | null> {
  const files = checkpointFiles(`${import.meta.env.BASE_URL}${bundledCheckpointStem(scale)}`);
  const [manifest, weights] = await Promise.all([fetch(files.manifest), fetch(files.weights)]);
  // Vite's servers answer a missing file with a page: only JSON counts.
  if (!manifest.ok || !weights.ok || !(manifest.headers.get('content-type') ?? '').includes('json')) return null;
  return { manifest: (await manifest.json()) as CheckpointManifest, bytes: new Uint8Array(await weights.arrayBuffer()) };
}

async function run(): Promise<BackendResult[]> {
  const query = new URLSearchParams(location.search);
  const scale = (query.get('scale') ?? 'tiny') as ModelScale;
  if (!(scale in MODEL_SCALES)) throw new Error(`scale "${scale}" is not one of ${Object.keys(MODEL_SCALES).join(', ')}`);
  const kernels = (query.get('kernels') ?? KERNEL_PATHS.join(',')).split(',') as KernelPath[];
  const number = (name: string, fallback: number) => {
    const value = Number(query.get(name) ?? fallback);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name} "${query.get(name)}" is not an integer >= 1`);
    return value;
  };
  const defaults = DEFAULT_PLANS.chromium;
  const plan: BackendPlan = {
    prompts: number('prompts', defaults.prompts),
    ratioPrompts: number('ratioPrompts', defaults.ratioPrompts),
    steps: number('steps', defaults.steps),
    trainPrompts: number('trainPrompts', defaults.trainPrompts),
    samplingRepeats: number('samplingRepeats', defaults.samplingRepeats),
  };
  const group = number('group', DEFAULT_GROUP);
  const seed = Number(query.get('seed') ?? 1);
  const info = await useBackend('webgpu');
  const device = `webgpu (${info.adapter ?? 'unknown adapter'}), ${navigator.userAgent.match(/Chrom(e|ium)\/[\d.]+/)?.[0] ?? 'browser'}`;
  const checkpoint = await fetchCheckpoint(scale);
  const makePolicy = (): { policy: Policy; source: string } =>
    checkpoint
      ? { policy: deserializePolicy(checkpoint.manifest, checkpoint.bytes), source: `checkpoint ${checkpointFiles(bundledCheckpointStem(scale)).manifest}` }
      : { policy: initPolicy(MODEL_SCALES[scale], 1), source: `random init (seed 1): no ${scale} checkpoint bundled` };
  const results: BackendResult[] = [];
  for (const path of kernels) {
    results.push(await measure({ backend: 'chromium', kernels: path, device, scale, seed, group, plan, makePolicy, pretrained: checkpoint !== null }));
  }
  log.textContent += `\n${renderMarkdown(results, scale, seed, results.reduce((s, r) => s + r.seconds, 0), navigator.userAgent)}`;
  return results;
}

run().then(
  (results) => ((window as BenchWindow).__benchResults = results),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    (window as BenchWindow).__benchError = message;
    log.textContent += `failed: ${message}\n`;
  },
);
