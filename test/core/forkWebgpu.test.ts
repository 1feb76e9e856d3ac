// Forking on WebGPU (Dawn on SwiftShader in Node): continuations resumed from a prefix through the
// fused WGSL kernels are the ones tfjs's own kernels sample, and the distribution at a token is
// the one the fused head drew it from.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeWebGPUAvailable, useNodeBackend } from '../../src/cli/nodeWebgpu';
import { ToolEnvironment } from '../../src/core/environment';
import { firstPostToolPosition, type ForkSource } from '../../src/core/fork';
import { nextTokenDistribution, resampleFrom } from '../../src/core/forkSampling';
import { chooseKernelPath } from '../../src/core/model/fusedDecoder';
import { disposePolicy, type Policy } from '../../src/core/model/transformer';
import { Rng } from '../../src/core/rng';
import { sampleGroups } from '../../src/core/rollout';
import { VOCAB } from '../../src/core/tokenizer';
import { loadBundledTiny } from './engine/bundled';

const why = 'WebGPU needs SwiftShader from Debian chromium (apt-get install -y chromium)';

describe.skipIf(!nodeWebGPUAvailable())(`forking on WebGPU (skipped when: ${why})`, { timeout: 600_000 }, () => {
  let policy: Policy;
  let source: ForkSource;

  beforeAll(async () => {
    await useNodeBackend('webgpu');
    policy = loadBundledTiny();
    expect((await chooseKernelPath(policy)).path).toBe('fused');
    const sampled = await sampleGroups(policy, [{ prompt: '47*86', answer: '4042', kind: 'product' }], 4, {
      temperature: 1,
      maxToolCalls: 3,
      environment: new ToolEnvironment('calculator', 0, new Rng(3).fork('environment')),
      rng: new Rng(3),
    });
    const trajectory = sampled.find((t) => t.tokens.some((token) => token.kind === 'tool'));
    if (!trajectory) throw new Error('no sampled trajectory called the tool');
    source = {
      prompt: trajectory.item.prompt,
      expected: trajectory.item.answer,
      text: trajectory.tokens.map((token) => VOCAB[token.id]),
      kind: trajectory.tokens.map((token) => token.kind),
      toolCalls: trajectory.toolCalls,
    };
    const position = firstPostToolPosition(source.kind)!;
    const { entropy } = await nextTokenDistribution(policy, source, position, 1);
    expect(entropy).toBeCloseTo(trajectory.tokens[position].entropy, 3);
  });

  afterAll(() => disposePolicy(policy));

  it('the fused kernels resample the continuations the stock ones do', async () => {
    const position = firstPostToolPosition(source.kind)!;
    const run = (kernels: 'auto' | 'stock') =>
      resampleFrom(policy, source, position, 6, {
        temperature: 1,
        maxToolCalls: 3,
        environment: new ToolEnvironment('calculator', 0, new Rng(9).fork('environment')),
        rng: new Rng(9),
        kernels,
      });
    const fused = await run('auto');
    const stock = await run('stock');
    expect(fused.map((c) => c.text.join(''))).toEqual(stock.map((c) => c.text.join('')));
    expect(fused.map((c) => c.reward)).toEqual(stock.map((c) => c.reward));
  });
});
