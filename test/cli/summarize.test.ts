// `npm run summarize` recomputes a committed evidence folder from its evals.csv alone: the
// summary.json it writes equals the committed one.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeEvidence } from '../../src/cli/experimentRunner';

const FOLDER = path.resolve(__dirname, '../../docs/results/retry');

describe('summarize a committed evidence folder', () => {
  it('docs/results/retry: summary.json recomputed from evals.csv and comparisons.json equals the committed one', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'summarize-'));
    for (const name of ['evals.csv', 'comparisons.json']) fs.copyFileSync(path.join(FOLDER, name), path.join(work, name));
    const summary = writeEvidence(work);
    const committed = JSON.parse(fs.readFileSync(path.join(FOLDER, 'summary.json'), 'utf8'));
    expect(JSON.parse(JSON.stringify(summary))).toEqual(committed);
    expect(fs.readFileSync(path.join(work, 'summary.md'), 'utf8')).toBe(fs.readFileSync(path.join(FOLDER, 'summary.md'), 'utf8'));
    // The A/A control is in the primary family, and the family is the one named before running.
    const primary = summary.comparisons.filter((c) => c.primary).map((c) => `${c.variant} - ${c.baseline}`);
    expect(primary).toContain('grpo-2x~aa - grpo-2x');
    expect(primary).toHaveLength(5);
  });
});
