// A decision right after a tool result that decides the outcome and is rarely taken: the tool is
// cold, so the first call of every trajectory times out ("ERR", the environment's failure, not
// the policy's). The one way to the answer is to call again; answering after the timeout is a
// guess. The warm start retries in 3 demonstrations in 100, so at the first post-tool token the
// policy is nearly sure to open an answer (low entropy) and a retry is the rare, right move:
// where the paper's premise (explore after the tool result) should matter most.
//
// Prompts: two-digit products a*b (a, b in 10..99), which the policy cannot do in its head.
// Longest demonstration: BOS `99*99=` (7), the cold call `99*99` -> ERR (13), the retry `99*99`
// -> 9801 (14), the answer (7): 41 of the 80 tokens.
//
// Demonstrations, each starting with the call a*b, which times out:
//   97%  a plausible wrong guess at once
//    3%  the same call again, then its value as the answer

import type { Rng } from '../rng';
import { answerSpan, callSpan, plausibleGuess } from './demonstrations';
import { registerTask } from './registry';
import type { TaskFamily, TaskItem } from './types';

/** Share of demonstrations that retry after the timeout. */
export const RETRY_DEMONSTRATION_SHARE = 0.03;

function sample(rng: Rng): TaskItem {
  const a = rng.range(10, 99);
  const b = rng.range(10, 99);
  return { prompt: `${a}*${b}`, answer: String(a * b), kind: 'product' };
}

function demonstration(item: TaskItem, rng: Rng): string {
  const timedOut = callSpan(item.prompt, { timedOut: true });
  if (rng.next() < RETRY_DEMONSTRATION_SHARE) return timedOut + callSpan(item.prompt) + answerSpan(item.answer);
  return timedOut + answerSpan(plausibleGuess(item.answer, rng));
}

export const retry: TaskFamily = {
  name: 'retry',
  description: 'a cold tool times out on the first call; calling again after the timeout, which few demonstrations do, is the way to the answer',
  sample,
  demonstration,
  coldCalls: 1,
};

registerTask(retry);
