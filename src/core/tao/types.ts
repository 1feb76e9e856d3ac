// The data TAO-RL's shaping works on (docs/algorithm.md §2-4), free of tensors, so the
// same code serves the trainer, the `tao shape` JSON command and the page's live preview.

/** Who produced a token: forced prompt text, a token the policy sampled, or forced tool output. */
export const TOKEN_KINDS = ['prompt', 'policy', 'tool'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

/** Why the dual filter discarded a trajectory. */
export type DiscardReason = 'group_all_correct' | 'group_all_wrong' | 'all_tools_failed';

/** The minimum a trajectory must carry for shaping; rollout trajectories extend it. */
export interface ShapingTrajectory {
  /** Group index: trajectories sampled from the same prompt share it. */
  group: number;
  /** Outcome reward (binary in this workbench, any finite number accepted). */
  reward: number;
  /** One entry per tool call, in order; `ok` is true when the call returned a value. */
  toolCalls: { ok: boolean }[];
  /** Every token in order; a maximal run of `tool` tokens is the result of the next tool call. */
  tokens: { kind: TokenKind; entropy: number }[];
}

/** Bonus form: TAO-RL's multiplicative normalised (default), Cheng et al.'s additive clipped, or none. */
export type BonusMode = 'multiplicative' | 'additive' | 'off';

/** Which policy tokens may receive the bonus: TAO-RL's post-tool tokens, or all (AEPO / Cheng). */
export type BonusScope = 'post_tool' | 'all';

export interface BonusConfig {
  mode: BonusMode;
  /** Entropy-bonus coefficient: `a` of the multiplicative form, `alpha` of the additive form; >= 0. */
  coef: number;
  /** Additive form only: the bonus is clipped to |A| / kappa; > 0. */
  kappa: number;
  /** Post-tool window: null for the whole turn after a tool result, k for its first k policy tokens. */
  window: number | null;
  /** Only turns that follow a successful tool call are post-tool. */
  afterSuccessOnly: boolean;
}

/** The shaping part of the config (docs/algorithm.md §8.7). */
export interface ShapeConfig {
  /** Answer-discriminability filter: drop groups whose rewards have population std < 1e-3. */
  groupFilter: boolean;
  /** Tool-execution-validity filter: mark trajectories all of whose tool calls failed. */
  toolFailFilter: boolean;
  /** Loss weight of a marked trajectory's policy tokens is 1 - strength; in [0, 1]. */
  toolFailStrength: number;
  /** Whether marked trajectories count in their group's mean and std. */
  baseline: 'include' | 'exclude';
  /** Divide by the group's sample std (GRPO); false for Dr. GRPO. */
  stdNormalize: boolean;
  bonus: BonusConfig & { scope: BonusScope };
}

export interface ShapedToken {
  /** 1 when the token is a policy token in a post-tool turn (independent of scope and mode). */
  postTool: 0 | 1;
  /** Loss mask after filtering. */
  lossWeight: number;
  /** Shaped advantage used in the loss. */
  advantage: number;
  /** Shaped minus unshaped advantage. */
  bonus: number;
}

export interface ShapedTrajectory {
  kept: boolean;
  reason: DiscardReason | null;
  /** GRPO outcome advantage (reported even for discarded trajectories). */
  advantage: number;
  tokens: ShapedToken[];
}

export interface ShapeMetrics {
  frac_reward_zero_std: number;
  'filter/group_all_correct': number;
  'filter/group_all_wrong': number;
  'filter/all_tools_failed': number;
  'filter/kept_trajectories': number;
  /** Tool calls per trajectory (TRL's meaning). */
  'tools/call_frequency': number;
  /** Share of trajectories with at least one call. */
  'tools/call_rate': number;
  'tools/failure_frequency': number;
  'entropy/mean': number;
  'entropy/post_tool_mean': number;
  'bonus/mean': number;
  'bonus/abs_mean': number;
  'adv/group_sum_abs': number;
}

export interface ShapeResult {
  trajectories: ShapedTrajectory[];
  metrics: ShapeMetrics;
}
