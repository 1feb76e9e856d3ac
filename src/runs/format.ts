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
import type { DiscardReason, TokenKind } from '../core/tao/types';
import { TOOL_ERROR_KINDS } from '../core/tools/types';
import type { StepReport, StepSettings, TrajectoryReport } from '../core/trainer';
import type { SettingChange } from './types';

export const RUN_FORMAT = 'tao-rl-workbench/run';
/** Bumped when a field changes meaning or a reader of the old version could not read the new one. */
export const RUN_FORMAT_VERSION = 1;

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

export class RunImportError extends Error {
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
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
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

/**
 * Where JSON.parse fails on `text`: the offset of the first character that breaks the grammar,
 * text.length when the text ends before its value does, null when it is valid JSON. Iterative,
 * so deep nesting cannot overflow the stack.
 */
function jsonSyntaxError(text: string): number | null {
  const n = text.length;
  const open: string[] = []; // '{' and '[' not yet closed
  let expect: 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'next' = 'value';
  let i = 0;
  for (;;) {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
    if (i >= n) return expect === 'next' && open.length === 0 ? null : n;
    const c = text[i];
    switch (expect) {
      case 'value':
      case 'valueOrClose': {
        if (c === ']' && expect === 'valueOrClose') {
          open.pop();
          i++;
          expect = 'next';
        } else if (c === '{' || c === '[') {
          open.push(c);
          i++;
          expect = c === '{' ? 'keyOrClose' : 'valueOrClose';
        } else {
          const end = c === '"' ? scanString(text, i) : scanLiteral(text, i);
          if (end < 0) return -end - 1;
          i = end;
          expect = 'next';
        }
        break;
      }
      case 'key':
      case 'keyOrClose': {
        if (c === '}' && expect === 'keyOrClose') {
          open.pop();
          i++;
          expect = 'next';
          break;
        }
        if (c !== '"') return i;
        const end = scanString(text, i);
        if (end < 0) return -end - 1;
        i = end;
        expect = 'colon';
        break;
      }
      case 'colon':
        if (c !== ':') return i;
        i++;
        expect = 'value';
        break;
      case 'next': {
        const top = open[open.length - 1];
        if (top === undefined) return i; // something after the one top-level value
        if (c === ',') {
          i++;
          expect = top === '{' ? 'key' : 'value';
        } else if ((c === '}' && top === '{') || (c === ']' && top === '[')) {
          open.pop();
          i++;
        } else {
          return i;
        }
        break;
      }
    }
  }
}

/** End of the string starting at `start` (a quote), or -(offset + 1) of its first fault. */
function scanString(text: string, start: number): number {
  const n = text.length;
  for (let j = start + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x22) return j + 1;
    if (c < 0x20) return -(j + 1);
    if (c !== 0x5c) continue;
    const escape = text[j + 1];
    if (escape === undefined) return -(n + 1);
    if (escape === 'u') {
      for (let k = j + 2; k < j + 6; k++) {
        if (k >= n) return -(n + 1);
        if (!/[0-9a-fA-F]/.test(text[k])) return -(k + 1);
      }
      j += 5;
    } else if ('"\\/bfnrt'.includes(escape)) {
      j += 1;
    } else {
      return -(j + 2);
    }
  }
  return -(n + 1);
}

/** End of the number, true, false or null at `start`, or -(offset + 1) of its first fault. */
function scanLiteral(text: string, start: number): number {
  const n = text.length;
  for (const word of ['true', 'false', 'null']) {
    if (text[start] !== word[0]) continue;
    let k = 0;
    while (k < word.length && start + k < n && text[start + k] === word[k]) k++;
    if (k === word.length) return start + k;
    return -(start + k + 1); // start + k === n: the word was cut short
  }
  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, failing at the first character that cannot follow
  const isDigit = (j: number) => j < n && text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39;
  const digitsFrom = (j: number) => {
    if (j >= n) return -(n + 1);
    if (!isDigit(j)) return -(j + 1);
    while (isDigit(j)) j++;
    return j;
  };
  let j = start;
  if (text[j] === '-') j++;
  if (text[j] === '0') {
    j++;
  } else {
    j = digitsFrom(j);
    if (j < 0) return j;
  }
  if (text[j] === '.') {
    j = digitsFrom(j + 1);
    if (j < 0) return j;
  }
  if (text[j] === 'e' || text[j] === 'E') {
    j++;
    if (text[j] === '+' || text[j] === '-') j++;
    j = digitsFrom(j);
  }
  return j;
}

function describeCharacter(character: string): string {
  if (character === '\n' || character === '\r') return 'line break';
  return JSON.stringify(character);
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
    expectInteger(head.steps, 'steps', 0);
    const when = head.created !== undefined ? expectDate(head.created, 'created') : expectDate(head.started, 'started');
    return {
      config: readConfig(head.config, 'config'),
      created: when,
      changes: head.changes === undefined ? [] : readChanges(head.changes, 'changes'),
    };
  });

  const steps: { line: number; record: Record<string, unknown> }[] = [];
  const evaluationRecords: { line: number; record: Record<string, unknown> }[] = [];
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
    if (error instanceof RunImportError) throw new RunImportError(`line ${line}: ${error.message}`);
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

const TOKEN_KINDS: Record<TokenKind, true> = { prompt: true, policy: true, tool: true };
const FINISH_REASONS: Record<FinishReason, true> = { eos: true, length: true, tool_limit: true };
const DISCARD_REASONS: Record<DiscardReason, true> = { group_all_correct: true, group_all_wrong: true, all_tools_failed: true };
const FAILURE_CAUSES: Record<FailureCause, true> = { policy: true, environment: true };
const TOKEN_KIND_LIST = keysOf(TOKEN_KINDS);
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
  const stepPath = keyPath(path, 'step');
  const step = expectInteger(report.step, stepPath, 0);
  if (previousStep !== null && step <= previousStep) fail(stepPath, `${step} is not above the previous step ${previousStep} (steps must increase)`);
  const preset = expectOneOf(report.preset, keyPath(path, 'preset'), PRESET_NAMES);
  const trajectoriesPath = keyPath(path, 'trajectories');
  return {
    step,
    preset,
    seed: expectInteger(report.seed, keyPath(path, 'seed'), 0),
    settings: settings.read(report.settings, keyPath(path, 'settings'), preset),
    skipped: expectBoolean(report.skipped, keyPath(path, 'skipped')),
    metrics: readMetrics(report.metrics, keyPath(path, 'metrics')),
    trajectories: expectArray(report.trajectories, trajectoriesPath).map((t, i) => readTrajectory(t, `${trajectoriesPath}[${i}]`)),
  };
}

function readMetrics(value: unknown, path: string): Record<string, number> {
  const raw = expectObject(value, path);
  const metrics: Record<string, number> = {};
  for (const [name, metric] of Object.entries(raw)) metrics[name] = expectNumberOrNull(metric, keyPath(path, name));
  return metrics;
}

function readTrajectory(value: unknown, path: string): TrajectoryReport {
  const t = expectObject(value, path);
  const at = (key: string) => keyPath(path, key);
  const toolCallsPath = at('toolCalls');
  const segmentsPath = at('segments');
  return {
    group: expectInteger(t.group, at('group'), 0),
    prompt: expectString(t.prompt, at('prompt')),
    expected: expectString(t.expected, at('expected')),
    answer: t.answer === null ? null : expectString(t.answer, at('answer'), 'a string or null'),
    reward: expectFinite(t.reward, at('reward')),
    finishReason: expectOneOf(t.finishReason, at('finishReason'), FINISH_REASON_LIST),
    kept: expectBoolean(t.kept, at('kept')),
    reason: t.reason === null ? null : expectOneOf(t.reason, at('reason'), DISCARD_REASON_LIST, 'or null'),
    trainedCopies: expectInteger(t.trainedCopies, at('trainedCopies'), 0),
    advantage: expectNumberOrNull(t.advantage, at('advantage')),
    toolCalls: expectArray(t.toolCalls, toolCallsPath).map((call, i) => readToolCall(call, `${toolCallsPath}[${i}]`)),
    segments: expectArray(t.segments, segmentsPath).map((raw, i) => {
      const segment = expectObject(raw, `${segmentsPath}[${i}]`);
      return {
        kind: expectOneOf(segment.kind, `${segmentsPath}[${i}].kind`, TOKEN_KIND_LIST),
        text: expectString(segment.text, `${segmentsPath}[${i}].text`),
      };
    }),
    tokens: readTokens(t.tokens, at('tokens')),
  };
}

function readToolCall(value: unknown, path: string): ToolCallRecord {
  const raw = expectObject(value, path);
  const call: ToolCallRecord = { expression: expectString(raw.expression, keyPath(path, 'expression')), ok: expectBoolean(raw.ok, keyPath(path, 'ok')) };
  if (raw.value !== undefined) call.value = expectString(raw.value, keyPath(path, 'value'));
  if (raw.error !== undefined) call.error = expectOneOf(raw.error, keyPath(path, 'error'), TOOL_ERROR_KINDS);
  if (raw.message !== undefined) call.message = expectString(raw.message, keyPath(path, 'message'));
  if (raw.cause !== undefined) call.cause = expectOneOf(raw.cause, keyPath(path, 'cause'), FAILURE_CAUSE_LIST);
  return call;
}

/** Columnar token arrays: one entry per token in each, non-finite numbers written as null. */
function readTokens(value: unknown, path: string): TrajectoryReport['tokens'] {
  const raw = expectObject(value, path);
  const at = (key: string) => keyPath(path, key);
  const columns = ['text', 'kind', 'entropy', 'logprob', 'postTool', 'lossWeight', 'advantage', 'bonus'] as const;
  for (const column of columns) expectArray(raw[column], at(column));
  const length = (raw.text as unknown[]).length;
  for (const column of columns) {
    const found = (raw[column] as unknown[]).length;
    if (found !== length) fail(at(column), `${found} entries, but text has ${length} (one entry per token)`);
  }
  return {
    text: eachEntry(raw.text as unknown[], at('text'), (v) => (typeof v === 'string' ? v : undefined), 'a string'),
    kind: eachEntry(raw.kind as unknown[], at('kind'), (v) => (TOKEN_KIND_LIST.includes(v as TokenKind) ? (v as TokenKind) : undefined), `one of ${TOKEN_KIND_LIST.join(', ')}`),
    entropy: numbersOrNull(raw.entropy as unknown[], at('entropy')),
    logprob: numbersOrNull(raw.logprob as unknown[], at('logprob')),
    postTool: eachEntry(raw.postTool as unknown[], at('postTool'), (v) => (v === 0 || v === 1 ? v : undefined), '0 or 1'),
    lossWeight: numbersOrNull(raw.lossWeight as unknown[], at('lossWeight')),
    advantage: numbersOrNull(raw.advantage as unknown[], at('advantage')),
    bonus: numbersOrNull(raw.bonus as unknown[], at('bonus')),
  };
}

/** Every entry read by `read` (undefined: not acceptable); paths are only built for a fault. */
function eachEntry<T>(list: unknown[], path: string, read: (value: unknown) => T | undefined, must: string): T[] {
  const out = new Array<T>(list.length);
  for (let i = 0; i < list.length; i++) {
    const entry = read(list[i]);
    if (entry === undefined) fail(`${path}[${i}]`, `${formatValue(list[i])} is not ${must}`);
    out[i] = entry;
  }
  return out;
}

function numbersOrNull(list: unknown[], path: string): number[] {
  return eachEntry(list, path, (v) => (typeof v === 'number' ? v : v === null ? NaN : undefined), 'a number or null');
}

function readEvaluationStep(value: unknown, path: string, previous: number | null): number {
  const step = expectInteger(value, path, 0);
  if (previous !== null && step < previous) fail(path, `${step} is below the previous evaluation's step ${previous} (evaluations are in step order)`);
  return step;
}

function readEvaluation(value: unknown, path: string): Evaluation {
  const raw = expectObject(value, path);
  const at = (key: string) => keyPath(path, key);
  const byKind: Record<string, number> = {};
  for (const [kind, accuracy] of Object.entries(expectObject(raw.byKind, at('byKind')))) {
    byKind[kind] = expectFraction(accuracy, keyPath(at('byKind'), kind));
  }
  return {
    prompts: expectInteger(raw.prompts, at('prompts'), 0),
    samples: expectInteger(raw.samples, at('samples'), 0),
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
      step: expectInteger(change.step, `${path}[${i}].step`, 0),
    };
  });
}

function readWeights(value: unknown, path: string): RunWeights {
  const raw = expectObject(value, path);
  const step = expectInteger(raw.step, keyPath(path, 'step'), 0);
  const manifest = readManifest(raw.manifest, keyPath(path, 'manifest'));
  const base64 = expectString(raw.base64, keyPath(path, 'base64'));
  const expected = 4 * manifest.weights.reduce((sum, w) => sum + w.shape.reduce((size, d) => size * d, 1), 0); // float32
  if (expected > MAX_IMPORT_BYTES) {
    fail(keyPath(keyPath(path, 'manifest'), 'weights'), `describe ${groupDigits(expected)} bytes, more than a run file can hold`);
  }
  const found = base64ByteLength(base64, keyPath(path, 'base64'));
  if (found < expected) throw new RunImportError(`the weights are cut short: expected ${groupDigits(expected)} bytes, found ${groupDigits(found)}`);
  if (found > expected) throw new RunImportError(`the weights are too long: expected ${groupDigits(expected)} bytes, found ${groupDigits(found)}`);
  return { step, manifest, base64 };
}

function readManifest(value: unknown, path: string): CheckpointManifest {
  const raw = expectObject(value, path);
  const at = (key: string) => keyPath(path, key);
  const format = expectOneOf(raw.format, at('format'), [CHECKPOINT_FORMAT]);
  const model = expectObject(raw.model, at('model'));
  const modelAt = (key: string) => keyPath(at('model'), key);
  const weightsPath = at('weights');
  return {
    format,
    model: {
      vocabSize: expectInteger(model.vocabSize, modelAt('vocabSize'), 1),
      contextLength: expectInteger(model.contextLength, modelAt('contextLength'), 1),
      layers: expectInteger(model.layers, modelAt('layers'), 1),
      width: expectInteger(model.width, modelAt('width'), 1),
      heads: expectInteger(model.heads, modelAt('heads'), 1),
      mlpRatio: expectPositive(model.mlpRatio, modelAt('mlpRatio')),
    },
    weights: expectArray(raw.weights, weightsPath).map((entry, i) => {
      const weight = expectObject(entry, `${weightsPath}[${i}]`);
      const shapePath = `${weightsPath}[${i}].shape`;
      return {
        name: expectString(weight.name, `${weightsPath}[${i}].name`),
        shape: expectArray(weight.shape, shapePath).map((d, k) => expectInteger(d, `${shapePath}[${k}]`, 0)),
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
// Field readers: each returns the value or throws "path: what is wrong (what is allowed)"

type JsonObject = Record<string, unknown>;

function fail(path: string, problem: string): never {
  throw new RunImportError(path === '' ? problem : `${path}: ${problem}`);
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** path.key, or path["odd key"] for metric names such as "reward/mean". */
function keyPath(path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

function keysOf<T extends string>(record: Record<T, true>): T[] {
  return Object.keys(record) as T[];
}

/** The value as written, short and on one line. */
function formatValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function jsonKind(value: unknown): string {
  if (value === null) return 'JSON null';
  if (Array.isArray(value)) return 'a JSON array';
  return `a JSON ${typeof value}`;
}

/** "missing (must be X)" or "<value> is not X". */
function wrong(value: unknown, must: string): string {
  return value === undefined ? `missing (must be ${must})` : `${formatValue(value)} is not ${must}`;
}

function expectObject(value: unknown, path: string): JsonObject {
  if (!isPlainObject(value)) fail(path, wrong(value, 'an object'));
  return value;
}

function expectArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, wrong(value, 'an array'));
  return value;
}

function expectString(value: unknown, path: string, must = 'a string'): string {
  if (typeof value !== 'string') fail(path, wrong(value, must));
  return value;
}

function expectDate(value: unknown, path: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) fail(path, wrong(value, 'a date such as 2026-01-31T12:00:00.000Z'));
  return value;
}

function expectBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') fail(path, wrong(value, 'true or false'));
  return value;
}

function expectOneOf<T extends string>(value: unknown, path: string, allowed: readonly T[], orNull = ''): T {
  if (!allowed.includes(value as T)) fail(path, wrong(value, `one of ${allowed.join(', ')}${orNull ? ` ${orNull}` : ''}`));
  return value as T;
}

function expectInteger(value: unknown, path: string, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(path, wrong(value, `an integer >= ${min}`));
  return value;
}

function expectFinite(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, wrong(value, 'a finite number'));
  return value;
}

function expectPositive(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(path, wrong(value, 'a number > 0'));
  return value;
}

function expectFraction(value: unknown, path: string, orNull = ''): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(path, wrong(value, `a number in [0, 1]${orNull ? ` ${orNull}` : ''}`));
  return value;
}

/** A number, or null for the NaN or Infinity that JSON wrote as null (read back as NaN). */
function expectNumberOrNull(value: unknown, path: string): number {
  if (value === null) return NaN;
  if (typeof value !== 'number') fail(path, wrong(value, 'a number or null'));
  return value;
}
