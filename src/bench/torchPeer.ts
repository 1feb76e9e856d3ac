// The PyTorch eager peer of `npm run bench -- --peer torch` (Node only): finds a python with
// torch, hands torch_peer.py the wasm column's work (same model and weights, the same rows and
// positions sampled, the same update shapes and trained tokens) and reads its seconds back, so
// that "wasm over PyTorch" compares the same work measured in one run.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig } from '../core/config';
import { ADAM_DEFAULTS } from '../core/model/adam';
import type { ModelConfig } from '../core/model/config';
import { EMITTABLE } from '../core/tokenizer';
import type { BackendResult } from './measure';

export const PEER_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'torch_peer.py');

/** Pythons tried in order when --python is not given: PATH's (often a pyenv shim without torch), then Debian's. */
export const DEFAULT_PYTHONS = ['python3', '/usr/bin/python3'];

export interface TorchPython {
  python: string;
  torch: string;
}

/**
 * The first of `candidates` that imports torch, or why none did (one reason per candidate).
 * `env` is the environment the candidates run in (its PATH finds a bare name).
 */
export function findTorchPython(candidates: string[], env: NodeJS.ProcessEnv = process.env): TorchPython | { skipped: string } {
  const reasons: string[] = [];
  for (const python of candidates) {
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { env, encoding: 'utf8', timeout: 60_000 });
    if (probe.error) {
      const code = (probe.error as NodeJS.ErrnoException).code;
      reasons.push(`${python}: ${code === 'ENOENT' ? 'not found' : probe.error.message}`);
    } else if (probe.status !== 0) {
      const lastLine = probe.stderr.trim().split('\n').at(-1) ?? `exit code ${probe.status}`;
      reasons.push(`${python}: ${lastLine}`);
    } else {
      return { python, torch: probe.stdout.trim() };
    }
  }
  return { skipped: `no python with torch (${reasons.join('; ')}); Debian: apt-get install -y python3-torch` };
}

/** One update of the wasm column, as the peer repeats it. */
export interface PeerUpdate {
  rows: number;
  positions: number;
  trainedTokens: number;
  /** The batches the update ran its passes on (src/core/tao/lossBuckets.ts); the peer runs the same. */
  buckets: { rows: number; positions: number }[];
}

export interface PeerRequest {
  mode: 'bench';
  model: ModelConfig;
  checkpoint: { manifest: string; weights: string } | null;
  emittable: boolean[];
  temperature: number;
  seed: number;
  sampling: { rows: number; positions: number; sampledTokens: number; rowPositions: number[] };
  /** Timed sampling runs after the warm-up, the fastest kept: as many as the wasm column's. */
  samplingRepeats: number;
  updates: PeerUpdate[];
  optimizer: { learningRate: number; beta1: number; beta2: number; epsilon: number; gradClip: number };
  clip: { clipLow: number; clipHigh: number; dualClip: number };
  entropyCoef: number;
}

/** The peer's answer: its versions and, per part, the same work's seconds and tokens/s. */
export interface PeerAnswer {
  torch: string;
  python: string;
  threads: number;
  /** The BLAS libraries the peer loaded (torch's CPU matmuls use one; its speed decides the peer's). */
  blas: string[];
  parameters: number;
  sampling: { rows: number; positions: number; sampledTokens: number; seconds: number; warmupSeconds: number; tokensPerSecond: number };
  training?: { updates: number; trainedTokens: number; seconds: number; warmupSeconds: number; tokensPerSecond: number };
}

/** The peer's row group of one scale's table: measured, or skipped with the reason. */
export interface PeerResult {
  peer: 'torch';
  skipped?: string;
  python?: string;
  answer?: PeerAnswer;
  /** wasm tokens/s over the peer's, same work. */
  sampledRatio?: number;
  trainedRatio?: number;
}

/** What the peer must do to match the wasm column: its sampling batch and its measured updates. */
export function peerRequest(
  wasm: BackendResult,
  model: ModelConfig,
  checkpoint: { manifest: string; weights: string } | null,
  seed: number,
  temperature: number,
): PeerRequest {
  const cache = wasm.sampling!.cache;
  const training = wasm.training!;
  const config = resolveConfig({ preset: training.preset, seed });
  return {
    mode: 'bench',
    model,
    checkpoint,
    emittable: [...EMITTABLE],
    temperature,
    seed,
    sampling: { rows: cache.rows, positions: cache.positions, sampledTokens: cache.sampledTokens, rowPositions: cache.rowPositions },
    samplingRepeats: cache.runSeconds.length,
    updates: training.updates.map(({ rows, positions, trainedTokens, buckets }) => ({ rows, positions, trainedTokens, buckets })),
    optimizer: { ...ADAM_DEFAULTS, learningRate: config.learningRate, gradClip: config.gradClip },
    clip: { clipLow: config.clipLow, clipHigh: config.clipHigh, dualClip: config.dualClip },
    entropyCoef: config.entropyCoef,
  };
}

/** Reads the peer's stdout; throws with what is wrong (an "error" it reported, bad JSON, a missing figure). */
export function parsePeerAnswer(stdout: string): PeerAnswer {
  const lastLine = stdout.trim().split('\n').at(-1) ?? '';
  let answer: unknown;
  try {
    answer = JSON.parse(lastLine);
  } catch {
    throw new Error(`the peer printed no JSON (last line: ${JSON.stringify(lastLine.slice(0, 200))})`);
  }
  if (typeof answer !== 'object' || answer === null) throw new Error('the peer printed JSON that is not an object');
  const a = answer as Record<string, unknown>;
  if (typeof a.error === 'string') throw new Error(a.error);
  const positive = (where: string, value: unknown): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new Error(`the peer's ${where} is ${JSON.stringify(value)}, not a positive number`);
    return value;
  };
  const text = (where: string, value: unknown): string => {
    if (typeof value !== 'string') throw new Error(`the peer's ${where} is missing`);
    return value;
  };
  const sampling = (a.sampling ?? {}) as Record<string, unknown>;
  const result: PeerAnswer = {
    torch: text('torch', a.torch),
    python: text('python', a.python),
    threads: positive('threads', a.threads),
    blas: Array.isArray(a.blas) ? a.blas.map(String) : [],
    parameters: positive('parameters', a.parameters),
    sampling: {
      rows: positive('sampling.rows', sampling.rows),
      positions: positive('sampling.positions', sampling.positions),
      sampledTokens: positive('sampling.sampledTokens', sampling.sampledTokens),
      seconds: positive('sampling.seconds', sampling.seconds),
      warmupSeconds: positive('sampling.warmupSeconds', sampling.warmupSeconds),
      tokensPerSecond: positive('sampling.tokensPerSecond', sampling.tokensPerSecond),
    },
  };
  if (a.training !== undefined) {
    const training = a.training as Record<string, unknown>;
    result.training = {
      updates: positive('training.updates', training.updates),
      trainedTokens: positive('training.trainedTokens', training.trainedTokens),
      seconds: positive('training.seconds', training.seconds),
      warmupSeconds: positive('training.warmupSeconds', training.warmupSeconds),
      tokensPerSecond: positive('training.tokensPerSecond', training.tokensPerSecond),
    };
  }
  return result;
}

/**
 * Runs the peer on a request and returns what it printed; throws with the peer's own last words
 * when it fails. The BLAS under torch gets the same thread count (`peerEnv`).
 */
export function runPeerScript(python: string, request: unknown, threads: number, env: NodeJS.ProcessEnv = process.env): string {
  const run = spawnSync(python, [PEER_SCRIPT, '--threads', String(threads)], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    env: peerEnv(env, threads),
    maxBuffer: 256 * 1024 * 1024,
    timeout: 30 * 60_000,
  });
  if (run.error) throw new Error(`${python} ${path.basename(PEER_SCRIPT)}: ${run.error.message}`);
  if (run.status !== 0 && !run.stdout.trim()) {
    const lastLine = run.stderr.trim().split('\n').at(-1) ?? '';
    throw new Error(`${path.basename(PEER_SCRIPT)} exited with ${run.status}: ${lastLine}`);
  }
  return run.stdout;
}

/**
 * The peer's environment: `threads` for the BLAS libraries torch may load, unless already set.
 * torch.set_num_threads does not reach a BLAS picked by Debian's alternatives: OpenBLAS's
 * pthread build otherwise starts a thread per core, and the peer would not be on one thread.
 */
export function peerEnv(env: NodeJS.ProcessEnv, threads: number): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of ['OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS']) out[name] ??= String(threads);
  return out;
}

/** The peer measured against the wasm column of one scale, or skipped with the reason. */
export function comparePeer(
  wasm: BackendResult | undefined,
  python: TorchPython | { skipped: string },
  request: () => PeerRequest,
  threads: number,
): PeerResult {
  if ('skipped' in python) return { peer: 'torch', skipped: python.skipped };
  if (!wasm || wasm.skipped || !wasm.sampling || !wasm.training) {
    return { peer: 'torch', skipped: `no wasm column to compare with${wasm?.skipped ? ` (${wasm.skipped})` : ''}` };
  }
  try {
    const answer = parsePeerAnswer(runPeerScript(python.python, request(), threads));
    const result: PeerResult = { peer: 'torch', python: python.python, answer };
    result.sampledRatio = wasm.sampling.cache.tokensPerSecond / answer.sampling.tokensPerSecond;
    if (answer.training && wasm.training.trainedTokensPerSecond > 0) {
      result.trainedRatio = wasm.training.trainedTokensPerSecond / answer.training.tokensPerSecond;
    }
    return result;
  } catch (error) {
    return { peer: 'torch', python: python.python, skipped: `failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}` };
  }
}

/** The peer's rows under one scale's table: its figures beside wasm's and the two ratios. */
export function renderPeer(wasm: BackendResult | undefined, peer: PeerResult): string {
  if (peer.skipped || !peer.answer || !wasm?.sampling || !wasm.training) {
    return `- PyTorch peer: skipped (${peer.skipped ?? 'no figures'})\n\n`;
  }
  const a = peer.answer;
  const fixed = (value: number | undefined, digits = 0) => (value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits));
  const cache = wasm.sampling.cache;
  const rows: [string, string, string][] = [
    ['runtime', 'tfjs wasm, Node', `PyTorch ${a.torch} eager, Python ${a.python}, ${a.threads} thread${a.threads === 1 ? '' : 's'}, BLAS ${a.blas.map((file) => path.basename(file)).join(' + ') || 'unknown'}`],
    ['sampling: rows x positions, sampled tokens', `${cache.rows} x ${cache.positions}, ${cache.sampledTokens}`, `${a.sampling.rows} x ${a.sampling.positions}, ${a.sampling.sampledTokens}`],
    ['sampled tokens/s, KV cache', fixed(cache.tokensPerSecond), fixed(a.sampling.tokensPerSecond)],
    ['**wasm over PyTorch, sampled tokens/s**', `**${fixed(peer.sampledRatio, 2)}**`, ''],
    ['updates timed, trained tokens', `${wasm.training.updates.length}, ${wasm.training.updates.reduce((n, u) => n + u.trainedTokens, 0)}`, a.training ? `${a.training.updates}, ${a.training.trainedTokens}` : '-'],
    ['trained tokens/s', fixed(wasm.training.trainedTokensPerSecond), fixed(a.training?.tokensPerSecond)],
    ['**wasm over PyTorch, trained tokens/s**', `**${fixed(peer.trainedRatio, 2)}**`, ''],
  ];
  const lines = ['| PyTorch peer, same work | wasm | PyTorch |', '| --- | ---: | ---: |', ...rows.map((r) => `| ${r.join(' | ')} |`)];
  lines.push(
    '',
    `- PyTorch peer: \`src/bench/torch_peer.py\` (${peer.python}) on the same weights, timed after a warm-up like the wasm column: ` +
      'the wasm sampling batch\'s rows and decoding positions through a key/value cache (each row for as many positions as in the wasm run, a row leaving the batch as it ends), then each of the wasm column\'s timed updates ' +
      '(the same buckets of rows and positions, gradients accumulated over them, one PPO clipped-loss update with Adam); both sides\' tokens/s divide the wasm run\'s sampled and trained tokens by their own seconds. ' +
      'What is and is not matched is listed at the top of the script.',
    '',
  );
  return lines.join('\n');
}
