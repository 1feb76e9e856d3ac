// Default task family: integer arithmetic the tiny policy cannot do reliably in its head but can
// with one or two calculator calls. Mix from docs/calibration.md: 25% one-digit sums (easy), 35%
// two-digit products, 40% a product then a sum or difference, e.g. (47*86)-19.

import type { Rng } from '../rng';
import { answerSpan, callSpan, malformedExpression, plausibleGuess } from './demonstrations';
import { registerTask } from './registry';
import type { TaskFamily, TaskItem } from './types';

function sample(rng: Rng): TaskItem {
  const u = rng.next();
  if (u < 0.25) {
    const a = rng.range(0, 9);
    const b = rng.range(0, 9);
    return { prompt: `${a}+${b}`, answer: String(a + b), kind: 'sum' };
  }
  const a = rng.range(10, 99);
  const b = rng.range(10, 99);
  if (u < 0.6) return { prompt: `${a}*${b}`, answer: String(a * b), kind: 'product' };
  const c = rng.range(10, 99);
  const plus = rng.bernoulli(0.5);
  return {
    prompt: `(${a}*${b})${plus ? '+' : '-'}${c}`,
    answer: String(plus ? a * b + c : a * b - c),
    kind: 'two_step',
  };
}

/** Correct tool use; half of the two-step demonstrations split the work into two calls. */
function correctToolUse(item: TaskItem, rng: Rng): string {
  if (item.kind === 'two_step' && rng.bernoulli(0.5)) {
    const [, product, op, operand] = /^\((\d+\*\d+)\)([+-])(\d+)$/.exec(item.prompt)!;
    const [a, b] = product.split('*').map(Number);
    return callSpan(product) + callSpan(`${a * b}${op}${operand}`) + answerSpan(item.answer);
  }
  return callSpan(item.prompt) + answerSpan(item.answer);
}

/** A malformed call; a third of the time the demonstration then retries correctly, else guesses. */
function malformedThenRecover(item: TaskItem, rng: Rng): string {
  const failed = callSpan(malformedExpression(item.prompt, rng));
  if (rng.bernoulli(1 / 3)) return failed + correctToolUse(item, rng);
  return failed + answerSpan(plausibleGuess(item.answer, rng));
}

function demonstration(item: TaskItem, rng: Rng): string {
  const u = rng.next();
  if (item.kind === 'sum') {
    if (u < 0.6) return answerSpan(item.answer);
    if (u < 0.85) return correctToolUse(item, rng);
    return malformedThenRecover(item, rng);
  }
  if (u < 0.35) return correctToolUse(item, rng);
  if (u < 0.65) return malformedThenRecover(item, rng);
  return answerSpan(plausibleGuess(item.answer, rng));
}

export const arithmetic: TaskFamily = {
  name: 'arithmetic',
  description: 'one-digit sums, two-digit products, and a product then a sum or difference',
  sample,
  demonstration,
};

registerTask(arithmetic);
