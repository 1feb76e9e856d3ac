// Key/value-cache decoding against the full forward pass, shared by the decoding tests: rows of
// real trajectories padded to T positions, decoded one position at a time.
import * as tf from '@tensorflow/tfjs';
import { decodeStep, disposeCache, emptyCache, type Policy } from '../../../src/core/model/transformer';
import { BOS, encode, PAD } from '../../../src/core/tokenizer';

/** Three trajectories (a call with its result, a direct answer, a call left open), as token rows of length T. */
export function decodeRows(T: number): number[][] {
  const texts = ['12*34=<call>12*34</call><result>408</result><answer>408</answer>', '7+8=<answer>15</answer>', '(3*4)-5=<call>3*4</call>'];
  return texts.map((text) => [BOS, ...encode(text)].concat(Array(T).fill(PAD)).slice(0, T));
}

/**
 * Decodes `rows` one position at a time through a fresh cache: the largest gap between any decoded
 * logit and `full[b][t][v]` (the full forward pass's), and the positions the cache ended with.
 * Disposes the cache.
 */
export function decodeGap(policy: Policy, rows: number[][], full: number[][][]): { largest: number; cached: number } {
  const cache = emptyCache(policy);
  let largest = 0;
  try {
    for (let t = 0; t < rows[0].length; t++) {
      const step = tf.tidy(() => decodeStep(policy, tf.tensor1d(rows.map((row) => row[t]), 'int32'), cache)).arraySync() as number[][];
      step.forEach((logits, b) => logits.forEach((value, v) => (largest = Math.max(largest, Math.abs(value - full[b][t][v])))));
    }
  } finally {
    disposeCache(cache);
  }
  return { largest, cached: cache.length };
}
