import { describe, it, expect } from 'vitest';
import {
  calculator,
  evaluateExpression,
  MAX_ABS_VALUE,
  MAX_INPUT_LENGTH,
} from '../../../src/core/tools/calculator';
import type { ToolErrorKind, ToolOutcome } from '../../../src/core/tools/types';

const ERROR_KINDS: ToolErrorKind[] = ['syntax', 'division_by_zero', 'too_large', 'empty', 'too_long', 'timeout'];

function value(input: string): string {
  const out = calculator.run(input);
  if (!out.ok) throw new Error(`expected a value for ${JSON.stringify(input)}, got ${out.error}: ${out.message}`);
  return out.value;
}

function errorOf(input: string): ToolErrorKind {
  const out = calculator.run(input);
  if (out.ok) throw new Error(`expected an error for ${JSON.stringify(input)}, got value ${out.value}`);
  expect(out.message.length).toBeGreaterThan(0);
  return out.error;
}

/** Throws unless `out` is a well-formed outcome; returns it for further checks. */
function checkWellFormed(input: string, out: ToolOutcome): ToolOutcome {
  const where = JSON.stringify(input.length > 80 ? input.slice(0, 80) + '...' : input);
  if (out.ok) {
    if (!/^-?\d+$/.test(out.value)) throw new Error(`bad value ${out.value} for ${where}`);
    if (out.value === '-0') throw new Error(`negative zero for ${where}`);
    if (Math.abs(Number(out.value)) > MAX_ABS_VALUE) throw new Error(`out-of-bound value for ${where}`);
  } else {
    if (!ERROR_KINDS.includes(out.error) || out.error === 'timeout') {
      throw new Error(`bad error kind ${String(out.error)} for ${where}`);
    }
    if (typeof out.message !== 'string' || out.message.length === 0) throw new Error(`empty message for ${where}`);
  }
  return out;
}

/** Tiny seeded PRNG so fuzz failures are reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('calculator: hand-checked values', () => {
  const cases: [string, string][] = [
    ['47*86', '4042'],
    ['(47*86)-19', '4023'],
    ['2+3*4', '14'],
    ['(2+3)*4', '20'],
    ['-7/2', '-3'],
    ['7/-2', '-3'],
    ['7/2', '3'],
    ['-7/-2', '3'],
    ['-(3-10)', '7'],
    ['100/10/5', '2'],
    ['2-3-4', '-5'],
    ['0*5', '0'],
    ['-0', '0'],
    ['0*-5', '0'],
    ['-1/2', '0'],
    ['99*99', '9801'],
    [' 1 + 2 ', '3'],
    ['999999999', '999999999'],
    ['-999999999', '-999999999'],
    ['--3', '3'],
    ['---3', '-3'],
    ['-(2+3)', '-5'],
    ['-2*3', '-6'],
    ['2*-3', '-6'],
    ['2--3', '5'],
    ['007', '7'],
    ['0000000000007', '7'],
    ['((((5))))', '5'],
    ['12/4*3', '9'],
    ['2*3+4*5', '26'],
    ['10-2*3', '4'],
    ['1000000/1000*999', '999000'],
  ];

  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} = ${expected}`, () => {
      expect(value(input)).toBe(expected);
    });
  }

  it('accepts long valid chains within the length limit', () => {
    expect(value('-'.repeat(63) + '1')).toBe('-1'); // 63 minus signs: odd
    expect(value('-'.repeat(62) + '1')).toBe('1');
    expect(value('('.repeat(31) + '1' + ')'.repeat(31))).toBe('1');
    expect(value('1+'.repeat(31) + '1')).toBe('32');
  });

  it('accepts a 64-character input and rejects a 65-character one', () => {
    const ok64 = '1+'.repeat(31) + '11'; // 31 ones plus 11 = 42
    expect(ok64.length).toBe(64);
    expect(MAX_INPUT_LENGTH).toBe(64);
    expect(value(ok64)).toBe('42');
    const long65 = '1+'.repeat(32) + '1';
    expect(long65.length).toBe(65);
    expect(errorOf(long65)).toBe('too_long');
  });
});

describe('calculator: errors', () => {
  it('too_large on the final result, on intermediates and on literals', () => {
    expect(errorOf('999999999+1')).toBe('too_large');
    expect(errorOf('-999999999-1')).toBe('too_large');
    expect(errorOf('99999*99999')).toBe('too_large'); // 9999800001
    expect(errorOf('99999*99999/99999')).toBe('too_large'); // final 99999, but the product overflows
    expect(errorOf('999999999*999999999')).toBe('too_large');
    expect(errorOf('1000000000')).toBe('too_large');
    expect(errorOf('1000000000-1')).toBe('too_large'); // the literal itself is out of bounds
    expect(errorOf('9'.repeat(20))).toBe('too_large');
    expect(errorOf('1' + '0'.repeat(12))).toBe('too_large'); // 13-digit literal
  });

  it('division_by_zero', () => {
    expect(errorOf('1/0')).toBe('division_by_zero');
    expect(errorOf('5/(3-3)')).toBe('division_by_zero');
    expect(errorOf('0/0')).toBe('division_by_zero');
    expect(errorOf('1/(1/2)')).toBe('division_by_zero'); // 1/2 truncates to 0
  });

  it('empty', () => {
    expect(errorOf('')).toBe('empty');
    expect(errorOf('   ')).toBe('empty');
  });

  it('too_long, checked before anything else', () => {
    expect(errorOf('1'.repeat(65))).toBe('too_long');
    expect(errorOf(' '.repeat(65))).toBe('too_long');
    expect(errorOf('('.repeat(10000))).toBe('too_long');
  });

  const syntaxCases = ['2+', '(2', '2)', '()', '3(4)', '(4)3', '2**3', '4 5', 'a+1', '1.5', '=', '+3', '2*/3', '1\t+2', ')('];
  for (const input of syntaxCases) {
    it(`syntax error for ${JSON.stringify(input)}`, () => {
      expect(errorOf(input)).toBe('syntax');
    });
  }

  it('a malformed expression is a syntax error even if it would divide by zero or overflow', () => {
    expect(errorOf('1/0+')).toBe('syntax');
    expect(errorOf('99999*99999)')).toBe('syntax');
  });

  it('messages name the problem and its 1-based position', () => {
    const m = (s: string) => {
      const out = calculator.run(s);
      return out.ok ? '' : out.message;
    };
    expect(m('(2+3))')).toBe("unexpected ')' at position 6");
    expect(m('1.5')).toBe("unexpected character '.' at position 2");
    expect(m('2+')).toContain('end of input');
    expect(m('(2')).toContain("'(' at position 1");
    expect(m('5/(3-3)')).toBe('division by zero at position 2');
    expect(m('1+\u0000')).toContain('U+0000');
  });

  it('every error kind the calculator produces is hit (timeout belongs to the flaky wrapper)', () => {
    const seen = new Set(['1+', '1/0', '999999999+1', '', '1'.repeat(65)].map(errorOf));
    expect([...seen].sort()).toEqual(['division_by_zero', 'empty', 'syntax', 'too_large', 'too_long']);
  });
});

describe('calculator: fuzz', () => {
  it('never throws and always returns a well-formed outcome', () => {
    const start = performance.now();
    const rand = mulberry32(12345);
    const alphabet = '0123456789+-*/()= xE';
    const inputs: string[] = [];
    for (let n = 0; n < 5000; n++) {
      const len = Math.floor(rand() * 81);
      let s = '';
      for (let k = 0; k < len; k++) s += alphabet[Math.floor(rand() * alphabet.length)];
      inputs.push(s);
    }
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(rand() * 81);
      const units: number[] = [];
      for (let k = 0; k < len; k++) units.push(Math.floor(rand() * 0x10000)); // lone surrogates included
      inputs.push(String.fromCharCode(...units));
    }
    inputs.push(
      '('.repeat(10000),
      ')'.repeat(10000),
      '-'.repeat(100000) + '1',
      '9'.repeat(1000),
      '1+'.repeat(5000) + '1',
      '(1+'.repeat(2000) + '1' + ')'.repeat(2000),
      '-'.repeat(63) + '1',
      '('.repeat(32) + ')'.repeat(32),
      '('.repeat(64),
      '9'.repeat(64),
      '9*'.repeat(31) + '99',
      '\uD800',
      '\uFFFF',
      '1\u00A02',
    );

    const kinds = new Set<string>();
    for (const input of inputs) {
      // evaluateExpression has no catch-all, so a parser bug would surface here as a throw.
      const direct = checkWellFormed(input, evaluateExpression(input));
      const viaRun = checkWellFormed(input, calculator.run(input));
      expect(viaRun).toEqual(direct);
      kinds.add(direct.ok ? 'ok' : direct.error);
    }
    // The random strings must reach past the syntax check (the oracle test covers arithmetic errors).
    for (const k of ['ok', 'syntax', 'too_long', 'empty']) expect(kinds).toContain(k);
    expect(performance.now() - start).toBeLessThan(10_000);
  });
});

describe('calculator: oracle on generated well-formed expressions', () => {
  type Val = { ok: true; v: bigint } | { ok: false; error: 'too_large' | 'division_by_zero' };
  // Precedence of the rendered form: 1 = + -, 2 = * /, 3 = unary minus, 4 = atom (number or parens).
  type Gen = { tokens: string[]; prec: number; val: Val };

  const BOUND = BigInt(MAX_ABS_VALUE);
  const bounded = (v: bigint): Val =>
    v > BOUND || v < -BOUND ? { ok: false, error: 'too_large' } : { ok: true, v };

  it('matches a BigInt tree evaluator (value, too_large, division_by_zero)', () => {
    const rand = mulberry32(2024);
    const pick = <T,>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];

    const paren = (g: Gen): Gen => ({ tokens: ['(', ...g.tokens, ')'], prec: 4, val: g.val });

    function gen(depth: number): Gen {
      const r = rand();
      if (depth <= 0 || r < 0.3) {
        const n = Math.floor(rand() * 100);
        const text = rand() < 0.05 ? '0' + String(n) : String(n); // sometimes a leading zero
        return { tokens: [text], prec: 4, val: { ok: true, v: BigInt(n) } };
      }
      if (r < 0.4) {
        let inner = gen(depth - 1);
        if (inner.prec < 3) inner = paren(inner); // -(a+b) needs parens; --a and -(..) do not
        const val: Val = inner.val.ok ? bounded(-inner.val.v) : inner.val;
        return { tokens: ['-', ...inner.tokens], prec: 3, val };
      }
      if (r < 0.45) return paren(gen(depth - 1)); // redundant parentheses
      const op = pick(['+', '-', '*', '*', '*', '/']);
      const prec = op === '+' || op === '-' ? 1 : 2;
      let left = gen(depth - 1);
      let right = gen(depth - 1);
      // Left-associative: the left child needs parens only below our precedence, the right at or below.
      if (left.prec < prec) left = paren(left);
      if (right.prec <= prec) right = paren(right);
      // Errors propagate left operand first, then right, then the operation itself.
      let val: Val;
      if (!left.val.ok) val = left.val;
      else if (!right.val.ok) val = right.val;
      else {
        const a = left.val.v;
        const b = right.val.v;
        if (op === '+') val = bounded(a + b);
        else if (op === '-') val = bounded(a - b);
        else if (op === '*') val = bounded(a * b);
        else if (b === 0n) val = { ok: false, error: 'division_by_zero' };
        else val = bounded(a / b); // BigInt division truncates toward zero, the documented semantics
      }
      return { tokens: [...left.tokens, op, ...right.tokens], prec, val };
    }

    const counts = { ok: 0, too_large: 0, division_by_zero: 0 };
    let checked = 0;
    let attempts = 0;
    while (checked < 2000) {
      attempts++;
      expect(attempts).toBeLessThan(200_000);
      const g = gen(1 + Math.floor(rand() * 5));
      const spaced = rand() < 0.2;
      const text = g.tokens.join(spaced ? ' ' : '');
      if (text.length > MAX_INPUT_LENGTH) continue;
      checked++;
      const out = calculator.run(text);
      if (g.val.ok) {
        expect(out, text).toEqual({ ok: true, value: g.val.v.toString() });
        counts.ok++;
      } else {
        expect(out.ok, text).toBe(false);
        if (!out.ok) expect(out.error, text).toBe(g.val.error);
        counts[g.val.error]++;
      }
    }
    // Make sure the generator exercises all three outcomes in meaningful numbers.
    expect(counts.ok).toBeGreaterThan(500);
    expect(counts.too_large).toBeGreaterThan(20);
    expect(counts.division_by_zero).toBeGreaterThan(20);
  });
});
