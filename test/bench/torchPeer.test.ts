// The bench's PyTorch peer: finding a python with torch (and saying why not), reading the peer's
// answer, the two "wasm over PyTorch" ratios, and, where torch is installed, that the peer's model
// is ours: the same logits on the bundled tiny checkpoint, through its full forward and its
// key/value-cache decoding.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendResult } from '../../src/bench/measure';
import { comparePeer, DEFAULT_PYTHONS, findTorchPython, parsePeerAnswer, peerEnv, renderPeer, runPeerScript, type PeerRequest } from '../../src/bench/torchPeer';
import { type CheckpointManifest, deserializePolicy } from '../../src/core/checkpoint';
import { checkpointFiles } from '../../src/core/checkpointFiles';
import { disposePolicy, forward } from '../../src/core/model/transformer';
import { BOS, encode } from '../../src/core/tokenizer';

const ANSWER = {
  torch: '1.13.1',
  python: '3.11.2',
  threads: 1,
  blas: ['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0'],
  parameters: 107008,
  sampling: { rows: 64, positions: 40, sampledTokens: 1500, seconds: 0.25, warmupSeconds: 0.4, tokensPerSecond: 6000 },
  training: { updates: 19, trainedTokens: 19000, seconds: 6.25, warmupSeconds: 0.5, tokensPerSecond: 3040 },
};

let scratch: string;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'torch-peer-'));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** An executable that stands in for python: it prints `stdout`, `stderr` and exits with `code`, whatever it is asked. */
function fakePython(name: string, stdout: string, stderr = '', code = 0): string {
  const file = path.join(scratch, name);
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(file, `#!/bin/sh\ncat > /dev/null\nprintf '%s' ${quote(stdout)}\nprintf '%s\\n' ${quote(stderr)} >&2\nexit ${code}\n`, { mode: 0o755 });
  return file;
}

describe('findTorchPython', () => {
  it('says it is skipped, and why, when no python on the PATH has torch', () => {
    const found = findTorchPython(['python3'], { ...process.env, PATH: path.join(scratch, 'nothing-here') });
    expect(found).toEqual({ skipped: 'no python with torch (python3: not found); Debian: apt-get install -y python3-torch' });
  });

  it('gives each candidate\'s reason: not found, or the import error', () => {
    const noTorch = fakePython('python-no-torch', '', "ModuleNotFoundError: No module named 'torch'", 1);
    const found = findTorchPython(['/no/such/python3', noTorch]);
    expect('skipped' in found && found.skipped).toBe(
      `no python with torch (/no/such/python3: not found; ${noTorch}: ModuleNotFoundError: No module named 'torch'); Debian: apt-get install -y python3-torch`,
    );
  });

  it('takes the first candidate that imports torch, with its version', () => {
    const withTorch = fakePython('python-with-torch', '1.13.1\n');
    expect(findTorchPython(['/no/such/python3', withTorch])).toEqual({ python: withTorch, torch: '1.13.1' });
  });
});

describe('parsePeerAnswer', () => {
  it('reads the figures from the last line of the peer\'s output', () => {
    const answer = parsePeerAnswer(`a warning first\n${JSON.stringify(ANSWER)}\n`);
    expect(answer.sampling.tokensPerSecond).toBe(6000);
    expect(answer.training?.trainedTokens).toBe(19000);
    expect(answer.threads).toBe(1);
  });

  it('passes on the error the peer reported', () => {
    expect(() => parsePeerAnswer('{"error": "torch is not importable: No module named \'torch\'"}')).toThrow("torch is not importable: No module named 'torch'");
  });

  it('names a missing or non-positive figure, and output that is not JSON', () => {
    const { tokensPerSecond: _, ...sampling } = ANSWER.sampling;
    expect(() => parsePeerAnswer(JSON.stringify({ ...ANSWER, sampling }))).toThrow("the peer's sampling.tokensPerSecond is undefined, not a positive number");
    expect(() => parsePeerAnswer(JSON.stringify({ ...ANSWER, training: { ...ANSWER.training, seconds: 0 } }))).toThrow('training.seconds is 0');
    expect(() => parsePeerAnswer('Traceback (most recent call last):')).toThrow('the peer printed no JSON');
  });
});

describe('peerEnv', () => {
  it('gives the BLAS libraries the peer\'s thread count, and keeps a count the user set', () => {
    const env = peerEnv({ PATH: '/usr/bin', OMP_NUM_THREADS: '4' }, 1);
    expect(env).toEqual({ PATH: '/usr/bin', OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '4', MKL_NUM_THREADS: '1' });
  });
});

describe('comparePeer and its rows', () => {
  // A wasm column at half the peer's speed on both parts: 3000 sampled and 1520 trained tokens/s.
  const wasm = {
    backend: 'wasm',
    path: 'stock',
    sampling: { cache: { prompts: 8, group: 8, rows: 64, sampledTokens: 1500, positions: 40, seconds: 0.5, warmupSeconds: 0.6, tokensPerSecond: 3000 }, ratio: null },
    training: { trainedTokensPerSecond: 1520, updates: [{ rows: 64, positions: 40, trainedTokens: 1000, seconds: 0.66 }] },
    seconds: 10,
  } as unknown as BackendResult;
  const request = () => ({}) as PeerRequest;

  it('divides wasm\'s tokens/s by the peer\'s and prints both ratios', () => {
    const python = fakePython('python-peer', JSON.stringify(ANSWER));
    const peer = comparePeer(wasm, { python, torch: '1.13.1' }, request, 1);
    expect(peer.skipped).toBeUndefined();
    expect(peer.sampledRatio).toBeCloseTo(0.5, 12); // 3000 / 6000
    expect(peer.trainedRatio).toBeCloseTo(0.5, 12); // 1520 / 3040
    const rows = renderPeer(wasm, peer);
    expect(rows).toContain('| **wasm over PyTorch, sampled tokens/s** | **0.50** |  |');
    expect(rows).toContain('| **wasm over PyTorch, trained tokens/s** | **0.50** |  |');
    expect(rows).toContain('| sampled tokens/s, KV cache | 3000 | 6000 |');
    expect(rows).toContain('1 thread, BLAS libblas.so.3.11.0 |');
  });

  it('prints the skipped row with the reason when there is no torch, or the peer fails', () => {
    const skipped = comparePeer(wasm, { skipped: 'no python with torch (python3: not found)' }, request, 1);
    expect(renderPeer(wasm, skipped)).toBe('- PyTorch peer: skipped (no python with torch (python3: not found))\n\n');
    const crashing = fakePython('python-crash', '', 'RuntimeError: out of memory', 1);
    expect(comparePeer(wasm, { python: crashing, torch: '1.13.1' }, request, 1).skipped).toBe(
      'failed: torch_peer.py exited with 1: RuntimeError: out of memory',
    );
    expect(comparePeer(undefined, { python: crashing, torch: '1.13.1' }, request, 1).skipped).toBe('no wasm column to compare with');
  });
});

// The peer's model against ours on the same weights: the bundled tiny checkpoint.
const torchPython = findTorchPython(DEFAULT_PYTHONS);
const why = 'skipped' in torchPython ? torchPython.skipped : '';

describe.skipIf('skipped' in torchPython)(`the peer's model is ours (skipped when: ${why || 'torch is missing'})`, () => {
  it('gives the same logits as forward() on tiny, full forward and key/value cache, within 1e-4', async () => {
    await tf.setBackend('cpu');
    const files = checkpointFiles(path.resolve('public/models/tiny'));
    const manifest = JSON.parse(fs.readFileSync(files.manifest, 'utf8')) as CheckpointManifest;
    const policy = deserializePolicy(manifest, new Uint8Array(fs.readFileSync(files.weights)));
    // Two rows of 20 tokens: a prompt and a call, and the same prompt padded differently.
    const rows = [[BOS, ...encode('12*34=<call>12*34</call>')], [BOS, ...encode('7+8=<answer>15</answer>')]].map((row) => [...row, ...Array(20).fill(row.at(-1))].slice(0, 20));
    try {
      const ours = tf.tidy(() => forward(policy, tf.tensor2d(rows, [2, 20], 'int32')).dataSync());
      const request = { mode: 'logits', model: manifest.model, checkpoint: files, tokens: rows };
      const answer = JSON.parse(runPeerScript((torchPython as { python: string }).python, request, 1)) as { shape: number[]; forward: number[]; decode: number[] };
      expect(answer.shape).toEqual([2, 20, manifest.model.vocabSize]);
      const maxGap = (theirs: number[]) => Math.max(...theirs.map((x, i) => Math.abs(x - ours[i])));
      expect(maxGap(answer.forward)).toBeLessThan(1e-4);
      expect(maxGap(answer.decode)).toBeLessThan(1e-4);
      // Logits of a trained model spread over several units: a gap under 1e-4 is not a flat output.
      expect(Math.max(...ours) - Math.min(...ours)).toBeGreaterThan(1);
    } finally {
      disposePolicy(policy);
    }
  });
});
