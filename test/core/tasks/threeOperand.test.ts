// The three-operand task family: a decision after the tool result (src/core/tasks/threeOperand.ts).
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng';
import { evaluationSet, getTask, isHeldOut, taskNames, trainingItem } from '../../../src/core/tasks';
import { threeOperand } from '../../../src/core/tasks/threeOperand';
import type { TaskItem } from '../../../src/core/tasks/types';
import { encode, EOS } from '../../../src/core/tokenizer';
import { evaluateExpression } from '../../../src/core/tools/calculator';

const CONTEXT_LENGTH = 80;

/** The prompt read back by hand, independently of the family's code. */
function parsePrompt(prompt: string): { a: number; b: number; op: string; c: number } {
  const m = /^\(([1-9]\d)\*([1-9]\d)\)([*+-])([1-9]\d?)$/.exec(prompt);
  if (!m) throw new Error(`prompt ${prompt} is not (a*b)op c`);
  return { a: Number(m[1]), b: Number(m[2]), op: m[3], c: Number(m[4]) };
}

function sampleMany(seed: number, n: number): TaskItem[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => threeOperand.sample(rng));
}

/** Split a demonstration into call/result pairs and the answer; throws on any other shape. */
function parseDemo(text: string): { calls: { expression: string; result: string }[]; answer: string } {
  const whole = /^((?:<call>[^<]*<\/call><result>[^<]*<\/result>)*)<answer>([^<]*)<\/answer><eos>$/.exec(text);
  if (!whole) throw new Error(`demonstration has an unexpected shape: ${text}`);
  const calls = [...whole[1].matchAll(/<call>([^<]*)<\/call><result>([^<]*)<\/result>/g)].map((m) => ({
    expression: m[1],
    result: m[2],
  }));
  return { calls, answer: whole[2] };
}

/** Tokens of the whole transcript: BOS, the prompt, "=" (as rollout.promptTokens), then the demonstration. */
function transcriptLength(item: TaskItem, demonstration: string): number {
  return 1 + encode(item.prompt).length + 1 + encode(demonstration).length;
}

describe('three_operand prompts', () => {
  it('is registered under its name', () => {
    expect(taskNames()).toContain('three_operand');
    expect(getTask('three_operand')).toBe(threeOperand);
  });

  it('is reproducible for a seed', () => {
    expect(sampleMany(3, 200)).toEqual(sampleMany(3, 200));
    expect(sampleMany(3, 200)).not.toEqual(sampleMany(4, 200));
  });

  it('tokenizes, and the calculator evaluates each prompt to its answer', () => {
    for (const item of sampleMany(5, 5000)) {
      encode(item.prompt); // throws on a character the tokenizer does not know
      const { a, b, op, c } = parsePrompt(item.prompt);
      const expected = op === '*' ? a * b * c : op === '+' ? a * b + c : a * b - c;
      expect(item.answer).toBe(String(expected));
      expect(evaluateExpression(item.prompt)).toEqual({ ok: true, value: item.answer });
      expect(item.kind).toBe({ '*': 'times', '+': 'plus', '-': 'minus' }[op]);
      expect(op === '*' ? c >= 2 && c <= 9 : c >= 10 && c <= 99).toBe(true);
      expect(Number(item.answer)).toBeGreaterThan(0);
    }
  });

  it('draws 40% times, 30% plus and 30% minus', () => {
    const n = 20000;
    const items = sampleMany(17, n);
    const share = (kind: string) => items.filter((item) => item.kind === kind).length / n;
    // 4 standard errors over 20000: .4 -> 4 * sqrt(.4 * .6 / 20000) = .0139, .3 -> 4 * sqrt(.3 * .7 / 20000) = .0130
    expect(Math.abs(share('times') - 0.4)).toBeLessThan(0.0139);
    expect(Math.abs(share('plus') - 0.3)).toBeLessThan(0.013);
    expect(Math.abs(share('minus') - 0.3)).toBeLessThan(0.013);
  });

  it('holds some prompts out, and the training stream never yields one of them', () => {
    const n = 20000;
    const held = sampleMany(6, n).filter((item) => isHeldOut(item.prompt)).length;
    // about 8100 x 8 + 8100 x 90 x 2 distinct prompts, so the share is close to 1 in 5:
    // 4 * sqrt(.2 * .8 / 20000) = .0113
    expect(Math.abs(held / n - 0.2)).toBeLessThan(0.0113);
    const rng = new Rng(7);
    for (let i = 0; i < 5000; i++) expect(isHeldOut(trainingItem(threeOperand, rng).prompt)).toBe(false);
    const evaluation = evaluationSet(threeOperand);
    expect(evaluation).toHaveLength(512);
    expect(evaluation.every((item) => isHeldOut(item.prompt))).toBe(true);
  });
});

describe('three_operand demonstrations', () => {
  it('is reproducible for a seed', () => {
    const items = sampleMany(8, 50);
    const demos = (seed: number) => {
      const rng = new Rng(seed);
      return items.map((item) => threeOperand.demonstration(item, rng));
    };
    expect(demos(1)).toEqual(demos(1));
    expect(demos(1)).not.toEqual(demos(2));
  });

  it('first calls the product (never the whole prompt), and shows the calculator result after every call', () => {
    const rng = new Rng(12);
    for (const item of sampleMany(9, 3000)) {
      const text = threeOperand.demonstration(item, rng);
      expect(encode(text).at(-1)).toBe(EOS);
      const { a, b } = parsePrompt(item.prompt);
      const demo = parseDemo(text);
      expect(demo.calls.length).toBeGreaterThan(0);
      expect(demo.calls.some((call) => call.expression === item.prompt)).toBe(false);
      const firstGood = demo.calls.find((call) => call.result !== 'ERR');
      if (firstGood) expect(firstGood.expression).toBe(`${a}*${b}`);
      for (const call of demo.calls) {
        const outcome = evaluateExpression(call.expression);
        expect(call.result).toBe(outcome.ok ? outcome.value : 'ERR');
      }
    }
  });

  it('mixes 60% one call then a wrong answer, 25% two calls, 15% a malformed call first', () => {
    const n = 4000;
    const rng = new Rng(13);
    const items = sampleMany(14, n);
    let oneCallThenAnswer = 0;
    let twoCallsFirst = 0;
    let malformedFirst = 0;
    let retried = 0;
    let twoSuccessful = 0;
    let right = 0;
    for (const item of items) {
      const { a, b, op, c } = parsePrompt(item.prompt);
      const demo = parseDemo(threeOperand.demonstration(item, rng));
      const successful = demo.calls.filter((call) => call.result !== 'ERR');
      if (demo.answer === item.answer) right += 1;
      if (successful.length === 2) {
        twoSuccessful += 1;
        expect(successful[1].expression).toBe(`${a * b}${op}${c}`);
        expect(demo.answer).toBe(item.answer); // every two-call demonstration ends right
      }
      if (demo.calls[0].result === 'ERR') {
        malformedFirst += 1;
        if (demo.calls.length > 1) retried += 1;
      } else if (demo.calls.length === 1) {
        oneCallThenAnswer += 1;
        expect(demo.answer).not.toBe(item.answer); // answering after the product alone is wrong
      } else {
        twoCallsFirst += 1;
      }
    }
    // Expected, by hand from the mixture: one call then answer .60; two good calls straight away
    // .25; malformed first .15, of which 1/3 retry with both calls; two successful calls anywhere
    // .25 + .15/3 = .30, which are also exactly the right answers (.30).
    // 4 standard errors over 4000: .60 -> 4 * sqrt(.6 * .4 / 4000) = .031, .25 -> .0274,
    // .15 -> .0226, .30 -> .029
    expect(Math.abs(oneCallThenAnswer / n - 0.6)).toBeLessThan(0.031);
    expect(Math.abs(twoCallsFirst / n - 0.25)).toBeLessThan(0.0274);
    expect(Math.abs(malformedFirst / n - 0.15)).toBeLessThan(0.0226);
    expect(Math.abs(twoSuccessful / n - 0.3)).toBeLessThan(0.029);
    expect(right).toBe(twoSuccessful);
    // about 600 malformed starts: 4 * sqrt((1/3)(2/3) / 600) = .077
    expect(Math.abs(retried / malformedFirst - 1 / 3)).toBeLessThan(0.077);
  });

  it('fits every transcript in the 80-token context; the longest case is 60 tokens', () => {
    const rng = new Rng(21);
    let longest = 0;
    for (const item of sampleMany(22, 4000)) {
      longest = Math.max(longest, transcriptLength(item, threeOperand.demonstration(item, rng)));
    }
    // The largest operands, by hand: (99*99)+99 is prompt 12 + malformed call 13 + product call 13 +
    // second call 15 + answer 7 = 60; (99*99)*9 is 11 + 13 + 13 + 15 + 8 = 60.
    const extremes: TaskItem[] = [
      { prompt: '(99*99)+99', answer: '9900', kind: 'plus' },
      { prompt: '(99*99)-99', answer: '9702', kind: 'minus' },
      { prompt: '(99*99)*9', answer: '88209', kind: 'times' },
    ];
    let extremeLongest = 0;
    for (const item of extremes) {
      for (let k = 0; k < 2000; k++) {
        extremeLongest = Math.max(extremeLongest, transcriptLength(item, threeOperand.demonstration(item, rng)));
      }
    }
    expect(longest).toBeLessThanOrEqual(CONTEXT_LENGTH);
    expect(extremeLongest).toBe(60);
  });
});
