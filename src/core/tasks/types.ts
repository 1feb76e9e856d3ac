import type { Rng } from '../rng';

/** One problem: the prompt the policy sees (before "="), and the exact answer that earns reward 1. */
export interface TaskItem {
  prompt: string;
  answer: string;
  /** Sub-kind inside the family, for per-kind accuracy (e.g. "sum", "product", "two_step"). */
  kind: string;
}

/** A task family: how to draw problems, which are held out, and how demonstrations look. */
export interface TaskFamily {
  name: string;
  description: string;
  /** Draw one problem from the family's distribution (held-out prompts included). */
  sample(rng: Rng): TaskItem;
  /**
   * A warm-start demonstration for `item`: the policy's side of the transcript, with the tool
   * results the environment would insert, e.g. "<call>47*86</call><result>4042</result>...".
   * A mixture of correct tool use, malformed calls and direct guesses (docs/calibration.md).
   */
  demonstration(item: TaskItem, rng: Rng): string;
  /**
   * Calls at the start of every trajectory that time out whatever they say (default 0): the tool
   * is cold, and the environment, not the policy, fails them.
   */
  coldCalls?: number;
}
