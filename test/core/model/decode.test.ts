// Key/value-cache decoding against the full forward pass, and LayerNorm against a hand computation,
// on the cpu backend (tfjs's reference kernels) with the bundled tiny checkpoint's trained weights.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckpointManifest, deserializePolicy } from '../../../src/core/checkpoint';
import { checkpointFiles } from '../../../src/core/checkpointFiles';
import { disposePolicy, forward, stockLayerNorm, type Policy } from '../../../src/core/model/transformer';
import { decodeGap, decodeRows } from './decodeCheck';

let policy: Policy;
beforeAll(async () => {
  await tf.setBackend('cpu');
  const files = checkpointFiles(path.resolve('public/models/tiny'));
  const manifest = JSON.parse(fs.readFileSync(files.manifest, 'utf8')) as CheckpointManifest;
  policy = deserializePolicy(manifest, new Uint8Array(fs.readFileSync(files.weights)));
});
afterAll(() => disposePolicy(policy));

describe('decodeStep', () => {
  it('gives the full forward pass\'s logits at every position, within 1e-6', () => {
    const T = 40;
    const rows = decodeRows(T);
    const full = tf.tidy(() => forward(policy, tf.tensor2d(rows, [rows.length, T], 'int32')).arraySync());
    const { largest, cached } = decodeGap(policy, rows, full);
    expect(cached).toBe(T);
    expect(largest).toBeLessThan(1e-6);
  });
});

describe('stockLayerNorm', () => {
  it('normalises each row as computed by hand: mean 2.5, variance 1.25 for 1, 2, 3, 4', () => {
    const out = tf.tidy(() =>
      stockLayerNorm(tf.tensor2d([[1, 2, 3, 4], [4, 4, 4, 4]]), tf.tensor1d([1, 2, 1, 1]), tf.tensor1d([0, 0, 0, 0.5])).arraySync(),
    );
    const s = 1 / Math.sqrt(1.25 + 1e-5);
    const expected = [[-1.5 * s, -0.5 * s * 2, 0.5 * s, 1.5 * s + 0.5], [0, 0, 0, 0.5]];
    out.flat().forEach((value, i) => expect(value).toBeCloseTo(expected.flat()[i], 6));
  });
});
