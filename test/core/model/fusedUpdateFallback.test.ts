// The fused update stays off, with a warning, when one of its shaders does not compile: the
// Adam update's WGSL is broken here (a name that does not exist), on the real WebGPU backend.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { nodeWebGPUAvailable, useNodeBackend } from '../../../src/cli/nodeWebgpu';
import { Adam, ADAM_DEFAULTS } from '../../../src/core/model/adam';
import type { ModelConfig } from '../../../src/core/model/config';
import { chooseKernelPath } from '../../../src/core/model/fusedDecoder';
import { fusedUpdateActive, prepareFusedUpdate } from '../../../src/core/model/fusedUpdate';
import { disposePolicy, initPolicy } from '../../../src/core/model/transformer';
import { VOCAB_SIZE } from '../../../src/core/tokenizer';

vi.mock('../../../src/core/model/gpuPrograms', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/core/model/gpuPrograms')>();
  return {
    ...original,
    makeProgram: (...args: Parameters<typeof original.makeProgram>) => {
      const program = original.makeProgram(...args);
      if (program.shaderKey !== 'taoAdamUpdate') return program;
      const code = program.getUserCode().replace('let g = grads[index] * scale;', 'let g = grads[index] * undefinedName;');
      return { ...program, getUserCode: () => code };
    },
  };
});

const why = 'WebGPU needs SwiftShader from Debian chromium (apt-get install -y chromium)';

describe.skipIf(!nodeWebGPUAvailable())(`the fused update's fallback (skipped when: ${why})`, { timeout: 600_000 }, () => {
  beforeAll(async () => {
    await useNodeBackend('webgpu');
  });

  it('keeps the stock update, with a warning, when a shader of the update does not compile', async () => {
    const config: ModelConfig = { vocabSize: VOCAB_SIZE, contextLength: 16, layers: 1, width: 16, heads: 2, mlpRatio: 2 };
    const policy = initPolicy(config, 3);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect((await chooseKernelPath(policy)).path).toBe('fused'); // the decoding and training kernels are fine
      expect(await prepareFusedUpdate(config)).toBe(false);
      expect(fusedUpdateActive(config)).toBe(false);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/fused update is off.*did not compile/));
      // The stock Adam still runs (x = 1 moves by lr against the gradient's sign on the first step).
      const x = tf.tidy(() => tf.variable(tf.tensor1d([1])));
      const adam = new Adam({ ...ADAM_DEFAULTS, learningRate: 0.1, gradClip: 1 });
      const grad = tf.tensor1d([2]);
      expect(await adam.apply(new Map([['x', x]]), { x: grad }, fusedUpdateActive(config))).toBeCloseTo(2, 6);
      expect((await x.data())[0]).toBeCloseTo(0.9, 6);
      adam.dispose();
      tf.dispose([x, grad]);
    } finally {
      warn.mockRestore();
      disposePolicy(policy);
    }
  });
});
