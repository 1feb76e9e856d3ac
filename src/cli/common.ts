// What every command shares: the backend flag, reading and writing checkpoints, and turning an
// error into one line and an exit code.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { isBackendName, type BackendName } from '../core/backend';
import { type CheckpointManifest, deserializePolicy, serializePolicy } from '../core/checkpoint';
import { bundledCheckpointStem, checkpointFiles } from '../core/checkpointFiles';
import type { ModelScale } from '../core/model/config';
import type { Policy } from '../core/model/transformer';
import { useNodeBackend } from './nodeWebgpu';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** An error the user caused (bad flag, missing file): printed as one line, exit code 2. */
export class UsageError extends Error {}

/**
 * A command's flags, strictly: an unknown flag or a missing value is a UsageError (one line, exit
 * 2). `--help` or `-h` anywhere a flag can stand prints `usage` and exits 0 before anything starts.
 */
export function parseCommandArgs<const T extends ParseArgsOptionsConfig>(options: T, usage: string, args = process.argv.slice(2)) {
  return parseCommandLine(options, usage, args, false).values;
}

/** parseCommandArgs for a command that also takes operands (e.g. a folder): values and positionals. */
export function parseCommandLine<const T extends ParseArgsOptionsConfig>(options: T, usage: string, args = process.argv.slice(2), allowPositionals = true) {
  // A lenient pass first, so that `--help` after an unknown flag still shows the usage.
  const { tokens } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((token) => token.kind === 'option' && token.name === 'help')) {
    process.stdout.write(`${usage.trimEnd()}\n`);
    process.exit(0);
  }
  try {
    return parseArgs({ args, options, allowPositionals });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** wasm is the default in Node: the fastest CPU backend tfjs has without native add-ons. */
export const DEFAULT_NODE_BACKEND: BackendName = 'wasm';

export async function startBackend(name: string | undefined): Promise<string> {
  const backend = name ?? DEFAULT_NODE_BACKEND;
  if (!isBackendName(backend) || backend === 'webgl') {
    throw new UsageError(`--backend: "${backend}" is not one of cpu, wasm, webgpu`);
  }
  const info = await useNodeBackend(backend);
  return info.adapter ? `${info.name} (${info.adapter})` : info.name;
}

/** The stem of the bundled warm-start checkpoint of a scale and task, as a path under public/. */
export function bundledCheckpoint(scale: ModelScale, task?: string): string {
  return path.join(REPO_ROOT, 'public', bundledCheckpointStem(scale, task));
}

export function loadPolicy(stem: string): { policy: Policy; manifest: CheckpointManifest } {
  const paths = checkpointFiles(stem);
  if (!fs.existsSync(paths.manifest)) {
    throw new UsageError(`no checkpoint at ${paths.manifest} (make one with: npm run warmstart -- --scale <scale> --task <task>)`);
  }
  const manifest = JSON.parse(fs.readFileSync(paths.manifest, 'utf8')) as CheckpointManifest;
  const bytes = new Uint8Array(fs.readFileSync(paths.weights));
  return { policy: deserializePolicy(manifest, bytes), manifest };
}

export async function savePolicy(stem: string, policy: Policy, provenance: Record<string, unknown>): Promise<void> {
  const { manifest, bytes } = await serializePolicy(policy, provenance);
  const paths = checkpointFiles(stem);
  fs.mkdirSync(path.dirname(paths.manifest), { recursive: true });
  fs.writeFileSync(paths.manifest, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(paths.weights, bytes);
}

export function formatNumber(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '-' : value.toFixed(digits);
}

/** Run a command's main: usage errors exit 2 with one line, anything else exits 1. */
export function runMain(main: () => Promise<void>): void {
  main()
    .then(() => process.exit(0))
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`error: ${message.split('\n')[0]}\n`);
      if (!(error instanceof UsageError) && process.env.DEBUG) console.error(error);
      process.exit(error instanceof UsageError ? 2 : 1);
    });
}

export { tf };
