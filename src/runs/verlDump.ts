// A verl rollout dump (`trainer.rollout_data_dir`, verl 0.4 and later) as a workbench run: each
// `{step}.jsonl` line is one trajectory, {"input", "output", "score", "step", ...}. The samples of
// one step with the same `input` form a group; the output is split into the model's text, its
// code blocks (tool calls) and their results by the tool format; the reward is `score`. The
// workbench's own dual filter (core/tao/filter.ts) decides each trajectory's verdict, so a real
// run's discards, pass rates and failed calls show in the page as the workbench's own do.
// View-only: a dump holds text, not tokens, so there is no entropy, log-prob or weight; each
// segment of the output stands for one "token". Lines are read one at a time (a reader of any
// size can stream them); a broken line is refused with its file and line number.
// Pure TypeScript: the page and the command line share it (docs/scale-out.md).

import { resolveConfig, type Config } from '../core/config';
import type { ToolCallRecord } from '../core/environment';
import { describeCharacter, jsonSyntaxError } from '../core/jsonSyntax';
import type { StepMetrics } from '../core/metrics';
import { stepSettingFields } from '../core/settings';
import { groupAdvantages, groupMembers } from '../core/tao/advantage';
import { dualFilter, hasZeroRewardStd } from '../core/tao/filter';
import type { DiscardReason, TokenKind } from '../core/tao/types';
import type { StepReport, StepSettings, TrajectoryReport } from '../core/trainer';
import { RUN_FORMAT, RUN_FORMAT_VERSION, type ExportedRun } from './format';

/**
 * How tool turns are written in `output`. tao-rl: the recipe's code block (```` ```python ````,
 * ```` ```py ```` or a bare fence) followed by "\nCode execution result: TEXT\n"; simpletir: the
 * code block followed by an ```` ```output ```` block.
 */
export const TOOL_FORMATS = ['tao-rl', 'simpletir'] as const;
export type ToolFormat = (typeof TOOL_FORMATS)[number];

/** A dump that cannot be read: the message names the file and the line. */
export class VerlDumpError extends Error {
  override name = 'VerlDumpError';
}

/** What an import found, in the `--json` line's shape; discards are counted in trajectories. */
export interface DumpSummary {
  steps: number;
  groups: number;
  trajectories: number;
  discarded: Record<DiscardReason, number>;
  tool_calls: number;
  tool_failures: number;
}

// ---------------------------------------------------------------------------------------------
// One output: model text, tool calls and their results

/** A part of the output: the model's text (a code block included) or a tool's result. */
export interface OutputSegment {
  kind: Extract<TokenKind, 'policy' | 'tool'>;
  text: string;
}

const CODE_BLOCK = /```(?:py|python)?\n([\s\S]*?)\n```/g;
const RESULT_MARK = '\nCode execution result: ';
const OUTPUT_BLOCK = /^\s*```output\n([\s\S]*?)(?:\n```|$)/;

/**
 * Whether a result means the call failed: the recipe shows the last line of stderr when there was
 * any (a traceback's error line), else stdout, or "interpreter timeout" when the sandbox gave up.
 * An empty result counts as success here (the recipe's valid_code counts it as not valid).
 */
export function callFailure(result: string): Pick<ToolCallRecord, 'error' | 'message' | 'cause'> | null {
  const text = result.trim();
  if (/^(interpreter )?timeout$/i.test(text) || /^timed? ?out\b/i.test(text)) return { error: 'timeout', message: text, cause: 'environment' };
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const last = lines.at(-1) ?? '';
  const errorLine = /^([A-Za-z_][\w.]*(?:Error|Exception)|KeyboardInterrupt|SystemExit)\b(:.*)?$/.exec(last.trim());
  if (!errorLine && !text.startsWith('Traceback (most recent call last)')) return null;
  const kind = errorLine?.[1] ?? '';
  const error = kind.endsWith('SyntaxError') || kind === 'IndentationError' ? 'syntax' : kind === 'ZeroDivisionError' ? 'division_by_zero' : undefined;
  return { ...(error ? { error } : {}), message: last.trim(), cause: 'policy' };
}

/**
 * Where the result after a code block ends: at its line end. The recipe's observation is one
 * line for every failure (the last line of stderr, or "interpreter timeout"); a successful call's
 * stdout of several lines shows its further lines as the model's text, as nothing in the dump
 * marks where the observation ends and the next turn begins.
 */
function resultEnd(output: string, from: number): number {
  const end = output.indexOf('\n', from);
  return end < 0 ? output.length : end + 1;
}

/** The output split into segments and the calls it made, by the tool format. */
export function splitOutput(output: string, format: ToolFormat): { segments: OutputSegment[]; calls: ToolCallRecord[] } {
  const segments: OutputSegment[] = [];
  const calls: ToolCallRecord[] = [];
  let policyFrom = 0; // start of the model text not yet emitted
  const pushPolicy = (end: number) => {
    if (end > policyFrom) segments.push({ kind: 'policy', text: output.slice(policyFrom, end) });
  };
  CODE_BLOCK.lastIndex = 0;
  for (let block = CODE_BLOCK.exec(output); block !== null; block = CODE_BLOCK.exec(output)) {
    const blockEnd = block.index + block[0].length;
    let result: string | null = null;
    let resultTo = blockEnd;
    if (format === 'tao-rl') {
      if (output.startsWith(RESULT_MARK, blockEnd)) {
        const textFrom = blockEnd + RESULT_MARK.length;
        resultTo = resultEnd(output, textFrom);
        result = output.slice(textFrom, resultTo).replace(/\n$/, '');
      }
    } else {
      const found = OUTPUT_BLOCK.exec(output.slice(blockEnd));
      if (found) {
        result = found[1];
        resultTo = blockEnd + found[0].length;
      }
    }
    if (result === null) continue; // a code block nothing ran: the model's text
    pushPolicy(blockEnd);
    segments.push({ kind: 'tool', text: output.slice(blockEnd, resultTo) });
    policyFrom = resultTo;
    CODE_BLOCK.lastIndex = resultTo;
    const failure = callFailure(result);
    calls.push(failure ? { expression: block[1], ok: false, ...failure } : { expression: block[1], ok: true, value: result.trim() });
  }
  pushPolicy(output.length);
  return { segments, calls };
}

/** The last \boxed{...} of a text (braces balanced), the answer the recipe's reward reads. */
export function boxedAnswer(text: string): string | null {
  const at = text.lastIndexOf('\\boxed{');
  if (at < 0) return null;
  let depth = 0;
  for (let i = at + 6; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(at + 7, i);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Reading lines

interface DumpTrajectory {
  group: number;
  reward: number;
  expected: string;
  answer: string | null;
  segments: OutputSegment[];
  calls: ToolCallRecord[];
}

interface StepBuilder {
  step: number;
  /** First file and line of the step, for messages. */
  file: string;
  /** input -> group index; the first sample's text is kept once per group. */
  groups: Map<string, number>;
  prompts: string[];
  trajectories: DumpTrajectory[];
}

/** Names a file that is some other format, from its first line; null when it may be a dump. */
export function foreignFormat(firstLine: string): string | null {
  const line = firstLine.replace(/^\uFEFF/, '').trim();
  if (line.startsWith('PAR1')) return 'a Parquet file (verl reads its data from these), not a rollout dump';
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    if (line === '{' || line === '[') return 'one JSON document over many lines, not JSON lines (a rollout dump has one JSON object a line)';
    if (!line.startsWith('{') && line.includes(',')) return 'CSV or other text, not JSON lines';
    return null; // a broken line: said with its line number
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return null;
  const fields = record as Record<string, unknown>;
  if (fields.format === 'tao-rl-workbench/run') return 'a TAO-RL Workbench run export: open it with Import runs, as a run';
  if (fields.type === 'run' || fields.type === 'step') return 'a TAO-RL Workbench rollouts file (JSON lines of run and step records): open it with Import runs, as a run';
  return null;
}

/** The step number in a dump file's name ("37.jsonl" -> 37), or null. */
export function stepOfFileName(name: string): number | null {
  const match = /(?:^|[\\/])(\d+)\.jsonl$/.exec(name);
  return match ? Number(match[1]) : null;
}

/**
 * Reads a dump line by line. `addLine` takes each line of each file in order; `takeSteps` turns
 * every step read so far into step reports (call it after a file: a step's lines are in one file)
 * and forgets them, so memory holds one file's steps at a time.
 */
export class VerlDumpReader {
  readonly config: Config;
  readonly summary: DumpSummary = {
    steps: 0,
    groups: 0,
    trajectories: 0,
    discarded: { group_all_correct: 0, group_all_wrong: 0, all_tools_failed: 0 },
    tool_calls: 0,
    tool_failures: 0,
  };
  private readonly format: ToolFormat;
  private readonly open = new Map<number, StepBuilder>();
  private readonly taken = new Map<number, string>();
  private lastTaken = -Infinity;
  private readonly groupSizes = new Map<number, number>();
  private readonly groupsPerStep = new Map<number, number>();

  constructor(options: { toolFormat?: ToolFormat; config?: Config } = {}) {
    this.format = options.toolFormat ?? 'tao-rl';
    this.config = options.config ?? resolveConfig({ preset: 'tao-rl' });
  }

  /** One line (1-based `line`) of `file`; a blank line is skipped. */
  addLine(file: string, line: number, text: string): void {
    if (line === 1) text = text.replace(/^\uFEFF/, '');
    if (text.trim() === '') return;
    const at = `${file}: line ${line}`;
    if (line === 1) {
      const foreign = foreignFormat(text);
      if (foreign) throw new VerlDumpError(`${file} is ${foreign}`);
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      const offset = jsonSyntaxError(text);
      const where = offset === null || offset >= text.length ? 'it ends in the middle of a record' : `unexpected ${describeCharacter(text[offset])} at column ${offset + 1}`;
      throw new VerlDumpError(`${at} is not JSON: ${where}`);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new VerlDumpError(`${at} is not a JSON object`);
    const fields = record as Record<string, unknown>;
    const missing = ['input', 'output', 'score'].filter((key) => !(key in fields));
    if (missing.length > 0) throw new VerlDumpError(`${at} is not a verl rollout record: it has no ${missing.map((key) => `"${key}"`).join(' or ')}`);
    if (typeof fields.input !== 'string') throw new VerlDumpError(`${at}: "input" is not a string`);
    if (typeof fields.output !== 'string') throw new VerlDumpError(`${at}: "output" is not a string`);
    if (typeof fields.score !== 'number' || !Number.isFinite(fields.score)) throw new VerlDumpError(`${at}: "score" ${JSON.stringify(fields.score)} is not a finite number`);
    const step = fields.step ?? stepOfFileName(file);
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
      throw new VerlDumpError(`${at}: no step: "step" ${JSON.stringify(fields.step)} is not an integer >= 0 and the file is not named {step}.jsonl`);
    }
    if (this.taken.has(step)) throw new VerlDumpError(`${at}: step ${step} was already read from ${this.taken.get(step)} (a step's lines are in one file)`);
    if (step <= this.lastTaken) throw new VerlDumpError(`${at}: step ${step} comes after step ${this.lastTaken} (read the files in step order)`);

    let builder = this.open.get(step);
    if (!builder) {
      builder = { step, file, groups: new Map(), prompts: [], trajectories: [] };
      this.open.set(step, builder);
    }
    let group = builder.groups.get(fields.input);
    if (group === undefined) {
      group = builder.prompts.length;
      builder.groups.set(fields.input, group);
      builder.prompts.push(fields.input);
    }
    const { segments, calls } = splitOutput(fields.output, this.format);
    builder.trajectories.push({
      group,
      reward: fields.score,
      expected: expectedText(fields.gts ?? fields.ground_truth),
      answer: boxedAnswer(fields.output),
      segments,
      calls,
    });
  }

  /** The step reports of every step read so far, in step order; they are forgotten here. */
  takeSteps(): StepReport[] {
    const steps = [...this.open.values()].sort((a, b) => a.step - b.step);
    this.open.clear();
    return steps.map((builder) => {
      this.taken.set(builder.step, builder.file);
      this.lastTaken = Math.max(this.lastTaken, builder.step);
      return this.report(builder);
    });
  }

  /** The run's config: the TAO-RL preset with the dump's usual group size and groups per step where the workbench allows them. */
  runConfig(): Config {
    const modal = (counts: Map<number, number>) => [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
    const overrides: Record<string, unknown> = { ...this.config };
    const groupSize = modal(this.groupSizes);
    const groups = modal(this.groupsPerStep);
    if (groupSize !== undefined && groupSize >= 2 && groupSize <= 64) overrides.groupSize = groupSize;
    if (groups !== undefined && groups >= 1 && groups <= 64) overrides.promptsPerStep = groups;
    return resolveConfig(overrides);
  }

  private report(builder: StepBuilder): StepReport {
    const { config } = this;
    const trajectories = builder.trajectories;
    const shaping = trajectories.map((t) => ({ group: t.group, reward: t.reward, toolCalls: t.calls, tokens: [] }));
    const verdicts = dualFilter(shaping, config.shape);
    const advantages = groupAdvantages(
      trajectories.map((t) => t.reward),
      trajectories.map((t) => t.group),
      verdicts.map((v) => config.shape.baseline === 'include' || !v.toolFailed),
      config.shape.stdNormalize,
    );
    const members = [...groupMembers(trajectories.map((t) => t.group)).values()];
    for (const group of members) this.groupSizes.set(group.length, (this.groupSizes.get(group.length) ?? 0) + 1);
    this.groupsPerStep.set(members.length, (this.groupsPerStep.get(members.length) ?? 0) + 1);

    const reports: TrajectoryReport[] = trajectories.map((t, i) => {
      const verdict = verdicts[i];
      let afterTool = false;
      const postTool = t.segments.map((segment): 0 | 1 => {
        if (segment.kind === 'tool') {
          afterTool = true;
          return 0;
        }
        return afterTool ? 1 : 0;
      });
      const lossWeight = t.segments.map((segment) => (segment.kind === 'policy' ? verdict.policyWeight : 0));
      return {
        group: t.group,
        prompt: builder.prompts[t.group],
        expected: t.expected,
        answer: t.answer,
        reward: t.reward,
        finishReason: 'eos',
        kept: verdict.kept,
        reason: verdict.reason,
        trainedCopies: verdict.kept ? 1 : 0,
        advantage: advantages[i],
        toolCalls: t.calls,
        segments: t.segments,
        tokens: {
          text: t.segments.map((segment) => segment.text),
          kind: t.segments.map((segment) => segment.kind),
          entropy: t.segments.map(() => NaN),
          logprob: t.segments.map(() => NaN),
          postTool,
          lossWeight,
          advantage: t.segments.map((segment) => (segment.kind === 'policy' ? advantages[i] : 0)),
          bonus: t.segments.map(() => 0),
        },
      };
    });

    const metrics = stepMetrics(reports, members);
    this.summary.steps += 1;
    this.summary.groups += members.length;
    this.summary.trajectories += reports.length;
    for (const report of reports) {
      if (report.reason) this.summary.discarded[report.reason] += 1;
      this.summary.tool_calls += report.toolCalls.length;
      this.summary.tool_failures += report.toolCalls.filter((call) => !call.ok).length;
    }
    return {
      step: builder.step,
      preset: config.preset,
      seed: config.seed,
      settings: Object.fromEntries(stepSettingFields().map((field) => [field, structuredClone(config[field as keyof Config])])) as StepSettings,
      skipped: reports.every((report) => !report.kept),
      metrics,
      trajectories: reports,
    };
  }
}

function expectedText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The step metrics a dump has: reward, the filter's verdicts and the tool calls (no tokens, no update). */
function stepMetrics(reports: readonly TrajectoryReport[], groups: readonly number[][]): StepMetrics {
  const n = Math.max(1, reports.length);
  const rewards = reports.map((report) => report.reward);
  const mean = rewards.reduce((a, b) => a + b, 0) / n;
  const std = rewards.length < 2 ? 0 : Math.sqrt(rewards.reduce((sum, r) => sum + (r - mean) ** 2, 0) / (rewards.length - 1));
  const count = (reason: DiscardReason | null) => reports.filter((report) => report.reason === reason).length;
  const calls = reports.flatMap((report) => report.toolCalls);
  const failed = (cause?: string) => calls.filter((call) => !call.ok && (cause === undefined || call.cause === cause)).length;
  const perCall = Math.max(1, calls.length);
  return {
    'critic/score/mean': mean,
    reward_std: std,
    frac_reward_zero_std: groups.filter((members) => hasZeroRewardStd(members.map((i) => rewards[i]))).length / Math.max(1, groups.length),
    'filter/kept_trajectories': count(null) / n,
    'filter/group_all_correct': count('group_all_correct') / n,
    'filter/group_all_wrong': count('group_all_wrong') / n,
    'filter/all_tools_failed': count('all_tools_failed') / n,
    'tools/call_frequency': calls.length / n,
    'tools/call_rate': reports.filter((report) => report.toolCalls.length > 0).length / n,
    'tools/failure_frequency': failed() / perCall,
    'tools/failure_policy': failed('policy') / perCall,
    'tools/failure_environment': failed('environment') / perCall,
  };
}

// ---------------------------------------------------------------------------------------------
// Whole dumps

/** Lines of a stream of text chunks, without their line ends. */
export async function* linesOf(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of chunks) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const part of parts) yield part.endsWith('\r') ? part.slice(0, -1) : part;
  }
  if (rest !== '') yield rest.endsWith('\r') ? rest.slice(0, -1) : rest;
}

/** A dump's files in step order ({step}.jsonl by its number; others after, by name). */
export function inStepOrder<T extends { name: string }>(files: readonly T[]): T[] {
  return [...files].sort((a, b) => (stepOfFileName(a.name) ?? Infinity) - (stepOfFileName(b.name) ?? Infinity) || a.name.localeCompare(b.name));
}

/** The run record a converted dump starts with, in the rollouts schema (format.ts). */
export function dumpRunRecord(name: string, config: Config, steps: number, source: { path: string; toolFormat: ToolFormat }): object {
  return { type: 'run', name, config, steps, created: new Date().toISOString(), changes: [], source: { engine: 'verl', ...source } };
}

/**
 * A whole dump as a run, read from in-memory files or streams (the page): files in step order,
 * `onProgress` told the bytes read so far.
 */
export async function readDump(
  files: readonly { name: string; size: number; chunks: () => AsyncIterable<string> }[],
  options: { toolFormat?: ToolFormat; name: string; onProgress?: (bytes: number, total: number) => void },
): Promise<{ run: ExportedRun; summary: DumpSummary }> {
  const reader = new VerlDumpReader({ toolFormat: options.toolFormat });
  const reports: StepReport[] = [];
  const total = files.reduce((sum, file) => sum + file.size, 0);
  let done = 0;
  for (const file of inStepOrder(files)) {
    let line = 0;
    let bytes = 0;
    for await (const text of linesOf(file.chunks())) {
      reader.addLine(file.name, ++line, text);
      bytes += text.length + 1;
      if (line % 2000 === 0) options.onProgress?.(done + Math.min(bytes, file.size), total);
    }
    done += file.size;
    options.onProgress?.(done, total);
    reports.push(...reader.takeSteps());
  }
  if (reports.length === 0) throw new VerlDumpError('the dump has no rollout lines');
  const run: ExportedRun = {
    format: RUN_FORMAT,
    version: RUN_FORMAT_VERSION,
    name: options.name,
    created: new Date().toISOString(),
    config: reader.runConfig(),
    reports,
    evaluations: [],
    changes: [],
  };
  return { run, summary: reader.summary };
}
