// Rollouts packed for the browser's storage (src/app/runsDb.ts): gzip'd JSON in a Blob, read back
// as they were, NaN and the infinities included (JSON alone would turn them into null).

import { describe, expect, it } from 'vitest';
import { packTrajectories, unpackTrajectories } from '../../src/app/runsDb';
import type { TrajectoryReport } from '../../src/core/trainer';

const trajectory: TrajectoryReport = {
  group: 0, prompt: '2+3', expected: '5', answer: '5', reward: 1, finishReason: 'eos', kept: true, reason: null,
  trainedCopies: 1, advantage: 0.5, toolCalls: [], segments: [{ kind: 'policy', text: '5' }],
  tokens: {
    text: ['5', 'NaN', '~'], kind: ['policy', 'policy', 'policy'], entropy: [0.5, NaN, Infinity], logprob: [-1, -Infinity, 0],
    postTool: [0, 1, 0], lossWeight: [1, 1, 1], advantage: [0.5, 0.5, 0.5], bonus: [0, 0, 0],
  },
};

describe('packed rollouts', () => {
  it('read back equal, NaN and infinities included, and smaller than their JSON', async () => {
    const many = Array.from({ length: 64 }, (_, i) => ({ ...trajectory, group: i }));
    const packed = await packTrajectories(many);
    expect(packed.size).toBeLessThan(JSON.stringify(many).length / 4);
    const unpacked = await unpackTrajectories(packed);
    expect(unpacked).toEqual(many);
    expect(unpacked[0].tokens.entropy[1]).toBeNaN();
    expect(unpacked[0].tokens.logprob[1]).toBe(-Infinity);
    expect(unpacked[0].tokens.text).toEqual(['5', 'NaN', '~']); // text that looks like the spelling stays text
  });
});
