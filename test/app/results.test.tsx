// @vitest-environment jsdom
// The page's results viewer (src/app/panels/Results.tsx): a results folder picked in the file
// input becomes the summary table and plots; a folder without a plan, or a broken run file, gets
// a message naming what is wrong.

import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { Results } from '../../src/app/panels/Results';
import { planExperiment } from '../../src/experiment/plan';

afterEach(cleanup);

const plan = planExperiment({
  kind: 'experiment',
  presets: ['grpo', 'tao-rl'],
  condition: { task: 'arithmetic', flaky: 0 },
  seeds: 2,
  firstSeed: 1,
  steps: 1,
  scale: 'tiny',
  checkpoint: 'public/models/tiny',
  backend: 'wasm',
  common: { evalPrompts: 8, evalSamples: 2 },
});

function runText(finalAccuracy: number): string {
  const evaluation = (step: number, sampledAccuracy: number) => ({
    type: 'evaluation', step, sampledAccuracy, passAtK: 1, callRate: 0.5, callFailureRate: 0, environmentFailureRate: 0,
  });
  const step = { type: 'step', step: 1, skipped: false, trajectories: [], metrics: { 'entropy/mean': 1, 'entropy/post_tool_mean': 0.5 } };
  return [evaluation(0, 0.5), step, evaluation(1, finalAccuracy), { type: 'end', wallSeconds: 3 }].map((r) => JSON.stringify(r)).join('\n');
}

function file(path: string, text: string): File {
  const picked = new File([text], path.split('/').at(-1)!);
  Object.defineProperty(picked, 'webkitRelativePath', { value: path });
  return picked;
}

function pick(files: File[]) {
  fireEvent.change(screen.getByLabelText('Open a results folder'), { target: { files } });
}

describe('Results', () => {
  it('shows a picked folder as a table with intervals and paired differences, and its plots', async () => {
    render(<Results />);
    pick([
      file('arith/plan.json', JSON.stringify(plan)),
      // grpo .5 and .7: mean .6, half width 12.706 x .2 / 2 = 1.271; tao-rl .75 and .75: differences .25, .05 -> +15.0 ± 127.1
      file('arith/runs/grpo-seed1.jsonl', runText(0.5)),
      file('arith/runs/grpo-seed2.jsonl', runText(0.7)),
      file('arith/runs/tao-rl-seed1.jsonl', runText(0.75)),
      file('arith/runs/tao-rl-seed2.jsonl', runText(0.75)),
    ]);
    const section = await screen.findByRole('region', { name: 'Results: arith' });
    const rows = within(section).getAllByRole('row').map((row) => [...row.children].map((cell) => cell.textContent));
    expect(rows[1].slice(0, 3)).toEqual(['grpo', '2', '0.600 ± 1.271']);
    expect(rows[2].slice(0, 3)).toEqual(['tao-rl', '2', '0.750 ± 0.000']);
    expect(rows[2][5]).toBe('+15.0 ± 127.1');
    const images = within(section).getAllByRole('img');
    expect(images.map((img) => img.getAttribute('alt'))).toEqual(['accuracy plot of arith', 'final plot of arith', 'pass plot of arith']);
    expect(images[0].getAttribute('src')).toMatch(/^data:image\/svg\+xml/);
  });

  it('shows a folder holding only its summary.json, as committed beside the README', async () => {
    const { summarise, parseRunFile } = await import('../../src/experiment/summary');
    const runs = new Map([
      ['grpo-seed1', parseRunFile(runText(0.5))],
      ['tao-rl-seed1', parseRunFile(runText(0.75))],
    ]);
    // One seed per variant: the intervals are unbounded, written to JSON as null.
    const summary = summarise(plan, runs, { target: 0.8 });
    render(<Results />);
    pick([file('docs/results/arith/summary.json', JSON.stringify(summary))]);
    const section = await screen.findByRole('region', { name: 'Results: docs/results/arith' });
    const rows = within(section).getAllByRole('row').map((row) => [...row.children].map((cell) => cell.textContent));
    expect(rows[1].slice(0, 3)).toEqual(['grpo', '1', '0.500 (n=1)']);
    expect(rows[2][5]).toBe('+25.0 (n=1)');
    expect(within(section).getAllByRole('img')).toHaveLength(3);
  });

  it('lists the runs it could not include', async () => {
    render(<Results />);
    pick([file('arith/plan.json', JSON.stringify(plan)), file('arith/runs/grpo-seed1.jsonl', runText(0.5))]);
    const note = await screen.findByRole('note');
    expect(note.textContent).toContain('grpo-seed2 (no run file)');
  });

  it('says what is wrong with files that are not a results folder', async () => {
    render(<Results />);
    pick([file('notes/readme.txt', 'hello')]);
    expect((await screen.findByRole('alert')).textContent).toContain('no plan.json or summary.json among the files');
    cleanup();
    render(<Results />);
    pick([file('x/plan.json', JSON.stringify(plan)), file('x/runs/grpo-seed1.jsonl', '{"type":"run"}\n{broken')]);
    expect((await screen.findByRole('alert')).textContent).toBe('x/runs/grpo-seed1.jsonl: line 2 is not JSON');
    cleanup();
    render(<Results />);
    pick([file('y/plan.json', '{"kind":"something else"}')]);
    expect((await screen.findByRole('alert')).textContent).toContain('y/plan.json is not an experiment plan');
  });
});
