// Runs an experiment plan in parallel worker threads, resumable: a run whose file is complete is
// not run again, a crashed run is reported and the others finish, and the summary (summary.json,
// summary.md, SVG plots, metrics.csv) is rewritten from whatever run files exist at the end.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { evalsCsv, parseEvalsCsv, runEvalRows, type EvalRow } from '../experiment/evidence';
import { evidenceMarkdown, evidencePlots, evidenceSummary, type EvidenceSummary } from '../experiment/evidenceReport';
import type { ExperimentPlan, PlanOptions, PlannedComparison, RunSpec } from '../experiment/plan';
import { summaryMarkdown, summaryPlots } from '../experiment/report';
import { metricsCsvHeader, metricsCsvLine } from '../runs/metricsCsv';
import { parseRunFile, summarise, type ExperimentSummary, type RunFile } from '../experiment/summary';
import { bundledCheckpoint, parseCommandArgs, UsageError } from './common';
import type { RolloutsKept, ToRunner, ToWorker } from './experimentWorker';
import { setVulkanEnvironment } from './nodeWebgpu';

/** Flags both `experiment` and `sweep` take. */
export const COMMON_FLAGS = {
  seeds: { type: 'string', default: '6' },
  'first-seed': { type: 'string', default: '1' },
  steps: { type: 'string', default: '40' },
  scale: { type: 'string', default: 'tiny' },
  task: { type: 'string', default: 'arithmetic' },
  flaky: { type: 'string', default: '0' },
  backend: { type: 'string', default: 'wasm' },
  jobs: { type: 'string', default: '2' },
  out: { type: 'string' },
  checkpoint: { type: 'string' },
  checkpoints: { type: 'string' },
  'final-eval-prompts': { type: 'string' },
  primary: { type: 'string' },
  aa: { type: 'string' },
  lr: { type: 'string' },
  'eval-every': { type: 'string', default: '10' },
  'eval-prompts': { type: 'string', default: '128' },
  'eval-samples': { type: 'string', default: '8' },
  target: { type: 'string', default: '0.8' },
  rollouts: { type: 'string', default: 'last' },
  config: { type: 'string' },
} as const;

/** The help text of COMMON_FLAGS, for both commands' --help. */
export const COMMON_USAGE = `  --seeds N            seeds per variant (default 6), from --first-seed N (default 1)
  --steps N            RL steps per run (default 40)
  --scale NAME         model scale (default tiny)
  --task NAME          task family (default arithmetic)
  --flaky P            probability that a tool call times out (default 0)
  --checkpoint STEM    start every run from STEM.json and STEM.bin (default: the bundled one)
  --checkpoints A,B,C  warm starts: seed i starts from the i-th in turn (paired runs share one)
  --primary V:B,...    comparisons named before running (variant:baseline); the folder then
                       gets evals.csv, comparisons.json and summary.* of the paired tests
  --aa VARIANT         run VARIANT twice under two labels (VARIANT~aa, other seeds): an A/A
                       control of the false positive rate, added to the primary comparisons
  --final-eval-prompts N  held-out prompts of the last evaluation (default --eval-prompts)
  --backend NAME       cpu, wasm or webgpu (default wasm)
  --jobs N             worker threads (default 2)
  --out DIR            results folder (required): runs/, summary.json, summary.md, SVG plots
  --lr X               learning rate of every variant
  --eval-every N       held-out evaluation every N steps (default 10; 0: first and last only)
  --eval-prompts N     held-out prompts per evaluation (default 128)
  --eval-samples N     samples per held-out prompt (default 8)
  --target X           accuracy that "steps to target" counts to (default 0.8)
  --rollouts WHICH     full rollouts kept: all, last or none (default last)
  --config JSON        any config fields of every variant
  -h, --help           this text`;

export type CommonValues = { [K in keyof typeof COMMON_FLAGS]: string | undefined };

export function integerFlag(name: string, raw: string | undefined, min: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name}: "${raw}" is not an integer >= ${min}`);
  return value;
}

export function numberFlag(name: string, raw: string | undefined, min: number, max: number): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new UsageError(`--${name}: "${raw}" is not a number in [${min}, ${max}]`);
  }
  return value;
}

/** The plan options the two commands share, from their flags. */
export function commonPlanOptions(values: CommonValues): Omit<PlanOptions, 'kind' | 'presets' | 'sweep'> {
  const common: Record<string, unknown> = {};
  if (values.config !== undefined) {
    try {
      Object.assign(common, JSON.parse(values.config));
    } catch (error) {
      throw new UsageError(`--config: not valid JSON (${(error as Error).message})`);
    }
  }
  common.evalEvery = integerFlag('eval-every', values['eval-every'], 0);
  common.evalPrompts = integerFlag('eval-prompts', values['eval-prompts'], 1);
  common.evalSamples = integerFlag('eval-samples', values['eval-samples'], 1);
  if (values.lr !== undefined) common.learningRate = numberFlag('lr', values.lr, 1e-8, 0.1);
  const task = values.task!;
  const scale = values.scale!;
  if (values.checkpoint !== undefined && values.checkpoints !== undefined) throw new UsageError('--checkpoint and --checkpoints: give one or the other');
  const checkpoints = values.checkpoints?.split(',').map((stem) => stem.trim()) ?? [values.checkpoint ?? bundledCheckpoint(scale as never, task)];
  if (checkpoints.some((stem) => stem === '')) throw new UsageError(`--checkpoints: "${values.checkpoints}" is not a comma-separated list of checkpoint stems`);
  const primary = values.primary?.split(',').map((pair) => {
    const [variant, baseline, ...rest] = pair.split(':').map((name) => name.trim());
    if (!variant || !baseline || rest.length > 0) throw new UsageError(`--primary: "${pair}" is not variant:baseline`);
    return { variant, baseline };
  });
  return {
    condition: { task, flaky: numberFlag('flaky', values.flaky, 0, 1) },
    seeds: integerFlag('seeds', values.seeds, 1),
    firstSeed: integerFlag('first-seed', values['first-seed'], 0),
    steps: integerFlag('steps', values.steps, 1),
    scale,
    checkpoints,
    finalEvalPrompts: values['final-eval-prompts'] === undefined ? undefined : integerFlag('final-eval-prompts', values['final-eval-prompts'], 1),
    primary,
    aa: values.aa,
    backend: values.backend!,
    common,
  };
}

export interface RunnerOptions {
  out: string;
  jobs: number;
  rollouts: RolloutsKept;
  target: number;
  /** The command line, quoted in summary.md so the tables can be regenerated. */
  command: string;
}

export function runnerOptions(values: CommonValues, command: string): RunnerOptions {
  if (!values.out) throw new UsageError('--out: name a results folder, e.g. --out results/arithmetic');
  const rollouts = values.rollouts as RolloutsKept;
  if (!['all', 'last', 'none'].includes(rollouts)) throw new UsageError(`--rollouts: "${values.rollouts}" is not one of all, last, none`);
  return { out: values.out, jobs: integerFlag('jobs', values.jobs, 1), rollouts, target: numberFlag('target', values.target, 0, 1), command };
}

export function parseCommand(options: Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>, usage: string) {
  return parseCommandArgs(options, usage) as Record<string, string | undefined>;
}

function runFile(out: string, id: string): string {
  return path.join(out, 'runs', `${id}.jsonl`);
}

function errorFile(out: string, id: string): string {
  return path.join(out, 'runs', `${id}.error.txt`);
}

/** A finished run's file: exists and ends with its 'end' record. */
function isFinished(file: string): boolean {
  if (!fs.existsSync(file)) return false;
  const text = fs.readFileSync(file, 'utf8').trimEnd();
  return text.slice(text.lastIndexOf('\n') + 1).startsWith('{"type":"end"');
}

/**
 * The plan already in the folder must be the same experiment (same runs, same configs): its
 * finished runs are reused, and a different plan is refused rather than mixed in.
 */
function checkResumable(out: string, plan: ExperimentPlan): void {
  const file = path.join(out, 'plan.json');
  if (!fs.existsSync(file)) return;
  const existing = JSON.parse(fs.readFileSync(file, 'utf8')) as ExperimentPlan;
  const key = (p: ExperimentPlan) =>
    JSON.stringify({ runs: p.runs.map((run) => ({ ...run, checkpoint: path.basename(run.checkpoint ?? p.checkpoint) })), finalEvalPrompts: p.finalEvalPrompts });
  if (key(existing) !== key(plan)) {
    throw new UsageError(`${out} holds a different experiment (its plan.json differs in runs or settings): choose another --out, or delete the folder`);
  }
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** A worker thread for the runs: the TypeScript source under tsx, or the bundled file beside this one. */
function startWorker(backend: string): Worker {
  const here = import.meta.url;
  if (backend === 'webgpu') setVulkanEnvironment();
  const env = { ...process.env, TAO_EXPERIMENT_BACKEND: backend };
  if (here.endsWith('.ts')) {
    const entry = new URL('./experimentWorker.ts', here).href;
    const boot = `import { tsImport } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; await tsImport(${JSON.stringify(entry)}, ${JSON.stringify(here)});`;
    return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { env });
  }
  return new Worker(new URL(`./experimentWorker${path.extname(new URL(here).pathname)}`, here), { env });
}

/** Runs what is left of the plan, then writes the summary; returns it. */
export async function runPlan(plan: ExperimentPlan, options: RunnerOptions): Promise<ExperimentSummary> {
  const { out } = options;
  checkResumable(out, plan);
  fs.mkdirSync(path.join(out, 'runs'), { recursive: true });
  fs.writeFileSync(path.join(out, 'plan.json'), `${JSON.stringify(plan, null, 2)}\n`);
  if (plan.comparisons.length > 0) writeComparisons(out, plan, options.command);
  // A run is done when its file is complete, or when evals.csv (committed, carried to another
  // machine) already holds its last evaluation: the evidence needs nothing more of it.
  const recorded = recordedRuns(out, plan);
  // Seed by seed across variants, so that a plan stopped part way leaves complete pairs.
  const todo = plan.runs
    .filter((run) => !isFinished(runFile(out, run.id)) && !recorded.has(run.id))
    .sort((a, b) => a.seed - b.seed || plan.variants.indexOf(a.variant) - plan.variants.indexOf(b.variant));
  const reused = plan.runs.length - todo.length;
  console.log(
    `${plan.kind} ${plan.condition}: ${plan.variants.length} variants x ${plan.seeds.length} seeds = ${plan.runs.length} runs of ${plan.steps} steps` +
      `${reused > 0 ? ` (${reused} already finished, resumed)` : ''}; ${Math.min(options.jobs, todo.length)} worker threads on ${plan.backend}`,
  );
  const failures = new Map<string, string>();
  for (const run of plan.runs) {
    const file = errorFile(out, run.id);
    if (fs.existsSync(file) && todo.includes(run)) fs.rmSync(file);
  }
  await runInWorkers(plan, todo, options, failures, reused);
  return writeSummary(plan, options, failures);
}

async function runInWorkers(plan: ExperimentPlan, todo: RunSpec[], options: RunnerOptions, failures: Map<string, string>, reused: number): Promise<void> {
  const total = plan.runs.length;
  const queue = [...todo];
  const started = performance.now();
  let done = 0;
  const runSeconds: number[] = [];
  const running = new Map<string, number>(); // run id -> last step reported
  const progress = () => {
    const elapsed = (performance.now() - started) / 1000;
    const perRun = runSeconds.length ? runSeconds.reduce((a, b) => a + b, 0) / runSeconds.length : NaN;
    const left = queue.length + running.size;
    const eta = (perRun * left) / Math.max(1, Math.min(options.jobs, left));
    const steps = [...running.values()].join(',');
    console.log(
      `runs ${reused + done}/${total} done${failures.size ? ` (${failures.size} failed)` : ''}, ${running.size} running${steps ? ` (at steps ${steps})` : ''}, ` +
        `elapsed ${duration(elapsed)}, ~${duration(eta)} left`,
    );
  };
  const ticker = setInterval(progress, 30_000);
  const lane = async (): Promise<void> => {
    while (queue.length > 0) {
      const worker = startWorker(plan.backend);
      // One worker serves runs until it dies; a crash fails its run and a fresh worker goes on.
      await new Promise<void>((resolve, reject) => {
        let current: RunSpec | undefined;
        let ready = false;
        const next = () => {
          current = queue.shift();
          if (!current) {
            void worker.terminate().then(() => resolve());
            return;
          }
          running.set(current.id, 0);
          const message: ToWorker = { type: 'run', spec: current, file: runFile(options.out, current.id), rollouts: options.rollouts, finalEvalPrompts: plan.finalEvalPrompts };
          worker.postMessage(message);
        };
        const fail = (error: string) => {
          if (!current) return;
          failures.set(current.id, error);
          fs.writeFileSync(errorFile(options.out, current.id), `${error}\n`);
          console.log(`run ${current.id} FAILED: ${error}`);
          running.delete(current.id);
          current = undefined;
        };
        worker.on('message', (message: ToRunner) => {
          if (message.type === 'ready') {
            ready = true;
            next();
          }
          else if (message.type === 'progress') running.set(message.id, message.step);
          else if (message.type === 'done') {
            running.delete(message.id);
            done += 1;
            runSeconds.push(message.wallSeconds);
            console.log(`run ${message.id} finished in ${duration(message.wallSeconds)}`);
            progress();
            next();
          } else if (message.type === 'failed') {
            fail(message.error);
            next();
          }
        });
        let crash = 'the worker thread exited unexpectedly';
        worker.on('error', (error: Error) => {
          crash = `the worker crashed: ${error.message}`;
          fail(crash);
        });
        worker.on('exit', () => {
          // A worker that cannot even start would fail every run the same way: stop instead.
          if (!ready) reject(new Error(`a worker thread could not start (${crash})`));
          fail(crash);
          resolve();
        });
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.jobs, todo.length) }, lane));
  } finally {
    clearInterval(ticker);
  }
}

/** Reads every finished run file and writes summary.json, summary.md and the SVG plots. */
export function writeSummary(plan: ExperimentPlan, options: Pick<RunnerOptions, 'out' | 'target' | 'command'>, failures = new Map<string, string>()): ExperimentSummary {
  const { out } = options;
  const files = new Map<string, RunFile>();
  for (const run of plan.runs) {
    const file = runFile(out, run.id);
    if (fs.existsSync(file)) files.set(run.id, parseRunFile(fs.readFileSync(file, 'utf8')));
    const error = errorFile(out, run.id);
    if (!failures.has(run.id) && fs.existsSync(error)) failures.set(run.id, fs.readFileSync(error, 'utf8').trim());
  }
  writeMetricsCsv(out, plan, files);
  const previous = previousEvalRows(out);
  const recorded = recordedRuns(out, plan, previous);
  const summarised = summarise(plan, files, { target: options.target, failures });
  // Runs kept only as evals.csv rows are done for the evidence, though their per-run tables are gone.
  const summary = { ...summarised, missing: summarised.missing.filter((run) => !recorded.has(run.id)) };
  // With comparisons named in the plan, summary.* is the evidence (from evals.csv) and the
  // per-run tables move to runs-summary.*.
  const evidence = plan.comparisons.length > 0;
  const prefix = evidence ? 'runs-' : '';
  fs.writeFileSync(path.join(out, `${prefix}summary.json`), `${JSON.stringify(summary, null, 2)}\n`);
  fs.writeFileSync(path.join(out, `${prefix}summary.md`), summaryMarkdown(summary, options.command));
  const plots = summaryPlots(summary);
  for (const [name, svg] of plots) fs.writeFileSync(path.join(out, `${prefix}${name}`), svg);
  console.log(`wrote ${path.join(out, `${prefix}summary.md`)}, ${prefix}summary.json and ${plots.size} plots`);
  {
    // evals.csv for every plan (a sweep run now may be compared later, combined with other folders).
    const rows = plan.runs.flatMap((run) => {
      const file = files.get(run.id);
      if (!file?.end) return previous.filter((row) => row.variant === run.variant && row.seed === run.seed && row.warm_start === run.warmStart);
      return runEvalRows({ variant: run.variant, seed: run.seed, warmStart: run.warmStart }, file.steps, file.evaluations);
    });
    fs.writeFileSync(path.join(out, 'evals.csv'), evalsCsv(rows));
    if (evidence) writeEvidence(out);
  }
  return summary;
}

/** metrics.csv: every step of every run file so far, one row each, led by its variant, seed and run id. */
function writeMetricsCsv(out: string, plan: ExperimentPlan, files: Map<string, RunFile>): void {
  const leading = ['variant', 'seed', 'run'];
  const lines = plan.runs.flatMap((run) =>
    (files.get(run.id)?.steps ?? []).map((step) => metricsCsvLine(step.step, step.metrics, [run.variant, run.seed, run.id])),
  );
  fs.writeFileSync(path.join(out, 'metrics.csv'), metricsCsvHeader(leading) + lines.join(''));
}

function previousEvalRows(out: string): EvalRow[] {
  const file = path.join(out, 'evals.csv');
  return fs.existsSync(file) ? parseEvalsCsv(fs.readFileSync(file, 'utf8')) : [];
}

/** Runs of the plan whose last evaluation is already in the folder's evals.csv. */
export function recordedRuns(out: string, plan: ExperimentPlan, rows = previousEvalRows(out)): Set<string> {
  const done = new Set(rows.map((row) => `${row.variant}/${row.seed}/${row.warm_start}/${row.step}`));
  return new Set(plan.runs.filter((run) => done.has(`${run.variant}/${run.seed}/${run.warmStart}/${run.steps}`)).map((run) => run.id));
}

/** The pre-registered comparisons of an evidence folder: written with the plan, before any run. */
export function writeComparisons(out: string, plan: ExperimentPlan, command: string): void {
  const file: ComparisonsFile = { condition: plan.condition, command, comparisons: plan.comparisons };
  fs.writeFileSync(path.join(out, 'comparisons.json'), `${JSON.stringify(file, null, 2)}\n`);
}

/** summary.json, summary.md and the plots of an evidence folder from its evals.csv and comparisons.json. */
export function writeEvidence(out: string): EvidenceSummary {
  const read = (name: string) => {
    const file = path.join(out, name);
    if (!fs.existsSync(file)) throw new UsageError(`${out} has no ${name}: not an evidence folder (npm run experiment with --primary or --aa writes one)`);
    return fs.readFileSync(file, 'utf8');
  };
  const planned = JSON.parse(read('comparisons.json')) as ComparisonsFile;
  const rows = parseEvalsCsv(read('evals.csv'));
  const summary = evidenceSummary(planned.condition, rows, planned.comparisons);
  fs.writeFileSync(path.join(out, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  fs.writeFileSync(path.join(out, 'summary.md'), evidenceMarkdown(summary, planned.command));
  for (const [name, svg] of evidencePlots(rows)) fs.writeFileSync(path.join(out, name), svg);
  console.log(`wrote ${path.join(out, 'summary.md')}, summary.json and plots from evals.csv (${rows.length} rows)`);
  return summary;
}

interface ComparisonsFile {
  condition: string;
  command: string;
  comparisons: PlannedComparison[];
}
