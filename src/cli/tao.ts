// `npm run tao -- shape < input.json`: TAO-RL shaping (docs/algorithm.md §2-4, §8) as a JSON
// command. Thin: read stdin, validate, shape, print. Input errors exit 2 with one `error:` line.

import { ShapeInputError, parseShapeInput } from '../core/tao/parseShapeInput';
import { shapeBatch } from '../core/tao/shape';

const USAGE = 'usage: tao shape < input.json';
const HELP = `usage: npm run tao -- shape < input.json
TAO-RL shaping as a JSON command: reads {"config", "trajectories"} on stdin and prints, as JSON,
whether each trajectory is kept (and why not), its advantage, each token's post-tool flag, loss
weight, shaped advantage and bonus, and the batch's metrics. Bad input exits 2 with one line.`;
const INPUT_ERROR_EXIT = 2;

/** Thrown for anything wrong with what the user passed; the message is the whole report. */
class CommandInputError extends Error {}

/** Subcommands by name: each maps stdin text to stdout text. */
const commands: Record<string, (stdin: string) => string> = {
  shape(stdin) {
    let raw: unknown;
    try {
      raw = JSON.parse(stdin);
    } catch (err) {
      throw new CommandInputError(`invalid JSON: ${(err as Error).message}`);
    }
    const { config, trajectories } = parseShapeInput(raw);
    return JSON.stringify(shapeBatch(trajectories, config));
  },
};

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** One line, whatever the message held (V8's JSON errors quote the input). */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

async function main(): Promise<number> {
  const name = process.argv[2];
  if (name === '--help' || name === '-h') {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (name === undefined || !Object.hasOwn(commands, name)) {
    process.stderr.write(`${USAGE}\n`);
    return INPUT_ERROR_EXIT;
  }
  try {
    process.stdout.write(`${commands[name](await readStdin())}\n`);
    return 0;
  } catch (err) {
    const isInputError = err instanceof ShapeInputError || err instanceof CommandInputError;
    process.stderr.write(`error: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    return isInputError ? INPUT_ERROR_EXIT : 1;
  }
}

process.exitCode = await main();
