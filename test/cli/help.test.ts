// Every command answers --help and -h with its usage on stdout and exits 0, before it starts a
// backend or reads anything; a flag it does not know is one `error:` line and exit 2.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

function command(file: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(TSX, [`src/cli/${file}`, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ status: child.exitCode ?? (error ? 1 : 0), stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** npm script -> its file, for every command in package.json. */
const COMMANDS: Record<string, string> = Object.fromEntries(
  Object.entries(JSON.parse(fs.readFileSync(`${repoRoot}/package.json`, 'utf8')).scripts as Record<string, string>)
    .map(([name, line]) => [name, /^tsx src\/cli\/(\S+)$/.exec(line)?.[1]])
    .filter((entry): entry is [string, string] => entry[1] !== undefined),
);

describe('command help', () => {
  it('finds the commands', () => {
    expect(Object.keys(COMMANDS)).toEqual(expect.arrayContaining(['train', 'warmstart', 'evaluate', 'tao', 'bench', 'bench:page', 'experiment', 'sweep']));
  });

  it('prints the usage and exits 0 for --help and -h', { timeout: 120_000 }, async () => {
    // -h for the two ways a command reads its arguments (the shared parser, tao's subcommand).
    const calls = [...Object.keys(COMMANDS).map((name) => [name, '--help']), ['train', '-h'], ['tao', '-h']];
    const runs = await Promise.all(calls.map(async ([name, flag]) => ({ name, flag, run: await command(COMMANDS[name], [flag]) })));
    for (const { name, flag, run } of runs) {
      expect({ name, flag, status: run.status, stderr: run.stderr }).toEqual({ name, flag, status: 0, stderr: '' });
      expect(run.stdout.startsWith(`usage: npm run ${name} -- `), `${name} ${flag}: ${run.stdout}`).toBe(true);
    }
  });

  it('shows the usage even after an unknown flag, and refuses the flag alone with one line and exit 2', { timeout: 60_000 }, async () => {
    const [help, unknown] = await Promise.all([command('train.ts', ['--no-such-flag', '--help']), command('train.ts', ['--no-such-flag'])]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run train -- /);
    expect(unknown).toEqual({ status: 2, stdout: '', stderr: "error: Unknown option '--no-such-flag'\n" });
  });
});
