// Group sampling with tool interception (src/core/rollout.ts; docs/algorithm.md §1): the pure
// sampling helpers against hand computations, then invariants of real rollouts of a tiny
// random policy, re-derived here token by token.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToolEnvironment } from '../../src/core/environment';
import type { ModelConfig } from '../../src/core/model/config';
import { disposePolicy, initPolicy, type Policy } from '../../src/core/model/transformer';
import { Rng } from '../../src/core/rng';
import {
  emittableLogSoftmax,
  lastAnswer,
  promptTokens,
  sampleGroups,
  sampleToken,
  type Trajectory,
} from '../../src/core/rollout';
import { tokenLogprobsAndEntropy } from '../../src/core/tao/loss';
import type { TaskItem } from '../../src/core/tasks/types';
import type { TokenKind } from '../../src/core/tao/types';
import {
  ANSWER_CLOSE,
  ANSWER_OPEN,
  BOS,
  CALL_CLOSE,
  CALL_OPEN,
  EMITTABLE,
  encode,
  EOS,
  PAD,
  RESULT_CLOSE,
  RESULT_OPEN,
  VOCAB,
  VOCAB_SIZE,
} from '../../src/core/tokenizer';
import { getTask, trainingItem } from '../../src/core/tasks';
import { registerTool } from '../../src/core/tools';
import { evaluateExpression } from '../../src/core/tools/calculator';
import { loadBundledTiny } from './engine/bundled';

const N_EMITTABLE = 22; // 28 tokens minus pad, bos, <result>, </result>, E, R
const id = (symbol: string) => VOCAB.indexOf(symbol);
const isChar = (tokenId: number) => tokenId >= 9; // the 9 specials come first

describe('emittableLogSoftmax', () => {
  it('is uniform over the 22 emittable tokens when their logits are equal', () => {
    const logits = new Float32Array(VOCAB_SIZE); // all 0
    const { logProbs, entropy } = emittableLogSoftmax(logits, 0, 1);
    // each emittable: -ln 22 = -3.0910425; entropy ln 22 = 3.0910425
    expect(entropy).toBeCloseTo(3.0910425, 6);
    for (let v = 0; v < VOCAB_SIZE; v++) {
      if (EMITTABLE[v]) expect(logProbs[v]).toBeCloseTo(-3.0910425, 6);
      else expect(logProbs[v]).toBe(-Infinity);
    }
    expect(N_EMITTABLE).toBe(EMITTABLE.filter(Boolean).length);
  });

  it('ignores non-emittable logits however large, and reads from the row offset', () => {
    // Row 1 of 2: token '1' has logit 1, other emittables 0, non-emittables 50.
    const logits = new Float32Array(2 * VOCAB_SIZE).fill(7); // row 0 is noise
    for (let v = 0; v < VOCAB_SIZE; v++) logits[VOCAB_SIZE + v] = EMITTABLE[v] ? 0 : 50;
    logits[VOCAB_SIZE + id('1')] = 1;
    const { logProbs, entropy } = emittableLogSoftmax(logits, VOCAB_SIZE, 1);
    // Z = e + 21 = 23.7182818, ln Z = 3.1662461
    // log p('1') = 1 - 3.1662461 = -2.1662461; others -3.1662461
    // H = (e * 2.1662461 + 21 * 3.1662461) / 23.7182818 = (5.888423 + 66.491168) / 23.7182818 = 3.0516391
    expect(logProbs[id('1')]).toBeCloseTo(-2.1662461, 6);
    expect(logProbs[id('2')]).toBeCloseTo(-3.1662461, 6);
    expect(logProbs[EOS]).toBeCloseTo(-3.1662461, 6);
    expect(logProbs[RESULT_OPEN]).toBe(-Infinity);
    expect(logProbs[id('E')]).toBe(-Infinity);
    expect(entropy).toBeCloseTo(3.0516391, 6);
  });

  it('divides by the temperature: logits [2, 0, ...] at T = 2 equal [1, 0, ...] at T = 1', () => {
    const hot = new Float32Array(VOCAB_SIZE);
    hot[id('1')] = 2;
    const cold = new Float32Array(VOCAB_SIZE);
    cold[id('1')] = 1;
    const a = emittableLogSoftmax(hot, 0, 2);
    const b = emittableLogSoftmax(cold, 0, 1);
    expect(a.entropy).toBeCloseTo(b.entropy, 12);
    for (let v = 0; v < VOCAB_SIZE; v++) {
      if (EMITTABLE[v]) expect(a.logProbs[v]).toBeCloseTo(b.logProbs[v], 12);
    }
    expect(a.logProbs[id('1')]).toBeCloseTo(-2.1662461, 6); // as in the case above
  });
});

describe('sampleToken', () => {
  // Emittable tokens '1', '2', '3' with probabilities .5, .3, .2; every other emittable token at
  // logit -30 (mass 19 e^-30 = 1.8e-12, negligible); the non-emittable tokens have the LARGEST logits.
  const logits = new Float32Array(VOCAB_SIZE);
  for (let v = 0; v < VOCAB_SIZE; v++) logits[v] = EMITTABLE[v] ? -30 : 40;
  logits[id('1')] = Math.log(0.5);
  logits[id('2')] = Math.log(0.3);
  logits[id('3')] = Math.log(0.2);

  it('draws tokens at their probabilities and never a non-emittable one', () => {
    const rng = new Rng(99);
    const n = 20000;
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const token = sampleToken(logits, 0, { temperature: 1, rng });
      counts.set(token.id, (counts.get(token.id) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([id('1'), id('2'), id('3')]);
    // chi-square, 2 degrees of freedom, against 10000 / 6000 / 4000; 16.3 is its 0.03% tail
    const expected = [
      [id('1'), 0.5 * n],
      [id('2'), 0.3 * n],
      [id('3'), 0.2 * n],
    ];
    const chi2 = expected.reduce((s, [v, e]) => s + ((counts.get(v)! - e) ** 2) / e, 0);
    expect(chi2).toBeLessThan(16.3);
  });

  it("records the token's log-probability and the distribution's entropy", () => {
    const rng = new Rng(1);
    for (let i = 0; i < 50; i++) {
      const token = sampleToken(logits, 0, { temperature: 1, rng });
      expect(token.kind).toBe('policy');
      const p = { [id('1')]: 0.5, [id('2')]: 0.3, [id('3')]: 0.2 }[token.id];
      expect(token.logprob).toBeCloseTo(Math.log(p), 6);
      // H = .5 ln 2 + .3 ln(1/.3) + .2 ln 5 = .3465736 + .3611918 + .3218876 = 1.0296530
      expect(token.entropy).toBeCloseTo(1.029653, 6);
    }
  });

  it('greedy (temperature 0) takes the argmax among emittable tokens, with logprob and entropy 0', () => {
    const token = sampleToken(logits, 0, { temperature: 0, rng: new Rng(1) });
    expect(token).toEqual({ id: id('1'), kind: 'policy', logprob: 0, entropy: 0 });
    // greedy still draws one number, so the stream stays aligned with sampling
    const rng = new Rng(1);
    sampleToken(logits, 0, { temperature: 0, rng });
    const reference = new Rng(1);
    reference.next();
    expect(rng.next()).toBe(reference.next());
  });

  it('samples from the requested row of a batch', () => {
    const batch = new Float32Array(2 * VOCAB_SIZE).fill(-30);
    batch[id('7')] = 30; // row 0 almost surely '7'
    batch[VOCAB_SIZE + EOS] = 30; // row 1 almost surely EOS
    expect(sampleToken(batch, 1, { temperature: 1, rng: new Rng(3) }).id).toBe(EOS);
    expect(sampleToken(batch, 0, { temperature: 1, rng: new Rng(3) }).id).toBe(id('7'));
  });
});

describe('lastAnswer', () => {
  const t = (text: string, kind: TokenKind = 'policy') => encode(text).map((tokenId) => ({ id: tokenId, kind }));

  it('reads the last complete answer span of policy tokens', () => {
    expect(lastAnswer([...t('<bos>3+4=', 'prompt'), ...t('<answer>7</answer><eos>')])).toBe('7');
    expect(lastAnswer([...t('<bos>3+4=', 'prompt'), ...t('<answer>6</answer><answer>17</answer><eos>')])).toBe('17');
    expect(lastAnswer(t('<answer>12</answer>'))).toBe('12');
  });

  it('is null without a complete span', () => {
    expect(lastAnswer(t('<bos>3+4=', 'prompt'))).toBeNull();
    expect(lastAnswer(t('<answer>12'))).toBeNull();
    expect(lastAnswer(t('12</answer>'))).toBeNull();
    expect(lastAnswer([])).toBeNull();
  });

  it('ignores a span holding a special, and an unterminated last span', () => {
    expect(lastAnswer(t('<answer>12</answer><answer>3<call>4</answer>'))).toBe('12');
    expect(lastAnswer(t('<answer>1<eos>2</answer>'))).toBeNull();
    expect(lastAnswer(t('<answer>12</answer><answer>34'))).toBe('12');
    // a call with its result inside the span: the result's delimiters are specials
    const withTool = [...t('<answer>1<call>2</call>'), ...t('<result>2</result>', 'tool'), ...t('</answer>')];
    expect(lastAnswer(withTool)).toBeNull();
  });

  it('ignores answer delimiters that the policy did not write', () => {
    expect(lastAnswer(t('<answer>7</answer>', 'prompt'))).toBeNull();
    expect(lastAnswer(t('<answer>7</answer>', 'tool'))).toBeNull();
    expect(lastAnswer([...t('<answer>', 'tool'), ...t('7</answer>')])).toBeNull();
    expect(lastAnswer([...t('<answer>7'), ...t('</answer>', 'tool')])).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Real rollouts of a tiny random policy.

const MODEL: ModelConfig = { vocabSize: VOCAB_SIZE, contextLength: 24, layers: 1, width: 16, heads: 2, mlpRatio: 2 };
const ITEMS: TaskItem[] = [
  { prompt: '3+4', answer: '7', kind: 'sum' },
  { prompt: '47*86', answer: '4042', kind: 'product' },
  { prompt: '(47*86)-19', answer: '4023', kind: 'two_step' },
];
const GROUP = 8;
/** More rows, so that a random policy writes some well-formed calls. */
const MANY_ITEMS = [...ITEMS, ...ITEMS, ...ITEMS, ...ITEMS];

// A tool that always answers 42: makes successful calls common for a random policy.
registerTool({
  name: 'test-forty-two',
  description: 'answers 42 to anything',
  alphabet: '',
  run: () => ({ ok: true, value: '42' }),
});

interface RolloutRun {
  trajectories: Trajectory[];
  items: TaskItem[];
  maxToolCalls: number;
  /** The text the tool returns for an expression with no special inside (null: failure). */
  toolValue: (expression: string) => string | null;
}

async function rollout(
  policy: Policy,
  options: { tool?: string; maxToolCalls: number; seed: number; useCache?: boolean; items?: TaskItem[]; dropEndedRows?: boolean },
): Promise<Trajectory[]> {
  return sampleGroups(policy, options.items ?? ITEMS, GROUP, {
    temperature: 1,
    maxToolCalls: options.maxToolCalls,
    environment: new ToolEnvironment(options.tool ?? 'calculator', 0, new Rng(options.seed).fork('env')),
    rng: new Rng(options.seed),
    useCache: options.useCache,
    dropEndedRows: options.dropEndedRows,
  });
}

/**
 * Each policy token's recorded log-prob and entropy against a teacher-forced recomputation through
 * the loss's own path (no cache, every row alone in its positions), at temperature 1, within 1e-4.
 * Returns how many tokens were checked.
 */
function checkAgainstFullForward(policy: Policy, trajectories: Trajectory[]): number {
  const T1 = Math.max(...trajectories.map((t) => t.tokens.length));
  const ids = new Int32Array(trajectories.length * T1).fill(PAD);
  trajectories.forEach((t, b) => ids.set(t.tokens.map((x) => x.id), b * T1));
  const { logprob, entropy } = tf.tidy(() => {
    const out = tokenLogprobsAndEntropy(policy, tf.tensor2d(ids, [trajectories.length, T1], 'int32'), 1);
    return { logprob: out.logprob.arraySync(), entropy: out.entropy.arraySync() };
  });
  let checked = 0;
  trajectories.forEach((t, b) =>
    t.tokens.forEach((token, i) => {
      if (token.kind !== 'policy') return;
      expect(Math.abs(token.logprob - logprob[b][i - 1])).toBeLessThan(1e-4);
      expect(Math.abs(token.entropy - entropy[b][i - 1])).toBeLessThan(1e-4);
      checked += 1;
    }),
  );
  return checked;
}

/** Every invariant of section 1, re-derived from the token sequence alone. */
function checkTrajectory(trajectory: Trajectory, index: number, run: RolloutRun): void {
  const { tokens, toolCalls } = trajectory;
  const expectedGroup = Math.floor(index / GROUP);
  expect(trajectory.group).toBe(expectedGroup);
  expect(trajectory.item).toBe(run.items[expectedGroup]);

  // Prompt: BOS, the problem, '=' as forced prompt tokens, and no prompt token after them.
  const prompt = [BOS, ...encode(`${trajectory.item.prompt}=`)];
  expect(tokens.slice(0, prompt.length).map((x) => x.id)).toEqual(prompt);
  expect(promptTokens(trajectory.item)).toEqual(prompt);
  tokens.forEach((token, i) => expect(token.kind === 'prompt').toBe(i < prompt.length));
  expect(tokens.length).toBeLessThanOrEqual(MODEL.contextLength);
  expect(tokens.length).toBeGreaterThan(prompt.length);

  // Per-token records.
  for (const token of tokens) {
    if (token.kind === 'policy') {
      expect(EMITTABLE[token.id]).toBe(true);
      expect(token.entropy).toBeGreaterThan(0);
      expect(token.entropy).toBeLessThanOrEqual(Math.log(N_EMITTABLE) + 1e-9);
      expect(token.logprob).toBeLessThanOrEqual(0);
    } else {
      expect(token.entropy).toBe(0);
      expect(token.logprob).toBe(0);
    }
  }

  // Walk the sampled part: calls, their results, how the trajectory ended.
  const derived: { expression: string; malformed: boolean }[] = [];
  let open = -1;
  let completeRuns = 0;
  let i = prompt.length;
  let endedBy: 'eos' | 'tool_limit' | null = null;
  let unclosed = 0;
  while (i < tokens.length) {
    const token = tokens[i];
    expect(token.kind).toBe('policy'); // tool tokens are consumed right after a </call> below
    i += 1;
    if (token.id === EOS) {
      endedBy = 'eos';
      if (open >= 0 && derived.length < run.maxToolCalls) {
        // a call still open at EOS is a failed call with no result
        const inner = tokens.slice(open).map((x) => x.id);
        derived.push({ expression: inner.filter(isChar).map((x) => VOCAB[x]).join(''), malformed: true });
        expect(toolCalls[derived.length - 1]).toMatchObject({ expression: derived[derived.length - 1].expression, ok: false, cause: 'policy' });
        unclosed = 1;
      }
      break;
    }
    if (token.id === CALL_OPEN && open < 0) {
      open = i;
      continue;
    }
    if (token.id !== CALL_CLOSE) continue;
    if (derived.length === run.maxToolCalls) {
      endedBy = 'tool_limit';
      break;
    }
    if (open < 0) derived.push({ expression: '', malformed: true });
    else {
      const inner = tokens.slice(open, i - 1).map((x) => x.id);
      derived.push({
        expression: inner.filter(isChar).map((x) => VOCAB[x]).join(''),
        malformed: !inner.every(isChar),
      });
    }
    open = -1;
    const record = toolCalls[derived.length - 1];
    expect(record).toBeDefined();
    const call = derived[derived.length - 1];
    expect(record.expression).toBe(call.expression);
    const value = call.malformed ? null : run.toolValue(call.expression);
    expect(record.ok).toBe(value !== null);
    if (value !== null) expect(record.value).toBe(value);
    else expect(record.cause).toBe('policy');
    // The result run: <result>, the value or ERR, </result>; cut short only by the length cap.
    const expectedRun = [RESULT_OPEN, ...encode(value ?? 'ERR'), RESULT_CLOSE];
    let k = 0;
    while (i < tokens.length && tokens[i].kind === 'tool') {
      expect(tokens[i].id).toBe(expectedRun[k]);
      i += 1;
      k += 1;
    }
    if (k === expectedRun.length) completeRuns += 1;
    else {
      expect(i).toBe(tokens.length); // only the end of the trajectory cuts a result short
      expect(trajectory.finishReason).toBe('length');
    }
  }
  expect(i).toBe(tokens.length); // nothing after EOS or the call beyond the limit

  if (endedBy) {
    expect(trajectory.finishReason).toBe(endedBy);
  } else {
    expect(trajectory.finishReason).toBe('length');
    expect(tokens.length).toBe(MODEL.contextLength);
    if (open >= 0 && derived.length < run.maxToolCalls) {
      // a call still open at the cap is a failed call
      const inner = tokens.slice(open).map((x) => x.id);
      derived.push({ expression: inner.filter(isChar).map((x) => VOCAB[x]).join(''), malformed: true });
      expect(toolCalls[derived.length - 1]).toMatchObject({ expression: derived[derived.length - 1].expression, ok: false });
    }
  }
  expect(toolCalls).toHaveLength(derived.length);
  expect(toolCalls.length).toBeLessThanOrEqual(run.maxToolCalls);
  if (trajectory.finishReason === 'length') expect(completeRuns).toBeGreaterThanOrEqual(toolCalls.length - 1);
  expect(completeRuns).toBeLessThanOrEqual(toolCalls.length);
  if (trajectory.finishReason !== 'length') expect(completeRuns).toBe(toolCalls.length - unclosed);

  // Reward: 1 exactly when the last complete answer is the item's answer.
  expect(trajectory.answer).toBe(lastAnswer(tokens));
  expect(trajectory.reward).toBe(trajectory.answer === trajectory.item.answer ? 1 : 0);
}

describe('sampleGroups with a tiny random policy', () => {
  let policy: Policy;
  let calculatorRun: RolloutRun;
  let fortyTwoRun: RolloutRun;

  beforeAll(async () => {
    await tf.setBackend('cpu');
    policy = initPolicy(MODEL, 1);
    calculatorRun = {
      trajectories: await rollout(policy, { maxToolCalls: 2, seed: 2 }),
      items: ITEMS,
      maxToolCalls: 2,
      toolValue: (expression) => {
        const outcome = evaluateExpression(expression);
        return outcome.ok ? outcome.value : null;
      },
    };
    fortyTwoRun = {
      trajectories: await rollout(policy, { tool: 'test-forty-two', maxToolCalls: 3, seed: 3, items: MANY_ITEMS }),
      items: MANY_ITEMS,
      maxToolCalls: 3,
      toolValue: () => '42',
    };
  });

  afterAll(() => disposePolicy(policy));

  it('samples groupSize trajectories per item, in group order', () => {
    expect(calculatorRun.trajectories).toHaveLength(ITEMS.length * GROUP);
  });

  it('keeps every section-1 invariant with the calculator', () => {
    calculatorRun.trajectories.forEach((trajectory, i) => checkTrajectory(trajectory, i, calculatorRun));
    // the sample exercises calls, EOS and the length cap
    const reasons = new Set(calculatorRun.trajectories.map((t) => t.finishReason));
    expect(reasons.has('eos') && reasons.has('length')).toBe(true);
    expect(calculatorRun.trajectories.some((t) => t.toolCalls.length > 0)).toBe(true);
  });

  it('keeps every invariant with a tool that succeeds, and appends its value', () => {
    fortyTwoRun.trajectories.forEach((trajectory, i) => checkTrajectory(trajectory, i, fortyTwoRun));
    const calls = fortyTwoRun.trajectories.flatMap((t) => t.toolCalls);
    expect(calls.some((c) => c.ok)).toBe(true);
    expect(calls.some((c) => !c.ok)).toBe(true); // closes with no open call still fail
  });

  it('records the log-probs and entropies that a full forward pass gives the same tokens', () => {
    expect(checkAgainstFullForward(policy, calculatorRun.trajectories)).toBeGreaterThan(100);
  });

  it('gives identical trajectories for the same seed, different ones for another', async () => {
    const again = await rollout(policy, { maxToolCalls: 2, seed: 2 });
    expect(again).toEqual(calculatorRun.trajectories);
    const other = await rollout(policy, { maxToolCalls: 2, seed: 5 });
    expect(other.map((t) => t.tokens.map((x) => x.id))).not.toEqual(calculatorRun.trajectories.map((t) => t.tokens.map((x) => x.id)));
  });

  it('decodes the same tokens without the key/value cache', async () => {
    const uncached = await rollout(policy, { maxToolCalls: 2, seed: 2, useCache: false });
    const cached = calculatorRun.trajectories;
    // Rows end at different positions, so both loops dropped rows from the batch as they ended,
    // and the cached one its cache rows with them.
    expect(new Set(cached.map((t) => t.tokens.length)).size).toBeGreaterThan(2);
    expect(uncached.map((t) => t.tokens.map((x) => x.id))).toEqual(cached.map((t) => t.tokens.map((x) => x.id)));
    uncached.forEach((t, b) =>
      t.tokens.forEach((token, i) => {
        expect(Math.abs(token.logprob - cached[b].tokens[i].logprob)).toBeLessThan(1e-5);
        expect(Math.abs(token.entropy - cached[b].tokens[i].entropy)).toBeLessThan(1e-5);
      }),
    );
    expect(uncached.map((t) => t.toolCalls)).toEqual(cached.map((t) => t.toolCalls));
  });

  it('drops ended rows from the batch and the cache: each row records what a full forward pass of it gives, and what the loop keeping them samples', async () => {
    // The trained policy's rows end far apart (8 to 75 positions in the bench's batch), so the
    // cached loop drops rows from its cache many times over while several are still going. A
    // wrong join of the cache's rows would feed a row another row's keys: its log-probs and
    // entropies would then differ from the loss's own forward pass over its tokens alone.
    const trained = loadBundledTiny();
    try {
      const task = getTask('arithmetic');
      const promptRng = new Rng(1).fork('prompts');
      const items = Array.from({ length: 6 }, () => trainingItem(task, promptRng));
      const trajectories = await rollout(trained, { maxToolCalls: 5, seed: 1, items, dropEndedRows: true });
      const lengths = trajectories.map((t) => t.tokens.length).sort((a, b) => b - a);
      // A quarter of the rows still going when half had ended: rows left while several were left.
      expect(lengths[Math.floor(lengths.length / 4)]).toBeLessThan(lengths[0]);
      expect(lengths[Math.floor(lengths.length / 2)]).toBeLessThan(lengths[Math.floor(lengths.length / 4) + 1]);
      expect(checkAgainstFullForward(trained, trajectories)).toBeGreaterThan(300);
      // The loop that keeps ended rows in the batch (the browser's) samples the same trajectories.
      const kept = await rollout(trained, { maxToolCalls: 5, seed: 1, items, dropEndedRows: false });
      expect(kept.map((t) => t.tokens.map((x) => x.id))).toEqual(trajectories.map((t) => t.tokens.map((x) => x.id)));
      kept.forEach((t, b) => t.tokens.forEach((token, i) => expect(Math.abs(token.logprob - trajectories[b].tokens[i].logprob)).toBeLessThan(1e-6)));
    } finally {
      disposePolicy(trained);
    }
  });

  it('rewards 1 exactly when the answer matches: same prompts, answers set to what was sampled', async () => {
    // Sampling never looks at the answer, so the same seed gives the same tokens; pick a sampled
    // answer per group (if any) as that item's answer.
    const answered = ITEMS.map((item, g) => {
      const found = calculatorRun.trajectories.slice(g * GROUP, (g + 1) * GROUP).find((t) => t.answer !== null);
      return { ...item, answer: found ? found.answer! : item.answer };
    });
    const rerun = await rollout(policy, { maxToolCalls: 2, seed: 2, items: answered });
    let rewarded = 0;
    rerun.forEach((t, i) => {
      expect(t.tokens).toEqual(calculatorRun.trajectories[i].tokens);
      expect(t.reward).toBe(t.answer !== null && t.answer === answered[Math.floor(i / GROUP)].answer ? 1 : 0);
      rewarded += t.reward;
    });
    expect(rewarded).toBeGreaterThan(0);
  });

  it('with maxToolCalls 0, a </call> ends the trajectory unexecuted (tool_limit)', async () => {
    // With maxToolCalls 0, every </call> ends the trajectory as tool_limit and no call is recorded.
    const trajectories = await rollout(policy, { maxToolCalls: 0, seed: 2 });
    for (const t of trajectories) {
      expect(t.tokens.every((x) => x.kind !== 'tool')).toBe(true);
      if (t.finishReason === 'tool_limit') expect(t.tokens[t.tokens.length - 1].id).toBe(CALL_CLOSE);
      expect(t.toolCalls.every((c) => c.error === 'syntax')).toBe(true); // only a call open at the cap
    }
    expect(trajectories.some((t) => t.finishReason === 'tool_limit')).toBe(true);
  });
});
