// The bench's fused-vs-stock agreement: trajectories compared token by token, log-probs and
// entropies only up to a trajectory's first differing token.

import { describe, expect, it } from 'vitest';
import { agreementOf, stepAgreement } from '../../src/bench/measure';
import type { StepReport } from '../../src/core/trainer';
import type { Trajectory, TrajectoryToken } from '../../src/core/rollout';

const token = (id: number, logprob: number, entropy: number): TrajectoryToken => ({ id, kind: 'policy', logprob, entropy });
const trajectory = (tokens: TrajectoryToken[]) => ({ tokens }) as unknown as Trajectory;

describe('agreementOf', () => {
  it('counts identical runs as agreeing, with the largest log-prob and entropy gaps', () => {
    const a = [trajectory([token(3, -0.5, 1.0), token(4, -1.25, 0.75)]), trajectory([token(5, -2, 0.5)])];
    const b = [trajectory([token(3, -0.5 + 1e-6, 1.0), token(4, -1.25, 0.75 - 3e-6)]), trajectory([token(5, -2 - 2e-6, 0.5)])];
    const agreement = agreementOf(a, b);
    expect(agreement.rows).toBe(2);
    expect(agreement.differingTrajectories).toBe(0);
    expect(agreement.maxLogprobDiff).toBeCloseTo(2e-6, 12);
    expect(agreement.maxEntropyDiff).toBeCloseTo(3e-6, 12);
  });

  it('stops comparing a trajectory at its first differing token, and counts it', () => {
    // Same first token; the second differs, and after it the log-probs are unrelated (0.9 apart).
    const a = [trajectory([token(3, -0.5, 1), token(4, -1, 1), token(7, -0.1, 1)])];
    const b = [trajectory([token(3, -0.5, 1), token(6, -1.9, 1), token(7, -1.0, 1)])];
    const agreement = agreementOf(a, b);
    expect(agreement.differingTrajectories).toBe(1);
    expect(agreement.maxLogprobDiff).toBe(0);
  });

  it('counts a trajectory that ends earlier as differing', () => {
    const agreement = agreementOf([trajectory([token(3, -0.5, 1)])], [trajectory([token(3, -0.5, 1), token(2, -0.1, 1)])]);
    expect(agreement.differingTrajectories).toBe(1);
  });
});

describe('stepAgreement', () => {
  const report = (texts: string[][], metrics: Record<string, number>) =>
    ({ trajectories: texts.map((text) => ({ tokens: { text } })), metrics }) as unknown as StepReport;
  const metrics = { 'loss/policy': 0.125, grad_norm: 2.5, 'actor/entropy': 0.75, 'actor/ppo_kl': 0.001 };

  it('gives the largest gap of loss, gradient norm, entropy and KL for the same trajectories', () => {
    const a = report([['1', '+', '2']], metrics);
    const b = report([['1', '+', '2']], { ...metrics, grad_norm: 2.5 + 4e-6, 'actor/ppo_kl': 0.001 - 1e-6 });
    const agreement = stepAgreement(a, b);
    expect(agreement.sameTrajectories).toBe(true);
    expect(agreement.maxMetricDiff).toBeCloseTo(4e-6, 10);
  });

  it('says so when the trajectories differ, and a missing figure shows as NaN rather than agreement', () => {
    expect(stepAgreement(report([['1']], metrics), report([['2']], metrics)).sameTrajectories).toBe(false);
    const { grad_norm: _dropped, ...without } = metrics;
    expect(stepAgreement(report([['1']], metrics), report([['1']], without)).maxMetricDiff).toBeNaN();
  });
});
