// Reading results folders written by `npm run experiment` / `npm run sweep` from a list of files
// (a folder picked or dropped on the page): each folder with a plan.json and its runs/*.jsonl
// becomes one summary, computed from the run files as the command line computes it.

import type { ExperimentPlan } from './plan';
import { parseRunFile, summarise, type ExperimentSummary, type RunFile } from './summary';

/** A file with its path inside what was picked, e.g. "arithmetic/runs/grpo-seed1.jsonl". */
export interface PickedFile {
  path: string;
  text: () => Promise<string>;
}

/** Run files over this size are refused: a run of the default size is well under 1 MB without rollouts. */
export const MAX_RUN_FILE_BYTES = 64 * 1024 * 1024;

export interface LoadedExperiment {
  folder: string;
  summary: ExperimentSummary;
}

function parentFolder(path: string): string {
  const cut = path.lastIndexOf('/');
  return cut < 0 ? '' : path.slice(0, cut);
}

function checkPlan(value: unknown, where: string): ExperimentPlan {
  const plan = value as ExperimentPlan;
  const ok =
    typeof plan === 'object' && plan !== null && (plan.kind === 'experiment' || plan.kind === 'sweep') &&
    Array.isArray(plan.variants) && Array.isArray(plan.runs) && typeof plan.baseline === 'string' &&
    plan.runs.every((run) => typeof run?.id === 'string' && typeof run.variant === 'string' && typeof run.seed === 'number');
  if (!ok) throw new Error(`${where} is not an experiment plan (written by npm run experiment or npm run sweep)`);
  return plan;
}

/** JSON has no infinity: an interval of one seed was written with null bounds; they are unbounded. */
function reviveIntervals(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reviveIntervals);
  if (typeof value !== 'object' || value === null) return value;
  const object = Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, reviveIntervals(inner)]));
  if ('mean' in object && 'halfWidth' in object && 'n' in object) {
    if (object.low === null) object.low = -Infinity;
    if (object.high === null) object.high = Infinity;
    if (object.halfWidth === null) object.halfWidth = Infinity;
    if (object.mean === null) object.mean = NaN;
  }
  return object;
}

function checkSummary(value: unknown, where: string): ExperimentSummary {
  const summary = reviveIntervals(value) as ExperimentSummary;
  const ok =
    typeof summary === 'object' && summary !== null && (summary.kind === 'experiment' || summary.kind === 'sweep') &&
    typeof summary.condition === 'string' && Array.isArray(summary.variants) && Array.isArray(summary.missing) &&
    summary.variants.every((v) => typeof v?.variant === 'string' && typeof v.finalAccuracy?.mean === 'number' && Array.isArray(v.curve));
  if (!ok) throw new Error(`${where} is not an experiment summary (written by npm run experiment or npm run sweep)`);
  return summary;
}

/**
 * Every experiment among the files, in folder order. Throws with a message naming the file when
 * none is found or a file is malformed; a folder's missing run files are listed in its summary.
 */
export async function loadExperiments(files: PickedFile[], sizes: Map<string, number>, target = 0.8): Promise<LoadedExperiment[]> {
  const named = (name: string) => files.filter((file) => file.path === name || file.path.endsWith(`/${name}`));
  const plans = named('plan.json');
  const planFolders = new Set(plans.map((file) => parentFolder(file.path)));
  // A folder holding only its summary (as committed beside the README) is shown from the summary.
  // An evidence folder's summary.json holds its comparisons; its per-run tables are in runs-summary.json.
  const summaries = [...named('summary.json'), ...named('runs-summary.json')].filter((file) => !planFolders.has(parentFolder(file.path)));
  if (plans.length === 0 && summaries.length === 0) {
    throw new Error('no plan.json or summary.json among the files: open a results folder written by npm run experiment or npm run sweep');
  }
  const loaded: LoadedExperiment[] = [];
  for (const file of summaries) {
    let raw: unknown;
    try {
      raw = JSON.parse(await file.text());
    } catch {
      throw new Error(`${file.path} is not JSON`);
    }
    if ((raw as { kind?: unknown } | null)?.kind === 'evidence') continue;
    loaded.push({ folder: parentFolder(file.path) || '(picked folder)', summary: checkSummary(raw, file.path) });
  }
  for (const planFile of plans.sort((a, b) => a.path.localeCompare(b.path))) {
    const folder = parentFolder(planFile.path);
    let raw: unknown;
    try {
      raw = JSON.parse(await planFile.text());
    } catch {
      throw new Error(`${planFile.path} is not JSON`);
    }
    const plan = checkPlan(raw, planFile.path);
    const runs = new Map<string, RunFile>();
    const prefix = folder ? `${folder}/runs/` : 'runs/';
    for (const run of plan.runs) {
      const file = files.find((f) => f.path === `${prefix}${run.id}.jsonl`);
      if (!file) continue;
      if ((sizes.get(file.path) ?? 0) > MAX_RUN_FILE_BYTES) throw new Error(`${file.path} is larger than ${MAX_RUN_FILE_BYTES / 2 ** 20} MB`);
      try {
        runs.set(run.id, parseRunFile(await file.text()));
      } catch (error) {
        throw new Error(`${file.path}: ${(error as Error).message}`);
      }
    }
    loaded.push({ folder: folder || '(picked folder)', summary: summarise(plan, runs, { target }) });
  }
  return loaded.sort((a, b) => a.folder.localeCompare(b.folder));
}
