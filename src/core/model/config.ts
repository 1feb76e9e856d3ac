// The policy's shape. One object per scale; every field says what it is and its unit.

import { VOCAB_SIZE } from '../tokenizer';

export interface ModelConfig {
  /** Tokens in the vocabulary (character-level, see tokenizer.ts). */
  vocabSize: number;
  /** Longest trajectory in tokens, prompt and tool results included; size of the position table. */
  contextLength: number;
  /** Transformer blocks. */
  layers: number;
  /** Width of the residual stream (embedding size), in units. */
  width: number;
  /** Attention heads per block; width / heads is the head size. */
  heads: number;
  /** Hidden units of each block's MLP, as a multiple of width. */
  mlpRatio: number;
}

export type ModelScale = 'tiny' | 'small' | 'base';

/** Long enough for a prompt, a malformed call, two correct calls with results, and an answer. */
const CONTEXT_LENGTH = 80;

export const MODEL_SCALES: Record<ModelScale, ModelConfig> = {
  // about 0.1M parameters: the pilot's 108k model (docs/calibration.md)
  tiny: { vocabSize: VOCAB_SIZE, contextLength: CONTEXT_LENGTH, layers: 2, width: 64, heads: 4, mlpRatio: 4 },
  // about 0.5M parameters
  small: { vocabSize: VOCAB_SIZE, contextLength: CONTEXT_LENGTH, layers: 4, width: 128, heads: 4, mlpRatio: 2 },
  // about 2M parameters
  base: { vocabSize: VOCAB_SIZE, contextLength: CONTEXT_LENGTH, layers: 6, width: 160, heads: 5, mlpRatio: 4 },
};

export function parameterCount(config: ModelConfig): number {
  const { vocabSize: v, contextLength: t, layers, width: d, mlpRatio } = config;
  const m = d * mlpRatio;
  const perLayer = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * m + m) + (m * d + d);
  return v * d + t * d + layers * perLayer + 2 * d; // tied output head
}
