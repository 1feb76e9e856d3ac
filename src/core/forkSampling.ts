// Sampling for a fork (fork.ts): the policy's next-token distribution at a token of a trajectory,
// and continuations sampled from there with the rollout's tool interception.

import * as tf from '@tensorflow/tfjs';
import type { ToolEnvironment } from './environment';
import { continuationStart, isForkable, tokenIds, type Continuation, type ForkSource, type NextTokenDistribution } from './fork';
import { emittableLogSoftmax } from './model/draw';
import { forward, type Policy } from './model/transformer';
import type { Rng } from './rng';
import { sampleContinuations } from './rollout';
import { VOCAB, VOCAB_SIZE } from './tokenizer';

/** The distribution the policy samples token `position` from, at `temperature`, given the tokens before it. */
export async function nextTokenDistribution(policy: Policy, source: ForkSource, position: number, temperature: number): Promise<NextTokenDistribution> {
  if (!isForkable(source, position)) throw new Error(`token ${position} was not sampled by the policy`);
  const ids = tokenIds(source.text.slice(0, position));
  const logits = tf.tidy(() => {
    const all = forward(policy, tf.tensor2d([ids], [1, ids.length], 'int32')); // [1, T, V]
    return all.slice([0, ids.length - 1, 0], [1, 1, VOCAB_SIZE]).reshape([VOCAB_SIZE]);
  });
  const values = (await logits.data()) as Float32Array;
  logits.dispose();
  const { logProbs, entropy } = emittableLogSoftmax(values, 0, temperature);
  return { probabilities: Array.from(logProbs, (logProb) => (logProb === -Infinity ? 0 : Math.exp(logProb))), entropy };
}

export interface ResampleOptions {
  temperature: number;
  maxToolCalls: number;
  environment: ToolEnvironment;
  rng: Rng;
  kernels?: 'auto' | 'stock';
}

/** `samples` continuations of `source` from `position` on, the token at `position` sampled afresh. */
export async function resampleFrom(policy: Policy, source: ForkSource, position: number, samples: number, options: ResampleOptions): Promise<Continuation[]> {
  const start = continuationStart(source, position);
  const trajectories = await sampleContinuations(
    policy,
    Array.from({ length: samples }, () => start),
    { temperature: options.temperature, maxToolCalls: options.maxToolCalls, environment: options.environment, rng: options.rng, kernels: options.kernels },
  );
  return trajectories.map((trajectory) => ({
    text: trajectory.tokens.slice(position).map((token) => VOCAB[token.id]),
    kind: trajectory.tokens.slice(position).map((token) => token.kind),
    toolCalls: trajectory.toolCalls.slice(start.toolCalls.length),
    answer: trajectory.answer,
    reward: trajectory.reward,
    finishReason: trajectory.finishReason,
  }));
}
