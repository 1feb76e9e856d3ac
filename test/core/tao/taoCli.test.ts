// `tao shape` end to end through a child process (src/cli/tao.ts).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

function runTao(args: string[], input: string) {
  return spawnSync('npx', ['tsx', 'src/cli/tao.ts', ...args], { cwd: repoRoot, input, encoding: 'utf8' });
}

describe('tao shape', () => {
  it('prints shaped trajectories and metrics as JSON', () => {
    // rewards [1, 0, 0, 1], bonus off: mean .5, sample std sqrt(1/3) = .5773503, A = +-.5 / .5773513 = +-.8660239
    const policy = { kind: 'policy', entropy: 1 };
    const input = {
      config: { bonus: { mode: 'off' } },
      trajectories: [1, 0, 0, 1].map((reward) => ({
        group: 0,
        reward,
        toolCalls: [{ ok: true }],
        tokens: [{ kind: 'prompt' }, policy, { kind: 'tool' }, policy],
      })),
    };
    const run = runTao(['shape'], JSON.stringify(input));
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const output = JSON.parse(run.stdout);
    expect(Object.keys(output)).toEqual(['trajectories', 'metrics']);
    expect(output.trajectories).toHaveLength(4);
    expect(Object.keys(output.trajectories[0]).sort()).toEqual(['advantage', 'kept', 'reason', 'tokens']);
    expect(Object.keys(output.trajectories[0].tokens[0]).sort()).toEqual(['advantage', 'bonus', 'lossWeight', 'postTool']);
    expect(output.trajectories[0].advantage).toBeCloseTo(0.8660239, 6);
    expect(output.trajectories[1].tokens[3]).toEqual({ postTool: 1, lossWeight: 1, advantage: expect.closeTo(-0.8660239, 6), bonus: 0 });
    expect(output.metrics['filter/kept_trajectories']).toBe(1);
  });

  it('exits 2 with one error line for malformed JSON', () => {
    const run = runTao(['shape'], '{"trajectories": [\n{');
    expect(run.status).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^error: invalid JSON: [^\n]*\n$/);
  });

  it('exits 2 naming the field for invalid input', () => {
    const run = runTao(['shape'], JSON.stringify({ config: { bonus: { coef: -1 } }, trajectories: [] }));
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('error: config.bonus.coef: -1 is out of range (must be a number >= 0)\n');
  });

  it('exits 2 with a usage line for a missing or unknown subcommand', () => {
    for (const args of [[], ['bogus']]) {
      const run = runTao(args, '');
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/^usage: tao shape/);
    }
  });
});
