// npm run bench -- [--backends cpu,wasm,webgpu,chromium] [--scales tiny,small] [--kernels stock,fused]
//                  [--steps N] [--prompts N] [--ratio-prompts N] [--train-prompts N] [--sampling-repeats N]
//                  [--group N] [--seed N] [--json out.json]
//                  [--peer torch [--python PATH] [--peer-threads N]]
// Throughput of each tfjs backend on the policy, per model scale: sampling with and without the
// key/value cache, tfjs kernels and GPU dispatches per decoding position, per layer and per
// sampled token, training tokens/s, the time of a full RL step, and a tensor-leak check over
// training steps. On webgpu it measures both kernel paths side by side in one process: tfjs's
// own ops ("stock") and the fused WGSL kernels (model/fusedKernels.ts); `chromium` does the same
// inside headless Chromium (bench.html, see benchChromium.ts). Progress goes to stderr,
// one markdown table per scale to stdout (pasteable into the README). `--peer torch` adds, per
// scale, a PyTorch eager peer timed on the wasm column's work (torchPeer.ts, torch_peer.py).
//
// Batch sizes and step counts default per backend so that `npm run bench` stays within a few
// minutes on a 2-core machine (wasm is fast; cpu is pure JS and WebGPU in Node runs on
// SwiftShader, a software Vulkan, both several times slower). A flag given explicitly applies
// to every backend.

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BENCH_BACKENDS,
  type BackendPlan,
  type BackendResult,
  type BenchBackend,
  columnLabel,
  DEFAULT_GROUP,
  DEFAULT_PLANS,
  KERNEL_PATHS,
  type KernelPath,
  measure,
  renderMarkdown,
  setProgressReporter,
  TEMPERATURE,
} from '../bench/measure';
import { checkpointFiles } from '../core/checkpointFiles';
import { MODEL_SCALES, parameterCount, type ModelScale } from '../core/model/config';
import { setKernelPreference } from '../core/model/fusedDecoder';
import { initPolicy, type Policy } from '../core/model/transformer';
import { comparePeer, DEFAULT_PYTHONS, findTorchPython, peerRequest, type PeerResult, renderPeer } from '../bench/torchPeer';
import { benchInChromium, closeChromiumBench } from './benchChromium';
import { bundledCheckpoint, loadPolicy, parseCommandArgs, runMain, startBackend, UsageError } from './common';

function progress(label: string, message: string): void {
  process.stderr.write(`[${label}] ${message}\n`);
}
setProgressReporter(progress);

function positiveInt(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${flag}: "${raw}" is not an integer >= 1`);
  return value;
}

const USAGE = `usage: npm run bench -- [--backends ${BENCH_BACKENDS.join(',')}] [--scales tiny,small] [--kernels ${KERNEL_PATHS.join(',')}]
                        [--steps N] [--prompts N] [--ratio-prompts N] [--train-prompts N] [--sampling-repeats N]
                        [--group N] [--seed N] [--json FILE]
                        [--peer torch [--python PATH] [--peer-threads N]]
Throughput of each backend on the policy, per model scale: sampling with and without the key/value
cache, kernels and dispatches per position, training tokens/s, a full RL step, a tensor-leak check.
One markdown table per scale on stdout, progress on stderr. Sizes default per backend; a flag
given applies to every backend.

  --backends LIST      any of ${BENCH_BACKENDS.join(', ')} (default all; chromium runs WebGPU in headless Chromium)
  --scales LIST        model scales (default tiny,small); --scale is the same
  --kernels LIST       WebGPU decoding paths: ${KERNEL_PATHS.join(', ')} (default both)
  --prompts N          prompts of the sampling batch, each sampled --group times
  --ratio-prompts N    prompts of the batch sampled with and without the cache
  --steps N            training steps of the leak check and the training throughput
  --train-prompts N    prompts (groups) per training step
  --sampling-repeats N timed runs of each sampling batch after its warm-up, the fastest kept
                       (default: 5 on wasm, 1 elsewhere; the PyTorch peer does the same)
  --group N            samples per prompt (default ${DEFAULT_GROUP})
  --seed N             seed (default 1)
  --json FILE          also write every figure as JSON
  --peer torch         also time a PyTorch eager peer on the wasm column's work (same model, weights,
                       rows, positions and updates) and print wasm over PyTorch; skipped, saying why,
                       when no python imports torch (Debian: apt-get install -y python3-torch)
  --python PATH        the python with torch (default: the first of ${DEFAULT_PYTHONS.join(', ')} that imports it)
  --peer-threads N     torch.set_num_threads of the peer (default 1, as the wasm backend in Node)
  -h, --help           this text`;

runMain(async () => {
  const values = parseCommandArgs(
    {
      backends: { type: 'string', default: BENCH_BACKENDS.join(',') },
      scales: { type: 'string', default: 'tiny,small' },
      scale: { type: 'string' },
      kernels: { type: 'string', default: KERNEL_PATHS.join(',') },
      steps: { type: 'string' },
      prompts: { type: 'string' },
      'ratio-prompts': { type: 'string' },
      'sampling-repeats': { type: 'string' },
      'train-prompts': { type: 'string' },
      group: { type: 'string' },
      seed: { type: 'string', default: '1' },
      json: { type: 'string' },
      peer: { type: 'string' },
      python: { type: 'string' },
      'peer-threads': { type: 'string', default: '1' },
    },
    USAGE,
  );
  const backends = values.backends!.split(',').map((b) => b.trim()).filter((b) => b.length > 0);
  for (const b of backends) {
    if (!(BENCH_BACKENDS as readonly string[]).includes(b)) throw new UsageError(`--backends: "${b}" is not one of ${BENCH_BACKENDS.join(', ')}`);
  }
  if (backends.length === 0) throw new UsageError('--backends: name at least one of cpu, wasm, webgpu');
  const scales = (values.scale ?? values.scales!).split(',').map((x) => x.trim()).filter((x) => x.length > 0) as ModelScale[];
  for (const scale of scales) {
    if (!(scale in MODEL_SCALES)) throw new UsageError(`--scales: "${scale}" is not one of ${Object.keys(MODEL_SCALES).join(', ')}`);
  }
  if (scales.length === 0) throw new UsageError('--scales: name at least one of tiny, small, base');
  const kernelPaths = values.kernels!.split(',').map((x) => x.trim()).filter((x) => x.length > 0) as KernelPath[];
  for (const k of kernelPaths) {
    if (!KERNEL_PATHS.includes(k)) throw new UsageError(`--kernels: "${k}" is not one of ${KERNEL_PATHS.join(', ')}`);
  }
  if (kernelPaths.length === 0) throw new UsageError('--kernels: name at least one of stock, fused');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed: "${values.seed}" is not an integer >= 0`);
  const overrides = {
    steps: positiveInt('steps', values.steps),
    prompts: positiveInt('prompts', values.prompts),
    ratioPrompts: positiveInt('ratio-prompts', values['ratio-prompts']),
    trainPrompts: positiveInt('train-prompts', values['train-prompts']),
    samplingRepeats: positiveInt('sampling-repeats', values['sampling-repeats']),
  };
  const group = positiveInt('group', values.group) ?? DEFAULT_GROUP;
  if (group < 2) throw new UsageError(`--group: must be at least 2`);
  if (values.peer !== undefined && values.peer !== 'torch') throw new UsageError(`--peer: "${values.peer}" is not torch`);
  if (values.python !== undefined && values.peer === undefined) throw new UsageError('--python: only with --peer torch');
  const peerThreads = positiveInt('peer-threads', values['peer-threads'])!;
  // Found once, before any column runs: a missing torch is said up front.
  const torchPython = values.peer === 'torch' ? findTorchPython(values.python !== undefined ? [values.python] : DEFAULT_PYTHONS) : null;
  if (torchPython) progress('torch peer', 'skipped' in torchPython ? `skipped: ${torchPython.skipped}` : `${torchPython.python}, torch ${torchPython.torch}`);

  const started = performance.now();
  const tables: { scale: ModelScale; results: BackendResult[]; peer: PeerResult | null; seconds: number }[] = [];
  for (const scale of scales) {
    const checkpoint = bundledCheckpoint(scale);
    const hasCheckpoint = fs.existsSync(checkpointFiles(checkpoint).manifest);
    const scaleStarted = performance.now();
    const results: BackendResult[] = [];
    for (const backend of backends as BenchBackend[]) {
      const defaults = DEFAULT_PLANS[backend];
      const prompts = overrides.prompts ?? defaults.prompts;
      const plan: BackendPlan = {
        prompts,
        ratioPrompts: Math.min(overrides.ratioPrompts ?? defaults.ratioPrompts, prompts),
        steps: overrides.steps ?? defaults.steps,
        trainPrompts: overrides.trainPrompts ?? defaults.trainPrompts,
        samplingRepeats: overrides.samplingRepeats ?? defaults.samplingRepeats,
      };
      if (backend === 'chromium') {
        results.push(...(await benchInChromium({ scale, seed, group, plan, kernels: kernelPaths })));
        continue;
      }
      // Only webgpu has two paths; the others always run tfjs's own ops.
      const paths: KernelPath[] = backend === 'webgpu' ? kernelPaths : ['stock'];
      for (const kernels of paths) {
        results.push(await benchBackend(backend, kernels, scale, seed, group, plan, hasCheckpoint ? checkpoint : null));
      }
    }
    let peer: PeerResult | null = null;
    if (torchPython) {
      const wasm = results.find((r) => r.backend === 'wasm');
      progress(`${scale} torch`, 'running the PyTorch peer on the wasm column\'s work');
      const files = hasCheckpoint ? checkpointFiles(checkpoint) : null;
      peer = comparePeer(
        wasm,
        torchPython,
        () => peerRequest(wasm!, MODEL_SCALES[scale], files && { manifest: files.manifest, weights: files.weights }, seed, TEMPERATURE),
        peerThreads,
      );
      progress(`${scale} torch`, peer.skipped ? `skipped: ${peer.skipped}` : `wasm over PyTorch: sampled ${peer.sampledRatio?.toFixed(2)}, trained ${peer.trainedRatio?.toFixed(2)}`);
    }
    tables.push({ scale, results, peer, seconds: (performance.now() - scaleStarted) / 1000 });
  }
  setKernelPreference('auto');
  await closeChromiumBench();
  const totalSeconds = (performance.now() - started) / 1000;

  for (const table of tables) {
    process.stdout.write(renderMarkdown(table.results, table.scale, seed, table.seconds, `Node ${process.version}`));
    if (table.peer) process.stdout.write(renderPeer(table.results.find((r) => r.backend === 'wasm'), table.peer));
  }
  if (values.json) {
    const file = path.resolve(values.json);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const record = {
      type: 'bench',
      date: new Date().toISOString(),
      node: process.version,
      seed,
      temperature: TEMPERATURE,
      totalSeconds,
      scales: tables.map(({ scale, results, peer, seconds }) => ({
        scale,
        model: MODEL_SCALES[scale],
        parameters: parameterCount(MODEL_SCALES[scale]),
        seconds,
        results,
        ...(peer ? { peer } : {}),
      })),
    };
    fs.writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
    process.stderr.write(`wrote ${values.json}\n`);
  }
});

async function benchBackend(
  backend: BenchBackend,
  kernels: KernelPath,
  scale: ModelScale,
  seed: number,
  group: number,
  plan: BackendPlan,
  checkpoint: string | null,
): Promise<BackendResult> {
  const started = performance.now();
  const label = columnLabel(scale, backend, kernels);
  let device: string;
  progress(label, 'starting backend');
  try {
    device = await startBackend(backend);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    progress(label, `skipped: ${reason}`);
    return { backend, path: kernels, skipped: reason, seconds: (performance.now() - started) / 1000 };
  }
  progress(label, `running on ${device}`);
  return measure({ backend, kernels, device, scale, seed, group, plan, pretrained: checkpoint !== null, makePolicy: () => makePolicy(scale, checkpoint) });
}

function makePolicy(scale: ModelScale, checkpoint: string | null): { policy: Policy; source: string } {
  if (checkpoint !== null) {
    return { policy: loadPolicy(checkpoint).policy, source: `checkpoint ${checkpointFiles(path.relative(process.cwd(), checkpoint)).manifest}` };
  }
  return { policy: initPolicy(MODEL_SCALES[scale], 1), source: `random init (seed 1): no ${scale} checkpoint in public/models` };
}
