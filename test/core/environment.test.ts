// The tool environment and its flaky wrapper (src/core/environment.ts; docs/algorithm.md §1,
// failures the policy causes vs failures the environment causes).
import { describe, expect, it } from 'vitest';
import { malformedCall, ToolEnvironment } from '../../src/core/environment';
import { Rng } from '../../src/core/rng';
import '../../src/core/tools';

const EXPRESSIONS = ['47*86', '3+', '1/0', '(47*86)-19', ''];

describe('ToolEnvironment', () => {
  it('returns the value of a successful call', () => {
    const environment = new ToolEnvironment('calculator', 0, new Rng(1));
    // 47 * 86 = 4042; 4042 - 19 = 4023
    expect(environment.call('47*86')).toEqual({ expression: '47*86', ok: true, value: '4042' });
    expect(environment.call('(47*86)-19')).toMatchObject({ ok: true, value: '4023' });
  });

  it("blames the policy for a malformed expression or a division by zero", () => {
    const environment = new ToolEnvironment('calculator', 0, new Rng(1));
    expect(environment.call('3+')).toMatchObject({ expression: '3+', ok: false, error: 'syntax', cause: 'policy' });
    expect(environment.call('1/0')).toMatchObject({ ok: false, error: 'division_by_zero', cause: 'policy' });
    expect(environment.call('')).toMatchObject({ ok: false, error: 'empty', cause: 'policy' });
    expect(environment.call('3+').message).toBeTruthy();
  });

  it('never times out with flakyProbability 0', () => {
    const environment = new ToolEnvironment('calculator', 0, new Rng(2));
    for (let i = 0; i < 5000; i++) {
      if (environment.call(EXPRESSIONS[i % EXPRESSIONS.length]).error === 'timeout') throw new Error(`timeout at call ${i}`);
    }
  });

  it('always times out with flakyProbability 1, whatever the call', () => {
    const environment = new ToolEnvironment('calculator', 1, new Rng(2));
    for (const expression of EXPRESSIONS) {
      expect(environment.call(expression)).toMatchObject({ expression, ok: false, error: 'timeout', cause: 'environment' });
    }
  });

  for (const p of [0.2, 0.4]) {
    it(`times out at rate ${p} within 3 standard errors over 5000 calls`, () => {
      const n = 5000;
      const environment = new ToolEnvironment('calculator', p, new Rng(3));
      let timeouts = 0;
      for (let i = 0; i < n; i++) {
        const record = environment.call(EXPRESSIONS[i % EXPRESSIONS.length]);
        if (record.error === 'timeout') {
          timeouts += 1;
          expect(record).toMatchObject({ ok: false, error: 'timeout', cause: 'environment' });
          expect(record.value).toBeUndefined();
        } else if (record.ok) {
          expect(record.cause).toBeUndefined();
        } else {
          expect(record.cause).toBe('policy');
        }
      }
      // p .2: 3 * sqrt(.2 * .8 / 5000) = .0170; p .4: 3 * sqrt(.4 * .6 / 5000) = .0208
      const bound = 3 * Math.sqrt((p * (1 - p)) / n);
      expect(Math.abs(timeouts / n - p)).toBeLessThan(bound);
    });
  }

  for (const p of [0.2, 0.4]) {
    it(`times a valid call out at rate ${p} within 4 standard errors over 20000 calls, always the environment's fault`, () => {
      const n = 20000;
      const valid = new ToolEnvironment('calculator', p, new Rng(6));
      let timeouts = 0;
      for (let i = 0; i < n; i++) {
        const record = valid.call('47*86');
        if (record.ok) {
          expect(record.value).toBe('4042');
          continue;
        }
        timeouts += 1; // a valid expression can only fail by timing out
        expect(record).toMatchObject({ ok: false, error: 'timeout', cause: 'environment' });
      }
      // p .2: 4 * sqrt(.2 * .8 / 20000) = .0113; p .4: 4 * sqrt(.4 * .6 / 20000) = .0139
      const standardError = Math.sqrt((p * (1 - p)) / n);
      expect(Math.abs(timeouts / n - p)).toBeLessThan(4 * standardError);

      const malformed = new ToolEnvironment('calculator', p, new Rng(7));
      let policyFailures = 0;
      for (let i = 0; i < 2000; i++) {
        const record = malformed.call('(47*86');
        expect(record.ok).toBe(false);
        if (record.error === 'timeout') expect(record.cause).toBe('environment');
        else {
          policyFailures += 1;
          expect(record).toMatchObject({ error: 'syntax', cause: 'policy' });
        }
      }
      expect(policyFailures).toBeGreaterThan(0);
    });
  }

  it('draws the timeout pattern independently of what the policy wrote', () => {
    const pattern = (expression: string) => {
      const environment = new ToolEnvironment('calculator', 0.3, new Rng(4));
      return Array.from({ length: 200 }, () => environment.call(expression).error === 'timeout');
    };
    expect(pattern('3+')).toEqual(pattern('47*86'));
  });

  it('picks up a changed flakyProbability at the next call', () => {
    const environment = new ToolEnvironment('calculator', 0, new Rng(5));
    expect(environment.call('1+1').ok).toBe(true);
    environment.flakyProbability = 1;
    expect(environment.call('1+1').error).toBe('timeout');
  });

  it('refuses an unknown tool', () => {
    expect(() => new ToolEnvironment('abacus', 0, new Rng(1))).toThrow(/abacus/);
  });
});

describe('malformedCall', () => {
  it('is a policy-caused syntax failure', () => {
    expect(malformedCall('', 'call closed with no open call')).toEqual({
      expression: '',
      ok: false,
      error: 'syntax',
      message: 'call closed with no open call',
      cause: 'policy',
    });
  });
});
