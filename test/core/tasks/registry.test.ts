// Task registry, held-out split, the fixed evaluation set and the training stream
// (src/core/tasks/registry.ts).
import { describe, expect, it } from 'vitest';
import { hashString, Rng } from '../../../src/core/rng';
import {
  EVAL_SET_SIZE,
  evaluationSet,
  getTask,
  isHeldOut,
  taskNames,
  trainingItem,
} from '../../../src/core/tasks';
import { arithmetic } from '../../../src/core/tasks/arithmetic';
import { registerTask } from '../../../src/core/tasks/registry';

describe('registry', () => {
  it('has the arithmetic family registered by importing the tasks module', () => {
    expect(taskNames()).toContain('arithmetic');
    expect(getTask('arithmetic')).toBe(arithmetic);
  });

  it('names the unknown family and the known ones', () => {
    expect(() => getTask('chess')).toThrow(/"chess".*arithmetic/);
  });

  it('refuses a second family under the same name', () => {
    expect(() => registerTask({ ...arithmetic })).toThrow(/already registered/);
  });
});

describe('held-out split', () => {
  it('holds out a prompt exactly when its FNV-1a hash is divisible by 5', () => {
    // hashString is checked against the FNV reference vectors in rng.test.ts
    for (const prompt of ['3+4', '47*86', '(47*86)-19', '0+0']) {
      expect(isHeldOut(prompt)).toBe(hashString(prompt) % 5 === 0);
    }
  });

  it('holds out about one prompt in five', () => {
    const rng = new Rng(1);
    let held = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) if (isHeldOut(arithmetic.sample(rng).prompt)) held += 1;
    // sums have only 100 prompts, so their share is lumpy; allow 5 points either side of 20%
    expect(Math.abs(held / n - 0.2)).toBeLessThan(0.05);
  });
});

describe('evaluationSet', () => {
  const first = evaluationSet(arithmetic);

  it('has 512 items, all held out', () => {
    expect(EVAL_SET_SIZE).toBe(512);
    expect(first).toHaveLength(512);
    expect(first.every((item) => isHeldOut(item.prompt))).toBe(true);
  });

  it('is the same on every call', () => {
    expect(evaluationSet(arithmetic)).toEqual(first);
    expect(evaluationSet(arithmetic, 10)).toEqual(first.slice(0, 10));
  });

  it('mixes all three kinds', () => {
    const kinds = new Set(first.map((item) => item.kind));
    expect(kinds).toEqual(new Set(['sum', 'product', 'two_step']));
  });
});

describe('trainingItem', () => {
  it('never returns a held-out prompt, and shares no prompt with the evaluation set', () => {
    const evalPrompts = new Set(evaluationSet(arithmetic).map((item) => item.prompt));
    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      for (let i = 0; i < 10000; i++) {
        const prompt = trainingItem(arithmetic, rng).prompt;
        if (isHeldOut(prompt) || evalPrompts.has(prompt)) throw new Error(`training drew held-out prompt ${prompt}`);
      }
    }
  });

  it('is reproducible for a seed', () => {
    const draw = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 100 }, () => trainingItem(arithmetic, rng));
    };
    expect(draw(4)).toEqual(draw(4));
  });
});
