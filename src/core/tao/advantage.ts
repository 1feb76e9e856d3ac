// GRPO outcome advantages per group (docs/algorithm.md §3 and §8.3).
// Plain arrays in, plain arrays out: index i is trajectory i of the batch.

/** Added to the group's std before dividing, as verl and TRL do (docs/algorithm.md §8.3). */
export const GRPO_STD_EPSILON = 1e-6;

/** Trajectory indices of each group, groups in order of first appearance. */
export function groupMembers(groups: readonly number[]): Map<number, number[]> {
  const members = new Map<number, number[]>();
  groups.forEach((group, i) => {
    const list = members.get(group);
    if (list) list.push(i);
    else members.set(group, [i]);
  });
  return members;
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Divide by n: the group filter's and the entropy normaliser's convention (section 8). */
export function populationStd(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) * (v - m);
  return Math.sqrt(squares / values.length);
}

/** Divide by n - 1, as torch.std does in verl and TRL (section 8); 0 for fewer than two values. */
export function sampleStd(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) * (v - m);
  return Math.sqrt(squares / (values.length - 1));
}

/** Mean and std a group's advantages are measured against; null when the baseline set is empty. */
export function groupBaseline(
  baselineRewards: readonly number[],
): { mean: number; std: number } | null {
  if (baselineRewards.length === 0) return null;
  // A lone baseline reward would give A = 0 / eps; section 8 uses mean 0, std 1 instead.
  if (baselineRewards.length === 1) return { mean: 0, std: 1 };
  return { mean: mean(baselineRewards), std: sampleStd(baselineRewards) };
}

/**
 * Outcome advantage A_i of every trajectory (docs/algorithm.md §3).
 * GRPO: A = (r - mean) / (std + 1e-6), sample std; Dr. GRPO (stdNormalize false): A = r - mean.
 * Only trajectories with inBaseline[i] feed their group's mean and std (`baseline: exclude`
 * clears it for tool-failure-marked ones), but every member gets its A from that baseline.
 * A one-member baseline means mean 0, std 1 (so A = r / (1 + 1e-6), or r under Dr. GRPO);
 * an empty baseline set gives A = 0.
 */
export function groupAdvantages(
  rewards: readonly number[],
  groups: readonly number[],
  inBaseline: readonly boolean[],
  stdNormalize: boolean,
): number[] {
  const advantages = new Array<number>(rewards.length).fill(0);
  for (const members of groupMembers(groups).values()) {
    const baseline = groupBaseline(members.filter((i) => inBaseline[i]).map((i) => rewards[i]));
    if (baseline === null) continue;
    const scale = stdNormalize ? baseline.std + GRPO_STD_EPSILON : 1;
    for (const i of members) advantages[i] = (rewards[i] - baseline.mean) / scale;
  }
  return advantages;
}
