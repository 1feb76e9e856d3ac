// The shared JSON readers (src/core/validate.ts): each message names where, what was found and
// what is allowed, written out here in full.
import { describe, expect, it } from 'vitest';
import {
  expectArray,
  expectBoolean,
  expectEach,
  expectKnownKeys,
  expectNumber,
  expectObject,
  expectOneOf,
  expectString,
  expectValue,
  FINITE,
  formatValue,
  INTEGER,
  isInRange,
  NON_NEGATIVE_INTEGER,
  numberProblem,
  pathTo,
  POSITIVE,
  readAs,
  UNIT_INTERVAL,
  ValidationError,
  type NumberRange,
} from '../../src/core/validate';

/** The message `read` throws; it must be a ValidationError on one line. */
function message(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).not.toContain('\n');
    return (error as Error).message;
  }
  throw new Error('expected a ValidationError');
}

describe('ValidationError', () => {
  it('joins path and problem, or is the problem alone', () => {
    const error = new ValidationError('is not an object', 'config.bonus');
    expect(error.message).toBe('config.bonus: is not an object');
    expect(error.path).toBe('config.bonus');
    expect(error.problem).toBe('is not an object');
    expect(new ValidationError('the file is empty').message).toBe('the file is empty');
  });

  it('comes out of readAs as the reader module\'s own class, with the same path and problem', () => {
    class InputError extends ValidationError {
      override name = 'InputError';
    }
    let caught: unknown;
    try {
      readAs(InputError, () => expectArray(3, 'trajectories'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).message).toBe('trajectories: 3 is not an array');
    expect((caught as InputError).path).toBe('trajectories');
    expect(readAs(InputError, () => 7)).toBe(7);
    expect(() => readAs(InputError, () => JSON.parse('{'))).toThrow(SyntaxError); // other errors pass through
  });
});

describe('pathTo', () => {
  it('adds a key, an odd key or an index', () => {
    expect(pathTo('', 'config')).toBe('config');
    expect(pathTo('config', 'bonus')).toBe('config.bonus');
    expect(pathTo('reports[0].metrics', 'reward/mean')).toBe('reports[0].metrics["reward/mean"]');
    expect(pathTo('', 'a b')).toBe('["a b"]');
    expect(pathTo('trajectories', 3)).toBe('trajectories[3]');
  });
});

describe('formatValue', () => {
  it('shows the value as written, on one line and at most 40 characters', () => {
    expect(formatValue(1.5)).toBe('1.5');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatValue(-Infinity)).toBe('-Infinity');
    expect(formatValue('1')).toBe('"1"');
    expect(formatValue(null)).toBe('null');
    expect(formatValue(undefined)).toBe('missing');
    expect(formatValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(formatValue('x'.repeat(50))).toBe(`"${'x'.repeat(36)}...`);
    expect(formatValue('line\nbreak')).toBe('"line\\nbreak"');
  });
});

describe('type readers', () => {
  it('say missing, or what was found, and what is allowed', () => {
    expect(message(() => expectObject([], 'config'))).toBe('config: [] is not an object');
    expect(message(() => expectObject(undefined, 'settings'))).toBe('settings: missing (must be an object)');
    expect(message(() => expectArray({}, 'trajectories'))).toBe('trajectories: {} is not an array');
    expect(message(() => expectArray(undefined, 'tokens'))).toBe('tokens: missing (must be an array)');
    expect(message(() => expectString(3, 'prompt'))).toBe('prompt: 3 is not a string');
    expect(message(() => expectString(false, 'answer', 'a string or null'))).toBe('answer: false is not a string or null');
    expect(message(() => expectBoolean('yes', 'kept'))).toBe('kept: "yes" is not a boolean');
    expect(message(() => expectBoolean(undefined, 'ok'))).toBe('ok: missing (must be true or false)');
  });

  it('return what they accept, unchanged', () => {
    const object = { a: 1 };
    const list = [1, 2];
    expect(expectObject(object, 'x')).toBe(object);
    expect(expectArray(list, 'x')).toBe(list);
    expect(expectString('', 'x')).toBe('');
    expect(expectBoolean(false, 'x')).toBe(false);
  });

  it('one of a list, naming every allowed value', () => {
    expect(expectOneOf('all', 'scope', ['post_tool', 'all'])).toBe('all');
    expect(message(() => expectOneOf('sqrt', 'mode', ['multiplicative', 'additive', 'off']))).toBe(
      'mode: "sqrt" is not one of multiplicative, additive, off',
    );
    expect(message(() => expectOneOf(undefined, 'kind', ['prompt', 'policy', 'tool']))).toBe('kind: missing is not one of prompt, policy, tool');
    expect(message(() => expectOneOf(1, 'reason', ['group_all_correct'], 'or null'))).toBe('reason: 1 is not one of group_all_correct or null');
  });

  it('any predicate, in the short wording', () => {
    const isEven = (value: unknown): value is number => typeof value === 'number' && value % 2 === 0;
    expect(expectValue(4, 'n', isEven, 'an even number')).toBe(4);
    expect(message(() => expectValue(3, 'n', isEven, 'an even number'))).toBe('n: 3 is not an even number');
    expect(message(() => expectValue(undefined, 'n', isEven, 'an even number'))).toBe('n: missing (must be an even number)');
  });
});

describe('expectKnownKeys', () => {
  it('names the first unknown key and the allowed ones', () => {
    expect(message(() => expectKnownKeys({ ok: true, error: 'x' }, 'toolCalls[0]', ['ok']))).toBe('toolCalls[0].error: unknown key (allowed: ok)');
    expect(message(() => expectObject({ extra: 1 }, '', ['config', 'trajectories']))).toBe('extra: unknown key (allowed: config, trajectories)');
    expect(() => expectObject({ ok: true }, 'call', ['ok', 'value'])).not.toThrow();
  });
});

describe('expectEach', () => {
  it('checks every entry in place and names the first that fails by its index', () => {
    const list = ['a', 'b'];
    const isString = (value: unknown): value is string => typeof value === 'string';
    expect(expectEach(list, 'text', isString, 'a string')).toBe(list);
    expect(message(() => expectEach(['a', 2, null], 'tokens.text', isString, 'a string'))).toBe('tokens.text[1]: 2 is not a string');
    expect(expectEach([], 'text', isString, 'a string')).toEqual([]);
  });
});

describe('numbers with a range', () => {
  const WIDTH: NumberRange = { describe: 'an integer in [1, 8]', integer: true, min: 1, max: 8 };
  const TEMPERATURE: NumberRange = { describe: 'a number in (0, 4]', min: 0, minExclusive: true, max: 4 };

  it('say which test failed, then what is allowed', () => {
    expect(message(() => expectNumber(undefined, 'width', WIDTH))).toBe('width: missing (must be an integer in [1, 8])');
    expect(message(() => expectNumber('3', 'width', WIDTH))).toBe('width: "3" is not a number (must be an integer in [1, 8])');
    expect(message(() => expectNumber(null, 'width', WIDTH))).toBe('width: null is not a number (must be an integer in [1, 8])');
    expect(message(() => expectNumber(NaN, 'width', WIDTH))).toBe('width: NaN is not finite (must be an integer in [1, 8])');
    expect(message(() => expectNumber(Infinity, 'reward', FINITE))).toBe('reward: Infinity is not finite (must be a finite number)');
    expect(message(() => expectNumber(2.5, 'width', WIDTH))).toBe('width: 2.5 is not an integer (must be an integer in [1, 8])');
    expect(message(() => expectNumber(9, 'width', WIDTH))).toBe('width: 9 is out of range (must be an integer in [1, 8])');
    expect(message(() => expectNumber(0, 'width', WIDTH))).toBe('width: 0 is out of range (must be an integer in [1, 8])');
    expect(message(() => expectNumber(-1, 'group', NON_NEGATIVE_INTEGER))).toBe('group: -1 is out of range (must be an integer >= 0)');
  });

  it('keep the edges: a closed end allowed, an open end refused', () => {
    expect(expectNumber(1, 'width', WIDTH)).toBe(1);
    expect(expectNumber(8, 'width', WIDTH)).toBe(8);
    expect(expectNumber(4, 'temperature', TEMPERATURE)).toBe(4);
    expect(message(() => expectNumber(0, 'temperature', TEMPERATURE))).toBe('temperature: 0 is out of range (must be a number in (0, 4])');
    expect(message(() => expectNumber(0, 'kappa', POSITIVE))).toBe('kappa: 0 is out of range (must be a number > 0)');
    expect(expectNumber(-3, 'group', INTEGER)).toBe(-3);
    expect(expectNumber(0, 'strength', UNIT_INTERVAL)).toBe(0);
    expect(expectNumber(1, 'strength', UNIT_INTERVAL)).toBe(1);
  });

  it('give the problem alone, for a caller that words the value itself', () => {
    expect(numberProblem(0.5, UNIT_INTERVAL)).toBeNull();
    expect(numberProblem(1.5, UNIT_INTERVAL)).toBe('is out of range (must be a number in [0, 1])');
    expect(numberProblem('abc', UNIT_INTERVAL)).toBe('is not a number (must be a number in [0, 1])');
    expect(isInRange(0.5, UNIT_INTERVAL)).toBe(true);
    expect(isInRange(NaN, FINITE)).toBe(false);
    expect(isInRange(-0.1, UNIT_INTERVAL)).toBe(false);
  });
});
