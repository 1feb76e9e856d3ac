// Checkpoint format: a JSON manifest (model config, weight names and shapes, provenance) and one
// little-endian float32 blob with the weights in manifest order. No file I/O here: the CLI reads
// files, the page fetches URLs.

import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from './model/config';
import { disposePolicy, initPolicy, namedWeights, type Policy } from './model/transformer';

export const CHECKPOINT_FORMAT = 'tao-rl-workbench/checkpoint@1';

export interface CheckpointManifest {
  format: typeof CHECKPOINT_FORMAT;
  model: ModelConfig;
  weights: { name: string; shape: number[] }[];
  /** How the weights were made (pretraining settings, held-out figures). */
  provenance: Record<string, unknown>;
}

export async function serializePolicy(
  policy: Policy,
  provenance: Record<string, unknown>,
): Promise<{ manifest: CheckpointManifest; bytes: Uint8Array }> {
  const named = namedWeights(policy.weights);
  const total = named.reduce((sum, [, v]) => sum + v.size, 0);
  const floats = new Float32Array(total);
  let offset = 0;
  for (const [, variable] of named) {
    floats.set((await variable.data()) as Float32Array, offset);
    offset += variable.size;
  }
  return {
    manifest: {
      format: CHECKPOINT_FORMAT,
      model: policy.config,
      weights: named.map(([name, v]) => ({ name, shape: v.shape })),
      provenance,
    },
    bytes: new Uint8Array(floats.buffer),
  };
}

export class CheckpointError extends Error {}

/** A policy from a manifest and its weight bytes; every shape and the byte count are checked. */
export function deserializePolicy(manifest: CheckpointManifest, bytes: Uint8Array): Policy {
  if (manifest.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`not a checkpoint of this workbench (format ${JSON.stringify(manifest.format)})`);
  }
  const policy = initPolicy(manifest.model, 0);
  try {
    namedWeights(policy.weights).forEach(([name, variable], i) => {
      const entry = manifest.weights[i];
      if (!entry || entry.name !== name || entry.shape.join(',') !== variable.shape.join(',')) {
        throw new CheckpointError(`weight ${i} should be ${name} [${variable.shape}], the manifest has ${JSON.stringify(entry)}`);
      }
    });
    loadWeights(policy, bytes);
  } catch (error) {
    disposePolicy(policy);
    throw error;
  }
  return policy;
}

/** Overwrite a policy's weights with bytes in `serializePolicy`'s layout (e.g. a saved snapshot). */
export function loadWeights(policy: Policy, bytes: Uint8Array): void {
  const named = namedWeights(policy.weights);
  const expected = named.reduce((sum, [, v]) => sum + v.size, 0);
  if (bytes.byteLength !== expected * 4) {
    throw new CheckpointError(`weights are ${bytes.byteLength} bytes, the manifest's model needs ${expected * 4}`);
  }
  const aligned = new Float32Array(bytes.slice().buffer, 0, expected);
  let offset = 0;
  for (const [, variable] of named) {
    tf.tidy(() => variable.assign(tf.tensor(aligned.subarray(offset, offset + variable.size), variable.shape)));
    offset += variable.size;
  }
}
