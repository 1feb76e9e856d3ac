// Warm-start helpers (src/core/pretrain.ts): the supervised target mask and the learning-rate schedule.
import { describe, expect, it } from 'vitest';
import { demonstrationExample, learningRateAt, type PretrainOptions } from '../../src/core/pretrain';
import { Rng } from '../../src/core/rng';
import { promptTokens } from '../../src/core/rollout';
import { arithmetic } from '../../src/core/tasks/arithmetic';
import { BOS, encode, RESULT_CLOSE, RESULT_OPEN } from '../../src/core/tokenizer';

describe('demonstrationExample', () => {
  it('puts weight 1 on policy tokens after the prompt and 0 on the prompt and the result spans', () => {
    const prompt = promptTokens({ prompt: '3+4', answer: '7', kind: 'sum' }); // <bos> 3 + 4 =
    const { ids, target } = demonstrationExample(prompt, '<call>3+4</call><result>7</result><answer>7</answer><eos>');
    expect(ids).toEqual([BOS, ...encode('3+4=<call>3+4</call><result>7</result><answer>7</answer><eos>')]);
    // prompt 5 tokens: 0; <call> 3 + 4 </call>: 1 x5; <result> 7 </result>: 0 x3; <answer> 7 </answer> <eos>: 1 x4
    expect(target).toEqual([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('masks every result span, an ERR included, and nothing between them', () => {
    const prompt = promptTokens({ prompt: '(47*86)-19', answer: '4023', kind: 'two_step' }); // 12 tokens
    const demo = '<call>47*</call><result>ERR</result><call>47*86</call><result>4042</result><answer>4023</answer><eos>';
    const { ids, target } = demonstrationExample(prompt, demo);
    expect(prompt).toHaveLength(12); // <bos> ( 4 7 * 8 6 ) - 1 9 =
    expect(ids).toHaveLength(12 + encode(demo).length);
    ids.forEach((id, t) => {
      const inPrompt = t < prompt.length;
      // inside a result span, delimiters included: find the last <result> or </result> at or before t
      let inResult = false;
      for (let s = prompt.length; s <= t; s++) {
        if (ids[s] === RESULT_OPEN) inResult = true;
        if (ids[s] === RESULT_CLOSE && s < t) inResult = false;
      }
      expect(target[t]).toBe(inPrompt || inResult ? 0 : 1);
    });
    // counted by hand: <call> 4 7 * </call> = 5, <call> 4 7 * 8 6 </call> = 7, <answer> 4 0 2 3 </answer> <eos> = 7
    expect(target.reduce((a, b) => a + b, 0)).toBe(19);
    // <result> E R R </result> = 5 and <result> 4 0 4 2 </result> = 6 masked after the prompt
    expect(target.slice(prompt.length).filter((w) => w === 0)).toHaveLength(11);
  });

  it('works on generated demonstrations: every target-1 token is outside results and after the prompt', () => {
    const rng = new Rng(2);
    for (let i = 0; i < 300; i++) {
      const item = arithmetic.sample(rng);
      const prompt = promptTokens(item);
      const { ids, target } = demonstrationExample(prompt, arithmetic.demonstration(item, rng));
      expect(target.slice(0, prompt.length).every((w) => w === 0)).toBe(true);
      let depth = 0;
      ids.forEach((id, t) => {
        if (id === RESULT_OPEN) depth += 1;
        if (t >= prompt.length) expect(target[t]).toBe(depth > 0 ? 0 : 1);
        if (id === RESULT_CLOSE) depth -= 1;
      });
    }
  });
});

describe('learningRateAt', () => {
  const options: PretrainOptions = { scale: 'tiny', seed: 1, task: 'arithmetic', steps: 600, batchSize: 64, learningRate: 2e-3, warmupSteps: 100 };

  it('warms up linearly to the peak over warmupSteps', () => {
    // lr (step + 1) / 100: step 0 -> 2e-5, step 49 -> 1e-3, step 99 -> 2e-3
    expect(learningRateAt(0, options)).toBeCloseTo(2e-5, 12);
    expect(learningRateAt(49, options)).toBeCloseTo(1e-3, 12);
    expect(learningRateAt(99, options)).toBeCloseTo(2e-3, 12);
    for (let s = 1; s < 100; s++) {
      expect(learningRateAt(s, options) - learningRateAt(s - 1, options)).toBeCloseTo(2e-5, 12);
    }
  });

  it('decays by a cosine from the peak at warmupSteps to 10% of it at the last step', () => {
    // step 100: progress 0, lr (.1 + .45 * 2) = lr
    expect(learningRateAt(100, options)).toBeCloseTo(2e-3, 12);
    // step 350: progress 250 / 500 = .5, cos(pi / 2) = 0: lr (.1 + .45) = 1.1e-3
    expect(learningRateAt(350, options)).toBeCloseTo(1.1e-3, 12);
    // step 225: progress .25, cos(pi / 4) = .7071068: lr (.1 + .45 * 1.7071068) = 2e-3 * .8682 = 1.7364e-3
    expect(learningRateAt(225, options)).toBeCloseTo(1.736396e-3, 9);
    // step 600: progress 1, cos(pi) = -1: lr * .1 = 2e-4; and it stays there
    expect(learningRateAt(600, options)).toBeCloseTo(2e-4, 12);
    expect(learningRateAt(900, options)).toBeCloseTo(2e-4, 12);
    for (let s = 101; s <= 600; s++) {
      expect(learningRateAt(s, options)).toBeLessThanOrEqual(learningRateAt(s - 1, options) + 1e-15);
      expect(learningRateAt(s, options)).toBeGreaterThanOrEqual(2e-4 - 1e-15);
    }
  });

  it('with no warm-up, starts at the peak', () => {
    expect(learningRateAt(0, { ...options, warmupSteps: 0 })).toBeCloseTo(2e-3, 12);
  });
});
