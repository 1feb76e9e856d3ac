// What a tool call can produce. The environment turns an outcome into the text the policy sees
// after the call, and the TAO shaping only needs `ok` (did the call return a value).

/**
 * Why a tool call failed. `timeout` is never produced by a tool itself: the environment's
 * flaky wrapper injects it to simulate an unreliable tool.
 */
export type ToolErrorKind = 'syntax' | 'division_by_zero' | 'too_large' | 'empty' | 'too_long' | 'timeout';

export type ToolOutcome =
  | { ok: true; value: string }
  | { ok: false; error: ToolErrorKind; message: string };

/** Every error kind, for validation and UI legends. */
export const TOOL_ERROR_KINDS: readonly ToolErrorKind[] = [
  'syntax',
  'division_by_zero',
  'too_large',
  'empty',
  'too_long',
  'timeout',
];

export interface Tool {
  /** Registry key, e.g. 'calculator'. */
  name: string;
  /** One line for humans. */
  description: string;
  /** Characters the tool's input may use (for documentation / the UI). */
  alphabet: string;
  /** Must never throw, whatever string it gets. */
  run(input: string): ToolOutcome;
}
