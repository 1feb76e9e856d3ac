// Run files (src/runs/format.ts): one JSON export of a run, its rollouts as the command line's
// JSONL, and an import that reads either in full or says, in one sentence, what is wrong.
import { describe, expect, it } from 'vitest';
import { Buffer } from 'node:buffer';
import type { CheckpointManifest } from '../../src/core/checkpoint';
import { resolveConfig, type Config } from '../../src/core/config';
import type { Evaluation } from '../../src/core/evaluate';
import type { StepReport, StepSettings, TrajectoryReport } from '../../src/core/trainer';
import { jsonLine } from '../../src/cli/jsonl';
import { parseRunFile } from '../../src/experiment/summary';
import {
  base64FromBytes,
  bytesFromBase64,
  exportRunJson,
  importRun,
  MAX_IMPORT_BYTES,
  rolloutsJsonl,
  RUN_FORMAT,
  RUN_FORMAT_VERSION,
  RunImportError,
  type ExportedRun,
} from '../../src/runs/format';

// ---------------------------------------------------------------------------------------------
// A small hand-made run: 2 steps (the first with its rollouts dropped, the second with 2
// trajectories of 4 tokens), one evaluation, one live change, and a tiny checkpoint.

const config: Config = resolveConfig({ preset: 'tao-rl', seed: 7 });

function settingsOf(c: Config): StepSettings {
  const { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, shape, flakyProbability } = c;
  return { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, shape, flakyProbability };
}

const solved: TrajectoryReport = {
  group: 0,
  prompt: '1+2',
  expected: '3',
  answer: '3',
  reward: 1,
  finishReason: 'eos',
  kept: true,
  reason: null,
  trainedCopies: 1,
  advantage: 0.5,
  toolCalls: [{ expression: '1+2', ok: true, value: '3' }],
  segments: [
    { kind: 'prompt', text: '1+2' },
    { kind: 'policy', text: '=' },
    { kind: 'tool', text: '3' },
  ],
  tokens: {
    text: ['1', '+', '=', '3'],
    kind: ['prompt', 'prompt', 'policy', 'tool'],
    entropy: [0, 0, 0.75, NaN], // NaN: JSON writes null, import reads it back as NaN
    logprob: [0, 0, -0.5, 0],
    postTool: [0, 0, 0, 1],
    lossWeight: [0, 0, 1, 0],
    advantage: [0, 0, 0.5, 0],
    bonus: [0, 0, 0.25, 0],
  },
};

const failed: TrajectoryReport = {
  ...solved,
  answer: null,
  reward: 0,
  finishReason: 'tool_limit',
  kept: false,
  reason: 'all_tools_failed',
  trainedCopies: 0,
  advantage: -0.5,
  toolCalls: [{ expression: '1+', ok: false, error: 'syntax', message: 'the expression ends early', cause: 'policy' }],
};

const changedConfig: Config = { ...config, learningRate: 0.0001 };

const reports: StepReport[] = [
  {
    step: 1,
    preset: 'tao-rl',
    seed: 7,
    settings: settingsOf(config),
    skipped: false,
    metrics: { 'critic/score/mean': 0.25, 'entropy/mean': 1.5, 'kl/reference': 0 },
    trajectories: [],
  },
  {
    step: 2,
    preset: 'tao-rl',
    seed: 7,
    settings: settingsOf(changedConfig),
    skipped: false,
    metrics: { 'critic/score/mean': 0.5, 'entropy/mean': 1.25, 'kl/reference': NaN },
    trajectories: [solved, failed],
  },
];

const evaluation: Evaluation = {
  prompts: 4,
  samples: 2,
  sampledAccuracy: 0.625,
  passAtK: 0.75,
  greedyAccuracy: null,
  callRate: 0.5,
  callFailureRate: 0.25,
  environmentFailureRate: 0,
  allCallsFailedRate: 0.125,
  mixedGroups: 0.5,
  byKind: { sum: 0.625 },
};

// Two float32 tensors, [2, 3] and [2]: 8 floats, 32 bytes, 44 base64 characters (one '=').
const manifest: CheckpointManifest = {
  format: 'tao-rl-workbench/checkpoint@1',
  model: { vocabSize: 4, contextLength: 3, layers: 1, width: 2, heads: 1, mlpRatio: 1 },
  weights: [
    { name: 'embedding', shape: [2, 3] },
    { name: 'bias', shape: [2] },
  ],
  provenance: { source: 'hand-made' },
};
const floats = new Float32Array([1, -2, 0.5, 3, 0, -0.25, 8, 16]);
const weightBytes = new Uint8Array(floats.buffer);

const run: ExportedRun = {
  format: RUN_FORMAT,
  version: RUN_FORMAT_VERSION,
  name: 'tao-rl seed 7',
  created: '2026-03-01T10:00:00.000Z',
  config: changedConfig,
  reports,
  evaluations: [{ step: 1, evaluation }],
  changes: [{ field: 'learningRate', from: 0.0003, to: 0.0001, step: 2 }],
  weights: { step: 2, manifest, base64: base64FromBytes(weightBytes) },
};

function importText(text: string, fileName = 'run.json'): ExportedRun {
  return importRun(text, text.length, fileName);
}

/** The message import rejects `text` with (it must be a RunImportError). */
function importError(text: string, fileName = 'run.json', size = text.length): string {
  try {
    importRun(text, size, fileName);
  } catch (error) {
    expect(error).toBeInstanceOf(RunImportError);
    return (error as Error).message;
  }
  throw new Error('expected the import to be rejected');
}

/** The export with one part replaced through a JSON round trip (the export itself is left alone). */
function exportWith(edit: (json: Record<string, any>) => void): string {
  const json = JSON.parse(exportRunJson(run));
  edit(json);
  return JSON.stringify(json);
}

/** The command line's lines, as src/cli/train.ts writes them. */
function cliLines(): string {
  const started = '2026-03-01T09:00:00.000Z';
  return [
    jsonLine({ type: 'run', config, steps: 2, backend: 'cpu', checkpoint: 'tiny-arithmetic.json', started }),
    jsonLine({ type: 'evaluation', step: 0, ...evaluation }),
    jsonLine({ type: 'step', ...reports[0] }),
    jsonLine({ type: 'step', ...reports[1] }),
    jsonLine({ type: 'evaluation', step: 2, ...evaluation, greedyAccuracy: 0.5 }),
  ].join('');
}

// ---------------------------------------------------------------------------------------------

describe('base64', () => {
  it('encodes and decodes the RFC 4648 examples', () => {
    const ascii = (s: string) => new TextEncoder().encode(s);
    expect(base64FromBytes(ascii(''))).toBe('');
    expect(base64FromBytes(ascii('M'))).toBe('TQ==');
    expect(base64FromBytes(ascii('Ma'))).toBe('TWE=');
    expect(base64FromBytes(ascii('Man'))).toBe('TWFu');
    expect(base64FromBytes(ascii('foobar'))).toBe('Zm9vYmFy');
    expect(new TextDecoder().decode(bytesFromBase64('Zm9vYg=='))).toBe('foob');
    expect(new TextDecoder().decode(bytesFromBase64('Zm9vYmE'))).toBe('fooba'); // padding optional
  });

  it('handles arrays far larger than one call can take, as Node encodes them', () => {
    const bytes = new Uint8Array(1_000_003);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + (i >> 8)) & 0xff;
    const text = base64FromBytes(bytes);
    expect(text).toBe(Buffer.from(bytes).toString('base64'));
    expect(Buffer.from(bytesFromBase64(text)).equals(Buffer.from(bytes))).toBe(true); // toEqual is slow on a million entries
  });

  it('names the first character that is not base64', () => {
    expect(() => bytesFromBase64('AAAA!AAA')).toThrow('not base64: unexpected "!" at character 5');
  });
});

describe('run export', () => {
  it('round-trips a run, weights included', () => {
    expect(run.weights!.base64).toHaveLength(44);
    const imported = importText(exportRunJson(run));
    expect(imported).toEqual(run);
    expect(new Float32Array(bytesFromBase64(imported.weights!.base64).buffer)).toEqual(floats);
  });

  it('writes NaN as null and reads it back as NaN', () => {
    const json = JSON.parse(exportRunJson(run));
    expect(json.reports[1].metrics['kl/reference']).toBeNull();
    expect(json.reports[1].trajectories[0].tokens.entropy).toEqual([0, 0, 0.75, null]);
    const imported = importText(exportRunJson(run));
    expect(imported.reports[1].metrics['kl/reference']).toBeNaN();
    expect(imported.reports[1].trajectories[0].tokens.entropy[3]).toBeNaN();
  });

  it('round-trips a run without weights', () => {
    const { weights: _, ...bare } = run;
    const imported = importText(exportRunJson(bare));
    expect(imported).toEqual(bare);
    expect('weights' in imported).toBe(false);
  });

  it('also reads the export pretty-printed', () => {
    expect(importText(JSON.stringify(JSON.parse(exportRunJson(run)), null, 2))).toEqual(run);
  });

  it('reads a format 1 file under the metric names of today', () => {
    const json = JSON.parse(exportRunJson(run));
    json.version = 1;
    // Format 1 named these metrics its own way; its tools/call_frequency was the share of trajectories with a call.
    json.reports[1].metrics = { 'reward/mean': 0.5, 'tools/call_frequency': 0.75, 'tools/calls_per_trajectory': 1.5, approx_kl: 0.01 };
    const imported = importText(JSON.stringify(json));
    expect(imported.reports[1].metrics).toEqual({ 'critic/score/mean': 0.5, 'tools/call_rate': 0.75, 'tools/call_frequency': 1.5, 'actor/ppo_kl': 0.01 });
  });
});

describe('rollouts JSONL', () => {
  const text = rolloutsJsonl(run);
  const records = text.trimEnd().split('\n').map((line) => JSON.parse(line));

  it('writes a run record, the steps, and each evaluation after the step it follows', () => {
    expect(text.endsWith('\n')).toBe(true);
    expect(records.map((r) => [r.type, r.step])).toEqual([
      ['run', undefined],
      ['step', 1],
      ['evaluation', 1],
      ['step', 2],
    ]);
    expect(records[0]).toEqual({
      type: 'run',
      name: 'tao-rl seed 7',
      config: changedConfig,
      steps: 2,
      created: '2026-03-01T10:00:00.000Z',
      changes: run.changes,
    });
    expect(records[2]).toEqual({ type: 'evaluation', step: 1, ...evaluation });
  });

  it('puts a step-0 evaluation first', () => {
    const lines = rolloutsJsonl({ ...run, evaluations: [{ step: 0, evaluation }, ...run.evaluations] }).trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line).type)).toEqual(['run', 'evaluation', 'step', 'evaluation', 'step']);
  });

  it('imports back to the same config, reports and evaluations, named after the file', () => {
    const imported = importText(text, 'tao-rl seed 7 (copy).jsonl');
    expect(imported.name).toBe('tao-rl seed 7 (copy)');
    expect(imported.config).toEqual(run.config);
    expect(imported.reports).toEqual(run.reports);
    expect(imported.evaluations).toEqual(run.evaluations);
    expect(imported.changes).toEqual(run.changes);
    expect(imported.created).toBe(run.created);
    expect(imported.weights).toBeUndefined();
  });

  it('is read by the experiment summary reader as a command-line file', () => {
    const file = parseRunFile(text);
    expect(file.steps.map((s) => s.step)).toEqual([1, 2]);
    expect(file.evaluations.map((e) => [e.step, e.sampledAccuracy])).toEqual([[1, 0.625]]);
  });

  it('imports the lines npm run train writes', () => {
    const imported = importText(cliLines(), 'runs/a.jsonl');
    expect(imported.name).toBe('a');
    expect(imported.created).toBe('2026-03-01T09:00:00.000Z');
    expect(imported.config).toEqual(config);
    expect(imported.reports).toEqual(reports);
    expect(imported.evaluations).toEqual([
      { step: 0, evaluation },
      { step: 2, evaluation: { ...evaluation, greedyAccuracy: 0.5 } },
    ]);
    expect(imported.changes).toEqual([]);
    expect(imported.weights).toBeUndefined();
  });

  it('imports an experiment run file: its extra run fields, dropped rollouts and end record', () => {
    const text = [
      jsonLine({ type: 'run', id: 'tao-rl-s1', condition: 'main', variant: 'tao-rl', config, steps: 2, backend: 'cpu', checkpoint: 'public/models/tiny-arithmetic.json', started: '2026-03-01T09:00:00.000Z' }),
      jsonLine({ type: 'evaluation', step: 0, ...evaluation }),
      jsonLine({ type: 'step', ...reports[0] }),
      jsonLine({ type: 'step', ...reports[1], trajectories: [] }),
      jsonLine({ type: 'evaluation', step: 2, ...evaluation }),
      jsonLine({ type: 'end', wallSeconds: 12.5, tensors: 40 }),
    ].join('');
    const imported = importText(text, 'tao-rl-s1.jsonl');
    expect(imported.name).toBe('tao-rl-s1');
    expect(imported.reports.map((r) => r.trajectories.length)).toEqual([0, 0]);
    expect(imported.evaluations.map((e) => e.step)).toEqual([0, 2]);
  });

  it('imports a file that holds only its run record', () => {
    const imported = importText(jsonLine({ type: 'run', config, steps: 0, started: '2026-03-01T09:00:00.000Z' }), 'empty.jsonl');
    expect(imported.reports).toEqual([]);
    expect(imported.evaluations).toEqual([]);
  });
});

describe('import rejects', () => {
  it('an oversized file before reading it', () => {
    expect(MAX_IMPORT_BYTES).toBe(256 * 2 ** 20);
    // The text is not JSON: any parsing would give another message.
    expect(importError('{ not json', 'big.json', 300 * 2 ** 20)).toBe('the file is 300 MB; the largest run file accepted is 256 MB');
  });

  it('an empty file', () => {
    expect(importError('')).toBe('the file is empty');
    expect(importError('\n  \n')).toBe('the file is empty');
  });

  it('a truncated export', () => {
    const full = exportRunJson(run);
    const half = full.slice(0, Math.floor(full.length / 2));
    expect(importError(half)).toBe(`the file is cut short: its JSON ends after ${half.length.toLocaleString('en-US')} characters, before the run is closed`);
  });

  it('a truncated pretty-printed export', () => {
    const full = JSON.stringify(run, null, 2);
    const cut = full.slice(0, 1000);
    expect(importError(cut)).toBe('the file is cut short: its JSON ends after 1,000 characters, before the run is closed');
  });

  it('text that is not JSON, naming where', () => {
    expect(importError('hello, world')).toBe('the file is not JSON: unexpected "h" at line 1, column 1');
    const text = '{\n  "format": "tao-rl-workbench/run",\n  "version": 1,\n  "name": oops\n}';
    expect(importError(text)).toBe('the file is not JSON: unexpected "o" at line 4, column 11');
  });

  it('a JSONL line broken in the middle', () => {
    const lines = rolloutsJsonl(run).split('\n');
    lines[2] = lines[2].slice(0, Math.floor(lines[2].length / 2)); // the evaluation record, cut
    expect(importError(lines.join('\n'), 'run.jsonl')).toBe('line 3 is not JSON: it ends in the middle of a record');
  });

  it('a JSONL line with a syntax error, naming line and column', () => {
    const lines = rolloutsJsonl(run).split('\n');
    lines[1] = '{"type":"step",}';
    expect(importError(lines.join('\n'), 'run.jsonl')).toBe('line 2 is not JSON: unexpected "}" at column 16');
  });

  it('a JSONL file cut short in its last line', () => {
    const text = rolloutsJsonl(run);
    expect(importError(text.slice(0, text.length - 100), 'run.jsonl')).toBe('the file is cut short: line 4 ends in the middle of a record');
  });

  it('foreign JSON', () => {
    expect(importError('{"hello":1}')).toBe('not a TAO-RL Workbench run: the JSON object has no "format" field');
    expect(importError('[1, 2, 3]')).toBe('not a TAO-RL Workbench run: the file is a JSON array');
    expect(importError('"run"')).toBe('not a TAO-RL Workbench run: the file is a JSON string');
    expect(importError(JSON.stringify(manifest))).toBe('not a TAO-RL Workbench run: its format is "tao-rl-workbench/checkpoint@1"');
    expect(importError('{"a":1}\n{"b":2}\n', 'other.jsonl')).toBe('not a TAO-RL Workbench run: line 1 is not a "run" record');
  });

  it('a file from a newer version', () => {
    expect(importError(exportWith((json) => (json.version = 3)))).toBe('written by a newer version (format 3); this page reads format 2');
    expect(importError(exportWith((json) => (json.version = '1')))).toBe('version: "1" is not a format version (must be an integer >= 1)');
  });

  it('a bad config value, naming the field', () => {
    expect(importError(exportWith((json) => (json.config.learningRate = 5)))).toBe(
      'config.learningRate: 5 is out of range (must be a number in (0, 0.1])',
    );
    const lines = cliLines().split('\n');
    const head = JSON.parse(lines[0]);
    head.config.learningRate = 5;
    lines[0] = JSON.stringify(head);
    expect(importError(lines.join('\n'), 'a.jsonl')).toBe('line 1: config.learningRate: 5 is out of range (must be a number in (0, 0.1])');
  });

  it('steps out of order', () => {
    expect(importError(exportWith((json) => json.reports.reverse()))).toBe(
      'reports[1].step: 1 is not above the previous step 2 (steps must increase)',
    );
    const lines = cliLines().split('\n');
    [lines[2], lines[3]] = [lines[3], lines[2]];
    expect(importError(lines.join('\n'), 'a.jsonl')).toBe('line 4: step: 1 is not above the previous step 2 (steps must increase)');
  });

  it('token arrays of unequal length', () => {
    const text = exportWith((json) => json.reports[1].trajectories[0].tokens.entropy.pop());
    expect(importError(text)).toBe('reports[1].trajectories[0].tokens.entropy: 3 entries, but text has 4 (one entry per token)');
  });

  it('a token of no known kind', () => {
    const text = exportWith((json) => (json.reports[1].trajectories[1].tokens.kind[2] = 'answer'));
    expect(importError(text)).toBe('reports[1].trajectories[1].tokens.kind[2]: "answer" is not one of prompt, policy, tool');
  });

  it('a metric that is not a number', () => {
    expect(importError(exportWith((json) => (json.reports[0].metrics['reward/mean'] = 'high')))).toBe(
      'reports[0].metrics["reward/mean"]: "high" is not a number or null',
    );
  });

  it('missing or out-of-range step settings', () => {
    expect(importError(exportWith((json) => delete json.reports[0].settings))).toBe('reports[0].settings: missing (must be an object)');
    expect(importError(exportWith((json) => (json.reports[1].settings.temperature = 0)))).toBe(
      'reports[1].settings.temperature: 0 is out of range (must be a number in (0, 4])',
    );
  });

  it('an evaluation accuracy outside [0, 1]', () => {
    expect(importError(exportWith((json) => (json.evaluations[0].evaluation.sampledAccuracy = 1.5)))).toBe(
      'evaluations[0].evaluation.sampledAccuracy: 1.5 is not a number in [0, 1]',
    );
    const lines = cliLines().split('\n');
    lines[1] = JSON.stringify({ ...JSON.parse(lines[1]), sampledAccuracy: null });
    expect(importError(lines.join('\n'), 'a.jsonl')).toBe('line 2: sampledAccuracy: null is not a number in [0, 1]');
  });

  it('a record of no known type', () => {
    const lines = cliLines().split('\n');
    lines[2] = '{"type":"note","text":"hi"}';
    expect(importError(lines.join('\n'), 'a.jsonl')).toBe('line 3: type: "note" is not one of step, evaluation, end');
  });

  it('weights cut short, or not base64', () => {
    // 36 of the 44 characters: 27 of the 32 bytes.
    expect(importError(exportWith((json) => (json.weights.base64 = json.weights.base64.slice(0, 36))))).toBe(
      'the weights are cut short: expected 32 bytes, found 27',
    );
    expect(importError(exportWith((json) => (json.weights.base64 = `AAAA!${json.weights.base64.slice(5)}`)))).toBe(
      'weights.base64: not base64: unexpected "!" at character 5',
    );
    expect(importError(exportWith((json) => (json.weights.manifest.format = 'other')))).toBe(
      'weights.manifest.format: "other" is not one of tao-rl-workbench/checkpoint@1',
    );
  });

  it('more steps or trajectories than a run file may hold', () => {
    // The limits are checked before the reports are read, so placeholders suffice.
    expect(importError(exportWith((json) => (json.reports = new Array(1_000_001).fill(0))))).toBe(
      'the run has 1,000,001 steps; the most accepted is 1,000,000',
    );
    expect(importError(exportWith((json) => (json.reports[1].trajectories = new Array(100_001).fill(0))))).toBe(
      'the run has 100,001 trajectories; the most accepted is 100,000',
    );
  });
});
