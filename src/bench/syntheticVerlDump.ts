// A synthetic verl rollout dump in the TAO-RL recipe's tool format, for the import's tests and
// its measurement: `npx tsx src/bench/syntheticVerlDump.ts DIR LINES [LINES_PER_STEP]` writes
// DIR/{step}.jsonl with LINES lines in all, groups of 8 samples of one prompt, about 1 kB a line:
// a mix of right and wrong answers, successful calls, tracebacks and timeouts.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../core/rng';

const GROUP = 8;
const PROMPT = 'system\nPlease reason step by step, and put your final answer within \\boxed{}. You may write Python in ```python blocks; the sandbox runs it and shows the result.\nuser\n';

/** One dump line: a prompt, a response with 0-3 tool turns, its score. */
function line(rng: Rng, step: number, prompt: number): string {
  const a = 100 + prompt;
  const b = 7 + (prompt % 13);
  const answer = a * b;
  let output = `Let me compute ${a} times ${b} carefully, checking each partial product before I commit to an answer. `;
  const calls = Math.floor(rng.next() * 4);
  for (let c = 0; c < calls; c++) {
    const roll = rng.next();
    const result = roll < 0.2 ? 'interpreter timeout' : roll < 0.4 ? "NameError: name 'x' is not defined" : String(answer);
    output += `I will check it in Python.\n\`\`\`python\nx = ${a} * ${b}\nprint(x)\n\`\`\`\nCode execution result: ${result}\n`;
  }
  const right = rng.next() < (prompt % 3) / 2; // groups all wrong (prompt % 3 = 0), mixed, and mostly right
  output += `So the product is \\boxed{${right ? answer : answer + 1}}.`;
  return JSON.stringify({ input: `${PROMPT}What is ${a} * ${b}?\nassistant\n`, output, gts: String(answer), score: right ? 1 : 0, step, acc: right });
}

/** Writes `lines` dump lines into `dir`, `perStep` lines ({step}.jsonl) a step; returns the bytes written. */
export function writeSyntheticDump(dir: string, lines: number, perStep = 512, seed = 1): number {
  fs.mkdirSync(dir, { recursive: true });
  const rng = new Rng(seed);
  let bytes = 0;
  for (let step = 1, written = 0; written < lines; step++) {
    const count = Math.min(perStep, lines - written);
    const text = Array.from({ length: count }, (_, i) => line(rng, step, Math.floor((written + i) / GROUP))).join('\n') + '\n';
    fs.writeFileSync(path.join(dir, `${step}.jsonl`), text);
    bytes += Buffer.byteLength(text);
    written += count;
  }
  return bytes;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const [dir, lines, perStep] = process.argv.slice(2);
  if (!dir || !lines) {
    console.error('usage: npx tsx src/bench/syntheticVerlDump.ts DIR LINES [LINES_PER_STEP]');
    process.exit(2);
  }
  const bytes = writeSyntheticDump(dir, Number(lines), perStep ? Number(perStep) : undefined);
  console.log(`wrote ${lines} lines, ${(bytes / 2 ** 20).toFixed(1)} MB, to ${dir}`);
}
