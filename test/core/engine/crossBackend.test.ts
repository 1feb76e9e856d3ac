// The same RL step on cpu (tfjs's reference kernels), wasm and webgpu (Dawn on SwiftShader in
// Node) must agree: same sampled tokens, log-probs, entropies, loss and updated weights to 1e-4.

import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../../src/core/config';
import type { ModelConfig } from '../../../src/core/model/config';
import { disposePolicy, initPolicy, namedWeights } from '../../../src/core/model/transformer';
import { nodeWebGPUAvailable, useNodeBackend } from '../../../src/core/nodeWebgpu';
import { Trainer } from '../../../src/core/trainer';
import { VOCAB_SIZE } from '../../../src/core/tokenizer';

// Small enough for software WebGPU, large enough to exercise every kernel of the real model.
const MODEL: ModelConfig = { vocabSize: VOCAB_SIZE, contextLength: 40, layers: 2, width: 16, heads: 2, mlpRatio: 2 };

interface StepOutcome {
  transcripts: string[];
  logprobs: number[];
  entropies: number[];
  metrics: Record<string, number>;
  weights: Float32Array[];
}

async function oneStep(backend: 'cpu' | 'wasm' | 'webgpu'): Promise<StepOutcome> {
  await useNodeBackend(backend);
  const policy = initPolicy(MODEL, 7);
  // No group filter, so every group is trained on and the update is never skipped.
  const config = resolveConfig({ preset: 'tao-bonus', seed: 3, groupSize: 4, promptsPerStep: 2, shape: { bonus: { coef: 0.5 } } });
  const trainer = new Trainer(config, policy);
  const report = await trainer.runStep();
  const outcome: StepOutcome = {
    transcripts: report.trajectories.map((t) => t.tokens.text.join('')),
    logprobs: report.trajectories.flatMap((t) => t.tokens.logprob),
    entropies: report.trajectories.flatMap((t) => t.tokens.entropy),
    metrics: report.metrics,
    weights: await Promise.all(namedWeights(policy.weights).map(async ([, v]) => (await v.data()) as Float32Array)),
  };
  trainer.dispose();
  disposePolicy(policy);
  return outcome;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function expectAgreement(reference: StepOutcome, other: StepOutcome): void {
  expect(other.transcripts).toEqual(reference.transcripts);
  expect(maxAbsDifference(other.logprobs, reference.logprobs)).toBeLessThan(1e-4);
  expect(maxAbsDifference(other.entropies, reference.entropies)).toBeLessThan(1e-4);
  for (const key of ['loss/policy', 'grad_norm', 'entropy/trained_mean', 'approx_kl']) {
    expect(Math.abs(other.metrics[key] - reference.metrics[key]), key).toBeLessThan(1e-4);
  }
  reference.weights.forEach((weights, i) => expect(maxAbsDifference(other.weights[i], weights)).toBeLessThan(1e-4));
}

describe('one RL step on every backend', () => {
  let reference: StepOutcome;

  it('runs on cpu and trains', async () => {
    reference = await oneStep('cpu');
    expect(reference.metrics['batch/trajectories']).toBe(8);
    expect(Number.isFinite(reference.metrics['loss/policy'])).toBe(true);
    expect(tf.getBackend()).toBe('cpu');
  });

  it('agrees on wasm', async () => {
    expectAgreement(reference, await oneStep('wasm'));
  });

  const why = 'WebGPU needs SwiftShader from Debian chromium (apt-get install -y chromium)';
  it.skipIf(!nodeWebGPUAvailable())(`agrees on webgpu (skipped when: ${why})`, { timeout: 900_000 }, async () => {
    expectAgreement(reference, await oneStep('webgpu'));
  });
});
