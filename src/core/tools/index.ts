// Entry point for tools: importing this module guarantees every built-in tool is registered.

import './calculator';

export { registerTool, getTool, toolNames } from './registry';
export { TOOL_ERROR_KINDS } from './types';
export type { Tool, ToolOutcome, ToolErrorKind } from './types';
export {
  calculator,
  evaluateExpression,
  MAX_INPUT_LENGTH,
  MAX_ABS_VALUE,
  CALCULATOR_ALPHABET,
} from './calculator';
