// An experiment's summary, computed from its run files alone (the CLI's JSONL step reports and
// held-out evaluations), so the command line and the page that opens a results folder agree.
// Per variant: held-out accuracy (mean@k) and pass@k at the end and averaged over evaluations,
// each a mean with a 95% interval over seeds; steps to a target accuracy; entropy; what the dual
// filter dropped; tool use and failures by cause; wall time; and each variant's paired difference
// against the baseline (same seed, same prompt stream).

import type { Evaluation } from '../core/evaluate';
import type { StepMetricKey, StepMetrics } from '../core/metrics';
import type { DiscardReason } from '../core/tao/types';
import type { ExperimentPlan, RunSpec } from './plan';
import { mean, meanCI, pairedDifference, stepsToTarget, type MeanCI, type PairedCI } from './stats';

/** The parts of a run file a summary reads. */
export interface RunFile {
  /** Step metrics in step order (trajectories are not needed here). */
  steps: { step: number; skipped: boolean; metrics: StepMetrics }[];
  evaluations: ({ step: number } & Evaluation)[];
  /** Present once the run finished. */
  end?: { wallSeconds: number };
}

/** Reads a run's JSONL text; a line that is not JSON names its line number. */
export function parseRunFile(text: string): RunFile {
  const file: RunFile = { steps: [], evaluations: [] };
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch {
      throw new Error(`line ${i + 1} is not JSON`);
    }
    if (record.type === 'step') {
      file.steps.push({ step: record.step as number, skipped: record.skipped as boolean, metrics: record.metrics as StepMetrics });
    } else if (record.type === 'evaluation') {
      file.evaluations.push(record as unknown as { step: number } & Evaluation);
    } else if (record.type === 'end') {
      file.end = { wallSeconds: record.wallSeconds as number };
    }
  });
  return file;
}

/** Discard reasons of the dual filter, as step-metric names. */
export const DISCARD_METRICS = {
  all_tools_failed: 'filter/all_tools_failed',
  group_all_correct: 'filter/group_all_correct',
  group_all_wrong: 'filter/group_all_wrong',
} as const satisfies Record<DiscardReason, StepMetricKey>;

/** Final entropy is the mean over this many last steps: one step's entropy is noisy. */
export const FINAL_STEPS = 5;

export interface VariantSummary {
  variant: string;
  /** Finished runs summarised, and their seeds. */
  runs: number;
  seeds: number[];
  /** Held-out sampled accuracy (mean@k) at the last evaluation. */
  finalAccuracy: MeanCI;
  finalPassAtK: MeanCI;
  /** Averaged over the evaluations after step 0 (area under the learning curve). */
  meanAccuracy: MeanCI;
  meanPassAtK: MeanCI;
  /** First evaluated step reaching the target accuracy: runs that reached it, and their mean step. */
  stepsToTarget: { reached: number; meanStep: number | null };
  /** Mean over the last FINAL_STEPS steps' reports. */
  entropy: MeanCI;
  postToolEntropy: MeanCI;
  /** Fraction of generated trajectories dropped for each reason, averaged over all steps. */
  discarded: Record<keyof typeof DISCARD_METRICS, MeanCI>;
  /** At the last evaluation: trajectories with a call, and calls failed by whose fault. */
  callRate: MeanCI;
  policyFailureRate: MeanCI;
  environmentFailureRate: MeanCI;
  /** Over training: calls failed by the policy's fault, averaged over all steps. */
  trainingPolicyFailureRate: MeanCI;
  wallSeconds: MeanCI;
  /** Paired by seed against the baseline; null for the baseline itself or without shared seeds. */
  vsBaseline: { finalAccuracy: PairedCI; meanAccuracy: PairedCI; finalPassAtK: PairedCI } | null;
  /** Held-out accuracy and pass@k at each evaluated step, over seeds. */
  curve: { step: number; accuracy: MeanCI; passAtK: MeanCI }[];
}

export interface ExperimentSummary {
  kind: ExperimentPlan['kind'];
  condition: string;
  baseline: string;
  /** Accuracy that "steps to target" counts to. */
  target: number;
  /** Samples per held-out prompt (the k of mean@k and pass@k) and prompts evaluated. */
  samples: number;
  evalPrompts: number;
  steps: number;
  scale: string;
  sweep?: ExperimentPlan['sweep'];
  variants: VariantSummary[];
  /** Runs of the plan with no finished run file, and why when known. */
  missing: { id: string; reason: string }[];
}

/** One finished run reduced to the numbers the summary aggregates. */
interface RunNumbers {
  seed: number;
  finalAccuracy: number;
  finalPassAtK: number;
  meanAccuracy: number;
  meanPassAtK: number;
  stepsToTarget: number | null;
  entropy: number;
  postToolEntropy: number;
  discarded: Record<keyof typeof DISCARD_METRICS, number>;
  callRate: number;
  policyFailureRate: number;
  environmentFailureRate: number;
  trainingPolicyFailureRate: number;
  wallSeconds: number;
  curve: Map<number, { accuracy: number; passAtK: number }>;
}

/** Mean of the finite values; NaN where there is none (a metric absent from older run files counts as none). */
function meanOf<T>(items: T[], value: (item: T) => number | undefined): number {
  const values = items.map(value).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return values.length === 0 ? NaN : mean(values);
}

function runNumbers(spec: RunSpec, file: RunFile, target: number): RunNumbers {
  const evaluations = [...file.evaluations].sort((a, b) => a.step - b.step);
  const last = evaluations.at(-1)!;
  const later = evaluations.filter((e) => e.step > 0);
  const tail = file.steps.slice(-FINAL_STEPS);
  return {
    seed: spec.seed,
    finalAccuracy: last.sampledAccuracy,
    finalPassAtK: last.passAtK,
    meanAccuracy: meanOf(later, (e) => e.sampledAccuracy),
    meanPassAtK: meanOf(later, (e) => e.passAtK),
    stepsToTarget: stepsToTarget(evaluations.map((e) => ({ step: e.step, value: e.sampledAccuracy })), target),
    entropy: meanOf(tail, (s) => s.metrics['entropy/mean']),
    postToolEntropy: meanOf(tail, (s) => s.metrics['entropy/post_tool_mean']),
    discarded: Object.fromEntries(
      Object.entries(DISCARD_METRICS).map(([reason, metric]) => [reason, meanOf(file.steps, (s) => s.metrics[metric])]),
    ) as RunNumbers['discarded'],
    callRate: last.callRate,
    policyFailureRate: last.callFailureRate - last.environmentFailureRate,
    environmentFailureRate: last.environmentFailureRate,
    trainingPolicyFailureRate: meanOf(file.steps, (s) => s.metrics['tools/failure_policy']),
    wallSeconds: file.end!.wallSeconds,
    curve: new Map(evaluations.map((e) => [e.step, { accuracy: e.sampledAccuracy, passAtK: e.passAtK }])),
  };
}

/** meanCI over the runs' finite values (NaN where a run had none, e.g. no post-tool token). */
function ciOf(runs: RunNumbers[], value: (run: RunNumbers) => number): MeanCI {
  const values = runs.map(value).filter(Number.isFinite);
  return values.length === 0 ? { mean: NaN, low: NaN, high: NaN, halfWidth: NaN, n: 0 } : meanCI(values);
}

/** Differences a - b over the seeds both variants finished. */
function paired(a: RunNumbers[], b: RunNumbers[], value: (run: RunNumbers) => number): PairedCI | null {
  const bySeed = new Map(b.map((run) => [run.seed, run]));
  const shared = a.filter((run) => bySeed.has(run.seed));
  if (shared.length === 0) return null;
  return pairedDifference(shared.map(value), shared.map((run) => value(bySeed.get(run.seed)!)));
}

/**
 * The summary of an experiment from its plan and the run files found (by run id). A run whose
 * file is missing, unfinished or failed is listed under `missing` and left out of every figure.
 */
export function summarise(
  plan: ExperimentPlan,
  files: Map<string, RunFile>,
  options: { target: number; failures?: Map<string, string> },
): ExperimentSummary {
  const missing: ExperimentSummary['missing'] = [];
  const byVariant = new Map<string, RunNumbers[]>(plan.variants.map((v) => [v, []]));
  for (const spec of plan.runs) {
    const file = files.get(spec.id);
    if (!file?.end || file.evaluations.length === 0) {
      missing.push({ id: spec.id, reason: options.failures?.get(spec.id) ?? (file ? 'unfinished' : 'no run file') });
      continue;
    }
    byVariant.get(spec.variant)!.push(runNumbers(spec, file, options.target));
  }
  const baseline = byVariant.get(plan.baseline) ?? [];
  const first = plan.runs[0]?.config;
  const variants = plan.variants.map((variant): VariantSummary => {
    const runs = byVariant.get(variant)!;
    const steps = [...new Set(runs.flatMap((run) => [...run.curve.keys()]))].sort((a, b) => a - b);
    const reached = runs.map((run) => run.stepsToTarget).filter((s): s is number => s !== null);
    const against = variant === plan.baseline ? null : baseline;
    const finalAccuracy = against && paired(runs, against, (r) => r.finalAccuracy);
    return {
      variant,
      runs: runs.length,
      seeds: runs.map((run) => run.seed),
      finalAccuracy: ciOf(runs, (r) => r.finalAccuracy),
      finalPassAtK: ciOf(runs, (r) => r.finalPassAtK),
      meanAccuracy: ciOf(runs, (r) => r.meanAccuracy),
      meanPassAtK: ciOf(runs, (r) => r.meanPassAtK),
      stepsToTarget: { reached: reached.length, meanStep: reached.length ? mean(reached) : null },
      entropy: ciOf(runs, (r) => r.entropy),
      postToolEntropy: ciOf(runs, (r) => r.postToolEntropy),
      discarded: Object.fromEntries(
        Object.keys(DISCARD_METRICS).map((reason) => [reason, ciOf(runs, (r) => r.discarded[reason as keyof typeof DISCARD_METRICS])]),
      ) as VariantSummary['discarded'],
      callRate: ciOf(runs, (r) => r.callRate),
      policyFailureRate: ciOf(runs, (r) => r.policyFailureRate),
      environmentFailureRate: ciOf(runs, (r) => r.environmentFailureRate),
      trainingPolicyFailureRate: ciOf(runs, (r) => r.trainingPolicyFailureRate),
      wallSeconds: ciOf(runs, (r) => r.wallSeconds),
      vsBaseline:
        against && finalAccuracy
          ? {
              finalAccuracy,
              meanAccuracy: paired(runs, against, (r) => r.meanAccuracy)!,
              finalPassAtK: paired(runs, against, (r) => r.finalPassAtK)!,
            }
          : null,
      curve: steps.map((step) => {
        const at = runs.map((run) => run.curve.get(step)).filter((point) => point !== undefined);
        return { step, accuracy: meanCI(at.map((p) => p.accuracy)), passAtK: meanCI(at.map((p) => p.passAtK)) };
      }),
    };
  });
  return {
    kind: plan.kind,
    condition: plan.condition,
    baseline: plan.baseline,
    target: options.target,
    samples: first?.evalSamples ?? 0,
    evalPrompts: first?.evalPrompts ?? 0,
    steps: plan.steps,
    scale: plan.scale,
    sweep: plan.sweep,
    variants,
    missing,
  };
}
