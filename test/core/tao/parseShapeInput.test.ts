// Strict input validation (docs/algorithm.md §8.7).
import { describe, expect, it } from 'vitest';
import { ShapeInputError, parseShapeConfig, parseShapeInput } from '../../../src/core/tao/parseShapeInput';
import { DEFAULT_SHAPE_CONFIG } from '../../../src/core/tao/shape';

const validTrajectory = () => ({
  group: 0,
  reward: 1,
  toolCalls: [{ ok: true }],
  tokens: [
    { kind: 'prompt', entropy: 0 },
    { kind: 'policy', entropy: 0.5 },
    { kind: 'tool', entropy: 0 },
    { kind: 'policy', entropy: 1.5 },
  ],
});

/** The one-line message parseShapeInput throws for this input. */
function rejection(raw: unknown): string {
  try {
    parseShapeInput(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ShapeInputError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ShapeInputError');
}

/** Input with one trajectory changed by `edit`. */
function withTrajectory(edit: (t: Record<string, unknown>) => void): unknown {
  const trajectory = validTrajectory() as unknown as Record<string, unknown>;
  edit(trajectory);
  return { trajectories: [trajectory] };
}

const withConfig = (config: unknown) => ({ config, trajectories: [] });

describe('parseShapeConfig', () => {
  it('fills every absent key with the section 8 defaults', () => {
    expect(parseShapeConfig(undefined)).toEqual(DEFAULT_SHAPE_CONFIG);
    expect(parseShapeConfig({})).toEqual(DEFAULT_SHAPE_CONFIG);
    expect(DEFAULT_SHAPE_CONFIG).toEqual({
      groupFilter: true,
      toolFailFilter: true,
      toolFailStrength: 1,
      baseline: 'include',
      stdNormalize: true,
      bonus: { mode: 'multiplicative', coef: 0.01, kappa: 2, scope: 'post_tool', window: null, afterSuccessOnly: false },
    });
  });

  it('merges partially given bonus keys with the defaults', () => {
    const config = parseShapeConfig({ baseline: 'exclude', bonus: { coef: 0.4, window: 3 } });
    expect(config.baseline).toBe('exclude');
    expect(config.bonus).toEqual({ ...DEFAULT_SHAPE_CONFIG.bonus, coef: 0.4, window: 3 });
    expect(parseShapeConfig({ bonus: { window: null } }).bonus.window).toBeNull();
    expect(parseShapeConfig({ bonus: { window: 0 } }).bonus.window).toBe(0);
  });

  it('accepts the range edges', () => {
    expect(parseShapeConfig({ toolFailStrength: 0 }).toolFailStrength).toBe(0);
    expect(parseShapeConfig({ toolFailStrength: 1 }).toolFailStrength).toBe(1);
    expect(parseShapeConfig({ bonus: { coef: 0 } }).bonus.coef).toBe(0);
  });
});

describe('parseShapeInput accepts', () => {
  it('a valid input and leaves forced tokens without entropy at 0', () => {
    const input = parseShapeInput({
      trajectories: [{ group: -2, reward: 0.5, toolCalls: [], tokens: [{ kind: 'prompt' }, { kind: 'policy', entropy: 2 }] }],
    });
    expect(input.config).toEqual(DEFAULT_SHAPE_CONFIG);
    expect(input.trajectories[0].tokens).toEqual([
      { kind: 'prompt', entropy: 0 },
      { kind: 'policy', entropy: 2 },
    ]);
  });
});

describe('parseShapeInput rejects', () => {
  it('out-of-range config values, naming path, value and range', () => {
    expect(rejection(withConfig({ bonus: { coef: -1 } }))).toBe(
      'config.bonus.coef: -1 is out of range (must be a number >= 0)',
    );
    expect(rejection(withConfig({ toolFailStrength: 1.5 }))).toBe(
      'config.toolFailStrength: 1.5 is out of range (must be a number in [0, 1])',
    );
    expect(rejection(withConfig({ toolFailStrength: -0.1 }))).toMatch(/^config\.toolFailStrength: -0\.1 is out of range/);
    expect(rejection(withConfig({ bonus: { kappa: 0 } }))).toBe(
      'config.bonus.kappa: 0 is out of range (must be a number > 0)',
    );
    expect(rejection(withConfig({ bonus: { window: -1 } }))).toBe(
      'config.bonus.window: -1 is out of range (must be null or an integer >= 0)',
    );
    expect(rejection(withConfig({ bonus: { window: 1.5 } }))).toBe(
      'config.bonus.window: 1.5 is not an integer (must be null or an integer >= 0)',
    );
  });

  it('NaN and Infinity', () => {
    expect(rejection(withConfig({ bonus: { coef: NaN } }))).toBe(
      'config.bonus.coef: NaN is not finite (must be a number >= 0)',
    );
    expect(rejection(withConfig({ bonus: { kappa: Infinity } }))).toMatch(/^config\.bonus\.kappa: Infinity is not finite/);
    expect(rejection(withTrajectory((t) => (t.reward = -Infinity)))).toBe(
      'trajectories[0].reward: -Infinity is not finite (must be a finite number)',
    );
    expect(
      rejection(withTrajectory((t) => ((t.tokens as { entropy: number }[])[1].entropy = NaN))),
    ).toMatch(/^trajectories\[0\]\.tokens\[1\]\.entropy: NaN is not finite/);
  });

  it('wrong types', () => {
    expect(rejection(withConfig({ groupFilter: 'yes' }))).toBe('config.groupFilter: "yes" is not a boolean');
    expect(rejection(withConfig({ stdNormalize: null }))).toBe('config.stdNormalize: null is not a boolean');
    expect(rejection(withConfig({ baseline: 'median' }))).toBe(
      'config.baseline: "median" is not one of include, exclude',
    );
    expect(rejection(withConfig({ bonus: { mode: 'sqrt' } }))).toBe(
      'config.bonus.mode: "sqrt" is not one of multiplicative, additive, off',
    );
    expect(rejection(withConfig({ bonus: { scope: 'tool' } }))).toMatch(/^config\.bonus\.scope: "tool" is not one of post_tool, all/);
    expect(rejection(withConfig({ bonus: { window: '3' } }))).toBe(
      'config.bonus.window: "3" is not a number (must be null or an integer >= 0)',
    );
    expect(rejection(withConfig([]))).toBe('config: [] is not an object');
    expect(rejection(withConfig({ bonus: 1 }))).toBe('config.bonus: 1 is not an object');
    expect(rejection(withTrajectory((t) => (t.reward = '1')))).toBe(
      'trajectories[0].reward: "1" is not a number (must be a finite number)',
    );
    expect(rejection(withTrajectory((t) => (t.tokens = 'abc')))).toBe('trajectories[0].tokens: "abc" is not an array');
    expect(rejection(withTrajectory((t) => (t.toolCalls = [5])))).toBe('trajectories[0].toolCalls[0]: 5 is not an object');
    expect(rejection(42)).toBe('input: 42 is not an object');
  });

  it('unknown keys at every level', () => {
    expect(rejection({ trajectories: [], extra: 1 })).toBe('extra: unknown key (allowed: config, trajectories)');
    expect(rejection(withConfig({ groupfilter: true }))).toMatch(/^config\.groupfilter: unknown key \(allowed: groupFilter, /);
    expect(rejection(withConfig({ bonus: { alpha: 0.4 } }))).toMatch(/^config\.bonus\.alpha: unknown key \(allowed: mode, coef, /);
    expect(rejection(withTrajectory((t) => (t.answer = '4')))).toBe(
      'trajectories[0].answer: unknown key (allowed: group, reward, toolCalls, tokens)',
    );
    expect(rejection(withTrajectory((t) => (t.toolCalls = [{ ok: true, error: 'x' }])))).toBe(
      'trajectories[0].toolCalls[0].error: unknown key (allowed: ok)',
    );
    expect(
      rejection(withTrajectory((t) => ((t.tokens as Record<string, unknown>[])[1].logp = -1))),
    ).toBe('trajectories[0].tokens[1].logp: unknown key (allowed: kind, entropy)');
    expect(rejection({ trajectories: [], 'a b': 1 })).toMatch(/^\["a b"\]: unknown key/);
  });

  it('an unknown token kind, naming its position', () => {
    const trajectories = [0, 1, 2, 3].map(() => validTrajectory());
    const tokens = trajectories[3].tokens as { kind: string; entropy: number }[];
    tokens.push({ kind: 'policy', entropy: 1 }, { kind: 'foo', entropy: 1 });
    expect(rejection({ trajectories })).toBe('trajectories[3].tokens[5].kind: "foo" is not one of prompt, policy, tool');
  });

  it('negative entropy and non-integer group', () => {
    expect(
      rejection(withTrajectory((t) => ((t.tokens as { entropy: number }[])[1].entropy = -0.1))),
    ).toBe('trajectories[0].tokens[1].entropy: -0.1 is out of range (must be a number >= 0)');
    expect(rejection(withTrajectory((t) => (t.group = 0.5)))).toBe(
      'trajectories[0].group: 0.5 is not an integer (must be an integer)',
    );
    expect(rejection(withTrajectory((t) => (t.group = '0')))).toMatch(/^trajectories\[0\]\.group: "0" is not a number/);
  });

  it('a tool call without a boolean ok', () => {
    expect(rejection(withTrajectory((t) => (t.toolCalls = [{}])))).toBe(
      'trajectories[0].toolCalls[0].ok: missing (must be true or false)',
    );
    expect(rejection(withTrajectory((t) => (t.toolCalls = [{ ok: 1 }])))).toBe(
      'trajectories[0].toolCalls[0].ok: 1 is not a boolean',
    );
  });

  it('prompt tokens after the first non-prompt token', () => {
    expect(
      rejection(withTrajectory((t) => (t.tokens as { kind: string }[]).push({ kind: 'prompt' }))),
    ).toBe('trajectories[0].tokens[4].kind: "prompt" after the first non-prompt token (prompt tokens must come first)');
  });

  it('tool-result runs that do not match the tool calls', () => {
    // one call, two runs (tool, policy, tool)
    expect(
      rejection(withTrajectory((t) => (t.tokens as { kind: string; entropy: number }[]).push({ kind: 'tool', entropy: 0 }))),
    ).toBe('trajectories[0].toolCalls: 1 tool calls but 2 tool-result runs in tokens (must be equal)');
    // one call, no run
    expect(
      rejection(withTrajectory((t) => (t.tokens = [{ kind: 'policy', entropy: 1 }]))),
    ).toMatch(/^trajectories\[0\]\.toolCalls: 1 tool calls but 0 tool-result runs/);
    // adjacent tool tokens form one run: two tool tokens, one call is fine
    expect(() =>
      parseShapeInput(
        withTrajectory((t) => (t.tokens = [{ kind: 'policy', entropy: 1 }, { kind: 'tool' }, { kind: 'tool' }])),
      ),
    ).not.toThrow();
  });

  it('trajectories that are not an array, and missing fields', () => {
    expect(rejection({ trajectories: {} })).toBe('trajectories: {} is not an array');
    expect(rejection({})).toBe('trajectories: missing (must be an array)');
    expect(rejection(withTrajectory((t) => delete t.group))).toBe(
      'trajectories[0].group: missing (must be an integer)',
    );
    expect(rejection(withTrajectory((t) => delete t.reward))).toMatch(/^trajectories\[0\]\.reward: missing/);
    expect(rejection(withTrajectory((t) => delete t.toolCalls))).toBe(
      'trajectories[0].toolCalls: missing (must be an array)',
    );
    expect(rejection(withTrajectory((t) => delete t.tokens))).toBe('trajectories[0].tokens: missing (must be an array)');
    expect(rejection(withTrajectory((t) => (t.tokens = [{ kind: 'policy' }])))).toBe(
      'trajectories[0].tokens[0].entropy: missing (must be a number >= 0)',
    );
    expect(rejection(withTrajectory((t) => (t.tokens = [{ entropy: 1 }])))).toBe(
      'trajectories[0].tokens[0].kind: missing is not one of prompt, policy, tool',
    );
  });
});
