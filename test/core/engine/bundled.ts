import * as fs from 'node:fs';
import * as path from 'node:path';
import { deserializePolicy, type CheckpointManifest } from '../../../src/core/checkpoint';
import type { Policy } from '../../../src/core/model/transformer';

/** The committed tiny warm-start checkpoint. */
export function loadBundledTiny(): Policy {
  const stem = path.resolve(__dirname, '../../../public/models/tiny');
  const manifest = JSON.parse(fs.readFileSync(`${stem}.json`, 'utf8')) as CheckpointManifest;
  return deserializePolicy(manifest, new Uint8Array(fs.readFileSync(`${stem}.bin`)));
}
