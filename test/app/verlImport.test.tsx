// @vitest-environment jsdom
// The page and a verl run: Import runs takes a rollout dump's {step}.jsonl files as one run whose
// discards can be stepped through (the token view says it has text only), and the Runs panel's
// exports write the files verl and TRL read.

import 'fake-indexeddb/auto';
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_NAME, RunsDb } from '../../src/app/runsDb';
import { useSavedRuns } from '../../src/app/savedRuns';
import { useWorkbench } from '../../src/app/store';
import { TokenView } from '../../src/app/panels/TokenView';

let db: RunsDb;

beforeEach(async () => {
  await new Promise<void>((resolve) => {
    const req = indexedDB.deleteDatabase(DB_NAME);
    req.onsuccess = () => resolve();
    req.onerror = () => resolve();
  });
  db = await RunsDb.open();
  useSavedRuns.setState({ db, runs: [], notice: null });
  useWorkbench.setState({ send: () => {} });
});

afterEach(() => {
  cleanup();
  db.close();
});

const line = (input: string, score: number, step: number, output = 'So \\boxed{1}.') => JSON.stringify({ input, output, score, step });
const failed = "```python\nprint(x)\n```\nCode execution result: NameError: name 'x' is not defined\nSo \\boxed{2}.";
const file = (name: string, lines: string[]) => {
  const text = `${lines.join('\n')}\n`;
  return { name, size: text.length, text: async () => text };
};

describe('a verl rollout dump in the page', () => {
  it('imports the dump files as one view-only run, with the dual filter verdicts and the token view note', async () => {
    const files = [
      file('2.jsonl', [line('A', 1, 2), line('A', 1, 2)]),
      file('1.jsonl', [line('A', 1, 1), line('A', 0, 1), line('A', 0, 1, failed), line('B', 0, 1), line('B', 0, 1)]),
    ];
    await useSavedRuns.getState().importFiles(files);
    expect(useSavedRuns.getState().notice).toBe('Imported "verl: 2 dump files".');
    const [meta] = await db.listRuns();
    const run = (await db.loadRun(meta.id))!;
    expect(run.reports.map((r) => r.step)).toEqual([1, 2]);
    expect(run.reports[0].trajectories.map((t) => t.reason)).toEqual([null, null, 'all_tools_failed', 'group_all_wrong', 'group_all_wrong']);
    expect(run.reports[1].trajectories.map((t) => t.reason)).toEqual(['group_all_correct', 'group_all_correct']);
    expect(run.weights).toBeNull();

    useWorkbench.getState().openRun(run);
    expect(useWorkbench.getState().viewOnly).toBe(true);
    useWorkbench.setState({ selectedStep: 1, selectedTrajectory: 2 });
    render(<TokenView />);
    expect(await screen.findByText(/comes from a rollout dump, which stores the text only/)).toBeTruthy();
  });

  it('exports a saved run to verl and to TRL as the files those engines read', async () => {
    await useSavedRuns.getState().importFiles([file('1.jsonl', [line('A', 1, 1), line('A', 0, 1)])]);
    const [meta] = await db.listRuns();
    const verl = (await useSavedRuns.getState().exportToEngine(meta.id, 'verl'))!;
    expect(verl.files.map((f) => f.fileName)).toEqual(['verl-1-overrides.txt', 'verl-1-run_verl.sh']);
    expect(verl.files[0].text).toContain('trainer.rejection_sample=True\n');
    const trl = (await useSavedRuns.getState().exportToEngine(meta.id, 'trl'))!;
    expect(JSON.parse(trl.files[0].text).num_generations).toBe(2);
    expect(useSavedRuns.getState().notice).toMatch(/^Exported "verl: 1" to TRL; not carried over as they are: Model scale, /);
    const csv = (await useSavedRuns.getState().exportRun(meta.id, 'csv'))!;
    expect(csv.fileName).toBe('verl-1.metrics.csv');
    expect(csv.text.split('\n')[0]).toMatch(/^step,critic\/score\/mean,/);
  });
});
