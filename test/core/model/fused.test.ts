// The fused WGSL decoding path against the stock one (tfjs's own ops) and against hand-derived
// values, on the real WebGPU backend (Dawn on SwiftShader in Node).

import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { nodeWebGPUAvailable, useNodeBackend } from '../../../src/cli/nodeWebgpu';
import { ToolEnvironment } from '../../../src/core/environment';
import type { ModelConfig } from '../../../src/core/model/config';
import { MODEL_SCALES } from '../../../src/core/model/config';
import { drawToken } from '../../../src/core/model/draw';
import { fusedCausalAttention, fusedTrainingOps } from '../../../src/core/model/fusedTraining';
import { chooseKernelPath, FusedDecoder, setKernelPreference } from '../../../src/core/model/fusedDecoder';
import { FusedKernels, fusedDispatchesPerPosition } from '../../../src/core/model/fusedKernels';
import { causalAttention, stockLayerNorm, decodeStep, disposeCache, disposePolicy, emptyCache, initPolicy, namedWeights, type Policy } from '../../../src/core/model/transformer';
import { resolveConfig } from '../../../src/core/config';
import { Trainer } from '../../../src/core/trainer';
import { policyLoss } from '../../../src/core/tao/loss';
import { Rng } from '../../../src/core/rng';
import { sampleGroups, type Trajectory } from '../../../src/core/rollout';
import type { TaskItem } from '../../../src/core/tasks/types';
import { BOS, EMITTABLE, encode, VOCAB, VOCAB_SIZE } from '../../../src/core/tokenizer';
import { loadBundledTiny } from '../engine/bundled';
import { randomLossBatch } from './lossBatch';

const ITEMS: TaskItem[] = [
  { prompt: '3+4', answer: '7', kind: 'sum' },
  { prompt: '47*86', answer: '4042', kind: 'product' },
  { prompt: '12*5', answer: '60', kind: 'product' },
];

function rollout(policy: Policy, kernels: 'auto' | 'stock', temperature: number, seed: number): Promise<Trajectory[]> {
  return sampleGroups(policy, ITEMS, 3, {
    temperature,
    maxToolCalls: 5,
    environment: new ToolEnvironment('calculator', 0, new Rng(seed).fork('environment')),
    rng: new Rng(seed).fork('sampling'),
    kernels,
  });
}

function expectSameRollouts(fused: Trajectory[], stock: Trajectory[], tolerance: number): void {
  expect(fused.map((t) => t.tokens.map((x) => VOCAB[x.id]).join(''))).toEqual(stock.map((t) => t.tokens.map((x) => VOCAB[x.id]).join('')));
  let worst = 0;
  fused.forEach((t, i) =>
    t.tokens.forEach((token, j) => {
      const other = stock[i].tokens[j];
      worst = Math.max(worst, Math.abs(token.logprob - other.logprob), Math.abs(token.entropy - other.entropy));
    }),
  );
  expect(worst).toBeLessThan(tolerance);
}

/** Dispatches recorded while `f` runs (tfjs's WebGPU backend records each one through recordAndSubmit). */
async function countDispatches(f: () => Promise<unknown>): Promise<number> {
  const backend = tf.backend() as unknown as { recordAndSubmit: (...args: unknown[]) => unknown };
  const original = backend.recordAndSubmit;
  let count = 0;
  backend.recordAndSubmit = function (this: unknown, ...args: unknown[]) {
    count += 1;
    return original.apply(this, args);
  };
  try {
    await f();
  } finally {
    backend.recordAndSubmit = original;
  }
  return count;
}

const why = 'WebGPU needs SwiftShader from Debian chromium (apt-get install -y chromium)';

describe.skipIf(!nodeWebGPUAvailable())(`fused decoding on WebGPU (skipped when: ${why})`, { timeout: 600_000 }, () => {
  let tiny: Policy;
  beforeAll(async () => {
    await useNodeBackend('webgpu');
    tiny = loadBundledTiny();
  });
  afterAll(() => disposePolicy(tiny));

  it('draws from the uniform distribution a zero head gives, as worked out by hand', async () => {
    // No blocks and a zero token embedding: every logit is 0, so over the 22 emittable tokens
    // p = 1/22, log p = -ln 22 = -3.0910425, entropy ln 22, and u picks emittable number floor(22 u)
    // (u away from the multiples of 1/22, where float rounding decides).
    const config: ModelConfig = { ...MODEL_SCALES.tiny, layers: 0 };
    const policy = initPolicy(config, 1);
    policy.weights.tokenEmbedding.assign(tf.zeros(policy.weights.tokenEmbedding.shape));
    const emittable = VOCAB.map((_, id) => id).filter((id) => EMITTABLE[id]);
    expect(emittable).toHaveLength(22);
    const decoder = new FusedDecoder(policy, 3);
    try {
      const sampled = await decoder.step(new Int32Array([BOS, BOS, BOS]), new Float32Array([0.01, 0.52, 0.99]), 1);
      expect(Array.from(sampled.filter((_, i) => i % 3 === 0))).toEqual([emittable[0], emittable[11], emittable[21]]);
      for (let r = 0; r < 3; r++) {
        expect(sampled[r * 3 + 1]).toBeCloseTo(-3.0910425, 5);
        expect(sampled[r * 3 + 2]).toBeCloseTo(3.0910425, 5);
      }
      // Greedy on an all-tied row: the first emittable token, log-prob and entropy recorded as 0.
      const greedy = await decoder.step(new Int32Array([BOS, BOS, BOS]), new Float32Array(3), 0);
      expect(Array.from(greedy.subarray(0, 3))).toEqual([emittable[0], 0, 0]);
    } finally {
      decoder.dispose();
      disposePolicy(policy);
    }
  });

  it('matches the stock path position by position on a random small policy, to 1e-5', async () => {
    const policy = initPolicy(MODEL_SCALES.small, 7);
    const rows = 3;
    const fed = [BOS, ...encode('(47*86)-19=<call>47*86</call>')].slice(0, 24);
    const rng = new Rng(3);
    const cache = emptyCache(policy);
    const decoder = new FusedDecoder(policy, rows);
    let worst = 0;
    try {
      for (const [p, id] of fed.entries()) {
        const temperature = p % 2 === 0 ? 1 : 0.7;
        const tokens = new Int32Array([id, fed[(p + 5) % fed.length], BOS]);
        const draws = new Float32Array(Array.from({ length: rows }, () => rng.next()));
        const sampled = await decoder.step(tokens, draws, temperature);
        const logits = tf.tidy(() => decodeStep(policy, tf.tensor1d(tokens, 'int32'), cache));
        const values = (await logits.data()) as Float32Array;
        logits.dispose();
        for (let r = 0; r < rows; r++) {
          const stock = drawToken(values, r, temperature, draws[r]);
          expect(sampled[r * 3]).toBe(stock.id);
          worst = Math.max(worst, Math.abs(sampled[r * 3 + 1] - stock.logprob), Math.abs(sampled[r * 3 + 2] - stock.entropy));
        }
      }
    } finally {
      decoder.dispose();
      disposeCache(cache);
      disposePolicy(policy);
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('samples the same rollouts as the stock path on webgpu and on cpu, log-probs and entropies to 1e-5', async () => {
    expect((await chooseKernelPath(tiny)).path).toBe('fused');
    const fused = await rollout(tiny, 'auto', 1, 11);
    const stock = await rollout(tiny, 'stock', 1, 11);
    expectSameRollouts(fused, stock, 1e-5);
    const fusedGreedy = await rollout(tiny, 'auto', 0, 12);
    expectSameRollouts(fusedGreedy, await rollout(tiny, 'stock', 0, 12), 1e-12);
    // The cpu backend's kernels are tfjs's reference implementation.
    await useNodeBackend('cpu');
    const onCpu = loadBundledTiny();
    try {
      expectSameRollouts(fused, await rollout(onCpu, 'auto', 1, 11), 1e-5);
    } finally {
      disposePolicy(onCpu);
      await useNodeBackend('webgpu');
    }
  });

  it('launches 5 dispatches per layer and 2 for embedding and head, with no tensor left over', async () => {
    for (const scale of ['tiny', 'small'] as const) {
      const policy = initPolicy(MODEL_SCALES[scale], 2);
      const decoder = new FusedDecoder(policy, 4);
      const tokens = new Int32Array(4).fill(BOS);
      const draws = new Float32Array(4).fill(0.5);
      await decoder.step(tokens, draws, 1); // compiles the shaders
      const before = tf.memory().numTensors;
      const dispatches = await countDispatches(() => decoder.step(tokens, draws, 1));
      expect(tf.memory().numTensors).toBe(before);
      expect(dispatches).toBe(fusedDispatchesPerPosition(MODEL_SCALES[scale].layers));
      expect(dispatches).toBe(5 * MODEL_SCALES[scale].layers + 2);
      decoder.dispose();
      disposePolicy(policy);
    }
  });

  it('fused training attention matches tfjs\'s in value and gradient to 1e-5, in 1 dispatch forward and 2 backward', async () => {
    for (const [config, B, T] of [
      [MODEL_SCALES.tiny, 3, 17],
      [MODEL_SCALES.base, 2, MODEL_SCALES.base.contextLength], // 5 heads of 32, the full context
    ] as const) {
      const D = config.width;
      const rng = new Rng(B * 100 + T);
      const qkv = tf.tensor2d(Float32Array.from({ length: B * T * 3 * D }, () => 2 * rng.next() - 1), [B * T, 3 * D]);
      const upstream = tf.tensor2d(Float32Array.from({ length: B * T * D }, () => 2 * rng.next() - 1), [B * T, D]);
      const probe = (attend: (x: tf.Tensor2D) => tf.Tensor2D) =>
        tf.tidy(() => {
          const { value, grads } = tf.valueAndGrads((x: tf.Tensor) => attend(x as tf.Tensor2D).mul(upstream).sum())([qkv]);
          return [attend(qkv), grads[0], value];
        });
      const stock = probe((x) => causalAttention(x, B, T, config.heads));
      let dispatches = 0;
      const fused = await (async () => {
        const counted: tf.Tensor[] = [];
        dispatches = await countDispatches(async () => {
          counted.push(...probe((x) => fusedCausalAttention(config, x, T)));
          await counted[1].data();
        });
        return counted;
      })();
      // probe runs the forward twice (once under the gradient, once for the value) and the backward once.
      expect(dispatches).toBeGreaterThanOrEqual(1 + 1 + 2);
      for (let i = 0; i < 2; i++) {
        const a = (await fused[i].data()) as Float32Array;
        const b = (await stock[i].data()) as Float32Array;
        let worst = 0;
        for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
        expect(worst, `${i === 0 ? 'output' : 'gradient'} at ${config.width} wide, ${T} positions`).toBeLessThan(1e-5);
      }
      tf.dispose([...stock, ...fused, qkv, upstream]);
    }
    // The dispatch budget itself, on one forward and one backward.
    const config = MODEL_SCALES.tiny;
    const qkv = tf.ones([2 * 6, 3 * config.width]) as tf.Tensor2D;
    const forwardOnly = await countDispatches(async () => {
      const out = fusedCausalAttention(config, qkv, 6);
      await out.data();
      out.dispose();
    });
    expect(forwardOnly).toBe(1);
    const withGradient = await countDispatches(async () => {
      const g = tf.grad((x: tf.Tensor) => fusedCausalAttention(config, x as tf.Tensor2D, 6))(qkv);
      await g.data();
      g.dispose();
    });
    expect(withGradient).toBe(1 + 2); // forward and the two backward passes
    qkv.dispose();
  });

  it('fused LayerNorm matches tfjs\'s in value and gradients to 1e-5, in 1 dispatch forward and 4 backward', async () => {
    const config = MODEL_SCALES.base; // width 160
    const D = config.width;
    const rng = new Rng(21);
    const random = (n: number, scale: number) => Float32Array.from({ length: n }, () => scale * (2 * rng.next() - 1));
    const x = tf.tensor2d(random(37 * D, 3), [37, D]);
    const gain = tf.tensor1d(random(D, 1).map((g) => 1 + g));
    const bias = tf.tensor1d(random(D, 1));
    const upstream = tf.tensor2d(random(37 * D, 1), [37, D]);
    const norm = fusedTrainingOps(config).layerNorm;
    const probe = (f: (a: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor) => tf.Tensor2D) =>
      tf.tidy(() => {
        const { grads } = tf.valueAndGrads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor2D, g, b).mul(upstream).sum())([x, gain, bias]);
        return [f(x, gain, bias), ...grads];
      });
    const fused = probe(norm);
    const stock = probe(stockLayerNorm);
    for (const [i, name] of ['output', 'dx', 'dgain', 'dbias'].entries()) {
      const a = (await fused[i].data()) as Float32Array;
      const b = (await stock[i].data()) as Float32Array;
      let worst = 0;
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
      expect(worst, name).toBeLessThan(1e-5);
    }
    const forwardOnly = await countDispatches(async () => {
      const out = norm(x, gain, bias);
      await out.data();
      out.dispose();
    });
    expect(forwardOnly).toBe(1);
    const withGradients = await countDispatches(async () => {
      const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => norm(a as tf.Tensor2D, g, b))([x, gain, bias]);
      await Promise.all(grads.map((g) => g.data()));
      tf.dispose(grads);
    });
    expect(withGradients).toBe(1 + 4); // forward; statistics, dx, dgain, dbias
    tf.dispose([...fused, ...stock, x, gain, bias, upstream]);
  });

  it('gives the policy-loss gradients of the stock path to 1e-5, and the same RL step', async () => {
    // Gradients of the full policy loss (live bonus, so entropy carries gradient too) on a fixed batch.
    const policy = loadBundledTiny();
    await chooseKernelPath(policy); // the self-check that turns the fused attention on
    const batch = randomLossBatch(6, 40, 9);
    const options = { temperature: 1, clipLow: 0.2, clipHigh: 0.28, dualClip: 3, entropyCoef: 0.01, klCoef: 0, liveBonusCoef: 0.5 };
    const variables = namedWeights(policy.weights).map(([, v]) => v);
    const gradients = async (preference: 'auto' | 'stock') => {
      setKernelPreference(preference);
      try {
        const { grads } = tf.variableGrads(() => policyLoss(policy, batch, options).loss, variables);
        const values = await Promise.all(variables.map(async (v) => (await grads[v.name].data()) as Float32Array));
        tf.dispose(Object.values(grads));
        return values;
      } finally {
        setKernelPreference('auto');
      }
    };
    const fusedGradients = await gradients('auto');
    const stockGradients = await gradients('stock');
    let worst = 0;
    fusedGradients.forEach((g, i) => g.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - stockGradients[i][j])))));
    expect(worst).toBeLessThan(1e-5);
    expect(Math.max(...stockGradients.map((g) => Math.max(...g.map(Math.abs))))).toBeGreaterThan(1e-3); // not all zero
    disposePolicy(policy);

    const step = async (preference: 'auto' | 'stock') => {
      setKernelPreference(preference);
      const stepPolicy = loadBundledTiny();
      const trainer = new Trainer(resolveConfig({ preset: 'tao-rl', seed: 4, groupSize: 4, promptsPerStep: 1, entropyCoef: 0.01 }), stepPolicy);
      try {
        return await trainer.runStep();
      } finally {
        trainer.dispose();
        setKernelPreference('auto');
      }
    };
    const fused = await step('auto');
    const stock = await step('stock');
    expect(fused.metrics['batch/trajectories']).toBeGreaterThan(0);
    expect(fused.trajectories.map((t) => t.tokens.text.join(''))).toEqual(stock.trajectories.map((t) => t.tokens.text.join('')));
    // Within 1e-5, relative to the value where it exceeds 1 (a gradient norm of tens carries
    // float32 rounding of about 1e-6 of itself from a different summation order).
    for (const key of ['loss/policy', 'grad_norm', 'actor/entropy', 'actor/ppo_kl'] as const) {
      const [a, b] = [fused.metrics[key]!, stock.metrics[key]!];
      expect(Math.abs(a - b) / Math.max(1, Math.abs(b)), `${key}: fused ${a}, stock ${b}`).toBeLessThan(1e-5);
    }
  });

  it('falls back to the stock path with a warning when a shader does not compile', async () => {
    // A shape no other test uses, so its self-check runs here.
    const config: ModelConfig = { vocabSize: VOCAB_SIZE, contextLength: 16, layers: 1, width: 16, heads: 2, mlpRatio: 2 };
    const policy = initPolicy(config, 3);
    const original = FusedKernels.prototype.source;
    const spy = vi.spyOn(FusedKernels.prototype, 'source').mockImplementation(function (this: FusedKernels, name) {
      const code = original.call(this, name);
      return name === 'attention' ? code.replace('exp(scores[t] - best)', 'exp(scores[t] - undefinedName)') : code;
    });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const status = await chooseKernelPath(policy);
      expect(status.path).toBe('stock');
      expect(status.warning).toMatch(/did not compile/);
      // Sampling still works, on the stock path.
      const [trajectory] = await sampleGroups(policy, ITEMS.slice(0, 1), 1, {
        temperature: 1, maxToolCalls: 2, environment: new ToolEnvironment('calculator', 0, new Rng(1)), rng: new Rng(2),
      });
      expect(trajectory.tokens.length).toBeGreaterThan(4);
    } finally {
      spy.mockRestore();
      warn.mockRestore();
      disposePolicy(policy);
    }
  });
});
