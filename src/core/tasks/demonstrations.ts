// Building blocks of warm-start demonstrations, shared by the task families. A demonstration is
// the policy's side of a transcript with the tool results the environment would insert.

import type { Rng } from '../rng';
import { evaluateExpression } from '../tools/calculator';
import { SPECIALS as S } from '../tokenizer';

/** The text the environment appends for a tool outcome: the value, or "ERR" for any failure. */
export function toolResultText(outcome: { ok: true; value: string } | { ok: false }): string {
  return outcome.ok ? outcome.value : 'ERR';
}

/** A call to the calculator and the result the environment would append (ERR when it timed out). */
export function callSpan(expression: string, { timedOut = false } = {}): string {
  const result = toolResultText(timedOut ? { ok: false } : evaluateExpression(expression));
  return `${S.callOpen}${expression}${S.callClose}${S.resultOpen}${result}${S.resultClose}`;
}

export function answerSpan(answer: string): string {
  return `${S.answerOpen}${answer}${S.answerClose}${S.eos}`;
}

/** Corruptions that make a call fail to parse, like a model that has not learned the syntax. */
const CORRUPTIONS: ((expression: string, rng: Rng) => string)[] = [
  (e, rng) => {
    const i = rng.int(e.length); // drop a character
    return e.slice(0, i) + e.slice(i + 1);
  },
  (e, rng) => {
    const i = rng.int(e.length + 1); // insert a stray operator
    return e.slice(0, i) + rng.pick(['*', '+', '-', '/', '(', ')']) + e.slice(i);
  },
  (e, rng) => e.slice(0, 1 + rng.int(Math.max(1, e.length - 1))) + rng.pick(['*', '+', '(']), // cut short
  (e) => `${e})`, // unbalanced
];

/** A malformed version of `expression` that the calculator rejects. */
export function malformedExpression(expression: string, rng: Rng): string {
  for (let attempt = 0; attempt < 20; attempt++) {
    const candidate = rng.pick(CORRUPTIONS)(expression, rng);
    if (candidate.length > 0 && !evaluateExpression(candidate).ok) return candidate;
  }
  return `${expression}*`; // always a syntax error
}

/** A wrong answer a model might guess: one digit changed, or off by a small amount. */
export function plausibleGuess(answer: string, rng: Rng): string {
  const value = Number(answer);
  for (;;) {
    let guess: number;
    if (rng.bernoulli(0.5) && answer.length > 1) {
      const digits = answer.split('');
      const i = rng.int(digits.length);
      digits[i] = String(rng.int(10));
      guess = Number(digits.join(''));
    } else {
      guess = value + rng.pick([-1, 1]) * rng.range(1, 20);
    }
    if (guess !== value && guess >= 0) return String(guess);
  }
}
