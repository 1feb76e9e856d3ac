import { describe, it, expect } from 'vitest';
import { getTool, registerTool, toolNames, type Tool } from '../../../src/core/tools';

describe('tool registry', () => {
  it('has the calculator registered by importing the tools index', () => {
    expect(toolNames()).toContain('calculator');
    const calc = getTool('calculator');
    expect(calc.name).toBe('calculator');
    expect(calc.description.length).toBeGreaterThan(0);
    expect(calc.alphabet).toContain('0');
    expect(calc.run('47*86')).toEqual({ ok: true, value: '4042' });
  });

  it('unknown names throw an error listing the known tools', () => {
    expect(() => getTool('nope')).toThrow(/nope/);
    expect(() => getTool('nope')).toThrow(/calculator/);
  });

  it('duplicate registration throws and names the tool', () => {
    expect(() => registerTool({ ...getTool('calculator') })).toThrow(/calculator/);
    const echo: Tool = {
      name: 'test-echo',
      description: 'returns its input',
      alphabet: '',
      run: (input) => ({ ok: true, value: input }),
    };
    registerTool(echo);
    expect(getTool('test-echo')).toBe(echo);
    expect(toolNames()).toEqual([...toolNames()].sort());
    expect(() => registerTool(echo)).toThrow(/test-echo/);
  });
});
