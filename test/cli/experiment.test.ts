// `npm run experiment` end to end: two presets x two seeds x two steps in worker threads. The
// summary's numbers are recomputed here from the run files with plain arithmetic; a second call
// resumes instead of re-running; runs that cannot train are reported and listed, not hidden.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const FLAGS = ['--presets', 'grpo,tao-rl', '--seeds', '2', '--steps', '2', '--eval-every', '1', '--eval-prompts', '8', '--eval-samples', '2', '--jobs', '2'];

function experiment(out: string, extra: string[] = []) {
  return spawnSync('npx', ['tsx', 'src/cli/experiment.ts', ...FLAGS, '--out', out, ...extra], { cwd: repoRoot, encoding: 'utf8', timeout: 300_000 });
}

function records(file: string): Record<string, any>[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

describe('npm run experiment', () => {
  it('trains every preset for every seed and summarises exactly what the run files hold', { timeout: 600_000 }, () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tao-experiment-'));
    const run = experiment(out);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('2 variants x 2 seeds = 4 runs of 2 steps');
    expect(run.stdout).toMatch(/runs 4\/4 done/);

    const ids = ['grpo-seed1', 'grpo-seed2', 'tao-rl-seed1', 'tao-rl-seed2'];
    const finals = new Map<string, number>();
    for (const id of ids) {
      const lines = records(path.join(out, 'runs', `${id}.jsonl`));
      expect(lines[0]).toMatchObject({ type: 'run', id, config: { seed: Number(id.at(-1)) } });
      expect(lines.filter((l) => l.type === 'step').map((l) => l.step)).toEqual([1, 2]);
      // Rollouts kept for the last step only; metrics for every step.
      expect(lines.filter((l) => l.type === 'step').map((l) => l.trajectories.length > 0)).toEqual([false, true]);
      const evaluations = lines.filter((l) => l.type === 'evaluation');
      expect(evaluations.map((e) => e.step)).toEqual([0, 1, 2]);
      // Each worker thread trains runs one after another: every run frees all it allocated.
      expect(lines.at(-1)).toMatchObject({ type: 'end', tensors: 0 });
      finals.set(id, evaluations.at(-1)!.sampledAccuracy);
    }
    // Same seed, same prompts: step 1's groups of grpo and tao-rl start from the same prompt list.
    const prompts = (id: string) => records(path.join(out, 'runs', `${id}.jsonl`)).find((l) => l.type === 'step' && l.step === 2)!.trajectories.map((t: any) => t.prompt);
    expect(prompts('tao-rl-seed1').slice(0, 2)).toEqual(prompts('grpo-seed1').slice(0, 2));

    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    const [grpo, tao] = summary.variants;
    const g = [finals.get('grpo-seed1')!, finals.get('grpo-seed2')!];
    const t = [finals.get('tao-rl-seed1')!, finals.get('tao-rl-seed2')!];
    // Mean of two; half width t(1) x s / sqrt 2 with s = |a - b| / sqrt 2, i.e. 12.706 x |a - b| / 2.
    expect(grpo.finalAccuracy.mean).toBeCloseTo((g[0] + g[1]) / 2, 10);
    expect(grpo.finalAccuracy.halfWidth).toBeCloseTo((12.706 * Math.abs(g[0] - g[1])) / 2, 8);
    const d = [t[0] - g[0], t[1] - g[1]];
    expect(tao.vsBaseline.finalAccuracy.mean).toBeCloseTo((d[0] + d[1]) / 2, 10);
    expect(tao.vsBaseline.finalAccuracy.halfWidth).toBeCloseTo((12.706 * Math.abs(d[0] - d[1])) / 2, 8);
    expect(summary.missing).toEqual([]);
    for (const file of ['summary.md', 'accuracy.svg', 'final.svg', 'pass.svg']) expect(fs.existsSync(path.join(out, file))).toBe(true);

    // Interrupted or not, the same command again reuses every finished run.
    const again = experiment(out);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('(4 already finished, resumed)');
    // A different experiment in the same folder is refused rather than mixed in.
    const other = experiment(out, ['--steps', '3']);
    expect(other.status).toBe(2);
    expect(other.stderr).toContain('holds a different experiment');
  });

  it('reports runs that fail, finishes the rest, and lists the failures', { timeout: 300_000 }, () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tao-experiment-'));
    const run = experiment(out, ['--checkpoint', path.join(out, 'missing')]);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/run grpo-seed1 FAILED: no checkpoint at .*missing\.json/);
    expect(run.stderr).toContain('4 of 4 runs did not finish');
    const summary = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
    expect(summary.missing.map((m: { id: string }) => m.id)).toEqual(['grpo-seed1', 'grpo-seed2', 'tao-rl-seed1', 'tao-rl-seed2']);
  });
});
