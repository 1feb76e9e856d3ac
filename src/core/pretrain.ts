// Warm start: supervised training on generated demonstrations (correct tool use, malformed calls,
// direct guesses; docs/calibration.md), so that RL starts from a policy that already calls its tool,
// sometimes wrongly. Deterministic for a seed on a given backend.

import * as tf from '@tensorflow/tfjs';
import { Adam, ADAM_DEFAULTS } from './model/adam';
import { MODEL_SCALES, type ModelScale } from './model/config';
import { initPolicy, namedWeights, type Policy } from './model/transformer';
import { Rng } from './rng';
import { promptTokens } from './rollout';
import { tokenLogprobsAndEntropy } from './tao/loss';
import { getTask, trainingItem } from './tasks';
import { encode, PAD, RESULT_CLOSE, RESULT_OPEN } from './tokenizer';

export interface PretrainOptions {
  scale: ModelScale;
  seed: number;
  task: string;
  /** Optimiser steps. */
  steps: number;
  /** Demonstrations per step. */
  batchSize: number;
  /** Peak learning rate, reached after `warmupSteps`, then cosine decay to 10% of it. */
  learningRate: number;
  warmupSteps: number;
}

/** docs/calibration.md: the 108k pilot reached sampled .35, greedy .75, mixed .97 after 2000 x 64 at 2e-3. */
export const PRETRAIN_DEFAULTS: Record<ModelScale, Omit<PretrainOptions, 'scale' | 'seed' | 'task'>> = {
  tiny: { steps: 1500, batchSize: 64, learningRate: 2e-3, warmupSteps: 100 },
  small: { steps: 800, batchSize: 64, learningRate: 1e-3, warmupSteps: 100 },
  base: { steps: 1000, batchSize: 64, learningRate: 6e-4, warmupSteps: 100 },
};

/** One demonstration as ids, with weight 1 on the tokens the policy should produce. */
export function demonstrationExample(prompt: number[], demonstration: string): { ids: number[]; target: number[] } {
  const ids = [...prompt, ...encode(demonstration)];
  const target = new Array<number>(ids.length).fill(0);
  let inResult = false;
  for (let t = prompt.length; t < ids.length; t++) {
    if (ids[t] === RESULT_OPEN) inResult = true;
    target[t] = inResult ? 0 : 1; // tool results are forced by the environment, never learned
    if (ids[t] === RESULT_CLOSE) inResult = false;
  }
  return { ids, target };
}

export function learningRateAt(step: number, options: PretrainOptions): number {
  if (step < options.warmupSteps) return (options.learningRate * (step + 1)) / options.warmupSteps;
  const progress = (step - options.warmupSteps) / Math.max(1, options.steps - options.warmupSteps);
  return options.learningRate * (0.1 + 0.45 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}

export interface PretrainProgress {
  step: number;
  loss: number;
  learningRate: number;
}

export async function pretrain(
  options: PretrainOptions,
  onProgress?: (progress: PretrainProgress) => void | Promise<void>,
): Promise<Policy> {
  const policy = initPolicy(MODEL_SCALES[options.scale], options.seed);
  const task = getTask(options.task);
  const rng = new Rng(options.seed).fork('demonstrations');
  const optimizer = new Adam({ ...ADAM_DEFAULTS, learningRate: options.learningRate, gradClip: 1 });
  const variables = new Map(namedWeights(policy.weights));
  const maxLength = policy.config.contextLength;
  for (let step = 0; step < options.steps; step++) {
    const examples = [];
    while (examples.length < options.batchSize) {
      const item = trainingItem(task, rng);
      const example = demonstrationExample(promptTokens(item), task.demonstration(item, rng));
      if (example.ids.length <= maxLength) examples.push(example);
    }
    const T = Math.max(...examples.map((e) => e.ids.length));
    const ids = new Int32Array(examples.length * T).fill(PAD);
    const weights = new Float32Array(examples.length * (T - 1));
    examples.forEach((example, b) => {
      ids.set(example.ids, b * T);
      for (let t = 1; t < example.ids.length; t++) weights[b * (T - 1) + t - 1] = example.target[t];
    });
    optimizer.options.learningRate = learningRateAt(step, options);
    let lossTensor: tf.Scalar | null = null;
    const { value: lossValue, grads } = tf.variableGrads(() => {
      const tokens = tf.tensor2d(ids, [examples.length, T], 'int32');
      const weight = tf.tensor2d(weights, [examples.length, T - 1]);
      const { logprob } = tokenLogprobsAndEntropy(policy, tokens, 1);
      const value = logprob.mul(weight).sum().div(weight.sum()).neg() as tf.Scalar;
      lossTensor = tf.keep(value.clone());
      return value;
    }, [...variables.values()]);
    const byName: Record<string, tf.Tensor> = {};
    for (const [name, variable] of variables) byName[name] = grads[variable.name];
    await optimizer.apply(variables, byName);
    tf.dispose([lossValue, ...Object.values(grads)]);
    const loss = (await lossTensor!.data())[0];
    lossTensor!.dispose();
    await onProgress?.({ step: step + 1, loss, learningRate: optimizer.options.learningRate });
  }
  optimizer.dispose();
  return policy;
}
