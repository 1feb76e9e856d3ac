// The arithmetic task family and its warm-start demonstrations (src/core/tasks/arithmetic.ts,
// demonstrations.ts; mix and demonstration rates from docs/calibration.md).
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/core/rng';
import { arithmetic } from '../../../src/core/tasks/arithmetic';
import { malformedExpression, plausibleGuess } from '../../../src/core/tasks/demonstrations';
import type { TaskItem } from '../../../src/core/tasks/types';
import { encode, EOS } from '../../../src/core/tokenizer';
import { evaluateExpression } from '../../../src/core/tools/calculator';

/** The answer recomputed from the prompt text alone, independently of the family's code. */
function solve(prompt: string): { kind: string; answer: number } {
  let m = /^(\d)\+(\d)$/.exec(prompt);
  if (m) return { kind: 'sum', answer: Number(m[1]) + Number(m[2]) };
  m = /^([1-9]\d)\*([1-9]\d)$/.exec(prompt);
  if (m) return { kind: 'product', answer: Number(m[1]) * Number(m[2]) };
  m = /^\(([1-9]\d)\*([1-9]\d)\)([+-])([1-9]\d)$/.exec(prompt);
  if (m) {
    const product = Number(m[1]) * Number(m[2]);
    return { kind: 'two_step', answer: m[3] === '+' ? product + Number(m[4]) : product - Number(m[4]) };
  }
  throw new Error(`prompt ${prompt} has none of the three forms`);
}

function sampleMany(seed: number, n: number): TaskItem[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => arithmetic.sample(rng));
}

/** Items of the given kinds, drawn from the family. */
function itemsOfKind(kinds: string[], n: number, seed: number): TaskItem[] {
  const rng = new Rng(seed);
  const items: TaskItem[] = [];
  while (items.length < n) {
    const item = arithmetic.sample(rng);
    if (kinds.includes(item.kind)) items.push(item);
  }
  return items;
}

interface ParsedDemo {
  calls: { expression: string; result: string }[];
  answer: string;
  /** Whether the transcript starts with a call (else with the answer). */
  startsWithCall: boolean;
}

/** Split a demonstration into call/result pairs and the final answer; throws on any other shape. */
function parseDemo(text: string): ParsedDemo {
  const whole = /^((?:<call>[^<]*<\/call><result>[^<]*<\/result>)*)<answer>([^<]*)<\/answer><eos>$/.exec(text);
  if (!whole) throw new Error(`demonstration has an unexpected shape: ${text}`);
  const calls = [...whole[1].matchAll(/<call>([^<]*)<\/call><result>([^<]*)<\/result>/g)].map((m) => ({
    expression: m[1],
    result: m[2],
  }));
  return { calls, answer: whole[2], startsWithCall: text.startsWith('<call>') };
}

describe('arithmetic.sample', () => {
  it('is reproducible for a seed', () => {
    expect(sampleMany(3, 200)).toEqual(sampleMany(3, 200));
    expect(sampleMany(3, 200)).not.toEqual(sampleMany(4, 200));
  });

  it('draws 25% sums, 35% products and 40% two-step items', () => {
    const n = 20000;
    const items = sampleMany(17, n);
    const share = (kind: string) => items.filter((item) => item.kind === kind).length / n;
    // 4 standard errors: sum 4 * sqrt(.25 * .75 / 20000) = .0122, product 4 * sqrt(.35 * .65 / n) = .0135,
    // two-step 4 * sqrt(.4 * .6 / n) = .0139
    expect(Math.abs(share('sum') - 0.25)).toBeLessThan(0.0122);
    expect(Math.abs(share('product') - 0.35)).toBeLessThan(0.0135);
    expect(Math.abs(share('two_step') - 0.4)).toBeLessThan(0.0139);
  });

  it('labels each prompt with its kind and the correct answer', () => {
    for (const item of sampleMany(5, 5000)) {
      const solved = solve(item.prompt);
      expect(item.kind).toBe(solved.kind);
      expect(item.answer).toBe(String(solved.answer));
    }
  });

  it('spans the operand ranges: 0..9 for sums, 10..99 for the rest', () => {
    const sums = new Set<string>();
    const left = new Set<number>();
    for (const item of sampleMany(6, 20000)) {
      if (item.kind === 'sum') sums.add(item.prompt);
      else left.add(Number(/\d+/.exec(item.prompt)![0]));
    }
    expect(sums.size).toBe(100); // 10 x 10 one-digit pairs, 5000 draws see every one
    expect(Math.min(...left)).toBe(10);
    expect(Math.max(...left)).toBe(99);
  });
});

describe('arithmetic.demonstration', () => {
  it('is reproducible for a seed', () => {
    const items = sampleMany(8, 50);
    const demos = (seed: number) => {
      const rng = new Rng(seed);
      return items.map((item) => arithmetic.demonstration(item, rng));
    };
    expect(demos(1)).toEqual(demos(1));
  });

  it('encodes, ends with an answer and <eos>, and shows the calculator result after every call', () => {
    const rng = new Rng(12);
    for (const item of sampleMany(9, 3000)) {
      const text = arithmetic.demonstration(item, rng);
      const ids = encode(text); // throws on anything the tokenizer does not know
      expect(ids[ids.length - 1]).toBe(EOS);
      const demo = parseDemo(text);
      expect(demo.answer).toMatch(/^\d+$/);
      for (const call of demo.calls) {
        const outcome = evaluateExpression(call.expression);
        expect(call.result).toBe(outcome.ok ? outcome.value : 'ERR');
      }
    }
  });

  it('on hard items: ~35% start with a correct call, ~30% with a malformed call, ~35% guess directly', () => {
    const n = 5000;
    const rng = new Rng(13);
    let correctStart = 0;
    let malformedStart = 0;
    let guess = 0;
    let recovered = 0;
    let twoCallCorrect = 0;
    let twoStepCorrect = 0;
    for (const item of itemsOfKind(['product', 'two_step'], n, 14)) {
      const demo = parseDemo(arithmetic.demonstration(item, rng));
      if (!demo.startsWithCall) {
        guess += 1;
        expect(demo.calls).toHaveLength(0);
        expect(demo.answer).not.toBe(item.answer); // a direct guess on a hard item is wrong
      } else if (demo.calls[0].result === 'ERR') {
        malformedStart += 1;
        const retried = demo.calls.length > 1;
        if (retried) {
          recovered += 1;
          expect(demo.calls.slice(1).every((c) => c.result !== 'ERR')).toBe(true);
          expect(demo.answer).toBe(item.answer);
        } else {
          expect(demo.answer).not.toBe(item.answer);
        }
      } else {
        correctStart += 1;
        expect(demo.calls.every((c) => c.result !== 'ERR')).toBe(true);
        expect(demo.calls[demo.calls.length - 1].result).toBe(item.answer);
        expect(demo.answer).toBe(item.answer);
        if (item.kind === 'two_step') {
          twoStepCorrect += 1;
          if (demo.calls.length === 2) twoCallCorrect += 1;
        }
      }
    }
    // 4 standard errors of a share near .35 over 5000: 4 * sqrt(.35 * .65 / 5000) = .027; near .3: .026
    expect(Math.abs(correctStart / n - 0.35)).toBeLessThan(0.027);
    expect(Math.abs(malformedStart / n - 0.3)).toBeLessThan(0.026);
    expect(Math.abs(guess / n - 0.35)).toBeLessThan(0.027);
    // a third of malformed demonstrations retry: ~1500 of them, 4 * sqrt((1/3)(2/3) / 1500) = .049
    expect(Math.abs(recovered / malformedStart - 1 / 3)).toBeLessThan(0.049);
    // half of the correct two-step demonstrations use two calls: ~1000 of them (.4/.75 * 1750), 4 * sqrt(.25 / 900) = .067
    expect(Math.abs(twoCallCorrect / twoStepCorrect - 0.5)).toBeLessThan(0.067);
  });

  it('on easy items: ~60% answer directly, ~25% use the tool, ~15% call it malformed', () => {
    const n = 5000;
    const rng = new Rng(15);
    let direct = 0;
    let tool = 0;
    let malformed = 0;
    for (const item of itemsOfKind(['sum'], n, 16)) {
      const demo = parseDemo(arithmetic.demonstration(item, rng));
      if (!demo.startsWithCall) {
        direct += 1;
        expect(demo.answer).toBe(item.answer); // easy items: the direct answer is right
      } else if (demo.calls[0].result === 'ERR') malformed += 1;
      else tool += 1;
    }
    // 4 standard errors over 5000: .6 -> .028, .25 -> .025, .15 -> .020
    expect(Math.abs(direct / n - 0.6)).toBeLessThan(0.028);
    expect(Math.abs(tool / n - 0.25)).toBeLessThan(0.025);
    expect(Math.abs(malformed / n - 0.15)).toBeLessThan(0.02);
  });
});

describe('plausibleGuess and malformedExpression', () => {
  it('plausibleGuess is a non-negative integer different from the answer', () => {
    const rng = new Rng(31);
    const answers = ['0', '1', '9', '18', '100', '4023', '9801', ...sampleMany(32, 2000).map((i) => i.answer)];
    for (const answer of answers) {
      for (let k = 0; k < 5; k++) {
        const guess = plausibleGuess(answer, rng);
        expect(guess).toMatch(/^(0|[1-9]\d*)$/);
        expect(guess).not.toBe(answer);
      }
    }
  });

  it('malformedExpression never evaluates, and writes only calculator characters', () => {
    const rng = new Rng(33);
    const prompts = ['1', '0+0', '9+9', '10*10', '(99*99)-99', ...sampleMany(34, 3000).map((i) => i.prompt)];
    for (const prompt of prompts) {
      const bad = malformedExpression(prompt, rng);
      expect(bad.length).toBeGreaterThan(0);
      expect(bad).toMatch(/^[0-9+\-*/()]+$/);
      expect(evaluateExpression(bad).ok).toBe(false);
    }
  });
});
