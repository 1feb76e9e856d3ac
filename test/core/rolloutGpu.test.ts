// The rollout on the fused WebGPU kernels, a tool round at a time (rows advance on the GPU until
// they close a call or end; one readback per round), against the stock loop (tfjs's own ops, one
// readback per position) with the same uniforms: the same tokens, calls and endings, log-probs and
// entropies within 1e-5, and readbacks bounded by the tool rounds. Real WebGPU: Dawn on SwiftShader.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeWebGPUAvailable, useNodeBackend } from '../../src/cli/nodeWebgpu';
import { ToolEnvironment } from '../../src/core/environment';
import { MODEL_SCALES } from '../../src/core/model/config';
import { chooseKernelPath } from '../../src/core/model/fusedDecoder';
import { disposePolicy, initPolicy, type Policy } from '../../src/core/model/transformer';
import { Rng } from '../../src/core/rng';
import { drawUniforms, promptTokens, sampleContinuations, sampleGroups, type RolloutCounters, type Trajectory } from '../../src/core/rollout';
import type { TaskItem } from '../../src/core/tasks/types';
import { CALL_CLOSE, VOCAB } from '../../src/core/tokenizer';
import { loadBundledTiny } from './engine/bundled';

const ITEMS: TaskItem[] = [
  { prompt: '3+4', answer: '7', kind: 'sum' },
  { prompt: '47*86', answer: '4042', kind: 'product' },
  { prompt: '12*5', answer: '60', kind: 'product' },
  { prompt: '(8-3)*9', answer: '45', kind: 'three' },
];

interface Sampled {
  trajectories: Trajectory[];
  counters: RolloutCounters;
}

async function rollout(policy: Policy, kernels: 'auto' | 'stock', options: { temperature: number; seed: number; maxToolCalls: number; group: number }): Promise<Sampled> {
  const counters: RolloutCounters = { readbacks: 0, toolRounds: 0, roundsCutShort: 0 };
  const trajectories = await sampleGroups(policy, ITEMS, options.group, {
    temperature: options.temperature,
    maxToolCalls: options.maxToolCalls,
    environment: new ToolEnvironment('calculator', 0.3, new Rng(options.seed).fork('environment')),
    rng: new Rng(options.seed).fork('sampling'),
    kernels,
    counters,
  });
  return { trajectories, counters };
}

function expectSame(gpu: Trajectory[], stock: Trajectory[], tolerance: number): void {
  const text = (ts: Trajectory[]) => ts.map((t) => t.tokens.map((x) => `${VOCAB[x.id]}/${x.kind[0]}`).join(' '));
  expect(text(gpu)).toEqual(text(stock));
  expect(gpu.map((t) => t.finishReason)).toEqual(stock.map((t) => t.finishReason));
  expect(gpu.map((t) => t.toolCalls)).toEqual(stock.map((t) => t.toolCalls));
  expect(gpu.map((t) => t.reward)).toEqual(stock.map((t) => t.reward));
  let worst = 0;
  gpu.forEach((t, i) => t.tokens.forEach((token, j) => (worst = Math.max(worst, Math.abs(token.logprob - stock[i].tokens[j].logprob), Math.abs(token.entropy - stock[i].tokens[j].entropy)))));
  expect(worst).toBeLessThan(tolerance);
}

/** The most calls one trajectory closed (CALL_CLOSE sampled by the policy), worked out from the tokens. */
function mostCloses(trajectories: Trajectory[]): number {
  return Math.max(...trajectories.map((t) => t.tokens.filter((x) => x.kind === 'policy' && x.id === CALL_CLOSE).length));
}

describe('drawUniforms', () => {
  it('draws rows x T uniforms row-major from the generator, before any decoding', () => {
    const draws = drawUniforms(new Rng(5), 3, 4);
    const again = new Rng(5);
    expect(draws).toHaveLength(12);
    // Row b's draw for position t is the generator's (b * 4 + t)-th number, as float32.
    for (let i = 0; i < 12; i++) expect(draws[i]).toBe(Math.fround(again.next()));
  });
});

const why = 'WebGPU needs SwiftShader from Debian chromium (apt-get install -y chromium)';

describe.skipIf(!nodeWebGPUAvailable())(`the rollout on the GPU, a tool round at a time (skipped when: ${why})`, { timeout: 900_000 }, () => {
  let tiny: Policy;
  let random: Policy;
  beforeAll(async () => {
    await useNodeBackend('webgpu');
    tiny = loadBundledTiny();
    // A random policy is near-uniform over the emittable tokens: it opens and closes calls at
    // random, ends at random positions and sometimes runs to the context length.
    random = initPolicy(MODEL_SCALES.tiny, 3);
    expect((await chooseKernelPath(tiny)).path).toBe('fused');
  });
  afterAll(() => {
    disposePolicy(tiny);
    disposePolicy(random);
  });

  it('samples what the stock loop samples, with calls mid-batch, rows ending apart and the call limit', async () => {
    const options = { temperature: 1, seed: 21, maxToolCalls: 2, group: 4 };
    const gpu = await rollout(random, 'auto', options);
    const stock = await rollout(random, 'stock', options);
    expectSame(gpu.trajectories, stock.trajectories, 1e-5);
    // The case is what it claims: calls closed in the middle of the batch, rows of several
    // lengths, ends by end of text and by the call limit.
    const reasons = new Set(gpu.trajectories.map((t) => t.finishReason));
    expect(reasons.has('eos')).toBe(true);
    expect(reasons.has('tool_limit')).toBe(true);
    expect(new Set(gpu.trajectories.map((t) => t.tokens.length)).size).toBeGreaterThan(4);
    expect(gpu.trajectories.some((t) => t.toolCalls.length > 0 && t.finishReason === 'eos')).toBe(true);
    // Readbacks: one per position on the stock loop, one per tool round (+ the last) on the GPU.
    const rounds = mostCloses(gpu.trajectories);
    expect(gpu.counters.toolRounds).toBe(rounds);
    expect(stock.counters.toolRounds).toBe(rounds);
    expect(stock.counters.readbacks).toBe(Math.max(...stock.trajectories.map((t) => t.tokens.length)) - 1);
    expect(gpu.counters.readbacks).toBeLessThanOrEqual(rounds + 2);
    expect(gpu.counters.readbacks).toBeGreaterThanOrEqual(1);
    // The random policy samples long stretches: the first round's guessed length falls short, the
    // rows carry on in the next round, and only once.
    expect(gpu.counters.roundsCutShort).toBe(1);
    expect(stock.counters.roundsCutShort).toBe(0);
  });

  it('matches at the length cap, where a tool result is cut short', async () => {
    // Continue from prefixes that leave 6 positions: some rows close a call whose result does not fit.
    const T = MODEL_SCALES.tiny.contextLength;
    const starts = Array.from({ length: 8 }, (_, i) => {
      const item = ITEMS[i % ITEMS.length];
      const prompt = promptTokens(item).map((id) => ({ id, kind: 'prompt' as const }));
      const filler = Array.from({ length: T - 6 - prompt.length }, () => ({ id: VOCAB.indexOf('1'), kind: 'policy' as const }));
      return { item, group: i, prefix: [...prompt, ...filler], toolCalls: [], callStart: -1 };
    });
    const run = async (kernels: 'auto' | 'stock') => {
      const counters: RolloutCounters = { readbacks: 0, toolRounds: 0, roundsCutShort: 0 };
      const trajectories = await sampleContinuations(random, starts, {
        temperature: 1.5,
        maxToolCalls: 5,
        environment: new ToolEnvironment('calculator', 0, new Rng(4).fork('environment')),
        rng: new Rng(4).fork('sampling'),
        kernels,
        counters,
      });
      return { trajectories, counters };
    };
    const gpu = await run('auto');
    const stock = await run('stock');
    expectSame(gpu.trajectories, stock.trajectories, 1e-5);
    expect(gpu.trajectories.filter((t) => t.finishReason === 'length').length).toBeGreaterThan(0);
    expect(gpu.trajectories.every((t) => t.tokens.length <= T)).toBe(true);
    expect(gpu.counters.readbacks).toBeLessThanOrEqual(gpu.counters.toolRounds + 2);
  });

  it('matches the trained policy greedily and at temperature 1, in at most tool rounds + 2 readbacks', async () => {
    for (const temperature of [0, 1]) {
      const options = { temperature, seed: 8, maxToolCalls: 5, group: 4 };
      const gpu = await rollout(tiny, 'auto', options);
      const stock = await rollout(tiny, 'stock', options);
      expectSame(gpu.trajectories, stock.trajectories, temperature === 0 ? 1e-12 : 1e-5);
      expect(gpu.counters.toolRounds).toBeGreaterThanOrEqual(1); // the trained policy calls the tool
      expect(gpu.counters.readbacks).toBeLessThanOrEqual(gpu.counters.toolRounds + 2);
      expect(stock.counters.readbacks).toBeGreaterThan(gpu.counters.readbacks * 5);
    }
  });
});
