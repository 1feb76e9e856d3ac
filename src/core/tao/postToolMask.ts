// Which policy tokens follow a tool result (docs/algorithm.md §4.1 and §8.5).
// The mask is a property of the trajectory alone: bonus scope, mode and loss weight never change it.

import type { TokenKind } from './types';

/**
 * 1 for each policy token in a turn that follows a tool result, else 0.
 * A turn runs from the end of one tool-result run to the start of the next (TAO-RL reference
 * code: the whole turn). window k keeps only the first k policy tokens of each such turn
 * (k = 0 marks nothing); afterSuccessOnly keeps only turns after a successful call. The i-th
 * maximal run of tool tokens is the result of toolCalls[i]; prompt and tool tokens are never marked.
 */
export function postToolMask(
  tokens: readonly { kind: TokenKind }[],
  toolCalls: readonly { ok: boolean }[],
  window: number | null,
  afterSuccessOnly: boolean,
): (0 | 1)[] {
  const mask = new Array<0 | 1>(tokens.length).fill(0);
  let toolRuns = 0; // tool-result runs seen so far
  let turnPolicyTokens = 0; // policy tokens since the latest tool-result run
  let previousKind: TokenKind | null = null;
  tokens.forEach((token, t) => {
    if (token.kind === 'tool') {
      if (previousKind !== 'tool') toolRuns += 1;
      turnPolicyTokens = 0;
    } else if (token.kind === 'policy' && toolRuns > 0) {
      // A run with no matching call (unvalidated input) is treated as a failed call.
      const followsSuccess = toolCalls[toolRuns - 1]?.ok === true;
      const inWindow = window === null || turnPolicyTokens < window;
      if (inWindow && (followsSuccess || !afterSuccessOnly)) mask[t] = 1;
      turnPolicyTokens += 1;
    }
    previousKind = token.kind;
  });
  return mask;
}
