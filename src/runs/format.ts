// A run as files: one JSON export (config, every step report, evaluations, live changes and,
// optionally, the weights) and the rollouts as JSONL in the command line's schema, so
// `npm run train --out` files and the page's files open in either. Import reads what it is
// given in full before returning anything: a malformed, truncated, oversized or foreign file
// becomes a RunImportError with one sentence saying what is wrong and where.
// Pure TypeScript: runs in the browser and in Node, imports no tfjs (types only).

import type { CheckpointManifest } from '../core/checkpoint';
import { ConfigError, PRESET_NAMES, resolveConfig, type Config, type PresetName } from '../core/config';
import type { FailureCause, ToolCallRecord } from '../core/environment';
import type { Evaluation } from '../core/evaluate';
import type { FinishReason } from '../core/rollout';
import { describeCharacter, jsonSyntaxError, lineAndColumn } from '../core/jsonSyntax';
import { currentStepMetrics, type StepMetrics } from '../core/metrics';
import { TOKEN_KINDS, type DiscardReason, type TokenKind } from '../core/tao/types';
import { TOOL_ERROR_KINDS } from '../core/tools/types';
import type { StepReport, StepSettings, TrajectoryReport } from '../core/trainer';
import {
  expectArray,
  expectBoolean,
  expectEach,
  expectNumber,
  expectObject,
  expectOneOf,
  expectString,
  expectValue,
  fail,
  FINITE,
  formatValue,
  isInRange,
  isNot,
  isPlainObject,
  NON_NEGATIVE_INTEGER,
  pathTo,
  POSITIVE,
  POSITIVE_INTEGER,
  readAs,
  UNIT_INTERVAL,
  ValidationError,
  type JsonObject,
} from '../core/validate';
import type { SettingChange } from './types';

export const RUN_FORMAT = 'tao-rl-workbench/run';
/**
 * Bumped when a field changes meaning or a reader of the old version could not read the new one.
 * 2: step metrics under verl's and TRL's names, tools/call_frequency counting calls per trajectory
 * (version 1 files are still read: their metrics are renamed, core/metrics.ts).
 */
export const RUN_FORMAT_VERSION = 2;

/** Largest file import accepts, checked before anything is parsed. */
export const MAX_IMPORT_BYTES = 256 * 2 ** 20;
/** Most step reports in one run file. */
export const MAX_IMPORT_STEPS = 1_000_000;
/** Most trajectories over all step reports of one run file. */
export const MAX_IMPORT_TRAJECTORIES = 100_000;

/** The weights of one step, as a checkpoint (manifest and float32 blob) in base64. */
export interface RunWeights {
  step: number;
  manifest: CheckpointManifest;
  base64: string;
}

export interface ExportedRun {
  format: typeof RUN_FORMAT;
  /** RUN_FORMAT_VERSION of the writer. */
  version: number;
  name: string;
  /** When the file was written (ISO 8601); for a command-line file, when its run started. */
  created: string;
  config: Config;
  /** Every step in order; trajectories may be empty for older steps. */
  reports: StepReport[];
  evaluations: { step: number; evaluation: Evaluation }[];
  changes: SettingChange[];
  weights?: RunWeights;
}

export class RunImportError extends ValidationError {
  override name = 'RunImportError';
}

// ---------------------------------------------------------------------------------------------
// Export

/** The run as one JSON document; NaN and Infinity become null, as JSON has no other spelling. */
export function exportRunJson(run: ExportedRun): string {
  return JSON.stringify(run);
}

/**
 * The rollouts as JSON lines in the command line's schema (src/cli/train.ts): a run record, then
 * one step record per report, each evaluation after the last step it follows (step 0 first).
 * The page's live changes ride on the run record, where command-line readers ignore them.
 */
export function rolloutsJsonl(run: ExportedRun): string {
  const last = run.reports[run.reports.length - 1];
  const lines = [
    JSON.stringify({ type: 'run', name: run.name, config: run.config, steps: last?.step ?? 0, created: run.created, changes: run.changes }),
  ];
  let next = 0; // first evaluation not yet written
  for (const report of run.reports) {
    for (; next < run.evaluations.length && run.evaluations[next].step < report.step; next++) {
      lines.push(evaluationLine(run.evaluations[next]));
    }
    lines.push(JSON.stringify({ type: 'step', ...report }));
  }
  for (; next < run.evaluations.length; next++) lines.push(evaluationLine(run.evaluations[next]));
  return `${lines.join('\n')}\n`;
}

function evaluationLine({ step, evaluation }: { step: number; evaluation: Evaluation }): string {
  return JSON.stringify({ type: 'evaluation', step, ...evaluation });
}

// ---------------------------------------------------------------------------------------------
// Import: which kind of file, and is it whole JSON

/**
 * A run from a file's text: a run export (a JSON object with format RUN_FORMAT) or a rollouts
 * file (JSON lines starting with a {"type":"run"} record, named after the file). `size` is the
 * file's size in bytes, checked before the text is parsed.
 */
export function importRun(text: string, size: number, fileName: string): ExportedRun {
  return readAs(RunImportError, () => readRunFile(text, size, fileName));
}

function readRunFile(text: string, size: number, fileName: string): ExportedRun {
  if (size > MAX_IMPORT_BYTES) {
    throw new RunImportError(`the file is ${Math.ceil(size / 2 ** 20)} MB; the largest run file accepted is ${MAX_IMPORT_BYTES / 2 ** 20} MB`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark some editors add
  if (text.trim() === '') throw new RunImportError('the file is empty');

  let whole: unknown;
  let isJson = true;
  try {
    whole = JSON.parse(text);
  } catch {
    isJson = false;
  }
  if (isJson) {
    if (isPlainObject(whole) && whole.type === 'run') return runFromLines([{ line: firstLineNumber(text), record: whole }], fileName);
    return runFromExport(whole);
  }

  const lines = nonEmptyLines(text);
  if (lines.length >= 2 && (parsesToObject(lines[0].text) || parsesToObject(lines[1].text))) {
    return runFromLines(parseLines(lines), fileName);
  }
  throw new RunImportError(wholeTextProblem(text));
}

/** Why text that JSON.parse rejected is not JSON, engine-independent. */
function wholeTextProblem(text: string): string {
  const offset = jsonSyntaxError(text);
  if (offset === null) return 'the file is not JSON';
  if (offset === text.length) return `the file is cut short: its JSON ends after ${groupDigits(text.length)} characters, before the run is closed`;
  const { line, column } = lineAndColumn(text, offset);
  return `the file is not JSON: unexpected ${describeCharacter(text[offset])} at line ${line}, column ${column}`;
}

interface Line {
  /** 1-based line number in the file. */
  line: number;
  text: string;
}

function nonEmptyLines(text: string): Line[] {
  const lines: Line[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() !== '') lines.push({ line: i + 1, text: line });
  });
  return lines;
}

function firstLineNumber(text: string): number {
  return nonEmptyLines(text)[0]?.line ?? 1;
}

function parsesToObject(text: string): boolean {
  try {
    return isPlainObject(JSON.parse(text));
  } catch {
    return false;
  }
}

function parseLines(lines: Line[]): { line: number; record: unknown }[] {
  return lines.map(({ line, text }, i) => {
    try {
      return { line, record: JSON.parse(text) as unknown };
    } catch {
      const offset = jsonSyntaxError(text);
      if (offset === null) throw new RunImportError(`line ${line} is not JSON`);
      if (offset < text.length) throw new RunImportError(`line ${line} is not JSON: unexpected ${describeCharacter(text[offset])} at column ${offset + 1}`);
      if (i === lines.length - 1) throw new RunImportError(`the file is cut short: line ${line} ends in the middle of a record`);
      throw new RunImportError(`line ${line} is not JSON: it ends in the middle of a record`);
    }
  });
}

function groupDigits(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// ---------------------------------------------------------------------------------------------
// Import: a run export

function runFromExport(value: unknown): ExportedRun {
  if (!isPlainObject(value)) throw new RunImportError(`not a TAO-RL Workbench run: the file is ${jsonKind(value)}`);
  if (!('format' in value)) throw new RunImportError('not a TAO-RL Workbench run: the JSON object has no "format" field');
  if (value.format !== RUN_FORMAT) throw new RunImportError(`not a TAO-RL Workbench run: its format is ${formatValue(value.format)}`);
  const version = value.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    fail('version', `${version === undefined ? 'missing' : `${formatValue(version)} is not a format version`} (must be an integer >= 1)`);
  }
  if (version > RUN_FORMAT_VERSION) {
    throw new RunImportError(`written by a newer version (format ${version}); this page reads format ${RUN_FORMAT_VERSION}`);
  }
  const name = expectString(value.name, 'name');
  const created = expectDate(value.created, 'created');
  const config = readConfig(value.config, 'config');

  const rawReports = expectArray(value.reports, 'reports');
  checkLimits(
    rawReports.length,
    rawReports.reduce<number>((n, r) => n + (isPlainObject(r) && Array.isArray(r.trajectories) ? r.trajectories.length : 0), 0),
  );
  const settings = new SettingsReader();
  const reports: StepReport[] = [];
  rawReports.forEach((raw, i) => reports.push(readReport(raw, `reports[${i}]`, reports[i - 1]?.step ?? null, settings)));

  const evaluations: ExportedRun['evaluations'] = [];
  expectArray(value.evaluations, 'evaluations').forEach((raw, i) => {
    const path = `evaluations[${i}]`;
    const entry = expectObject(raw, path);
    const step = readEvaluationStep(entry.step, `${path}.step`, evaluations[i - 1]?.step ?? null);
    evaluations.push({ step, evaluation: readEvaluation(entry.evaluation, `${path}.evaluation`) });
  });
  const changes = readChanges(value.changes, 'changes');
  const weights = value.weights === undefined ? undefined : readWeights(value.weights, 'weights');
  return { format: RUN_FORMAT, version, name, created, config, reports, evaluations, changes, ...(weights ? { weights } : {}) };
}

function checkLimits(steps: number, trajectories: number): void {
  if (steps > MAX_IMPORT_STEPS) {
    throw new RunImportError(`the run has ${groupDigits(steps)} steps; the most accepted is ${groupDigits(MAX_IMPORT_STEPS)}`);
  }
  if (trajectories > MAX_IMPORT_TRAJECTORIES) {
    throw new RunImportError(`the run has ${groupDigits(trajectories)} trajectories; the most accepted is ${groupDigits(MAX_IMPORT_TRAJECTORIES)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Import: a rollouts file (JSON lines of the command line or the page)

const LINE_TYPES = ['step', 'evaluation', 'end'] as const;

function runFromLines(records: { line: number; record: unknown }[], fileName: string): ExportedRun {
  const [first, ...rest] = records;
  if (!isPlainObject(first.record) || first.record.type !== 'run') {
    throw new RunImportError(`not a TAO-RL Workbench run: line ${first.line} is not a "run" record`);
  }
  const head = first.record;
  const { config, created, changes } = atLine(first.line, () => {
    expectNumber(head.steps, 'steps', NON_NEGATIVE_INTEGER);
    const when = head.created !== undefined ? expectDate(head.created, 'created') : expectDate(head.started, 'started');
    return {
      config: readConfig(head.config, 'config'),
      created: when,
      changes: head.changes === undefined ? [] : readChanges(head.changes, 'changes'),
    };
  });

  const steps: { line: number; record: JsonObject }[] = [];
  const evaluationRecords: { line: number; record: JsonObject }[] = [];
  let trajectories = 0;
  for (const { line, record } of rest) {
    atLine(line, () => {
      const entry = expectObject(record, '');
      if (entry.type === 'run') fail('type', 'a second "run" record (a file holds one run)');
      const type = expectOneOf(entry.type, 'type', LINE_TYPES);
      if (type === 'step') {
        steps.push({ line, record: entry });
        if (Array.isArray(entry.trajectories)) trajectories += entry.trajectories.length;
      } else if (type === 'evaluation') {
        evaluationRecords.push({ line, record: entry });
      }
    });
  }
  checkLimits(steps.length, trajectories);

  const settings = new SettingsReader();
  const reports: StepReport[] = [];
  for (const { line, record } of steps) {
    atLine(line, () => reports.push(readReport(record, '', reports[reports.length - 1]?.step ?? null, settings)));
  }
  const evaluations: ExportedRun['evaluations'] = [];
  for (const { line, record } of evaluationRecords) {
    atLine(line, () => {
      const step = readEvaluationStep(record.step, 'step', evaluations[evaluations.length - 1]?.step ?? null);
      evaluations.push({ step, evaluation: readEvaluation(record, '') });
    });
  }
  return { format: RUN_FORMAT, version: RUN_FORMAT_VERSION, name: runName(fileName), created, config, reports, evaluations, changes };
}

/** Runs `read`, naming the line in any problem it finds. */
function atLine<T>(line: number, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ValidationError) throw new ValidationError(error.problem, error.path === '' ? `line ${line}` : `line ${line}: ${error.path}`);
    throw error;
  }
}

/** The file's name without folders and its .jsonl / .json ending. */
function runName(fileName: string): string {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
  return base.replace(/\.(jsonl|ndjson|json)$/i, '') || base;
}

// ---------------------------------------------------------------------------------------------
// Import: the parts of a run

const FINISH_REASONS: Record<FinishReason, true> = { eos: true, length: true, tool_limit: true };
const DISCARD_REASONS: Record<DiscardReason, true> = { group_all_correct: true, group_all_wrong: true, all_tools_failed: true };
const FAILURE_CAUSES: Record<FailureCause, true> = { policy: true, environment: true };
const FINISH_REASON_LIST = keysOf(FINISH_REASONS);
const DISCARD_REASON_LIST = keysOf(DISCARD_REASONS);
const FAILURE_CAUSE_LIST = keysOf(FAILURE_CAUSES);
const CHECKPOINT_FORMAT: CheckpointManifest['format'] = 'tao-rl-workbench/checkpoint@1';

function readConfig(value: unknown, path: string): Config {
  const raw = expectObject(value, path);
  try {
    return resolveConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) throw new RunImportError(`${path}.${error.message}`);
    throw error;
  }
}

/** Validates step settings like a config; a run repeats the same settings, so each is checked once. */
class SettingsReader {
  private readonly checked = new Map<string, string | null>();

  read(value: unknown, path: string, preset: PresetName): StepSettings {
    const settings = expectObject(value, path);
    const key = `${preset} ${JSON.stringify(settings)}`;
    let problem = this.checked.get(key);
    if (problem === undefined) {
      problem = null;
      try {
        resolveConfig({ ...settings, preset });
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        problem = error.message;
      }
      this.checked.set(key, problem);
    }
    if (problem !== null) throw new RunImportError(`${path}.${problem}`);
    return settings as unknown as StepSettings;
  }
}

function readReport(value: unknown, path: string, previousStep: number | null, settings: SettingsReader): StepReport {
  const report = expectObject(value, path);
  const stepPath = pathTo(path, 'step');
  const step = expectNumber(report.step, stepPath, NON_NEGATIVE_INTEGER);
  if (previousStep !== null && step <= previousStep) fail(stepPath, `${step} is not above the previous step ${previousStep} (steps must increase)`);
  const preset = expectOneOf(report.preset, pathTo(path, 'preset'), PRESET_NAMES);
  const trajectoriesPath = pathTo(path, 'trajectories');
  return {
    step,
    preset,
    seed: expectNumber(report.seed, pathTo(path, 'seed'), NON_NEGATIVE_INTEGER),
    settings: settings.read(report.settings, pathTo(path, 'settings'), preset),
    skipped: expectBoolean(report.skipped, pathTo(path, 'skipped')),
    metrics: readMetrics(report.metrics, pathTo(path, 'metrics')),
    trajectories: expectArray(report.trajectories, trajectoriesPath).map((t, i) => readTrajectory(t, `${trajectoriesPath}[${i}]`)),
  };
}

/** The step metrics under today's names (an older file's are renamed: core/metrics.ts). */
function readMetrics(value: unknown, path: string): StepMetrics {
  const raw = expectObject(value, path);
  const metrics: Record<string, number> = {};
  for (const [name, metric] of Object.entries(raw)) metrics[name] = expectNumberOrNull(metric, pathTo(path, name));
  return currentStepMetrics(metrics);
}

function readTrajectory(value: unknown, path: string): TrajectoryReport {
  const t = expectObject(value, path);
  const at = (key: string) => pathTo(path, key);
  const toolCallsPath = at('toolCalls');
  const segmentsPath = at('segments');
  return {
    group: expectNumber(t.group, at('group'), NON_NEGATIVE_INTEGER),
    prompt: expectString(t.prompt, at('prompt')),
    expected: expectString(t.expected, at('expected')),
    answer: t.answer === null ? null : expectString(t.answer, at('answer'), 'a string or null'),
    reward: expectNumber(t.reward, at('reward'), FINITE),
    finishReason: expectOneOf(t.finishReason, at('finishReason'), FINISH_REASON_LIST),
    kept: expectBoolean(t.kept, at('kept')),
    reason: t.reason === null ? null : expectOneOf(t.reason, at('reason'), DISCARD_REASON_LIST, 'or null'),
    trainedCopies: expectNumber(t.trainedCopies, at('trainedCopies'), NON_NEGATIVE_INTEGER),
    advantage: expectNumberOrNull(t.advantage, at('advantage')),
    toolCalls: expectArray(t.toolCalls, toolCallsPath).map((call, i) => readToolCall(call, `${toolCallsPath}[${i}]`)),
    segments: expectArray(t.segments, segmentsPath).map((raw, i) => {
      const segment = expectObject(raw, `${segmentsPath}[${i}]`);
      return {
        kind: expectOneOf(segment.kind, `${segmentsPath}[${i}].kind`, TOKEN_KINDS),
        text: expectString(segment.text, `${segmentsPath}[${i}].text`),
      };
    }),
    tokens: readTokens(t.tokens, at('tokens')),
  };
}

function readToolCall(value: unknown, path: string): ToolCallRecord {
  const raw = expectObject(value, path);
  const call: ToolCallRecord = { expression: expectString(raw.expression, pathTo(path, 'expression')), ok: expectBoolean(raw.ok, pathTo(path, 'ok')) };
  if (raw.value !== undefined) call.value = expectString(raw.value, pathTo(path, 'value'));
  if (raw.error !== undefined) call.error = expectOneOf(raw.error, pathTo(path, 'error'), TOOL_ERROR_KINDS);
  if (raw.message !== undefined) call.message = expectString(raw.message, pathTo(path, 'message'));
  if (raw.cause !== undefined) call.cause = expectOneOf(raw.cause, pathTo(path, 'cause'), FAILURE_CAUSE_LIST);
  return call;
}

/**
 * Columnar token arrays: one entry per token in each, non-finite numbers written as null. The
 * arrays are checked where they lie, not copied: the parsed file is the import's own.
 */
function readTokens(value: unknown, path: string): TrajectoryReport['tokens'] {
  const raw = expectObject(value, path);
  const at = (key: string) => pathTo(path, key);
  const columns = ['text', 'kind', 'entropy', 'logprob', 'postTool', 'lossWeight', 'advantage', 'bonus'] as const;
  for (const column of columns) expectArray(raw[column], at(column));
  const length = (raw.text as unknown[]).length;
  for (const column of columns) {
    const found = (raw[column] as unknown[]).length;
    if (found !== length) fail(at(column), `${found} entries, but text has ${length} (one entry per token)`);
  }
  return {
    text: expectEach(raw.text as unknown[], at('text'), isString, 'a string'),
    kind: expectEach(raw.kind as unknown[], at('kind'), isTokenKind, `one of ${TOKEN_KINDS.join(', ')}`),
    entropy: numbersOrNull(raw.entropy as unknown[], at('entropy')),
    logprob: numbersOrNull(raw.logprob as unknown[], at('logprob')),
    postTool: expectEach(raw.postTool as unknown[], at('postTool'), (v): v is 0 | 1 => v === 0 || v === 1, '0 or 1'),
    lossWeight: numbersOrNull(raw.lossWeight as unknown[], at('lossWeight')),
    advantage: numbersOrNull(raw.advantage as unknown[], at('advantage')),
    bonus: numbersOrNull(raw.bonus as unknown[], at('bonus')),
  };
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isTokenKind = (value: unknown): value is TokenKind => TOKEN_KINDS.includes(value as TokenKind);

/** A column of numbers whose nulls (JSON's NaN and Infinity) become NaN where they lie. */
function numbersOrNull(list: unknown[], path: string): number[] {
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    if (entry === null) list[i] = NaN;
    else if (typeof entry !== 'number') fail(pathTo(path, i), isNot(entry, 'a number or null'));
  }
  return list as number[];
}

function readEvaluationStep(value: unknown, path: string, previous: number | null): number {
  const step = expectNumber(value, path, NON_NEGATIVE_INTEGER);
  if (previous !== null && step < previous) fail(path, `${step} is below the previous evaluation's step ${previous} (evaluations are in step order)`);
  return step;
}

function readEvaluation(value: unknown, path: string): Evaluation {
  const raw = expectObject(value, path);
  const at = (key: string) => pathTo(path, key);
  const byKind: Record<string, number> = {};
  for (const [kind, accuracy] of Object.entries(expectObject(raw.byKind, at('byKind')))) {
    byKind[kind] = expectFraction(accuracy, pathTo(at('byKind'), kind));
  }
  return {
    prompts: expectNumber(raw.prompts, at('prompts'), NON_NEGATIVE_INTEGER),
    samples: expectNumber(raw.samples, at('samples'), NON_NEGATIVE_INTEGER),
    sampledAccuracy: expectFraction(raw.sampledAccuracy, at('sampledAccuracy')),
    passAtK: expectFraction(raw.passAtK, at('passAtK')),
    greedyAccuracy: raw.greedyAccuracy === null ? null : expectFraction(raw.greedyAccuracy, at('greedyAccuracy'), 'or null'),
    callRate: expectFraction(raw.callRate, at('callRate')),
    callFailureRate: expectFraction(raw.callFailureRate, at('callFailureRate')),
    environmentFailureRate: expectFraction(raw.environmentFailureRate, at('environmentFailureRate')),
    allCallsFailedRate: expectFraction(raw.allCallsFailedRate, at('allCallsFailedRate')),
    mixedGroups: expectFraction(raw.mixedGroups, at('mixedGroups')),
    byKind,
  };
}

function readChanges(value: unknown, path: string): SettingChange[] {
  return expectArray(value, path).map((raw, i) => {
    const change = expectObject(raw, `${path}[${i}]`);
    return {
      field: expectString(change.field, `${path}[${i}].field`),
      from: change.from,
      to: change.to,
      step: expectNumber(change.step, `${path}[${i}].step`, NON_NEGATIVE_INTEGER),
    };
  });
}

function readWeights(value: unknown, path: string): RunWeights {
  const raw = expectObject(value, path);
  const step = expectNumber(raw.step, pathTo(path, 'step'), NON_NEGATIVE_INTEGER);
  const manifest = readManifest(raw.manifest, pathTo(path, 'manifest'));
  const base64 = expectString(raw.base64, pathTo(path, 'base64'));
  const expected = 4 * manifest.weights.reduce((sum, w) => sum + w.shape.reduce((size, d) => size * d, 1), 0); // float32
  if (expected > MAX_IMPORT_BYTES) {
    fail(pathTo(pathTo(path, 'manifest'), 'weights'), `describe ${groupDigits(expected)} bytes, more than a run file can hold`);
  }
  const found = base64ByteLength(base64, pathTo(path, 'base64'));
  if (found < expected) throw new RunImportError(`the weights are cut short: expected ${groupDigits(expected)} bytes, found ${groupDigits(found)}`);
  if (found > expected) throw new RunImportError(`the weights are too long: expected ${groupDigits(expected)} bytes, found ${groupDigits(found)}`);
  return { step, manifest, base64 };
}

function readManifest(value: unknown, path: string): CheckpointManifest {
  const raw = expectObject(value, path);
  const at = (key: string) => pathTo(path, key);
  const format = expectOneOf(raw.format, at('format'), [CHECKPOINT_FORMAT]);
  const model = expectObject(raw.model, at('model'));
  const modelAt = (key: string) => pathTo(at('model'), key);
  const weightsPath = at('weights');
  return {
    format,
    model: {
      vocabSize: expectNumber(model.vocabSize, modelAt('vocabSize'), POSITIVE_INTEGER),
      contextLength: expectNumber(model.contextLength, modelAt('contextLength'), POSITIVE_INTEGER),
      layers: expectNumber(model.layers, modelAt('layers'), POSITIVE_INTEGER),
      width: expectNumber(model.width, modelAt('width'), POSITIVE_INTEGER),
      heads: expectNumber(model.heads, modelAt('heads'), POSITIVE_INTEGER),
      mlpRatio: expectNumber(model.mlpRatio, modelAt('mlpRatio'), POSITIVE),
    },
    weights: expectArray(raw.weights, weightsPath).map((entry, i) => {
      const weight = expectObject(entry, `${weightsPath}[${i}]`);
      const shapePath = `${weightsPath}[${i}].shape`;
      return {
        name: expectString(weight.name, `${weightsPath}[${i}].name`),
        shape: expectArray(weight.shape, shapePath).map((d, k) => expectNumber(d, `${shapePath}[${k}]`, NON_NEGATIVE_INTEGER)),
      };
    }),
    provenance: expectObject(raw.provenance, at('provenance')),
  };
}

// ---------------------------------------------------------------------------------------------
// Base64, chunked: String.fromCharCode(...bytes) of a whole checkpoint would overflow the stack

/** Bytes per btoa call: a multiple of 3, so no chunk but the last is padded. */
const ENCODE_CHUNK = 3 * 8192;
/** Characters per atob call: a multiple of 4. */
const DECODE_CHUNK = 4 * 8192;

export function base64FromBytes(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let start = 0; start < bytes.length; start += ENCODE_CHUNK) {
    parts.push(btoa(String.fromCharCode(...bytes.subarray(start, start + ENCODE_CHUNK))));
  }
  return parts.join('');
}

export function bytesFromBase64(text: string): Uint8Array {
  const bytes = new Uint8Array(base64ByteLength(text, ''));
  let offset = 0;
  for (let start = 0; start < text.length; start += DECODE_CHUNK) {
    const binary = atob(text.slice(start, start + DECODE_CHUNK));
    for (let i = 0; i < binary.length; i++) bytes[offset + i] = binary.charCodeAt(i);
    offset += binary.length;
  }
  return bytes;
}

/** Bytes the base64 text decodes to (padding optional); a RunImportError naming the first fault. */
function base64ByteLength(text: string, path: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const data = text.length - padding;
  if (!/^[A-Za-z0-9+/]*$/.test(text.slice(0, data))) {
    const bad = text.search(/[^A-Za-z0-9+/]/);
    fail(path, `not base64: unexpected ${describeCharacter(text[bad])} at character ${bad + 1}`);
  }
  if (data % 4 === 1 || (padding > 0 && text.length % 4 !== 0)) fail(path, `not base64: ${text.length} characters cannot end as they do`);
  return Math.floor((data * 3) / 4);
}

// ---------------------------------------------------------------------------------------------
// Readers of the run file's own kinds of value (the rest are in core/validate.ts)

function keysOf<T extends string>(record: Record<T, true>): T[] {
  return Object.keys(record) as T[];
}

function jsonKind(value: unknown): string {
  if (value === null) return 'JSON null';
  if (Array.isArray(value)) return 'a JSON array';
  return `a JSON ${typeof value}`;
}

const isDate = (value: unknown): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value));

function expectDate(value: unknown, path: string): string {
  return expectValue(value, path, isDate, 'a date such as 2026-01-31T12:00:00.000Z');
}

const isFraction = (value: unknown): value is number => isInRange(value, UNIT_INTERVAL);

/** A rate or accuracy, in the short wording: "<value> is not a number in [0, 1]"; `orAlso` extends what is allowed. */
function expectFraction(value: unknown, path: string, orAlso = ''): number {
  return expectValue(value, path, isFraction, `${UNIT_INTERVAL.describe}${orAlso ? ` ${orAlso}` : ''}`);
}

/** A number, or null for the NaN or Infinity that JSON wrote as null (read back as NaN). */
function expectNumberOrNull(value: unknown, path: string): number {
  if (value === null) return NaN;
  if (typeof value !== 'number') fail(path, isNot(value, 'a number or null'));
  return value;
}
