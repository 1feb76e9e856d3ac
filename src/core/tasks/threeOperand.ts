// A decision after the tool result (docs/calibration.md, "Where TAO-RL's premise should hold"): three-
// operand expressions whose natural first call is the product a*b; after its result the right
// move is a second call, `<product>op c`, that the demonstrations rarely show, so a policy finds
// it by exploring at post-tool tokens.
//
// Prompts (a, b in 10..99): 40% `(a*b)*c` with c in 2..9 ("times"), 30% `(a*b)+c` ("plus") and
// 30% `(a*b)-c` ("minus") with c in 10..99. Every answer is two calls away and positive (a*b >= 100
// > c). Longest transcript, 60 of the 80 tokens: BOS `(99*99)+99=` (12), a malformed call (at
// most 6 characters, ERR: 13), `99*99` -> 9801 (13), `9801+99` -> 9900 (15), the answer (7); or
// BOS `(99*99)*9=` (11), 13, 13, `9801*9` -> 88209 (15), a five-digit answer (8).
//
// Demonstrations: the first call is always the product a*b, never the whole prompt.
//   60%  product call, then a wrong answer at once: the product itself or a plausible guess
//        near the right answer, half and half
//   25%  product call, second call, the right answer
//   15%  a malformed product call, then
//          1/3 (5% overall)   the product call, the second call, the right answer
//          2/3 (10% overall)  a plausible wrong guess
// So 30% of demonstrations are right, all of them by two successful calls, and a successful
// product result is followed by a second call 30 times in 90. (A first try with 70/15/15 gave a
// tiny warm start of sampled accuracy .04 and mixed groups .26: too few second calls to learn to
// copy the product into one.)

import type { Rng } from '../rng';
import { answerSpan, callSpan, malformedExpression, plausibleGuess } from './demonstrations';
import { registerTask } from './registry';
import type { TaskFamily, TaskItem } from './types';

const PROMPT = /^\((\d+)\*(\d+)\)([*+-])(\d+)$/;

function sample(rng: Rng): TaskItem {
  const u = rng.next();
  const a = rng.range(10, 99);
  const b = rng.range(10, 99);
  if (u < 0.4) {
    const c = rng.range(2, 9);
    return { prompt: `(${a}*${b})*${c}`, answer: String(a * b * c), kind: 'times' };
  }
  const c = rng.range(10, 99);
  if (u < 0.7) return { prompt: `(${a}*${b})+${c}`, answer: String(a * b + c), kind: 'plus' };
  return { prompt: `(${a}*${b})-${c}`, answer: String(a * b - c), kind: 'minus' };
}

/** The prompt's two calls: the product, then the product's value combined with c. */
function subExpressions(item: TaskItem): { product: string; second: string } {
  const [, a, b, op, c] = PROMPT.exec(item.prompt)!;
  return { product: `${a}*${b}`, second: `${Number(a) * Number(b)}${op}${c}` };
}

function twoCalls(item: TaskItem): string {
  const { product, second } = subExpressions(item);
  return callSpan(product) + callSpan(second) + answerSpan(item.answer);
}

/** Answering straight after the product result, wrongly: the product itself, or a near guess. */
function answerAfterOneCall(item: TaskItem, rng: Rng): string {
  const { product } = subExpressions(item);
  const [a, b] = product.split('*').map(Number);
  const guess = rng.bernoulli(0.5) ? String(a * b) : plausibleGuess(item.answer, rng);
  return callSpan(product) + answerSpan(guess);
}

function demonstration(item: TaskItem, rng: Rng): string {
  const u = rng.next();
  if (u < 0.6) return answerAfterOneCall(item, rng);
  if (u < 0.85) return twoCalls(item);
  const failed = callSpan(malformedExpression(subExpressions(item).product, rng));
  if (rng.bernoulli(1 / 3)) return failed + twoCalls(item);
  return failed + answerSpan(plausibleGuess(item.answer, rng));
}

export const threeOperand: TaskFamily = {
  name: 'three_operand',
  description: 'a product then a third operand, where the second call after the first result is the rare, right move',
  sample,
  demonstration,
};

registerTask(threeOperand);
