// The environment between policy and tool: runs a call, and can make the tool flaky, timing out
// with probability p whatever the expression (a failure the policy did not cause).

import type { Rng } from './rng';
import { getTool } from './tools';
import type { Tool, ToolErrorKind } from './tools/types';

/** Whose fault a failed call was: the policy's (malformed call) or the environment's (timeout). */
export type FailureCause = 'policy' | 'environment';

export interface ToolCallRecord {
  /** The text the policy put between call open and close. */
  expression: string;
  ok: boolean;
  /** The value when ok. */
  value?: string;
  error?: ToolErrorKind;
  /** Human sentence for a failure. */
  message?: string;
  cause?: FailureCause;
}

export class ToolEnvironment {
  private readonly tool: Tool;

  constructor(
    toolName: string,
    /** Probability that a call times out whatever its expression; in [0, 1]. */
    public flakyProbability: number,
    private readonly rng: Rng,
    /** Calls at the start of every trajectory that time out whatever they say (a cold tool; the task decides). */
    private readonly coldCalls = 0,
  ) {
    this.tool = getTool(toolName);
  }

  /**
   * The uniforms that decide the timeouts of a rollout's calls, [rows * callsPerRow] row-major,
   * drawn before decoding: call c of row r times out when its draw is below the probability,
   * whichever order the rows' calls run in (rollout.ts runs them per position or per tool round).
   */
  timeoutDraws(rows: number, callsPerRow: number): Float64Array {
    const draws = new Float64Array(rows * callsPerRow);
    for (let i = 0; i < draws.length; i++) draws[i] = this.rng.next();
    return draws;
  }

  /**
   * Run the trajectory's call number `callIndex` (0 for its first call); `draw` is its timeout
   * uniform from `timeoutDraws` (default: the next number of the environment's generator).
   */
  call(expression: string, callIndex = 0, draw?: number): ToolCallRecord {
    // Drawn for every call, so the timeout pattern does not depend on what the policy wrote.
    const timedOut = (draw ?? this.rng.next()) < this.flakyProbability || callIndex < this.coldCalls;
    if (timedOut) {
      return { expression, ok: false, error: 'timeout', message: 'the tool timed out', cause: 'environment' };
    }
    const outcome = this.tool.run(expression);
    if (outcome.ok) return { expression, ok: true, value: outcome.value };
    return { expression, ok: false, error: outcome.error, message: outcome.message, cause: 'policy' };
  }
}

/** A call-close with no open call, or a call the policy wrote with non-character tokens in it. */
export function malformedCall(expression: string, message: string): ToolCallRecord {
  return { expression, ok: false, error: 'syntax', message, cause: 'policy' };
}
