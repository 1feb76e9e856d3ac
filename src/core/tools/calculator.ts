// The default tool: a small integer calculator. The policy writes an expression such as
// `(47*86)-19` and gets back `4023`, or a typed error it can learn to avoid.
//
// Grammar (recursive descent; no eval, no Function, nothing executes the input):
//   expr    := term (('+' | '-') term)*          left-associative
//   term    := unary (('*' | '/') unary)*        left-associative
//   unary   := '-'* primary                      so `-2*3` is (-2)*3 and `--3` is 3
//   primary := NUMBER | '(' expr ')'
//   NUMBER  := [0-9]+                            leading zeros allowed: `007` is 7
// ASCII spaces between tokens are ignored; a space inside a number splits it (`4 5` is a
// syntax error). There is no unary plus, no `**`, no decimals.
//
// The input is parsed completely before anything is evaluated, so a malformed expression is
// always a 'syntax' error even if it also divides by zero. Evaluation then runs left to right
// (left operand, right operand, operator) and reports the first arithmetic error it meets.

import { registerTool } from './registry';
import type { Tool, ToolErrorKind, ToolOutcome } from './types';

/**
 * Longest accepted input, in UTF-16 code units. Checked before parsing, so it also bounds the
 * parser's recursion depth (each nesting level costs at least one character) and its run time.
 */
export const MAX_INPUT_LENGTH = 64;

/**
 * Largest magnitude any value may have: number literals, every intermediate result and the final
 * result. Exceeding it is 'too_large'. Keeps results short enough for the tiny model's vocabulary
 * of digits, and keeps products (at most ~1e18) comparable exactly against the bound: integer
 * products up to 2^53 are exact in doubles, and anything larger is far above the bound anyway.
 *
 * A literal is judged by its value, not its digit count: `0000000000007` is 7, while any literal
 * with more than 9 significant digits (so every literal longer than 12 digits without leading
 * zeros) is 'too_large'. The input length limit caps literals at 64 digits in any case.
 */
export const MAX_ABS_VALUE = 999_999_999;

/** Characters the calculator understands. */
export const CALCULATOR_ALPHABET = '0123456789+-*/() ';

const MAX_SIGNIFICANT_DIGITS = String(MAX_ABS_VALUE).length;

/** The parser's typed error: thrown internally, always turned into a ToolOutcome. */
class CalcError extends Error {
  constructor(
    readonly kind: ToolErrorKind,
    message: string,
  ) {
    super(message);
  }
}

type Op = '+' | '-' | '*' | '/';

type Token =
  | { type: 'num'; digits: string; pos: number }
  | { type: 'op'; op: Op; pos: number }
  | { type: 'lparen'; pos: number }
  | { type: 'rparen'; pos: number };

type Node =
  | { type: 'num'; digits: string; pos: number }
  | { type: 'neg'; operand: Node; pos: number }
  | { type: 'bin'; op: Op; left: Node; right: Node; pos: number };

// Positions in messages are 1-based character positions, as a person would count them.

/** How a character is shown in a message: printable ASCII as-is, anything else as U+XXXX. */
function showChar(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code >= 0x21 && code <= 0x7e) return `'${ch}'`;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

function isDigit(ch: string): boolean {
  return ch >= '0' && ch <= '9';
}

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    const pos = i + 1;
    if (ch === ' ') {
      i++;
    } else if (isDigit(ch)) {
      let j = i;
      while (j < input.length && isDigit(input[j])) j++;
      tokens.push({ type: 'num', digits: input.slice(i, j), pos });
      i = j;
    } else if (ch === '+' || ch === '-' || ch === '*' || ch === '/') {
      tokens.push({ type: 'op', op: ch, pos });
      i++;
    } else if (ch === '(') {
      tokens.push({ type: 'lparen', pos });
      i++;
    } else if (ch === ')') {
      tokens.push({ type: 'rparen', pos });
      i++;
    } else {
      throw new CalcError('syntax', `unexpected character ${showChar(ch)} at position ${pos}`);
    }
  }
  return tokens;
}

function describe(token: Token): string {
  switch (token.type) {
    case 'num':
      return `number ${token.digits}`;
    case 'op':
      return `'${token.op}'`;
    case 'lparen':
      return `'('`;
    case 'rparen':
      return `')'`;
  }
}

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): Node {
    const node = this.expr();
    const extra = this.tokens[this.i];
    if (extra) {
      // A stray ')' or a second operand with no operator between (`4 5`, `3(4)`).
      throw new CalcError('syntax', `unexpected ${describe(extra)} at position ${extra.pos}`);
    }
    return node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private expr(): Node {
    let left = this.term();
    for (let t = this.peek(); t && t.type === 'op' && (t.op === '+' || t.op === '-'); t = this.peek()) {
      this.i++;
      left = { type: 'bin', op: t.op, left, right: this.term(), pos: t.pos };
    }
    return left;
  }

  private term(): Node {
    let left = this.unary();
    for (let t = this.peek(); t && t.type === 'op' && (t.op === '*' || t.op === '/'); t = this.peek()) {
      this.i++;
      left = { type: 'bin', op: t.op, left, right: this.unary(), pos: t.pos };
    }
    return left;
  }

  private unary(): Node {
    // Minus signs are collected in a loop rather than by recursion, so `------1` costs no stack.
    const signs: number[] = [];
    for (let t = this.peek(); t && t.type === 'op' && t.op === '-'; t = this.peek()) {
      signs.push(t.pos);
      this.i++;
    }
    let node = this.primary();
    for (let k = signs.length - 1; k >= 0; k--) node = { type: 'neg', operand: node, pos: signs[k] };
    return node;
  }

  private primary(): Node {
    const t = this.peek();
    if (!t) throw new CalcError('syntax', `unexpected end of input: expected a number or '('`);
    if (t.type === 'num') {
      this.i++;
      return { type: 'num', digits: t.digits, pos: t.pos };
    }
    if (t.type === 'lparen') {
      this.i++;
      const inner = this.expr();
      const close = this.peek();
      if (!close || close.type !== 'rparen') {
        const found = close ? `${describe(close)} at position ${close.pos}` : 'end of input';
        throw new CalcError('syntax', `missing ')' for '(' at position ${t.pos}: found ${found}`);
      }
      this.i++;
      return inner;
    }
    throw new CalcError('syntax', `unexpected ${describe(t)} at position ${t.pos}: expected a number or '('`);
  }
}

function checkBound(value: number, what: string): number {
  if (Math.abs(value) > MAX_ABS_VALUE) {
    throw new CalcError('too_large', `${what} exceeds the limit of ${MAX_ABS_VALUE}`);
  }
  // Collapse -0 (from `-0`, `0*-5`, `-1/2`) so it can never be printed or compared oddly.
  return value === 0 ? 0 : value;
}

function evaluate(node: Node): number {
  switch (node.type) {
    case 'num': {
      const significant = node.digits.replace(/^0+/, '');
      // Judge by significant digits first, so a 60-digit literal never goes through Number().
      if (significant.length > MAX_SIGNIFICANT_DIGITS) {
        throw new CalcError('too_large', `number at position ${node.pos} exceeds the limit of ${MAX_ABS_VALUE}`);
      }
      return checkBound(significant === '' ? 0 : Number(significant), `number at position ${node.pos}`);
    }
    case 'neg':
      return checkBound(-evaluate(node.operand), `negation at position ${node.pos}`);
    case 'bin': {
      const a = evaluate(node.left);
      const b = evaluate(node.right);
      const what = `result of '${node.op}' at position ${node.pos}`;
      switch (node.op) {
        case '+':
          return checkBound(a + b, what);
        case '-':
          return checkBound(a - b, what);
        case '*':
          return checkBound(a * b, what);
        case '/':
          if (b === 0) throw new CalcError('division_by_zero', `division by zero at position ${node.pos}`);
          // Integer division truncating toward zero, as in C and Java: -7/2 = -3, 7/-2 = -3.
          // JS `%` also truncates toward zero, so (a - a % b) is an exact multiple of b.
          return checkBound((a - (a % b)) / b, what);
      }
    }
  }
}

/**
 * Evaluates an integer expression. Returns an outcome for every input string; the only
 * exceptions it lets through would be bugs (the tests fuzz it directly to catch those).
 */
export function evaluateExpression(input: string): ToolOutcome {
  if (typeof input !== 'string') {
    return { ok: false, error: 'syntax', message: 'input is not a string' };
  }
  // Length first: it is what makes every later step cheap and shallow.
  if (input.length > MAX_INPUT_LENGTH) {
    return {
      ok: false,
      error: 'too_long',
      message: `expression is ${input.length} characters long; the limit is ${MAX_INPUT_LENGTH}`,
    };
  }
  if (input.trim() === '') {
    return { ok: false, error: 'empty', message: 'expression is empty' };
  }
  try {
    const ast = new Parser(tokenize(input)).parseAll();
    return { ok: true, value: String(evaluate(ast)) };
  } catch (e) {
    if (e instanceof CalcError) return { ok: false, error: e.kind, message: e.message };
    throw e;
  }
}

export const calculator: Tool = {
  name: 'calculator',
  description: `Integer calculator: + - * / (truncating), parentheses and unary minus, values up to ±${MAX_ABS_VALUE}.`,
  alphabet: CALCULATOR_ALPHABET,
  run(input: string): ToolOutcome {
    try {
      return evaluateExpression(input);
    } catch {
      // Last resort only: a tool must never crash a rollout.
      return { ok: false, error: 'syntax', message: 'could not evaluate the expression' };
    }
  },
};

registerTool(calculator);
