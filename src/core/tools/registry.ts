// A process-wide name -> tool map. Tool modules register themselves at load time; import
// `./index` (not this file) to be sure every built-in tool is present.

import type { Tool } from './types';

const tools = new Map<string, Tool>();

/** Adds a tool; a second tool under the same name is a programming error, so it throws. */
export function registerTool(tool: Tool): void {
  if (!tool.name) throw new Error('cannot register a tool with an empty name');
  if (tools.has(tool.name)) throw new Error(`a tool named '${tool.name}' is already registered`);
  tools.set(tool.name, tool);
}

/** Looks a tool up by name; the error lists the known names so a config typo is easy to fix. */
export function getTool(name: string): Tool {
  const tool = tools.get(name);
  if (!tool) {
    const known = toolNames();
    throw new Error(`unknown tool '${name}'; known tools: ${known.length ? known.join(', ') : '(none)'}`);
  }
  return tool;
}

/** Registered names, sorted so listings are stable regardless of import order. */
export function toolNames(): string[] {
  return [...tools.keys()].sort();
}
