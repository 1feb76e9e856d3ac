// npm run import-rollouts -- --from verl PATH [--tool-format tao-rl|simpletir] --out RUNFILE [--json]
// A verl rollout dump (a trainer.rollout_data_dir folder, or one {step}.jsonl) as a workbench run
// file (JSON lines), read line by line: the workbench's dual filter decides every trajectory's
// verdict (src/runs/verlDump.ts). Progress goes to stderr; with --json the last line of stdout is
// the summary. A broken line stops the import with its file and line, and nothing is written.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { dumpRunRecord, inStepOrder, linesOf, TOOL_FORMATS, VerlDumpReader, type ToolFormat } from '../runs/verlDump';
import { parseCommandArgs, runMain, UsageError } from './common';
import { jsonLine } from './jsonl';

const USAGE = `usage: npm run import-rollouts -- --from verl PATH [--tool-format tao-rl|simpletir] --out RUNFILE [--json]
A verl rollout dump as a workbench run file: PATH is a trainer.rollout_data_dir folder (its
{step}.jsonl files) or one such file. Trajectories of one step with the same input form a group;
the workbench's dual filter decides each verdict. Open RUNFILE with the page's Import runs.

  --from ENGINE PATH   verl, then the folder or file
  --tool-format NAME   how tool turns are written: tao-rl (the recipe's "Code execution result:",
                       default) or simpletir (\`\`\`output blocks)
  --out RUNFILE        the run file to write (JSON lines)
  --json               print one JSON line last: steps, groups, trajectories, discarded (by
                       reason, in trajectories), tool_calls, tool_failures
  -h, --help           this text`;

const MB = 2 ** 20;

runMain(async () => {
  const values = parseCommandArgs(
    { from: { type: 'string' }, 'tool-format': { type: 'string', default: 'tao-rl' }, out: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
    fromTakesTwo(process.argv.slice(2)),
  );
  const [engine, source] = (values.from ?? '').split('\u0000');
  if (!values.from) throw new UsageError('--from: name the engine and the dump, e.g. --from verl rollouts/');
  if (engine !== 'verl') throw new UsageError(`--from: "${engine}" is not a known engine (verl)`);
  if (!source) throw new UsageError('--from verl: name the dump folder or file after it');
  const toolFormat = values['tool-format'] as ToolFormat;
  if (!TOOL_FORMATS.includes(toolFormat)) throw new UsageError(`--tool-format: "${toolFormat}" is not one of ${TOOL_FORMATS.join(', ')}`);
  if (!values.out) throw new UsageError('--out: name the run file to write, e.g. --out runs/verl.jsonl');
  if (!fs.existsSync(source)) throw new UsageError(`--from verl: no file or folder at ${source}`);

  const files = dumpFiles(source);
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const out = values.out;
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const stepsFile = `${out}.steps.partial`;
  const steps = fs.openSync(stepsFile, 'w');
  const reader = new VerlDumpReader({ toolFormat });
  const started = performance.now();
  let read = 0;
  let nextReport = 0.1;
  let stepCount = 0;
  try {
    for (const file of files) {
      let line = 0;
      let bytes = 0;
      for await (const text of linesOf(fs.createReadStream(file.path, { encoding: 'utf8', highWaterMark: MB }))) {
        reader.addLine(file.path, ++line, text);
        bytes += Buffer.byteLength(text) + 1;
        if (total >= 8 * MB && (read + bytes) / total >= nextReport) {
          process.stderr.write(`read ${Math.floor((100 * (read + bytes)) / total)}% (${((read + bytes) / MB).toFixed(0)} of ${(total / MB).toFixed(0)} MB)\n`);
          while ((read + bytes) / total >= nextReport) nextReport += 0.1;
        }
      }
      read += file.size;
      for (const report of reader.takeSteps()) {
        fs.writeSync(steps, jsonLine({ type: 'step', ...report }));
        stepCount += 1;
      }
    }
    if (stepCount === 0) throw new Error(`${source} has no rollout lines`);
  } catch (error) {
    fs.closeSync(steps);
    fs.rmSync(stepsFile, { force: true });
    throw error;
  }
  fs.closeSync(steps);
  const name = path.basename(path.resolve(source)).replace(/\.jsonl$/, '');
  const partial = `${out}.partial`;
  fs.writeFileSync(partial, jsonLine(dumpRunRecord(`verl: ${name}`, reader.runConfig(), stepCount, { path: source, toolFormat })));
  await pipeline(fs.createReadStream(stepsFile), fs.createWriteStream(partial, { flags: 'a' }));
  fs.rmSync(stepsFile);
  fs.renameSync(partial, out);
  const { summary } = reader;
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `read ${files.length} files (${(total / MB).toFixed(1)} MB) in ${seconds.toFixed(1)} s: ${summary.steps} steps, ${summary.groups} groups, ` +
      `${summary.trajectories} trajectories, discarded ${summary.discarded.group_all_correct} all correct, ${summary.discarded.group_all_wrong} all wrong, ` +
      `${summary.discarded.all_tools_failed} all tools failed; ${summary.tool_calls} tool calls, ${summary.tool_failures} failed`,
  );
  console.log(`wrote ${out}`);
  if (values.json) console.log(JSON.stringify(summary));
});

/** `--from verl PATH` takes two words: joined into one value for the flag parser. */
function fromTakesTwo(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--from' && args[i + 2] !== undefined && !args[i + 2].startsWith('-')) {
      joined.push('--from', `${args[i + 1]}\u0000${args[i + 2]}`);
      i += 2;
    } else joined.push(args[i]);
  }
  return joined;
}

/** The dump's files in step order: a folder's *.jsonl, or the one file. */
function dumpFiles(source: string): { path: string; name: string; size: number }[] {
  if (!fs.statSync(source).isDirectory()) return [{ path: source, name: path.basename(source), size: fs.statSync(source).size }];
  const names = fs.readdirSync(source).filter((name) => name.endsWith('.jsonl'));
  if (names.length === 0) throw new UsageError(`--from verl: ${source} holds no .jsonl files (a rollout_data_dir holds one {step}.jsonl per step)`);
  return inStepOrder(names.map((name) => ({ path: path.join(source, name), name, size: fs.statSync(path.join(source, name)).size })));
}
