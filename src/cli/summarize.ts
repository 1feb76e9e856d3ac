// npm run summarize -- DIR
// Recomputes an evidence folder's summary.json, summary.md and plots from its evals.csv and the
// comparisons its plan named before running (comparisons.json), with no run file needed.

import { parseArgs } from 'node:util';
import { runMain, UsageError } from './common';
import { writeEvidence } from './experimentRunner';

const USAGE = `usage: npm run summarize -- DIR
Recomputes DIR/summary.json, DIR/summary.md and DIR's plots from DIR/evals.csv and
DIR/comparisons.json alone (an evidence folder written by npm run experiment with --primary or --aa).`;

runMain(async () => {
  const { values, positionals } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (positionals.length !== 1) throw new UsageError(`name one evidence folder (${USAGE.split('\n')[0]})`);
  writeEvidence(positionals[0]);
});
