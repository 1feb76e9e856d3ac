// npm run summarize -- DIR [--combine A/evals.csv --combine B/evals.csv ...]
// Recomputes an evidence folder's summary.json, summary.md and plots from its evals.csv and the
// comparisons named before running (comparisons.json), with no run file needed. --combine first
// writes DIR/evals.csv as the union of other folders' rows (variants that ran in separate
// experiments on the same seeds and warm starts, e.g. a sweep and the presets it is compared to).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { combineEvalRows, evalsCsv, parseEvalsCsv } from '../experiment/evidence';
import { parseCommandLine, runMain, UsageError } from './common';
import { writeEvidence } from './experimentRunner';

const USAGE = `usage: npm run summarize -- DIR [--combine FILE ...]
Recomputes DIR/summary.json, DIR/summary.md and DIR's plots from DIR/evals.csv and
DIR/comparisons.json alone (an evidence folder written by npm run experiment with --primary or --aa).

  --combine FILE       an evals.csv to take rows from (repeat): DIR/evals.csv is rewritten as
                       their union first; a variant, seed and step found twice is an error
  -h, --help           this text`;

runMain(async () => {
  const { values, positionals: folders } = parseCommandLine({ combine: { type: 'string', multiple: true } }, USAGE);
  const combine = values.combine ?? [];
  if (folders.length !== 1) throw new UsageError(`name one evidence folder (${USAGE.split('\n')[0]})`);
  const [folder] = folders;
  if (combine.length > 0) {
    const sources = combine.map((file) => {
      if (!fs.existsSync(file)) throw new UsageError(`--combine: no file ${file}`);
      return { file, rows: parseEvalsCsv(fs.readFileSync(file, 'utf8')) };
    });
    let rows;
    try {
      rows = combineEvalRows(sources);
    } catch (error) {
      throw new UsageError(`--combine: ${(error as Error).message}`);
    }
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'evals.csv'), evalsCsv(rows));
    console.log(`wrote ${path.join(folder, 'evals.csv')}: ${rows.length} rows from ${combine.length} files`);
  }
  writeEvidence(folder);
});
