// The training worker: tfjs and the trainer run here, never on the page's thread, so the page
// stays responsive however long a step takes. Commands and reports follow protocol.ts; the run
// itself is a TrainingSession.

import { useBackend } from '../core/backend';
import type { CheckpointManifest } from '../core/checkpoint';
import { bundledCheckpointStem, checkpointFiles } from '../core/checkpointFiles';
import type { ModelScale } from '../core/model/config';
import { HEARTBEAT_MS, type BackendChoice, type BackendReport, type FromWorker, type ToWorker } from './protocol';
import { probeRenderers, startPreferredBackend } from './backendChoice';
import { TrainingSession, type Checkpoint } from './session';

const scope = self as unknown as DedicatedWorkerGlobalScope;

/** The bundled warm-start checkpoint of a scale and task (its files: core/checkpointFiles.ts). */
async function loadBundledCheckpoint(scale: ModelScale, task: string): Promise<Checkpoint> {
  const files = checkpointFiles(bundledCheckpointStem(scale, task));
  const [manifestResponse, weightsResponse] = await Promise.all([
    fetchBundled(files.manifest, scale, task),
    fetchBundled(files.weights, scale, task),
  ]);
  let manifest: CheckpointManifest;
  try {
    manifest = (await manifestResponse.json()) as CheckpointManifest;
  } catch {
    throw missingCheckpoint(scale, task, `${files.manifest} is not JSON`);
  }
  return { manifest, bytes: new Uint8Array(await weightsResponse.arrayBuffer()) };
}

/** `file` is relative to the page's base URL, e.g. models/tiny.json. */
async function fetchBundled(file: string, scale: ModelScale, task: string): Promise<Response> {
  const url = new URL(`${import.meta.env.BASE_URL}${file}`, scope.location.href).href;
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new Error(`could not fetch ${file}: ${(error as Error).message}`);
  }
  if (!response.ok) throw missingCheckpoint(scale, task, `${file}: HTTP ${response.status}`);
  // Vite's dev and preview servers answer a missing file with the page itself.
  if ((response.headers.get('content-type') ?? '').includes('text/html')) throw missingCheckpoint(scale, task, `${file} is not there`);
  return response;
}

function missingCheckpoint(scale: ModelScale, task: string, why: string): Error {
  if (task === 'arithmetic') {
    return new Error(`this page has no bundled checkpoint for the ${scale} scale (${why}); choose a scale that ships one, e.g. tiny`);
  }
  return new Error(`this page has no bundled checkpoint for the ${scale} scale on the ${task} task (${why}); choose a scale or task that ships one, e.g. tiny`);
}

/**
 * The chosen backend, or for 'auto' the fastest this machine really has: the renderer strings are
 * read first, so that a software WebGPU or WebGL (SwiftShader, llvmpipe) ranks below wasm and cpu.
 * What was read and every reason in full go to the console; the page gets plain words.
 */
async function startBackend(choice: BackendChoice): Promise<BackendReport> {
  const probe = await probeRenderers();
  if (probe.seen.length > 0) console.info(`Renderers (read in ${Math.round(probe.ms)} ms): ${probe.seen.join('; ')}`);
  return startPreferredBackend(choice, (name) => useBackend(name), { software: probe.software, log: (line) => console.info(line) });
}

const session = new TrainingSession({
  post: (message: FromWorker) => scope.postMessage(message),
  loadCheckpoint: loadBundledCheckpoint,
  startBackend,
});

scope.addEventListener('message', (event: MessageEvent<ToWorker>) => {
  void session.handle(event.data);
});

// The page's watchdog expects word while the worker loads or trains (src/app/watchdog.ts).
setInterval(() => session.heartbeat(), HEARTBEAT_MS / 2);

// Handled here (preventDefault), so the page's worker.onerror sees only errors the worker could
// not report itself, such as the script failing to load.
scope.addEventListener('error', (event: ErrorEvent) => {
  event.preventDefault();
  session.reportCrash(`an uncaught error in the training worker: ${event.message || String(event.error)}`);
});

scope.addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
  event.preventDefault();
  const reason = event.reason instanceof Error ? event.reason.message : String(event.reason);
  session.reportCrash(`an unhandled rejection in the training worker: ${reason}`);
});

scope.addEventListener('messageerror', () => {
  session.reportCrash('the training worker received a message it could not read');
});
