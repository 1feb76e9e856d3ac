// Dual filter (docs/algorithm.md §2, §8.1 and §8.2).
import { describe, expect, it } from 'vitest';
import {
  allToolsFailed,
  dualFilter,
  groupDiscardReason,
  groupFilter,
  lossWeights,
  policyLossWeight,
  toolFailureMarks,
} from '../../../src/core/tao/filter';
import type { ShapingTrajectory } from '../../../src/core/tao/types';

const ok = { ok: true };
const failed = { ok: false };

describe('groupFilter', () => {
  it('discards all-correct and all-wrong groups and groups of one', () => {
    // group 0 [1,1]: std 0, mean 1 -> all correct; group 1 [0,0]: mean 0 -> all wrong;
    // group 2 [1,0]: std .5 -> kept; group 3 [1] and group 4 [0]: std 0 -> discarded by mean
    const reasons = groupFilter([1, 1, 0, 0, 1, 0, 1, 0], [0, 0, 1, 1, 2, 2, 3, 4]);
    expect(reasons).toEqual([
      'group_all_correct',
      'group_all_correct',
      'group_all_wrong',
      'group_all_wrong',
      null,
      null,
      'group_all_correct',
      'group_all_wrong',
    ]);
  });

  it('uses population std < 1e-3 and mean >= .5 for the reason', () => {
    // [0, .0019]: deviations +-.00095 -> population std .00095 < .001 -> discarded, mean .00095 -> wrong
    expect(groupDiscardReason([0, 0.0019])).toBe('group_all_wrong');
    // [0, .0021]: population std .00105 >= .001 -> kept
    expect(groupDiscardReason([0, 0.0021])).toBeNull();
    // [.5, .5]: mean .5 >= .5 -> all correct; [.3, .3]: mean .3 -> all wrong
    expect(groupDiscardReason([0.5, 0.5])).toBe('group_all_correct');
    expect(groupDiscardReason([0.3, 0.3])).toBe('group_all_wrong');
  });
});

describe('tool-failure rule', () => {
  it('marks a trajectory with calls that all failed, never one with no call', () => {
    expect(allToolsFailed([failed])).toBe(true);
    expect(allToolsFailed([failed, failed])).toBe(true);
    expect(allToolsFailed([failed, ok])).toBe(false);
    expect(allToolsFailed([])).toBe(false);
  });

  it('only marks trajectories of kept groups', () => {
    const marks = toolFailureMarks(
      [[failed], [failed, ok], [], [failed, failed]],
      [null, null, null, 'group_all_wrong'],
    );
    expect(marks).toEqual([true, false, false, false]);
  });

  it('sets the policy loss weight to 1 - strength', () => {
    expect(policyLossWeight(null, true, 1)).toBe(0); // 1 - 1
    expect(policyLossWeight(null, true, 0.5)).toBe(0.5); // 1 - .5
    expect(policyLossWeight(null, false, 0.5)).toBe(1); // not marked
    expect(policyLossWeight('group_all_correct', false, 0)).toBe(0); // discarded group
  });

  it('puts the weight on policy tokens only', () => {
    const tokens = [{ kind: 'prompt' as const }, { kind: 'policy' as const }, { kind: 'tool' as const }];
    expect(lossWeights(tokens, 0.5)).toEqual([0, 0.5, 0]);
  });
});

describe('dualFilter', () => {
  const trajectory = (group: number, reward: number, toolCalls: { ok: boolean }[]): ShapingTrajectory => ({
    group,
    reward,
    toolCalls,
    tokens: [],
  });
  // group 0 [1, 0, 1] kept; group 1 [0, 0] all wrong (its tool failures are not re-marked)
  const batch = [
    trajectory(0, 1, [ok]),
    trajectory(0, 0, [failed]),
    trajectory(0, 1, []),
    trajectory(1, 0, [failed]),
    trajectory(1, 0, []),
  ];

  it('runs the group filter first, then marks tool failures with any strength', () => {
    for (const strength of [1, 0.5]) {
      const verdicts = dualFilter(batch, { groupFilter: true, toolFailFilter: true, toolFailStrength: strength });
      expect(verdicts.map((v) => v.reason)).toEqual([
        null,
        'all_tools_failed',
        null,
        'group_all_wrong',
        'group_all_wrong',
      ]);
      expect(verdicts.map((v) => v.kept)).toEqual([true, false, true, false, false]);
      expect(verdicts.map((v) => v.toolFailed)).toEqual([false, true, false, false, false]);
      expect(verdicts.map((v) => v.policyWeight)).toEqual([1, 1 - strength, 1, 0, 0]);
    }
  });

  it('with both filters off keeps everything at weight 1', () => {
    const verdicts = dualFilter(batch, { groupFilter: false, toolFailFilter: false, toolFailStrength: 1 });
    expect(verdicts.every((v) => v.kept && v.reason === null && !v.toolFailed && v.policyWeight === 1)).toBe(true);
  });

  it('with only the group filter off, marks failures in every group', () => {
    const verdicts = dualFilter(batch, { groupFilter: false, toolFailFilter: true, toolFailStrength: 1 });
    expect(verdicts.map((v) => v.reason)).toEqual([null, 'all_tools_failed', null, 'all_tools_failed', null]);
  });
});
