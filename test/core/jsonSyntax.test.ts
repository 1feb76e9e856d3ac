// Where a JSON text breaks the grammar (src/core/jsonSyntax.ts), offsets counted by hand.
import { describe, expect, it } from 'vitest';
import { describeCharacter, jsonSyntaxError, lineAndColumn } from '../../src/core/jsonSyntax';

describe('jsonSyntaxError', () => {
  it('is null for valid JSON', () => {
    for (const text of ['{}', '[]', ' 1 ', '-0.5e+3', '"a\\u00e9\\n"', '{"a":[1,{"b":null}],"c":true}']) {
      expect(jsonSyntaxError(text)).toBeNull();
    }
  });

  it('is the offset of the first character that breaks the grammar', () => {
    expect(jsonSyntaxError('hello')).toBe(0);
    expect(jsonSyntaxError('{"a": oops}')).toBe(6);
    expect(jsonSyntaxError('{"type":"step",}')).toBe(15); // a key must follow the comma
    expect(jsonSyntaxError('[1 2]')).toBe(3);
    expect(jsonSyntaxError('{} {}')).toBe(3); // a second top-level value
    expect(jsonSyntaxError('01')).toBe(1);
    expect(jsonSyntaxError('"\\x"')).toBe(2); // the escape letter
    expect(jsonSyntaxError('tru!')).toBe(3);
  });

  it('is the text length when the text ends before its value does', () => {
    expect(jsonSyntaxError('{"a": [1, 2')).toBe(11);
    expect(jsonSyntaxError('"abc')).toBe(4);
    expect(jsonSyntaxError('1.')).toBe(2);
    expect(jsonSyntaxError('')).toBe(0);
  });

  it('does not overflow the stack on deep nesting', () => {
    expect(jsonSyntaxError('['.repeat(100_000) + ']'.repeat(100_000))).toBeNull();
  });
});

describe('lineAndColumn and describeCharacter', () => {
  it('count from 1', () => {
    expect(lineAndColumn('abc', 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn('{\n  "a": x\n}', 9)).toEqual({ line: 2, column: 8 });
    expect(describeCharacter('o')).toBe('"o"');
    expect(describeCharacter('\n')).toBe('line break');
  });
});
