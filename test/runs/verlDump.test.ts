// Opening a verl rollout dump: outputs split into text, calls and results by the tool format, a
// hand-made dump whose verdicts were worked out by hand from the dual filter's rules, the
// converted run read back by the run importer, and the command's errors and --json line.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { writeSyntheticDump } from '../../src/bench/syntheticVerlDump';
import { importRun } from '../../src/runs/format';
import { boxedAnswer, callFailure, foreignFormat, readDump, splitOutput, VerlDumpError, VerlDumpReader } from '../../src/runs/verlDump';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

const code = (body: string) => `\`\`\`python\n${body}\n\`\`\``;
const result = (text: string) => `\nCode execution result: ${text}\n`;

describe('splitOutput (the recipe: "Code execution result:")', () => {
  it('splits text, calls and results, and judges each call', () => {
    const output = `Try it.\n${code('print(2+2)')}${result('4')}Now an error.\n${code('print(x)')}${result("NameError: name 'x' is not defined")}And a slow one.\n${code('while True: pass')}${result('interpreter timeout')}So \\boxed{4}.`;
    const { segments, calls } = splitOutput(output, 'tao-rl');
    expect(segments.map((s) => s.kind)).toEqual(['policy', 'tool', 'policy', 'tool', 'policy', 'tool', 'policy']);
    expect(segments.map((s) => s.text).join('')).toBe(output);
    expect(segments[1].text).toBe('\nCode execution result: 4\n');
    expect(calls).toEqual([
      { expression: 'print(2+2)', ok: true, value: '4' },
      { expression: 'print(x)', ok: false, message: "NameError: name 'x' is not defined", cause: 'policy' },
      { expression: 'while True: pass', ok: false, error: 'timeout', message: 'interpreter timeout', cause: 'environment' },
    ]);
  });

  it('counts a code block with no result after it as text, and reads ```py and bare fences', () => {
    expect(splitOutput(`Here is code:\n${code('x = 1')}\nno result.`, 'tao-rl').calls).toEqual([]);
    const py = splitOutput(`\`\`\`py\nprint(1)\n\`\`\`${result('1')}\`\`\`\nprint(2)\n\`\`\`${result('2')}`, 'tao-rl');
    expect(py.calls.map((c) => c.expression)).toEqual(['print(1)', 'print(2)']);
  });

  it('reads SimpleTIR ```output blocks', () => {
    const { segments, calls } = splitOutput(`${code('1/0')}\n\`\`\`output\nZeroDivisionError: division by zero\n\`\`\`\nSo \\boxed{0}.`, 'simpletir');
    expect(calls).toEqual([{ expression: '1/0', ok: false, error: 'division_by_zero', message: 'ZeroDivisionError: division by zero', cause: 'policy' }]);
    expect(segments.map((s) => s.kind)).toEqual(['policy', 'tool', 'policy']);
  });

  it('judges results: tracebacks and error lines fail, output and empty output succeed', () => {
    expect(callFailure('Traceback (most recent call last):\n  File "x", line 1\nSyntaxError: invalid syntax')?.error).toBe('syntax');
    expect(callFailure('  File "<string>", line 2\nIndentationError: unexpected indent')?.error).toBe('syntax');
    expect(callFailure('KeyError: 3')).toEqual({ message: 'KeyError: 3', cause: 'policy' });
    expect(callFailure('42')).toBeNull();
    expect(callFailure('')).toBeNull();
    expect(callFailure('Error rate is 3%')).toBeNull();
  });

  it('reads the last \\boxed{} answer, braces balanced', () => {
    expect(boxedAnswer('\\boxed{1} then \\boxed{\\frac{1}{2}}')).toBe('\\frac{1}{2}');
    expect(boxedAnswer('no answer')).toBeNull();
  });
});

/** One dump line. */
const record = (input: string, score: number, output = 'So \\boxed{1}.', step = 1) => JSON.stringify({ input, output, score, step, gts: '1' });
const failedCalls = `${code('x')}${result("NameError: name 'x' is not defined")}So \\boxed{2}.`;

describe('a hand-made dump', () => {
  // Step 1: prompt A 1, 1 (all correct); prompt B 1, 0 and a 0 whose only call failed (kept group:
  // that one is all_tools_failed); prompt C 0, 0 with a failed call (all wrong: the group filter
  // decides first). Lines interleave the prompts, as verl's balanced batches do.
  const step1 = [
    record('A', 1),
    record('B', 1),
    record('C', 0, failedCalls),
    record('A', 1),
    record('B', 0),
    record('C', 0),
    record('B', 0, failedCalls),
  ];
  const step2 = [record('D', 1, 'ok', 2), record('D', 0, 'no', 2)];

  function read(): VerlDumpReader {
    const reader = new VerlDumpReader();
    step1.forEach((line, i) => reader.addLine('dump/1.jsonl', i + 1, line));
    return reader;
  }

  it('groups by input and decides verdicts with the dual filter', () => {
    const reader = read();
    const [report] = reader.takeSteps();
    expect(report.trajectories.map((t) => [t.prompt, t.group, t.reason])).toEqual([
      ['A', 0, 'group_all_correct'],
      ['B', 1, null],
      ['C', 2, 'group_all_wrong'],
      ['A', 0, 'group_all_correct'],
      ['B', 1, null],
      ['C', 2, 'group_all_wrong'],
      ['B', 1, 'all_tools_failed'],
    ]);
    // Group B: rewards 1, 0, 0: mean 1/3, sample std 0.57735: the first is (1 - 1/3) / 0.57735 = 1.1547.
    expect(report.trajectories[1].advantage).toBeCloseTo(1.1547, 3);
    expect(report.trajectories[6].tokens.lossWeight.filter((w, i) => report.trajectories[6].tokens.kind[i] === 'policy')).toEqual([0, 0]);
    expect(report.metrics).toMatchObject({
      'critic/score/mean': 3 / 7,
      'filter/kept_trajectories': 2 / 7,
      'filter/group_all_correct': 2 / 7,
      'filter/group_all_wrong': 2 / 7,
      'filter/all_tools_failed': 1 / 7,
      frac_reward_zero_std: 2 / 3,
      'tools/call_frequency': 2 / 7,
      'tools/failure_frequency': 1,
    });
    expect(report.trajectories[0].tokens.entropy.every(Number.isNaN)).toBe(true);
    expect(reader.summary).toEqual({
      steps: 1,
      groups: 3,
      trajectories: 7,
      discarded: { group_all_correct: 2, group_all_wrong: 2, all_tools_failed: 1 },
      tool_calls: 2,
      tool_failures: 2,
    });
  });

  it('becomes a run the run importer reads back, verdicts and all', async () => {
    const files = [
      { name: '2.jsonl', size: 1, text: step2.join('\n') },
      { name: '1.jsonl', size: 1, text: `${step1.join('\n')}\n` },
    ];
    const { run, summary } = await readDump(
      files.map((file) => ({ name: file.name, size: file.size, chunks: async function* () { yield file.text.slice(0, 50); yield file.text.slice(50); } })),
      { name: 'verl: test' },
    );
    expect(run.reports.map((r) => r.step)).toEqual([1, 2]);
    expect(summary.trajectories).toBe(9);
    expect(run.config.groupSize).toBe(2); // groups of 2 are the commonest (A, C, D)
    const text = JSON.stringify(run);
    const back = importRun(text, text.length, 'verl.json');
    expect(back.reports[0].trajectories.map((t) => t.reason)).toEqual(run.reports[0].trajectories.map((t) => t.reason));
  });

  it('refuses a broken line with its file and line, and a step split over files', () => {
    const reader = new VerlDumpReader();
    reader.addLine('dump/1.jsonl', 1, record('A', 1));
    expect(() => reader.addLine('dump/1.jsonl', 2, '{"input": "A", "output": "x", "score": 1')).toThrow(
      new VerlDumpError('dump/1.jsonl: line 2 is not JSON: it ends in the middle of a record'),
    );
    expect(() => reader.addLine('dump/1.jsonl', 3, '{"input": "A", "output": 5, "score": 1}')).toThrow('dump/1.jsonl: line 3: "output" is not a string');
    expect(() => reader.addLine('dump/1.jsonl', 4, '{"input": "A", "score": 1}')).toThrow('dump/1.jsonl: line 4 is not a verl rollout record: it has no "output"');
    reader.takeSteps();
    expect(() => reader.addLine('dump/other.jsonl', 1, record('A', 1))).toThrow('step 1 was already read from dump/1.jsonl');
  });

  it('names a file of another format', () => {
    expect(foreignFormat('{"type":"run","config":{}}')).toMatch(/TAO-RL Workbench rollouts file/);
    expect(foreignFormat('{')).toMatch(/one JSON document/);
    expect(foreignFormat('step,critic/score/mean')).toMatch(/CSV/);
    expect(foreignFormat('PAR1\u0000')).toMatch(/Parquet/);
    expect(() => new VerlDumpReader().addLine('run.jsonl', 1, '{"type":"run","config":{}}')).toThrow('run.jsonl is a TAO-RL Workbench rollouts file');
  });
});

function command(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(TSX, ['src/cli/importRollouts.ts', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ status: child.exitCode ?? (error ? 1 : 0), stdout, stderr }),
    );
  });
}

describe('npm run import-rollouts', () => {
  it('converts a folder, prints the --json line last, and writes nothing for a broken line', { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'verl-dump-'));
    writeSyntheticDump(path.join(dir, 'dump'), 96, 48);
    const out = path.join(dir, 'run.jsonl');
    const ok = await command(['--from', 'verl', path.join(dir, 'dump'), '--out', out, '--json']);
    expect(ok.status).toBe(0);
    const summary = JSON.parse(ok.stdout.trimEnd().split('\n').at(-1)!);
    expect(Object.keys(summary)).toEqual(['steps', 'groups', 'trajectories', 'discarded', 'tool_calls', 'tool_failures']);
    expect([summary.steps, summary.groups, summary.trajectories]).toEqual([2, 12, 96]);
    const text = fs.readFileSync(out, 'utf8');
    expect(importRun(text, text.length, out).reports).toHaveLength(2);

    fs.appendFileSync(path.join(dir, 'dump', '2.jsonl'), '{"input": "x", "output": \n');
    fs.rmSync(out);
    const broken = await command(['--from', 'verl', path.join(dir, 'dump'), '--out', out]);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toBe(`error: ${path.join(dir, 'dump', '2.jsonl')}: line 49 is not JSON: it ends in the middle of a record\n`);
    expect(fs.readdirSync(dir)).toEqual(['dump']);
  });
});
