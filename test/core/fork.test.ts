// Forking a trajectory at a token (src/core/fork.ts, forkSampling.ts): where a continuation starts, on a
// hand-written transcript; then, on the bundled tiny policy, that the next-token distribution is
// the one the token was sampled from, and that resampling is seeded, runs the tool and frees
// every tensor.

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/core/backend';
import { ToolEnvironment } from '../../src/core/environment';
import { continuationStart, firstPostToolPosition, forbiddenTokens, passRate, scanPositions, type ForkSource } from '../../src/core/fork';
import { nextTokenDistribution, resampleFrom } from '../../src/core/forkSampling';
import { disposePolicy, type Policy } from '../../src/core/model/transformer';
import { Rng } from '../../src/core/rng';
import { sampleGroups, type Trajectory } from '../../src/core/rollout';
import type { TokenKind } from '../../src/core/tao/types';
import { VOCAB } from '../../src/core/tokenizer';
import { evaluateExpression } from '../../src/core/tools/calculator';
import { loadBundledTiny } from './engine/bundled';

/** "2+3=<call>2+3</call><result>5</result><answer>5</answer><eos>", token by token. */
function handWritten(): ForkSource {
  const text = ['<bos>', '2', '+', '3', '=', '<call>', '2', '+', '3', '</call>', '<result>', '5', '</result>', '<answer>', '5', '</answer>', '<eos>'];
  const kind: TokenKind[] = [...Array(5).fill('prompt'), ...Array(5).fill('policy'), ...Array(3).fill('tool'), ...Array(4).fill('policy')];
  return { prompt: '2+3', expected: '5', text, kind, toolCalls: [{ expression: '2+3', ok: true, value: '5' }] };
}

describe('where a fork starts', () => {
  it('after the tool result: the 13 tokens before, the one call closed with its record, no call open', () => {
    const start = continuationStart(handWritten(), 13);
    expect(start.prefix).toHaveLength(13);
    expect(start.prefix.map((token) => VOCAB[token.id]).join('')).toBe('<bos>2+3=<call>2+3</call><result>5</result>');
    expect(start.prefix[10].kind).toBe('tool');
    expect(start.toolCalls).toEqual([{ expression: '2+3', ok: true, value: '5' }]);
    expect(start.callStart).toBe(-1);
    expect(start.item).toMatchObject({ prompt: '2+3', answer: '5' });
  });

  it('inside a call: the call is open from its first character (index 6), no call closed yet', () => {
    const start = continuationStart(handWritten(), 8);
    expect(start.callStart).toBe(6);
    expect(start.toolCalls).toEqual([]);
  });

  it('refuses tokens the policy did not sample: the prompt, a tool result, BOS', () => {
    for (const position of [0, 3, 11]) expect(() => continuationStart(handWritten(), position)).toThrow(/policy/);
  });

  it('picks the first policy token after the first tool result by default', () => {
    expect(firstPostToolPosition(handWritten().kind)).toBe(13);
    expect(firstPostToolPosition(['prompt', 'prompt', 'policy', 'policy'])).toBe(2);
    expect(firstPostToolPosition(['prompt', 'prompt'])).toBeNull();
  });
});

describe('scan positions', () => {
  it('every post-tool token, then contrast tokens spread over the others, in order', () => {
    const kind = handWritten().kind;
    const postTool = kind.map((_, t) => (t >= 13 ? 1 : 0)) as (0 | 1)[];
    // Post-tool: 13..16. Others: 5..9; 2 contrast tokens are its first and last.
    expect(scanPositions(kind, postTool, 2)).toEqual([5, 9, 13, 14, 15, 16]);
    // 3 contrast tokens: indices 0, 2, 4 of [5, 6, 7, 8, 9].
    expect(scanPositions(kind, postTool, 3)).toEqual([5, 7, 9, 13, 14, 15, 16]);
    // A limit keeps post-tool tokens first.
    expect(scanPositions(kind, postTool, 3, 4)).toEqual([13, 14, 15, 16]);
  });
});

describe('pass rate', () => {
  it('counts rewards above 0', () => {
    expect(passRate([1, 0, 1, 1])).toEqual({ passed: 3, total: 4, rate: 0.75 });
    expect(passRate([])).toEqual({ passed: 0, total: 0, rate: null });
  });

  it('the mask forbids pad, bos, the result delimiters and the letters of ERR', () => {
    expect(forbiddenTokens()).toEqual(['<pad>', '<bos>', '<result>', '</result>', 'E', 'R']);
  });
});

describe('forking the bundled tiny policy', () => {
  let policy: Policy;
  let sampled: Trajectory[];

  const sourceOf = (trajectory: Trajectory): ForkSource => ({
    prompt: trajectory.item.prompt,
    expected: trajectory.item.answer,
    text: trajectory.tokens.map((token) => VOCAB[token.id]),
    kind: trajectory.tokens.map((token) => token.kind),
    toolCalls: trajectory.toolCalls,
  });
  const options = (seed: number) => ({
    temperature: 1,
    maxToolCalls: 3,
    environment: new ToolEnvironment('calculator', 0, new Rng(seed).fork('environment')),
    rng: new Rng(seed),
  });

  beforeAll(async () => {
    await useBackend('wasm');
    policy = loadBundledTiny();
    const items = [
      { prompt: '47*86', answer: '4042', kind: 'product' },
      { prompt: '23+58', answer: '81', kind: 'sum' },
    ];
    sampled = await sampleGroups(policy, items, 4, options(3));
  });

  afterAll(() => disposePolicy(policy));

  const withResult = () => {
    const trajectory = sampled.find((t) => t.tokens.some((token) => token.kind === 'tool'));
    if (!trajectory) throw new Error('no sampled trajectory called the tool');
    return trajectory;
  };

  it('gives the distribution each token was drawn from: its entropy and the drawn token\'s probability as recorded', async () => {
    const trajectory = withResult();
    const source = sourceOf(trajectory);
    for (let position = 1; position < source.text.length; position++) {
      if (source.kind[position] !== 'policy') continue;
      const { probabilities, entropy } = await nextTokenDistribution(policy, source, position, 1);
      expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      for (const symbol of forbiddenTokens()) expect(probabilities[VOCAB.indexOf(symbol)]).toBe(0);
      expect(entropy).toBeCloseTo(trajectory.tokens[position].entropy, 3);
      expect(Math.log(probabilities[trajectory.tokens[position].id])).toBeCloseTo(trajectory.tokens[position].logprob, 3);
    }
  });

  it('resamples from a post-tool token: seeded, the prefix kept, calls run by the tool, no tensor left over', async () => {
    const source = sourceOf(withResult());
    const position = firstPostToolPosition(source.kind)!;
    const before = tf.memory().numTensors;
    const first = await resampleFrom(policy, source, position, 8, options(11));
    const again = await resampleFrom(policy, source, position, 8, options(11));
    expect(tf.memory().numTensors).toBe(before);
    expect(again).toEqual(first);
    expect(first).toHaveLength(8);
    for (const continuation of first) {
      expect(continuation.kind[0]).toBe('policy');
      expect(position + continuation.text.length).toBeLessThanOrEqual(policy.config.contextLength);
      expect(continuation.reward).toBe(continuation.answer === source.expected ? 1 : 0);
      for (const call of continuation.toolCalls) {
        const outcome = evaluateExpression(call.expression);
        expect(call.ok).toBe(outcome.ok);
        if (outcome.ok) expect(call.value).toBe(outcome.value);
      }
    }
  });

  it('inside a call, the resampled call carries on from the characters already written', async () => {
    const source = sourceOf(withResult());
    const open = source.text.indexOf('<call>');
    const position = open + 2; // the call's second character
    if (source.kind[position] !== 'policy' || source.text[position] === '</call>') return;
    const continuations = await resampleFrom(policy, source, position, 6, options(5));
    for (const continuation of continuations) {
      if (continuation.toolCalls.length === 0) continue;
      expect(continuation.toolCalls[0].expression.startsWith(source.text[open + 1])).toBe(true);
    }
  });
});
