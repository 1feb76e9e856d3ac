// One call from trajectories to per-token advantages and step metrics: the dual filter
// (docs/algorithm.md §2), GRPO advantages (section 3), the post-tool entropy bonus
// (section 4), with section 8's conventions. Shared by the trainer, `tao shape` and the UI preview.

import { groupAdvantages, groupMembers } from './advantage';
import { entropyStats, shapedTokens } from './bonus';
import { dualFilter, hasZeroRewardStd, lossWeights, type FilterVerdict } from './filter';
import { postToolMask } from './postToolMask';
import type {
  ShapeConfig,
  ShapeMetrics,
  ShapeResult,
  ShapedTrajectory,
  ShapingTrajectory,
} from './types';

/** Section 8 defaults: full TAO-RL with the reference code's knobs. */
export const DEFAULT_SHAPE_CONFIG: ShapeConfig = {
  groupFilter: true, // TAO-RL criterion 1 (DAPO's dynamic sampling)
  toolFailFilter: true, // TAO-RL criterion 2
  toolFailStrength: 1, // reference code: full drop of a marked trajectory
  baseline: 'include', // reference code: marked rewards still count in the group baseline
  stdNormalize: true, // GRPO; false is Dr. GRPO
  bonus: {
    mode: 'multiplicative', // TAO-RL paper figure and reference code
    coef: 0.01, // reference default `a`
    kappa: 2, // Cheng et al. clip, additive form only
    scope: 'post_tool', // TAO-RL: only tokens after a tool result
    window: null, // reference code: the whole turn after a tool result
    afterSuccessOnly: false, // reference code marks turns after failed calls too
  },
};

/** Shape a batch: filter, advantages, post-tool mask, bonus, then the step's metrics. */
export function shapeBatch(trajectories: ShapingTrajectory[], config: ShapeConfig): ShapeResult {
  const verdicts = dualFilter(trajectories, config);
  const advantages = groupAdvantages(
    trajectories.map((t) => t.reward),
    trajectories.map((t) => t.group),
    verdicts.map((v) => config.baseline === 'include' || !v.toolFailed),
    config.stdNormalize,
  );
  const weights = trajectories.map((t, i) => lossWeights(t.tokens, verdicts[i].policyWeight));
  const masks = trajectories.map((t) =>
    postToolMask(t.tokens, t.toolCalls, config.bonus.window, config.bonus.afterSuccessOnly),
  );
  const stats = entropyStats(
    trajectories.map((t) => t.tokens),
    weights,
  );
  const shaped: ShapedTrajectory[] = trajectories.map((t, i) => ({
    kept: verdicts[i].kept,
    reason: verdicts[i].reason,
    advantage: advantages[i],
    tokens: shapedTokens(t.tokens, advantages[i], weights[i], masks[i], config.bonus, stats),
  }));
  return { trajectories: shaped, metrics: shapeMetrics(trajectories, verdicts, shaped) };
}

/** Mean of a running sum, 0 when nothing was counted (every metric's empty-batch value). */
function ratio(sum: number, count: number): number {
  return count === 0 ? 0 : sum / count;
}

/** Step metrics under verl/TRL names (docs/algorithm.md §2.3 and §4.4). */
export function shapeMetrics(
  trajectories: readonly ShapingTrajectory[],
  verdicts: readonly FilterVerdict[],
  shaped: readonly ShapedTrajectory[],
): ShapeMetrics {
  const n = trajectories.length;
  const reasonCount = { group_all_correct: 0, group_all_wrong: 0, all_tools_failed: 0 };
  let keptCount = 0;
  let callingCount = 0;
  let calls = 0;
  let failedCalls = 0;
  let policyTokens = 0;
  let entropySum = 0;
  let postToolTokens = 0;
  let postToolEntropySum = 0;
  let weightedTokens = 0;
  let bonusSum = 0;
  let bonusAbsSum = 0;
  // Per trajectory: mean shaped advantage over its weighted policy tokens, null when it has none.
  const meanShapedAdvantage: (number | null)[] = [];

  trajectories.forEach((trajectory, i) => {
    const verdict = verdicts[i];
    if (verdict.reason === null) keptCount += 1;
    else reasonCount[verdict.reason] += 1;
    if (trajectory.toolCalls.length > 0) callingCount += 1;
    calls += trajectory.toolCalls.length;
    for (const call of trajectory.toolCalls) if (!call.ok) failedCalls += 1;

    let ownWeighted = 0;
    let ownAdvantageSum = 0;
    trajectory.tokens.forEach((token, t) => {
      if (token.kind !== 'policy') return;
      const report = shaped[i].tokens[t];
      policyTokens += 1;
      entropySum += token.entropy;
      if (report.postTool === 1) {
        postToolTokens += 1;
        postToolEntropySum += token.entropy;
      }
      if (report.lossWeight > 0) {
        weightedTokens += 1;
        bonusSum += report.bonus;
        bonusAbsSum += Math.abs(report.bonus);
        ownWeighted += 1;
        ownAdvantageSum += report.advantage;
      }
    });
    meanShapedAdvantage.push(ownWeighted > 0 ? ownAdvantageSum / ownWeighted : null);
  });

  // Every group counts in frac_reward_zero_std and adv/group_sum_abs, filtered or not.
  const groups = [...groupMembers(trajectories.map((t) => t.group)).values()];
  const zeroStdGroups = groups.filter((members) =>
    hasZeroRewardStd(members.map((i) => trajectories[i].reward)),
  ).length;
  // Plain GRPO sums to ~0 per group; the additive bonus and dropped trajectories break that.
  let groupSumAbs = 0;
  for (const members of groups) {
    let sum = 0;
    for (const i of members) sum += meanShapedAdvantage[i] ?? 0;
    groupSumAbs += Math.abs(sum);
  }

  return {
    frac_reward_zero_std: ratio(zeroStdGroups, groups.length),
    'filter/group_all_correct': ratio(reasonCount.group_all_correct, n),
    'filter/group_all_wrong': ratio(reasonCount.group_all_wrong, n),
    'filter/all_tools_failed': ratio(reasonCount.all_tools_failed, n),
    'filter/kept_trajectories': ratio(keptCount, n),
    'tools/call_frequency': ratio(calls, n),
    'tools/call_rate': ratio(callingCount, n),
    'tools/failure_frequency': ratio(failedCalls, calls),
    'entropy/mean': ratio(entropySum, policyTokens),
    'entropy/post_tool_mean': ratio(postToolEntropySum, postToolTokens),
    'bonus/mean': ratio(bonusSum, weightedTokens),
    'bonus/abs_mean': ratio(bonusAbsSum, weightedTokens),
    'adv/group_sum_abs': ratio(groupSumAbs, groups.length),
  };
}
