// Checkpoint format (src/core/checkpoint.ts): a manifest and one little-endian float32 blob.
// serializePolicy is awaited: it may read the weights asynchronously (WebGPU has no sync read).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_FORMAT,
  CheckpointError,
  deserializePolicy,
  serializePolicy,
  type CheckpointManifest,
} from '../../src/core/checkpoint';
import type { ModelConfig } from '../../src/core/model/config';
import { disposePolicy, initPolicy, namedWeights, type Policy } from '../../src/core/model/transformer';
import { VOCAB_SIZE } from '../../src/core/tokenizer';

const MODEL: ModelConfig = { vocabSize: VOCAB_SIZE, contextLength: 12, layers: 2, width: 8, heads: 2, mlpRatio: 2 };
// Parameters: V*D + T*D = 28*8 + 12*8 = 320; per layer 4D (ln) + D*3D + 3D + D*D + D + D*M + M + M*D + D
// with D 8, M 16: 32 + 192 + 24 + 64 + 8 + 128 + 16 + 128 + 8 = 600; two layers 1200; final ln 2D = 16.
// Total 320 + 1200 + 16 = 1536 floats = 6144 bytes.
const BYTES = 6144;

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('checkpoint', () => {
  let policy: Policy;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    policy = initPolicy(MODEL, 7);
    // make every weight distinct from a fresh init (gains 1, biases 0) so the round trip proves something
    for (const [, variable] of namedWeights(policy.weights)) {
      tf.tidy(() => variable.assign(variable.add(tf.randomUniform(variable.shape, -1, 1, 'float32', 3))));
    }
  });

  afterAll(() => disposePolicy(policy));

  it('serializes every weight as float32 in manifest order', async () => {
    const { manifest, bytes } = await serializePolicy(policy, { note: 'test' });
    expect(manifest.format).toBe(CHECKPOINT_FORMAT);
    expect(manifest.model).toEqual(MODEL);
    expect(manifest.provenance).toEqual({ note: 'test' });
    expect(bytes.byteLength).toBe(BYTES);
    const named = namedWeights(policy.weights);
    expect(manifest.weights.map((w) => w.name)).toEqual(named.map(([name]) => name));
    // first weight first: the blob starts with tokenEmbedding's values
    const floats = new Float32Array(bytes.slice().buffer);
    expect(Array.from(floats.subarray(0, 5))).toEqual(Array.from((named[0][1].dataSync() as Float32Array).subarray(0, 5)));
  });

  it('round-trips to identical weights', async () => {
    const { manifest, bytes } = await serializePolicy(policy, {});
    // through JSON and a fresh, unaligned byte array, as a file read would give them
    const copy = new Uint8Array(bytes.byteLength + 1).subarray(1);
    copy.set(bytes);
    const restored = deserializePolicy(JSON.parse(JSON.stringify(manifest)) as CheckpointManifest, copy);
    try {
      expect(restored.config).toEqual(MODEL);
      const original = namedWeights(policy.weights);
      const loaded = namedWeights(restored.weights);
      expect(loaded.map(([name, v]) => [name, v.shape])).toEqual(original.map(([name, v]) => [name, v.shape]));
      loaded.forEach(([, variable], i) => {
        expect(Array.from(variable.dataSync())).toEqual(Array.from(original[i][1].dataSync()));
      });
    } finally {
      disposePolicy(restored);
    }
  });

  it('rejects a wrong byte length, naming both lengths', async () => {
    const { manifest, bytes } = await serializePolicy(policy, {});
    const error = thrown(() => deserializePolicy(manifest, bytes.subarray(0, BYTES - 4)));
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toContain(String(BYTES - 4));
    expect(error.message).toContain(String(BYTES));
  });

  it('rejects a wrong format string, quoting it', async () => {
    const { manifest, bytes } = await serializePolicy(policy, {});
    const error = thrown(() =>
      deserializePolicy({ ...manifest, format: 'other/checkpoint@2' } as unknown as CheckpointManifest, bytes),
    );
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toContain('other/checkpoint@2');
  });

  it('rejects a manifest whose shapes or names do not match its model, naming the weight', async () => {
    const { manifest, bytes } = await serializePolicy(policy, {});
    const transposed = structuredClone(manifest);
    transposed.weights[0].shape = [8, 28]; // tokenEmbedding is [V, D] = [28, 8]; same size, other shape
    const error = thrown(() => deserializePolicy(transposed, bytes));
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toContain('tokenEmbedding');
    expect(error.message).toContain('28,8');

    const renamed = structuredClone(manifest);
    renamed.weights[3].name = 'blocks.0.somethingElse';
    const named = thrown(() => deserializePolicy(renamed, bytes));
    expect(named).toBeInstanceOf(CheckpointError);
    expect(named.message).toContain('somethingElse');

    const missing = structuredClone(manifest);
    missing.weights.pop();
    expect(() => deserializePolicy(missing, bytes)).toThrow(CheckpointError);
  });

  it('serializing creates no tensor', async () => {
    const before = tf.memory().numTensors;
    await serializePolicy(policy, {});
    expect(tf.memory().numTensors).toBe(before);
  });

  // BUG (src/core/model/transformer.ts, initPolicy: `normal` and `filled`): tf.variable(initial)
  // keeps the initial tensor alive next to the variable (a tfjs variable shares the data but is a
  // second tensor), and nothing disposes it. deserializePolicy calls initPolicy, so each load
  // leaks one tensor per weight (here 2 + 12 * 2 + 2 = 28) that disposePolicy cannot free.
  it('leaks no tensor across a round trip and disposePolicy', async () => {
    const { manifest, bytes } = await serializePolicy(policy, {});
    const before = tf.memory().numTensors;
    disposePolicy(deserializePolicy(manifest, bytes));
    expect(tf.memory().numTensors).toBe(before);
  });
});
