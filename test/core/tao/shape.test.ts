// shapeBatch end to end and its metrics (docs/algorithm.md §2-5 and §8), on a batch worked by hand.
import { describe, expect, it } from 'vitest';
import { DEFAULT_SHAPE_CONFIG, shapeBatch } from '../../../src/core/tao/shape';
import type { ShapeConfig, ShapingTrajectory, TokenKind } from '../../../src/core/tao/types';

const P = (entropy = 0) => ({ kind: 'prompt' as TokenKind, entropy });
const p = (entropy: number) => ({ kind: 'policy' as TokenKind, entropy });
const T = () => ({ kind: 'tool' as TokenKind, entropy: 0 });
const ok = { ok: true };
const failed = { ok: false };

const config = (overrides: Partial<Omit<ShapeConfig, 'bonus'>> & { bonus?: Partial<ShapeConfig['bonus']> } = {}): ShapeConfig => ({
  ...DEFAULT_SHAPE_CONFIG,
  ...overrides,
  bonus: { ...DEFAULT_SHAPE_CONFIG.bonus, ...overrides.bonus },
});

// Group 0 [1, 0, 1] kept; group 1 [1, 1] all correct; group 2 [0] a group of one (all wrong).
const batch: ShapingTrajectory[] = [
  { group: 0, reward: 1, toolCalls: [ok], tokens: [P(), p(1), T(), p(3)] }, // t0
  { group: 0, reward: 0, toolCalls: [failed], tokens: [P(), p(2), T(), p(4)] }, // t1: all tools failed
  { group: 0, reward: 1, toolCalls: [], tokens: [P(), p(2)] }, // t2
  { group: 1, reward: 1, toolCalls: [], tokens: [P(), p(5)] }, // t3
  { group: 1, reward: 1, toolCalls: [failed, ok], tokens: [P(), p(1), T(), p(1), T(), p(1)] }, // t4
  { group: 2, reward: 0, toolCalls: [failed], tokens: [P(), p(0), T(), p(6)] }, // t5
];

// Group 0 advantages: mean 2/3, sample std sqrt(1/3) = .5773503
// A(1) = (1/3) / (.5773503 + 1e-6) = .5773493; A(0) = (-2/3) / .5773513 = -1.1546985
const scale0 = Math.sqrt(1 / 3) + 1e-6;
const A0 = 1 / 3 / scale0;
const A1 = -2 / 3 / scale0;
// Weighted policy entropies (t0's 1 and 3, t2's 2; t1 marked at strength 1, groups 1-2 discarded):
// mean 2, population variance (1 + 1 + 0) / 3 = 2/3, std .8164966; t0's post-tool H 3 -> H^ = 1 / .8164966 = 1.2247449
const hHat = 1 / (Math.sqrt(2 / 3) + 1e-8);
const coef = 0.5;
const shapedT0 = A0 * (1 + coef * hHat); // .5773493 * 1.6123724 = .9309020

describe('shapeBatch with the default filters and the multiplicative post-tool bonus', () => {
  const result = shapeBatch(batch, config({ bonus: { coef } }));
  const t = result.trajectories;

  it('filters with reasons', () => {
    expect(t.map((x) => x.reason)).toEqual([
      null,
      'all_tools_failed',
      null,
      'group_all_correct',
      'group_all_correct',
      'group_all_wrong', // t5's calls all failed too, but the group filter ran first
    ]);
    expect(t.map((x) => x.kept)).toEqual([true, false, true, false, false, false]);
  });

  it('reports the formula A for every trajectory, discarded ones included', () => {
    expect(A0).toBeCloseTo(0.5773493, 6);
    expect(t[0].advantage).toBeCloseTo(A0, 12);
    expect(t[1].advantage).toBeCloseTo(A1, 12);
    expect(t[2].advantage).toBeCloseTo(A0, 12);
    expect(t[3].advantage).toBe(0); // [1, 1]: (1 - 1) / (0 + 1e-6)
    expect(t[5].advantage).toBe(0); // baseline of one: 0 / (1 + 1e-6)
  });

  it('shapes tokens and reports per the section 8 rules', () => {
    expect(shapedT0).toBeCloseTo(0.930902, 6);
    expect(t[0].tokens.map((x) => x.postTool)).toEqual([0, 0, 0, 1]);
    expect(t[0].tokens.map((x) => x.lossWeight)).toEqual([0, 1, 0, 1]);
    expect(t[0].tokens[0]).toEqual({ postTool: 0, lossWeight: 0, advantage: 0, bonus: 0 });
    expect(t[0].tokens[1].advantage).toBeCloseTo(A0, 12);
    expect(t[0].tokens[1].bonus).toBe(0);
    expect(t[0].tokens[3].advantage).toBeCloseTo(shapedT0, 12);
    expect(t[0].tokens[3].bonus).toBeCloseTo(shapedT0 - A0, 12); // .9309020 - .5773493 = .3535528
    // t1: marked at strength 1 -> weight 0 -> A, no bonus, even on its post-tool token
    expect(t[1].tokens.map((x) => x.lossWeight)).toEqual([0, 0, 0, 0]);
    expect(t[1].tokens[3]).toEqual({ postTool: 1, lossWeight: 0, advantage: expect.closeTo(A1, 12), bonus: 0 });
    expect(t[4].tokens.map((x) => x.postTool)).toEqual([0, 0, 0, 1, 0, 1]);
  });

  it('computes the metrics', () => {
    const m = result.metrics;
    expect(m.frac_reward_zero_std).toBeCloseTo(2 / 3, 12); // groups 1 and 2 of 3
    expect(m['filter/group_all_correct']).toBeCloseTo(2 / 6, 12); // t3, t4
    expect(m['filter/group_all_wrong']).toBeCloseTo(1 / 6, 12); // t5
    expect(m['filter/all_tools_failed']).toBeCloseTo(1 / 6, 12); // t1
    expect(m['filter/kept_trajectories']).toBeCloseTo(2 / 6, 12); // t0, t2
    expect(m['tools/call_rate']).toBeCloseTo(4 / 6, 12); // t0, t1, t4, t5
    expect(m['tools/call_frequency']).toBeCloseTo(5 / 6, 12); // 5 calls over 6 trajectories
    expect(m['tools/failure_frequency']).toBeCloseTo(3 / 5, 12); // 5 calls, 3 failed
    // all policy entropies: 1+3, 2+4, 2, 5, 1+1+1, 0+6 = 26 over 11 tokens = 2.363636
    expect(m['entropy/mean']).toBeCloseTo(26 / 11, 12);
    // post-tool: t0 3, t1 4, t4 1 and 1, t5 6 = 15 over 5 = 3
    expect(m['entropy/post_tool_mean']).toBeCloseTo(3, 12);
    // weighted policy tokens: t0's two (bonus 0 and .3535528) and t2's one (0): .3535528 / 3 = .1178509
    expect(m['bonus/mean']).toBeCloseTo((shapedT0 - A0) / 3, 12);
    expect(m['bonus/abs_mean']).toBeCloseTo((shapedT0 - A0) / 3, 12);
    expect((shapedT0 - A0) / 3).toBeCloseTo(0.1178509, 6);
    // group 0: t0 mean (A0 + shapedT0) / 2, t1 has no weighted token, t2 A0; groups 1, 2 contribute 0
    // (.5773493 + .9309020) / 2 + .5773493 = 1.3314750, mean over 3 groups = .4438250
    const group0 = (A0 + shapedT0) / 2 + A0;
    expect(m['adv/group_sum_abs']).toBeCloseTo(group0 / 3, 12);
    expect(group0 / 3).toBeCloseTo(0.443825, 6);
  });
});

describe('shapeBatch options', () => {
  it('plain GRPO keeps every group zero-sum', () => {
    const grpo = config({ groupFilter: false, toolFailFilter: false, bonus: { mode: 'off' } });
    const result = shapeBatch(batch, grpo);
    expect(result.trajectories.every((x) => x.kept)).toBe(true);
    // group 0: A0 + A1 + A0 = (1/3 - 2/3 + 1/3) / scale = 0; groups 1, 2: 0
    expect(result.metrics['adv/group_sum_abs']).toBeCloseTo(0, 12);
    expect(result.metrics['frac_reward_zero_std']).toBeCloseTo(2 / 3, 12); // counted even with the filter off
    expect(result.metrics['bonus/abs_mean']).toBe(0);
  });

  it('the additive bonus breaks the zero sum', () => {
    // rewards [1, 0]: A = +-.5 / (sqrt(.5) + 1e-6) = +-.7071058; each one policy token with H 1
    // bonus min(.1 * 1, .7071058 / 2) = .1 on both -> group sum .2
    const pair: ShapingTrajectory[] = [
      { group: 0, reward: 1, toolCalls: [], tokens: [p(1)] },
      { group: 0, reward: 0, toolCalls: [], tokens: [p(1)] },
    ];
    const result = shapeBatch(pair, config({ bonus: { mode: 'additive', coef: 0.1, scope: 'all' } }));
    expect(result.trajectories[0].tokens[0].advantage).toBeCloseTo(0.5 / (Math.sqrt(0.5) + 1e-6) + 0.1, 12);
    expect(result.trajectories[1].tokens[0].advantage).toBeCloseTo(-0.5 / (Math.sqrt(0.5) + 1e-6) + 0.1, 12);
    expect(result.metrics['adv/group_sum_abs']).toBeCloseTo(0.2, 12);
    expect(result.metrics['bonus/mean']).toBeCloseTo(0.1, 12);
  });

  // rewards [1, 0, 0, 1]; trajectory 1 made one failed call
  const four: ShapingTrajectory[] = [
    { group: 0, reward: 1, toolCalls: [], tokens: [p(1)] },
    { group: 0, reward: 0, toolCalls: [failed], tokens: [p(1), T(), p(1)] },
    { group: 0, reward: 0, toolCalls: [], tokens: [p(1)] },
    { group: 0, reward: 1, toolCalls: [], tokens: [p(1)] },
  ];

  it('exclude baseline leaves the marked trajectory out of mean and std', () => {
    // baseline [1, 0, 1]: mean 2/3, sample std sqrt(1/3) -> A(1) = .5773493, A(0) = -1.1546985
    const result = shapeBatch(four, config({ baseline: 'exclude', bonus: { mode: 'off' } }));
    expect(result.trajectories.map((x) => x.advantage)).toEqual([A0, A1, A1, A0].map((a) => expect.closeTo(a, 12)));
  });

  it('with the tool-fail filter off, exclude changes nothing', () => {
    // nothing marked: [1, 0, 0, 1] -> +-.5 / (.5773503 + 1e-6) = +-.8660239
    const g = 0.5 / (Math.sqrt(1 / 3) + 1e-6);
    for (const baseline of ['include', 'exclude'] as const) {
      const result = shapeBatch(four, config({ toolFailFilter: false, baseline, bonus: { mode: 'off' } }));
      expect(result.trajectories.map((x) => x.advantage)).toEqual([g, -g, -g, g].map((a) => expect.closeTo(a, 12)));
      expect(result.trajectories[1]).toMatchObject({ kept: true, reason: null });
    }
  });

  it('strength .5 marks the trajectory but keeps half its policy weight and its bonus', () => {
    // include baseline: A(1) = -.8660239; entropies all 1 -> std 0 -> H^ = 0 -> no multiplicative change
    const result = shapeBatch(four, config({ toolFailStrength: 0.5, bonus: { coef: 1 } }));
    const marked = result.trajectories[1];
    expect(marked).toMatchObject({ kept: false, reason: 'all_tools_failed' });
    expect(marked.tokens.map((x) => x.lossWeight)).toEqual([0.5, 0, 0.5]);
    expect(marked.tokens[2].postTool).toBe(1);
    expect(marked.tokens[2].advantage).toBeCloseTo(-0.5 / (Math.sqrt(1 / 3) + 1e-6), 12);
    expect(result.metrics['filter/all_tools_failed']).toBeCloseTo(0.25, 12);
    expect(result.metrics['filter/kept_trajectories']).toBeCloseTo(0.75, 12);
  });

  it('an empty batch gives zero metrics', () => {
    const { trajectories, metrics } = shapeBatch([], DEFAULT_SHAPE_CONFIG);
    expect(trajectories).toEqual([]);
    expect(Object.values(metrics).every((v) => v === 0)).toBe(true);
  });
});
