// The metric registry against what is really recorded: the keys a trainer's step report carries
// (a step with an update and a skipped one) and an evaluation's fields. The charts' keys are
// checked in test/app/chartMetrics.test.ts.

import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { useBackend } from '../../src/core/backend';
import { resolveConfig } from '../../src/core/config';
import type { Evaluation } from '../../src/core/evaluate';
import {
  EVALUATION_METRICS,
  evaluationValue,
  formatMetric,
  METRICS,
  metricTitle,
  currentStepMetrics,
  RENAMED_STEP_METRICS,
  STEP_METRICS,
  type EvaluationField,
  type EvaluationMetricKey,
  type StepMetricKey,
} from '../../src/core/metrics';
import { MODEL_SCALES } from '../../src/core/model/config';
import { disposePolicy, initPolicy } from '../../src/core/model/transformer';
import type { ShapeMetrics } from '../../src/core/tao/types';
import { Trainer, type StepReport } from '../../src/core/trainer';
import { loadBundledTiny } from './engine/bundled';

const keysWhere = (test: (presence: string) => boolean) =>
  Object.entries(STEP_METRICS)
    .filter(([, spec]) => test(spec.presence))
    .map(([key]) => key)
    .sort();

async function oneStep(policy: ReturnType<typeof initPolicy>, overrides: Record<string, unknown>): Promise<StepReport> {
  const trainer = new Trainer(resolveConfig({ groupSize: 4, promptsPerStep: 2, ...overrides }), policy);
  try {
    return await trainer.runStep();
  } finally {
    trainer.dispose();
    disposePolicy(policy);
  }
}

describe('metric registry', () => {
  let updated: StepReport;
  let skipped: StepReport;

  beforeAll(async () => {
    await useBackend('wasm');
    // The warm-start policy with the group filter off: an update always happens.
    updated = await oneStep(loadBundledTiny(), { preset: 'grpo', seed: 3 });
    // Random weights answer nothing right: every group is all wrong, the filter drops it, no update.
    skipped = await oneStep(initPolicy(MODEL_SCALES.tiny, 1), { preset: 'tao-rl', seed: 3 });
  }, 60_000);

  it('holds every key a step report with an update carries, and no other step key (WebGPU and worker keys aside)', () => {
    expect(updated.skipped).toBe(false);
    expect(Object.keys(updated.metrics).sort()).toEqual(keysWhere((p) => p === 'step' || p === 'update'));
  });

  it('holds every key of a skipped step, which has none of the update keys', () => {
    expect(skipped.skipped).toBe(true);
    expect(Object.keys(skipped.metrics).sort()).toEqual(keysWhere((p) => p === 'step'));
  });

  it('types the shaping metrics and the step metrics by the registry, and covers every numeric evaluation field', () => {
    expectTypeOf<keyof ShapeMetrics>().toExtend<StepMetricKey>();
    expectTypeOf<keyof StepReport['metrics']>().toEqualTypeOf<StepMetricKey>();
    expectTypeOf<(typeof EVALUATION_METRICS)[EvaluationMetricKey]['field']>().toEqualTypeOf<EvaluationField>();
  });

  it('holds every numeric field of an evaluation, once', () => {
    const evaluation: Evaluation = {
      prompts: 4,
      samples: 2,
      sampledAccuracy: 0.5,
      passAtK: 0.75,
      greedyAccuracy: null,
      callRate: 1,
      callFailureRate: 0.25,
      environmentFailureRate: 0.125,
      allCallsFailedRate: 0,
      mixedGroups: 0.5,
      byKind: {},
    };
    const fields = Object.values(EVALUATION_METRICS).map((spec) => spec.field);
    expect(new Set(fields).size).toBe(fields.length);
    const numeric = Object.entries(evaluation)
      .filter(([field, value]) => (typeof value === 'number' || value === null) && field !== 'prompts' && field !== 'samples')
      .map(([field]) => field);
    expect([...fields].sort()).toEqual(expect.arrayContaining(numeric.sort()));
    expect(evaluationValue(evaluation, 'held_out/pass_at_k')).toBe(0.75);
    expect(evaluationValue(evaluation, 'held_out/greedy_accuracy')).toBeNull();
  });

  it('gives every metric a label, a short name and a one-line meaning; keys are not repeated across families', () => {
    const stepKeys = Object.keys(STEP_METRICS);
    expect(Object.keys(EVALUATION_METRICS).filter((key) => stepKeys.includes(key))).toEqual([]);
    for (const [key, spec] of Object.entries(METRICS)) {
      expect(spec.label, key).toMatch(/^([a-z]|[A-Z]{2})/); // lower case, acronyms aside
      expect(spec.short.length, key).toBeLessThanOrEqual(12);
      expect(spec.meaning, key).toMatch(/^[A-Zk].*\.$/);
      expect(spec.meaning, key).not.toContain('\n');
    }
  });

  it('keys the step report by the verl and TRL names where the quantity is the same', () => {
    const named = (key: StepMetricKey) => [STEP_METRICS[key].verl, STEP_METRICS[key].trl];
    expect(named('critic/score/mean')).toEqual(['critic/score/mean', 'reward']);
    expect(named('actor/entropy')).toEqual(['actor/entropy', 'entropy']);
    expect(named('actor/pg_clipfrac')).toEqual(['actor/pg_clipfrac', 'clip_ratio/region_mean']);
    expect(named('actor/pg_clipfrac_lower')).toEqual(['actor/pg_clipfrac_lower', null]);
    expect(named('clip_ratio/low_mean')).toEqual([null, 'clip_ratio/low_mean']);
    expect(named('clip_ratio/high_mean')).toEqual([null, 'clip_ratio/high_mean']);
    expect(named('actor/ppo_kl')).toEqual(['actor/ppo_kl', null]);
    expect(named('response_length/mean')[0]).toBe('response_length/mean');
    expect(named('response_length/clip_ratio')).toEqual(['response_length/clip_ratio', 'completions/clipped_ratio']);
    expect(named('reward_std')).toEqual([null, 'reward_std']);
    expect(named('frac_reward_zero_std')[1]).toBe('frac_reward_zero_std');
    expect(named('tools/failure_frequency')[1]).toBe('tools/failure_frequency');
    // TRL's call frequency counts calls per trajectory; the share of trajectories with a call is tools/call_rate.
    expect(named('tools/call_frequency')[1]).toBe('tools/call_frequency');
    expect(STEP_METRICS['tools/call_frequency'].unit).toBe('calls');
    expect(named('tools/call_rate')).toEqual([null, null]);
    // No two workbench metrics claim the same verl or TRL name.
    for (const engine of ['verl', 'trl'] as const) {
      const names = Object.values(METRICS).map((spec) => spec[engine]).filter((name) => name !== null);
      expect(new Set(names).size, engine).toBe(names.length);
    }
  });

  it('counts calls per trajectory in tools/call_frequency and the clip fraction as its low and high sides', () => {
    // Hand-checked on the step with an update: calls / trajectories, and low + high = clip fraction
    // (the two sides are disjoint: one needs A < 0, the other A > 0).
    const calls = updated.trajectories.reduce((n, t) => n + t.toolCalls.length, 0);
    expect(updated.metrics['tools/call_frequency']).toBeCloseTo(calls / updated.trajectories.length, 12);
    const withCall = updated.trajectories.filter((t) => t.toolCalls.length > 0).length;
    expect(updated.metrics['tools/call_rate']).toBeCloseTo(withCall / updated.trajectories.length, 12);
    const { 'clip_ratio/low_mean': low, 'clip_ratio/high_mean': high, 'actor/pg_clipfrac': all } = updated.metrics;
    expect(low! + high!).toBeCloseTo(all!, 6);
    const truncated = updated.trajectories.filter((t) => t.finishReason === 'length').length;
    expect(updated.metrics['response_length/clip_ratio']).toBeCloseTo(truncated / updated.trajectories.length, 12);
  });

  it('renames the metrics of an older step report and leaves a current one as it is', () => {
    const old = { 'reward/mean': 0.5, 'tools/call_frequency': 0.75, 'tools/calls_per_trajectory': 1.25, pg_clipfrac: 0.1, approx_kl: 0.01, 'entropy/trained_mean': 1.5, 'entropy/mean': 1.2 };
    expect(currentStepMetrics(old)).toEqual({
      'critic/score/mean': 0.5,
      'tools/call_rate': 0.75,
      'tools/call_frequency': 1.25,
      'actor/pg_clipfrac': 0.1,
      'actor/ppo_kl': 0.01,
      'actor/entropy': 1.5,
      'entropy/mean': 1.2,
    });
    // A skipped old step has no update keys, but still its calls per trajectory.
    expect(currentStepMetrics({ 'tools/call_frequency': 0.5, 'tools/calls_per_trajectory': 2 })).toEqual({ 'tools/call_rate': 0.5, 'tools/call_frequency': 2 });
    const current = { 'critic/score/mean': 0.5, 'tools/call_frequency': 1.25, 'tools/call_rate': 0.75 };
    expect(currentStepMetrics(current)).toBe(current);
    // Every old name goes to a key of the registry.
    for (const key of Object.values(RENAMED_STEP_METRICS)) expect(STEP_METRICS).toHaveProperty([key]);
  });

  it('writes titles and values with their unit', () => {
    expect(metricTitle('entropy/post_tool_mean')).toBe('Entropy, post-tool tokens (nats)');
    expect(metricTitle('filter/kept_trajectories')).toBe('Kept trajectories');
    expect(formatMetric('filter/kept_trajectories', 0.426)).toBe('43%');
    expect(formatMetric('time/step_s', 0.5249)).toBe('0.52 s');
    expect(formatMetric('perf/sampled_tokens_per_s', 5120.4)).toBe('5120 tokens/s');
    expect(formatMetric('loss/policy', undefined)).toBe('-');
  });
});
