// The fused update on the real WebGPU backend (Dawn on SwiftShader in Node): the flat Adam against
// tfjs's ops and against steps worked by hand, the fused dense layers against tfjs's matmul, add
// and relu, one RL step fused against stock, and the dispatches of one RL-step update.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeWebGPUAvailable, useNodeBackend } from '../../../src/cli/nodeWebgpu';
import { resolveConfig } from '../../../src/core/config';
import { Adam, ADAM_DEFAULTS } from '../../../src/core/model/adam';
import { MODEL_SCALES } from '../../../src/core/model/config';
import { startDispatchCounter } from '../../../src/core/model/dispatchCounter';
import { fusedDenseOps, type DenseForm } from '../../../src/core/model/fusedDense';
import { chooseKernelPath, setKernelPreference } from '../../../src/core/model/fusedDecoder';
import { fusedUpdateActive, fusedUpdateProbe, prepareFusedUpdate, stockDense } from '../../../src/core/model/fusedUpdate';
import { disposePolicy, namedWeights } from '../../../src/core/model/transformer';
import { Rng } from '../../../src/core/rng';
import { policyLoss } from '../../../src/core/tao/loss';
import { Trainer } from '../../../src/core/trainer';
import { loadBundledTiny } from '../engine/bundled';
import { randomLossBatch } from './lossBatch';

const why = 'WebGPU needs SwiftShader from Debian chromium (apt-get install -y chromium)';

function uniform(rng: Rng, n: number, scale: number): Float32Array {
  return Float32Array.from({ length: n }, () => scale * (2 * rng.next() - 1));
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/** Variables of a few shapes (a matrix, a bias, an odd length) made without leaving their initial tensors. */
function makeVariables(seed: number): Map<string, tf.Variable> {
  const rng = new Rng(seed);
  const make = (shape: number[]) => tf.tidy(() => tf.variable(tf.tensor(uniform(rng, shape.reduce((a, b) => a * b, 1), 1), shape)));
  return new Map([
    ['weight', make([64, 48])],
    ['bias', make([48])],
    ['odd', make([17])],
  ]);
}

/** `steps` Adam steps on fresh variables from the same seed; gradients scaled by `gradScale` (large: the clip acts). */
async function adamRun(paths: boolean[], gradClip: number, gradScale: number): Promise<{ values: Float32Array[]; norms: number[]; tensors: number[] }> {
  const variables = makeVariables(5);
  const adam = new Adam({ ...ADAM_DEFAULTS, learningRate: 0.01, gradClip });
  const rng = new Rng(6);
  const norms: number[] = [];
  const tensors: number[] = [];
  try {
    for (const fused of paths) {
      const grads = tf.tidy(() => Object.fromEntries([...variables].map(([name, v]) => [name, tf.tensor(uniform(rng, v.size, gradScale), v.shape)])));
      norms.push(await adam.apply(variables, grads, fused));
      tf.dispose(Object.values(grads));
      tensors.push(tf.memory().numTensors);
    }
    return { values: await Promise.all([...variables.values()].map(async (v) => (await v.data()) as Float32Array)), norms, tensors };
  } finally {
    adam.dispose();
    tf.dispose([...variables.values()]);
  }
}

describe.skipIf(!nodeWebGPUAvailable())(`the fused update on WebGPU (skipped when: ${why})`, { timeout: 900_000 }, () => {
  beforeAll(async () => {
    await useNodeBackend('webgpu');
  });

  it('takes the hand-worked clipped Adam steps of adam.test.ts', async () => {
    // x0 = [1, -2], lr .1, clip 1; g1 = [3, 4] (norm 5, clipped), g2 = [.3, -.4] (norm .5):
    // x1 = [.9, -2.1], x2 = [.8067818, -2.1266337] (worked out in test/core/model/adam.test.ts).
    const x = tf.tidy(() => tf.variable(tf.tensor1d([1, -2])));
    const adam = new Adam({ ...ADAM_DEFAULTS, learningRate: 0.1, gradClip: 1 });
    const variables = new Map([['x', x]]);
    const seen: { x: number[]; norm: number }[] = [];
    for (const g of [
      [3, 4],
      [0.3, -0.4],
    ]) {
      const grad = tf.tensor1d(g);
      const norm = await adam.apply(variables, { x: grad }, true);
      grad.dispose();
      seen.push({ x: Array.from(await x.data()), norm });
    }
    adam.dispose();
    x.dispose();
    expect(seen[0].norm).toBeCloseTo(5, 5);
    expect(seen[0].x[0]).toBeCloseTo(0.9, 6);
    expect(seen[0].x[1]).toBeCloseTo(-2.1, 6);
    expect(seen[1].norm).toBeCloseTo(0.5, 6);
    expect(seen[1].x[0]).toBeCloseTo(0.8067818, 5);
    expect(seen[1].x[1]).toBeCloseTo(-2.1266337, 5);
  });

  it('matches the stock Adam over five steps to 1e-5, with the clip active and inactive, in two dispatches and no tensor left per step', async () => {
    for (const [gradClip, gradScale] of [
      [1, 2], // global norm about 32: every step clipped
      [Infinity, 0.5],
    ]) {
      const stock = await adamRun([false, false, false, false, false], gradClip, gradScale);
      const fused = await adamRun([true, true, true, true, true], gradClip, gradScale);
      stock.values.forEach((values, i) => expect(maxDifference(fused.values[i], values), `clip ${gradClip}`).toBeLessThan(1e-5));
      expect(maxDifference(fused.norms, stock.norms)).toBeLessThan(1e-5);
      if (gradClip === 1) expect(Math.min(...stock.norms)).toBeGreaterThan(1); // the clip acted on every step
      expect(fused.tensors.slice(1)).toEqual(fused.tensors.slice(1).map(() => fused.tensors[0]));
      // The updates really moved the weights (not a no-op that trivially agrees).
      const start = makeVariables(5);
      expect(maxDifference(await start.get('weight')!.data(), stock.values[0])).toBeGreaterThan(0.01);
      tf.dispose([...start.values()]);
    }
    // Dispatches of one fused step: the norm and the update.
    const variables = makeVariables(7);
    const adam = new Adam({ ...ADAM_DEFAULTS, learningRate: 0.01, gradClip: 1 });
    const grads = tf.tidy(() => Object.fromEntries([...variables].map(([name, v]) => [name, tf.onesLike(v)])));
    await adam.apply(variables, grads, true);
    const counter = startDispatchCounter()!;
    await adam.apply(variables, grads, true);
    expect(counter.stop()).toBe(2);
    adam.dispose();
    tf.dispose([...variables.values(), ...Object.values(grads)]);
  });

  it('carries the moments between the fused and the stock update', async () => {
    const mixed = await adamRun([true, true, false, true, false], 1, 2);
    const stock = await adamRun([false, false, false, false, false], 1, 2);
    stock.values.forEach((values, i) => expect(maxDifference(mixed.values[i], values)).toBeLessThan(1e-5));
  });

  it("gives tfjs's values and gradients for each dense form to 1e-5 at tiny and base widths, in 1 dispatch forward and 2 backward", async () => {
    for (const config of [MODEL_SCALES.tiny, MODEL_SCALES.base]) {
      const D = config.width;
      const M = D * config.mlpRatio;
      for (const [form, inner, outer] of [
        ['dense', D, 3 * D],
        ['denseRelu', D, M],
        ['denseResidual', M, D],
      ] as [DenseForm, number, number][]) {
        const rows = 37;
        const rng = new Rng(inner + outer);
        const x = tf.tensor2d(uniform(rng, rows * inner, 1), [rows, inner]);
        const w = tf.tensor2d(uniform(rng, inner * outer, 0.3), [inner, outer]);
        const bias = tf.tensor1d(uniform(rng, outer, 0.5));
        const residual = tf.tensor2d(uniform(rng, rows * outer, 1), [rows, outer]);
        const upstream = tf.tensor2d(uniform(rng, rows * outer, 1), [rows, outer]);
        const inputs = form === 'denseResidual' ? [x, w, bias, residual] : [x, w, bias];
        const fusedForm = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, r?: tf.Tensor) =>
          form === 'denseResidual' ? fusedDenseOps.denseResidual(a as tf.Tensor2D, b, c, r as tf.Tensor2D) : fusedDenseOps[form](a as tf.Tensor2D, b, c);
        const stockForm = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, r?: tf.Tensor) => stockDense(form, a as tf.Tensor2D, b as tf.Tensor2D, c, r as tf.Tensor2D);
        const probe = (f: typeof fusedForm) =>
          tf.tidy(() => {
            const { grads } = tf.valueAndGrads((...t: tf.Tensor[]) => f(t[0], t[1], t[2], t[3]).mul(upstream).sum())(inputs);
            return [f(x, w, bias, residual), ...grads];
          });
        const fused = probe(fusedForm);
        const stock = probe(stockForm);
        for (const [i, name] of ['value', 'dx', 'dw', 'dbias', 'dresidual'].slice(0, stock.length).entries()) {
          const a = (await fused[i].data()) as Float32Array;
          const b = (await stock[i].data()) as Float32Array;
          expect(maxDifference(a, b), `${form} ${name} at width ${D}`).toBeLessThan(1e-5);
          expect(Math.max(...b.map(Math.abs)), `${form} ${name} is not all zero`).toBeGreaterThan(1e-3);
        }
        if (form === 'denseRelu') {
          const values = (await stock[0].data()) as Float32Array;
          expect(values.filter((v) => v === 0).length).toBeGreaterThan(values.length / 10); // the ReLU cut some
        }
        tf.dispose([...fused, ...stock]);

        const forwardOnly = startDispatchCounter()!;
        const out = fusedForm(x, w, bias, residual);
        await out.data();
        expect(forwardOnly.stop()).toBe(1);
        out.dispose();
        const before = tf.memory().numTensors;
        const withGradients = startDispatchCounter()!;
        const grads = tf.grads((...t: tf.Tensor[]) => fusedForm(t[0], t[1], t[2], t[3]))(inputs);
        await Promise.all(grads.map((g) => g.data()));
        expect(withGradients.stop()).toBe(1 + 2);
        tf.dispose(grads);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x, w, bias, residual, upstream]);
      }
    }
  });

  it('passes its probe on this adapter', async () => {
    expect(await fusedUpdateProbe(MODEL_SCALES.small)).toBeNull();
  });

  it("gives the policy loss's gradients of the stock path to 1e-5 for every weight with the fused dense layers, in fewer dispatches", async () => {
    const policy = loadBundledTiny();
    expect((await chooseKernelPath(policy)).path).toBe('fused');
    expect(await prepareFusedUpdate(policy.config)).toBe(true);
    const batch = randomLossBatch(5, 33, 13);
    const options = { temperature: 1, clipLow: 0.2, clipHigh: 0.28, dualClip: 3, entropyCoef: 0.01, klCoef: 0, liveBonusCoef: 0.5 };
    const variables = namedWeights(policy.weights).map(([, v]) => v);
    const gradients = async (preference: 'auto' | 'stock') => {
      setKernelPreference(preference);
      try {
        const counter = startDispatchCounter()!;
        const { value, grads } = tf.variableGrads(() => policyLoss(policy, batch, options).loss, variables);
        const values = await Promise.all(variables.map(async (v) => (await grads[v.name].data()) as Float32Array));
        const dispatches = counter.stop();
        tf.dispose([value, ...Object.values(grads)]);
        return { values, dispatches };
      } finally {
        setKernelPreference('auto');
      }
    };
    const fused = await gradients('auto');
    const stock = await gradients('stock');
    let worst = 0;
    fused.values.forEach((g, i) => (worst = Math.max(worst, maxDifference(g, stock.values[i]))));
    expect(worst).toBeLessThan(1e-5);
    expect(Math.max(...stock.values.map((g) => Math.max(...g.map(Math.abs))))).toBeGreaterThan(1e-3); // not all zero
    // Forward and backward of the whole loss, every fused kernel against tfjs's ops. Measured on
    // this 5 x 33 batch at tiny: 242 fused, 471 on tfjs's ops (510 before the stock path summed
    // its bias and gain gradients by a matmul). The update's own target (a quarter, Adam
    // included) is the RL-step test below.
    expect(fused.dispatches).toBeLessThan(0.55 * stock.dispatches);
    disposePolicy(policy);
  });

  it('runs one RL step with the metrics of the stock step to 1e-5, at most a quarter of its dispatches, and no tensor left per step', async () => {
    const policy = loadBundledTiny();
    expect((await chooseKernelPath(policy)).path).toBe('fused');
    expect(await prepareFusedUpdate(policy.config)).toBe(true);
    expect(fusedUpdateActive(policy.config)).toBe(true);
    disposePolicy(policy);

    const steps = async (preference: 'auto' | 'stock', count: number) => {
      setKernelPreference(preference);
      const trainer = new Trainer(resolveConfig({ preset: 'tao-rl', seed: 4, groupSize: 4, promptsPerStep: 1, entropyCoef: 0.01 }), loadBundledTiny());
      try {
        const reports = [];
        const tensors: number[] = [];
        const dispatches: (number | null)[] = [];
        for (let i = 0; i < count; i++) {
          reports.push(await trainer.runStep());
          tensors.push(tf.memory().numTensors);
          dispatches.push(trainer.lastUpdateDispatches);
        }
        return { reports, tensors, dispatches };
      } finally {
        trainer.dispose();
        disposePolicy(trainer.policy);
        setKernelPreference('auto');
      }
    };
    const fused = await steps('auto', 2);
    const stock = await steps('stock', 1);
    const [fusedStep, stockStep] = [fused.reports[0], stock.reports[0]];
    expect(fusedStep.skipped).toBe(false);
    expect(fusedStep.trajectories.map((t) => t.tokens.text.join(''))).toEqual(stockStep.trajectories.map((t) => t.tokens.text.join('')));
    // Within 1e-5, relative to the value where it exceeds 1 (a gradient norm of tens carries float32
    // rounding of about 1e-6 of itself from a different summation order).
    for (const key of ['loss/total', 'loss/policy', 'grad_norm', 'actor/entropy', 'actor/ppo_kl', 'actor/pg_clipfrac', 'kl/reference'] as const) {
      const [a, b] = [fusedStep.metrics[key]!, stockStep.metrics[key]!];
      expect(Math.abs(a - b) / Math.max(1, Math.abs(b)), `${key}: fused ${a}, stock ${b}`).toBeLessThan(1e-5);
    }
    expect(fused.tensors[1]).toBe(fused.tensors[0]);
    const [fusedCount, stockCount] = [fused.dispatches[0]!, stock.dispatches[0]!];
    console.log(`GPU dispatches of one RL-step update, tiny: stock ${stockCount}, fused ${fusedCount}`);
    if (!fused.reports[1].skipped) expect(fused.dispatches[1]).toBe(fusedCount); // the same every step
    expect(fusedCount).toBeLessThanOrEqual(0.25 * stockCount);
  });
});
