// node --expose-gc --import tsx src/bench/runImport.ts [--trajectories N] [--tokens N] [--repeats N]
// Time of importRun on a synthetic run file at the import limit (100,000 trajectories): the run
// export (one JSON document) and the same run as rollouts JSONL, with the bare JSON.parse of the
// text beside each, so the validation's own share is the difference. Prints one markdown table.
// Pure TypeScript, no tfjs: the run is made up, only its shape and size matter.

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../core/config';
import type { StepReport, StepSettings, TrajectoryReport } from '../core/trainer';
import { exportRunJson, importRun, MAX_IMPORT_TRAJECTORIES, rolloutsJsonl, RUN_FORMAT, RUN_FORMAT_VERSION, type ExportedRun } from '../runs/format';

/** Trajectories per step: 8 prompts x 8 samples x over-sampling 2, as the default tao-rl preset generates. */
const TRAJECTORIES_PER_STEP = 128;

/** One trajectory of `tokens` tokens: a 6-token prompt, the policy's text around one tool result. */
function trajectory(group: number, index: number, tokens: number): TrajectoryReport {
  const kind: TrajectoryReport['tokens']['kind'] = [];
  const postTool: (0 | 1)[] = [];
  for (let t = 0; t < tokens; t++) {
    const toolResult = t >= tokens / 2 && t < tokens / 2 + 3;
    kind.push(t < 6 ? 'prompt' : toolResult ? 'tool' : 'policy');
    postTool.push(t >= tokens / 2 + 3 ? 1 : 0);
  }
  const numbers = (scale: number) => Array.from({ length: tokens }, (_, t) => (kind[t] === 'policy' ? ((index * 31 + t * 17) % 97) / scale : 0));
  return {
    group,
    prompt: '37+45=',
    expected: '82',
    answer: index % 3 === 0 ? null : '82',
    reward: index % 3 === 0 ? 0 : 1,
    finishReason: 'eos',
    kept: index % 5 !== 0,
    reason: index % 5 !== 0 ? null : 'group_all_correct',
    trainedCopies: index % 5 !== 0 ? 1 : 0,
    advantage: index % 3 === 0 ? -0.75 : 0.375,
    toolCalls: [{ expression: '37+45', ok: true, value: '82' }],
    segments: [
      { kind: 'prompt', text: '37+45=' },
      { kind: 'policy', text: '<call>37+45</call>' },
      { kind: 'tool', text: '82' },
      { kind: 'policy', text: 'so 82</s>' },
    ],
    tokens: {
      text: Array.from({ length: tokens }, (_, t) => '0123456789+=<>/'[t % 15]),
      kind,
      entropy: numbers(40),
      logprob: numbers(-30),
      postTool,
      lossWeight: kind.map((k) => (k === 'policy' ? 1 : 0)),
      advantage: numbers(100),
      bonus: numbers(1000),
    },
  };
}

/** A run of `trajectories` trajectories of `tokens` tokens each, in steps of the default size. */
export function syntheticRun(trajectories: number, tokens: number): ExportedRun {
  const config = resolveConfig({ preset: 'tao-rl' });
  const { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, shape, flakyProbability } = config;
  const settings: StepSettings = { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, shape, flakyProbability };
  const reports: StepReport[] = [];
  for (let made = 0, step = 1; made < trajectories; step++) {
    const count = Math.min(TRAJECTORIES_PER_STEP, trajectories - made);
    reports.push({
      step,
      preset: 'tao-rl',
      seed: 1,
      settings,
      skipped: false,
      metrics: { 'critic/score/mean': 0.5, 'entropy/mean': 1.25, 'kl/reference': 0, 'loss/policy': -0.01 },
      trajectories: Array.from({ length: count }, (_, i) => trajectory(Math.floor(i / config.groupSize), made + i, tokens)),
    });
    made += count;
  }
  return { format: RUN_FORMAT, version: RUN_FORMAT_VERSION, name: 'synthetic', created: '2026-03-01T10:00:00.000Z', config, reports, evaluations: [], changes: [] };
}

/** Collects garbage before a timing when node runs with --expose-gc, so no run pays for the one before. */
const collectGarbage = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** Fastest of `repeats` timings, in milliseconds (the machine may be busy; the fastest is the least disturbed). */
export function fastest(repeats: number, work: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    collectGarbage();
    const start = performance.now();
    work();
    best = Math.min(best, performance.now() - start);
  }
  return best;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      trajectories: { type: 'string', default: String(MAX_IMPORT_TRAJECTORIES) },
      tokens: { type: 'string', default: '32' },
      repeats: { type: 'string', default: '5' },
    },
  });
  const trajectories = Number(values.trajectories);
  const tokens = Number(values.tokens);
  const repeats = Number(values.repeats);

  const run = syntheticRun(trajectories, tokens);
  const files = [
    { label: 'run export (.json)', name: 'run.json', text: exportRunJson(run) },
    { label: 'rollouts (.jsonl)', name: 'run.jsonl', text: rolloutsJsonl(run) },
  ];
  console.log(`${trajectories.toLocaleString('en-US')} trajectories of ${tokens} tokens in ${run.reports.length} steps; fastest of ${repeats}\n`);
  console.log('| file | size | JSON.parse | importRun | validation |');
  console.log('|---|---:|---:|---:|---:|');
  for (const { label, name, text } of files) {
    const size = Buffer.byteLength(text);
    const parse = fastest(repeats, () => (name.endsWith('.jsonl') ? text.split('\n').map((line) => line && JSON.parse(line)) : JSON.parse(text)));
    const total = fastest(repeats, () => importRun(text, size, name));
    const ms = (value: number) => `${Math.round(value)} ms`;
    console.log(`| ${label} | ${(size / 2 ** 20).toFixed(0)} MB | ${ms(parse)} | ${ms(total)} | ${ms(total - parse)} |`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) main();
