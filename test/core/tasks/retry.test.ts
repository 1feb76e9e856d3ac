// The retry task: a cold tool fails the first call, and calling again is the rare, right move
// (src/core/tasks/retry.ts).
import { describe, expect, it } from 'vitest';
import { ToolEnvironment } from '../../../src/core/environment';
import { Rng } from '../../../src/core/rng';
import { getTask } from '../../../src/core/tasks';
import { retry } from '../../../src/core/tasks/retry';

describe('retry task', () => {
  it('is registered with one cold call', () => {
    expect(getTask('retry')).toBe(retry);
    expect(retry.coldCalls).toBe(1);
  });

  it('prompts are two-digit products with their exact value', () => {
    const rng = new Rng(4);
    for (let i = 0; i < 200; i++) {
      const item = retry.sample(rng);
      const m = /^([1-9]\d)\*([1-9]\d)$/.exec(item.prompt)!;
      expect(m).not.toBeNull();
      expect(item.answer).toBe(String(Number(m[1]) * Number(m[2])));
    }
  });

  it('demonstrations: the first call times out (ERR); 3 in 100 call again and answer its value, the rest guess wrong', () => {
    const rng = new Rng(9);
    const n = 5000;
    let retries = 0;
    for (let i = 0; i < n; i++) {
      const item = retry.sample(rng);
      const text = retry.demonstration(item, rng);
      const first = `<call>${item.prompt}</call><result>ERR</result>`;
      expect(text.startsWith(first)).toBe(true);
      const again = `${first}<call>${item.prompt}</call><result>${item.answer}</result><answer>${item.answer}</answer><eos>`;
      if (text === again) retries += 1;
      else {
        const guess = /^<answer>(\d+)<\/answer><eos>$/.exec(text.slice(first.length));
        expect(guess).not.toBeNull();
        expect(guess![1]).not.toBe(item.answer);
      }
    }
    // Binomial(5000, .03): mean 150, SD 12; 4 SD either side.
    expect(retries).toBeGreaterThan(150 - 48);
    expect(retries).toBeLessThan(150 + 48);
  });

  it('the environment times out the cold calls whatever they say, then runs the tool', () => {
    const environment = new ToolEnvironment('calculator', 0, new Rng(1), 1);
    expect(environment.call('12*3', 0)).toMatchObject({ ok: false, error: 'timeout', cause: 'environment' });
    expect(environment.call('12*3', 1)).toMatchObject({ ok: true, value: '36' });
    expect(environment.call('12*', 1)).toMatchObject({ ok: false, cause: 'policy' });
    // Without cold calls nothing changes: the same call succeeds as a trajectory's first.
    expect(new ToolEnvironment('calculator', 0, new Rng(1)).call('12*3', 0)).toMatchObject({ ok: true, value: '36' });
  });
});
