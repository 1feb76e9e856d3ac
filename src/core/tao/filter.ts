// TAO-RL's dual filter (docs/algorithm.md §2, §8.1 and §8.2): the group filter drops groups whose
// rewards carry no GRPO signal, then the tool-failure rule marks trajectories whose every tool
// call failed. Each discard keeps its reason so the UI can show it.

import { groupMembers, mean, populationStd } from './advantage';
import type { DiscardReason, ShapeConfig, ShapingTrajectory, TokenKind } from './types';

/** A group whose rewards have population std below this is discarded (section 8). */
export const ZERO_STD_THRESHOLD = 1e-3;

/** What the dual filter decided for one trajectory. */
export interface FilterVerdict {
  kept: boolean;
  reason: DiscardReason | null;
  /** Marked by the tool-failure rule (its group was kept); only these leave an `exclude` baseline. */
  toolFailed: boolean;
  /** Loss weight of each of its policy tokens: 1, 0 or 1 - strength. */
  policyWeight: number;
}

/** True when the rewards carry no GRPO signal: population std < 1e-3 (a lone reward always). */
export function hasZeroRewardStd(rewards: readonly number[]): boolean {
  return populationStd(rewards) < ZERO_STD_THRESHOLD;
}

/** Why a group with these rewards is discarded, or null when it is kept (section 8). */
export function groupDiscardReason(rewards: readonly number[]): DiscardReason | null {
  if (!hasZeroRewardStd(rewards)) return null;
  return mean(rewards) >= 0.5 ? 'group_all_correct' : 'group_all_wrong';
}

/** Answer-discriminability filter (TAO-RL criterion 1): each trajectory's group-discard reason. */
export function groupFilter(
  rewards: readonly number[],
  groups: readonly number[],
): (DiscardReason | null)[] {
  const reasons = new Array<DiscardReason | null>(rewards.length).fill(null);
  for (const members of groupMembers(groups).values()) {
    const reason = groupDiscardReason(members.map((i) => rewards[i]));
    for (const i of members) reasons[i] = reason;
  }
  return reasons;
}

/** At least one call and none succeeded; no call at all is not a failure (TAO-RL criterion 2). */
export function allToolsFailed(toolCalls: readonly { ok: boolean }[]): boolean {
  return toolCalls.length > 0 && toolCalls.every((call) => !call.ok);
}

/** Tool-execution-validity rule: marks only trajectories of groups the group filter kept. */
export function toolFailureMarks(
  toolCalls: readonly (readonly { ok: boolean }[])[],
  groupReasons: readonly (DiscardReason | null)[],
): boolean[] {
  return toolCalls.map((calls, i) => groupReasons[i] === null && allToolsFailed(calls));
}

/** Policy-token loss weight: 0 in a discarded group, 1 - strength when marked, else 1 (section 8). */
export function policyLossWeight(
  groupReason: DiscardReason | null,
  toolFailed: boolean,
  toolFailStrength: number,
): number {
  if (groupReason !== null) return 0;
  return toolFailed ? 1 - toolFailStrength : 1;
}

/** Per-token loss mask: prompt and tool-output tokens are never trained on (section 1). */
export function lossWeights(tokens: readonly { kind: TokenKind }[], policyWeight: number): number[] {
  return tokens.map((token) => (token.kind === 'policy' ? policyWeight : 0));
}

/** Both filters, each switchable; the group filter runs first (reference code order). */
export function dualFilter(
  trajectories: readonly ShapingTrajectory[],
  config: Pick<ShapeConfig, 'groupFilter' | 'toolFailFilter' | 'toolFailStrength'>,
): FilterVerdict[] {
  const groupReasons = config.groupFilter
    ? groupFilter(
        trajectories.map((t) => t.reward),
        trajectories.map((t) => t.group),
      )
    : trajectories.map(() => null);
  const marks = config.toolFailFilter
    ? toolFailureMarks(
        trajectories.map((t) => t.toolCalls),
        groupReasons,
      )
    : trajectories.map(() => false);
  return trajectories.map((_, i) => {
    const reason: DiscardReason | null = groupReasons[i] ?? (marks[i] ? 'all_tools_failed' : null);
    return {
      kept: reason === null,
      reason,
      toolFailed: marks[i],
      policyWeight: policyLossWeight(groupReasons[i], marks[i], config.toolFailStrength),
    };
  });
}
