// Tensors are disposed: the count after N training steps equals the count after 1.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../../src/core/backend';
import { resolveConfig, type PresetName } from '../../../src/core/config';
import { disposePolicy } from '../../../src/core/model/transformer';
import { loadBundledTiny } from './bundled';
import { Trainer } from '../../../src/core/trainer';

describe('memory', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  // Every code path that allocates: filters and duplication (tao-rl), resampling (dapo), the
  // additive bonus, and the in-graph bonus with the KL reference and entropy regulariser.
  const cases: [PresetName, Record<string, unknown>][] = [
    ['tao-rl', {}],
    ['dapo', {}],
    ['entropy-adv', {}],
    ['aepo', { detachEntropy: false, klCoef: 0.1, entropyCoef: 0.01, ppoEpochs: 2 }],
  ];
  it.each(cases)('%s: tensor count after 6 steps equals the count after 1 %o', async (preset, overrides) => {
    // The warm-started policy, so groups are mixed and every step really updates.
    const policy = loadBundledTiny();
    const trainer = new Trainer(resolveConfig({ preset, seed: 2, groupSize: 4, promptsPerStep: 2, ...overrides }), policy);
    const updated = [(await trainer.runStep()).skipped === false];
    const afterOne = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) updated.push((await trainer.runStep()).skipped === false);
    expect(tf.memory().numTensors).toBe(afterOne);
    expect(updated.filter(Boolean).length).toBeGreaterThanOrEqual(4);
    trainer.dispose();
    disposePolicy(policy);
  });
});
