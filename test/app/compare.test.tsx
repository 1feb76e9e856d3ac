// @vitest-environment jsdom
// The compare view: the settings in which runs differ, their curves overlaid as rows with one
// column per run, and the panel drawing one line per run in each chart.

import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { configDifferences, overlayRows, type ComparedRun } from '../../src/app/compare';
import { Compare, runColor } from '../../src/app/panels/Compare';
import { resolveConfig, type Config } from '../../src/core/config';
import type { Evaluation } from '../../src/core/evaluate';

afterEach(cleanup);

function evaluation(sampledAccuracy: number): Evaluation {
  return {
    prompts: 64,
    samples: 4,
    sampledAccuracy,
    passAtK: 0.9,
    greedyAccuracy: null,
    callRate: 1,
    callFailureRate: 0.2,
    environmentFailureRate: 0,
    allCallsFailedRate: 0.1,
    mixedGroups: 0.5,
    byKind: {},
  };
}

function run(id: string, config: Config, steps: ComparedRun['steps'], evaluations: ComparedRun['evaluations'] = []): ComparedRun {
  return { id, name: `run ${id}`, config, steps, evaluations };
}

/** Steps first..last with one metric at a constant value. */
function constantSteps(first: number, last: number, metric: string, value: number): ComparedRun['steps'] {
  return Array.from({ length: last - first + 1 }, (_, i) => ({ step: first + i, metrics: { [metric]: value } }));
}

describe('configDifferences', () => {
  it('lists the fields that differ between GRPO, TAO-RL and TAO-RL with another seed', () => {
    const configs = [resolveConfig({ preset: 'grpo' }), resolveConfig({ preset: 'tao-rl' }), resolveConfig({ preset: 'tao-rl', seed: 2 })];
    // PRESETS: GRPO turns off both filters (NO_FILTER) and the bonus (BONUS_OFF); every other
    // shape field is DEFAULT_SHAPE_CONFIG's in both presets.
    expect(configDifferences(configs)).toEqual([
      { field: 'preset', values: ['grpo', 'tao-rl', 'tao-rl'] },
      { field: 'seed', values: ['1', '1', '2'] },
      { field: 'shape.groupFilter', values: ['off', 'on', 'on'] },
      { field: 'shape.toolFailFilter', values: ['off', 'on', 'on'] },
      { field: 'shape.bonus.mode', values: ['off', 'multiplicative', 'multiplicative'] },
    ]);
  });

  it('formats numbers as written and a null window as none, in the config field order', () => {
    const configs = [resolveConfig(), resolveConfig({ learningRate: 0.001, shape: { bonus: { window: 4, coef: 0.3 } } })];
    expect(configDifferences(configs)).toEqual([
      { field: 'learningRate', values: ['0.0003', '0.001'] },
      { field: 'shape.bonus.coef', values: ['0.01', '0.3'] },
      { field: 'shape.bonus.window', values: ['none', '4'] },
    ]);
  });

  it('finds nothing between equal configs', () => {
    expect(configDifferences([resolveConfig(), resolveConfig()])).toEqual([]);
  });

  it('compares arrays by their contents', () => {
    const withTags = (tags: string[]) => ({ ...resolveConfig(), tags }) as unknown as Config;
    expect(configDifferences([withTags(['a', 'b']), withTags(['a', 'b'])])).toEqual([]);
    expect(configDifferences([withTags(['a', 'b']), withTags(['a'])])).toEqual([{ field: 'tags', values: ['["a","b"]', '["a"]'] }]);
  });
});

describe('overlayRows', () => {
  const config = resolveConfig();
  // Run a: steps 1-3. Run b: steps 2-5, with no usable reward at step 4.
  const a = run(
    'a',
    config,
    [
      { step: 1, metrics: { 'critic/score/mean': 0.1 } },
      { step: 2, metrics: { 'critic/score/mean': 0.2 } },
      { step: 3, metrics: { 'critic/score/mean': 0.3 } },
    ],
    [
      { step: 2, evaluation: evaluation(0.25) },
      { step: 3, evaluation: evaluation(0.5) },
    ],
  );
  const b = run(
    'b',
    config,
    [
      { step: 2, metrics: { 'critic/score/mean': 0.5 } },
      { step: 3, metrics: { 'critic/score/mean': 0.6 } },
      { step: 4, metrics: { 'critic/score/mean': Number.NaN } },
      { step: 5, metrics: { 'critic/score/mean': 0.8 } },
    ],
    [{ step: 5, evaluation: evaluation(0.75) }],
  );

  it('puts each run in its own column, null where it has no value', () => {
    expect(overlayRows([a, b], 'critic/score/mean')).toEqual([
      { step: 1, a: 0.1, b: null },
      { step: 2, a: 0.2, b: 0.5 },
      { step: 3, a: 0.3, b: 0.6 },
      { step: 5, a: null, b: 0.8 },
    ]);
  });

  it('takes held-out sampled accuracy from the evaluations', () => {
    expect(overlayRows([a, b], 'held_out/sampled_accuracy')).toEqual([
      { step: 2, a: 0.25, b: null },
      { step: 3, a: 0.5, b: null },
      { step: 5, a: null, b: 0.75 },
    ]);
  });

  it('has no rows for a metric no run has', () => {
    expect(overlayRows([a, b], 'loss/policy')).toEqual([]);
  });

  it("strides long runs to about 500 rows and keeps each run's last step", () => {
    const long = run('long', config, constantSteps(1, 2000, 'critic/score/mean', 0.5));
    const shorter = run('shorter', config, constantSteps(1, 1500, 'critic/score/mean', 0.7));
    const rows = overlayRows([long, shorter], 'critic/score/mean');
    // 2000 steps, at most 500: stride 4 -> steps 1, 5, ..., 1997 (500 rows), plus the last steps
    // 2000 and 1500 (1500 - 1 is not a multiple of 4).
    expect(rows).toHaveLength(502);
    expect(rows.slice(0, 3).map((row) => row.step)).toEqual([1, 5, 9]);
    expect(rows.find((row) => row.step === 1500)).toEqual({ step: 1500, long: 0.5, shorter: 0.7 });
    expect(rows.at(-2)).toEqual({ step: 1997, long: 0.5, shorter: null });
    expect(rows.at(-1)).toEqual({ step: 2000, long: 0.5, shorter: null });
  });
});

describe('runColor', () => {
  it("draws no run in black, which the dark theme's paper would hide: the seventh run takes the page's ink", () => {
    const colours = Array.from({ length: 8 }, (_, i) => runColor(i));
    expect(colours.filter((c) => c.toLowerCase() === '#000000')).toEqual([]);
    expect(colours[6]).toMatch(/^var\(--ink, #/);
    expect(new Set(colours).size).toBe(8);
  });
});

describe('Compare', () => {
  const METRICS = ['critic/score/mean', 'entropy/mean', 'entropy/post_tool_mean', 'tools/failure_frequency', 'filter/kept_trajectories'];

  /** Five steps of every charted metric, evaluations at steps 2 and 4. */
  function fullRun(id: string, config: Config, level: number): ComparedRun {
    const steps = Array.from({ length: 5 }, (_, i) => ({
      step: i + 1,
      metrics: Object.fromEntries(METRICS.map((metric) => [metric, level + 0.05 * i])),
    }));
    return { ...run(id, config, steps, [2, 4].map((step) => ({ step, evaluation: evaluation(level) }))), name: `${id} run` };
  }

  const grpo = fullRun('grpo', resolveConfig({ preset: 'grpo' }), 0.2);
  const tao = fullRun('tao', resolveConfig({ preset: 'tao-rl' }), 0.4);

  async function renderCompare(runs: ComparedRun[]) {
    const result = render(<Compare runs={runs} />);
    await waitFor(() => expect(result.container.querySelectorAll('.live-chart')).toHaveLength(6));
    return result;
  }

  it('overlays one line per run, in the run colours, on one chart per metric', async () => {
    await renderCompare([grpo, tao]);
    const panel = screen.getByTestId('compare');
    expect(within(panel).getByRole('heading', { level: 2 }).textContent).toBe('Compare');
    const figures = [...panel.querySelectorAll('figure')];
    expect(figures.map((figure) => figure.querySelector('h3')?.textContent)).toEqual([
      'Training reward (accuracy)',
      'Held-out sampled accuracy',
      'Entropy, all policy tokens (nats)',
      'Entropy, post-tool tokens (nats)',
      'Tool calls failed',
      'Kept trajectories',
    ]);
    for (const figure of figures) {
      const lines = [...figure.querySelectorAll('path.curve-line')].filter((path) => path.getAttribute('d'));
      // Okabe-Ito blue, then vermillion: the first two colours of the palette, by run order.
      expect(lines.map((path) => path.getAttribute('stroke')?.toLowerCase())).toEqual(['#0072b2', '#d55e00']);
      expect([...figure.querySelectorAll('.curve-legend li')].map((item) => item.textContent)).toEqual(['grpo run', 'tao run']);
    }
  });

  it("names each run's value at a step in its metric's format, by keyboard and by hover", async () => {
    await renderCompare([grpo, tao]);
    const chart = (title: string) => within(screen.getByRole('figure', { name: title })).getByRole('img');
    // Step 5: grpo 0.2 + 4 * 0.05, tao 0.4 + 4 * 0.05; entropies in nats to two decimals.
    fireEvent.keyDown(chart('Training reward (accuracy)'), { key: 'End' });
    expect(screen.getByRole('tooltip').textContent).toBe('step 5grpo run: 40%tao run: 60%');
    fireEvent.keyDown(chart('Entropy, all policy tokens (nats)'), { key: 'End' });
    expect(screen.getAllByRole('tooltip').map((box) => box.textContent)).toContain('step 5grpo run: 0.40tao run: 0.60');
    // Evaluations at steps 2 and 4, at the runs' levels.
    const overlay = chart('Held-out sampled accuracy').querySelector('rect.chart-hover')!;
    overlay.getBoundingClientRect = () => ({ left: 44, width: 304, top: 14, height: 152, right: 348, bottom: 166, x: 44, y: 14, toJSON: () => ({}) });
    // The x axis runs from step 2 to 4: 60% of the way across is step 3.2, nearest step 4.
    fireEvent.mouseMove(overlay, { clientX: 44 + 0.6 * 304, clientY: 50 });
    expect(screen.getAllByRole('tooltip').map((box) => box.textContent)).toContain('step 4grpo run: 20%tao run: 40%');
  });

  it('joins a run across the steps only another run logged, and puts a single step mid-plot', () => {
    const config = resolveConfig();
    // Run a: steps 1-3; run b: steps 2, 3 and 5. The plot spans x 44..348 and y 14..166 (the
    // width before measuring): x = 44 + (step - 1) / 4 * 304, y = 166 - reward * 152.
    const a = run('a', config, [1, 2, 3].map((step) => ({ step, metrics: { 'critic/score/mean': 0.25 * (step - 1) } })));
    const b = run('b', config, [
      { step: 2, metrics: { 'critic/score/mean': 0.5 } },
      { step: 3, metrics: { 'critic/score/mean': 0.75 } },
      { step: 5, metrics: { 'critic/score/mean': 1 } },
    ]);
    const { unmount } = render(<Compare runs={[a, b]} />);
    const reward = screen.getByRole('figure', { name: 'Training reward (accuracy)' });
    const paths = [...reward.querySelectorAll('path.curve-line')].map((path) => path.getAttribute('d'));
    expect(paths).toEqual(['M44,166L120,128L196,90', 'M120,90L196,52L348,14']);
    // Five rows or fewer: every value is dotted.
    expect(reward.querySelectorAll('.curve-series circle')).toHaveLength(6);
    unmount();
    // One logged step: the x axis is step 0..2 with one tick, 7, the point in the middle (x 196).
    render(<Compare runs={[run('c', config, constantSteps(7, 7, 'critic/score/mean', 0.5)), run('d', config, constantSteps(7, 7, 'critic/score/mean', 1))]} />);
    const single = screen.getByRole('figure', { name: 'Training reward (accuracy)' });
    expect([...single.querySelectorAll('.curve-series circle')].map((dot) => [dot.getAttribute('cx'), dot.getAttribute('cy')])).toEqual([
      ['196', '90'],
      ['196', '14'],
    ]);
    expect([...single.querySelectorAll('.chart-ticks text')].map((tick) => tick.textContent)[0]).toBe('7');
  });

  it('tabulates the settings that differ, one column per run', async () => {
    await renderCompare([grpo, tao]);
    const table = screen.getByRole('table', { name: 'Settings that differ' });
    expect(within(table).getAllByRole('columnheader').map((cell) => cell.textContent)).toEqual(['setting', 'grpo run', 'tao run']);
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((row) => [...row.children].map((cell) => cell.textContent))).toEqual([
      ['preset', 'grpo', 'tao-rl'],
      ['shape.groupFilter', 'off', 'on'],
      ['shape.toolFailFilter', 'off', 'on'],
      ['shape.bonus.mode', 'off', 'multiplicative'],
    ]);
  });

  it('says so when the runs have the same settings', async () => {
    await renderCompare([tao, fullRun('again', resolveConfig({ preset: 'tao-rl' }), 0.3)]);
    expect(screen.getByText('The runs have the same settings.')).toBeTruthy();
    expect(screen.queryByRole('table')).toBeNull();
  });

  it('asks for two or more runs', () => {
    render(<Compare runs={[tao]} />);
    expect(screen.getByText('Pick two or more runs to compare.')).toBeTruthy();
    expect(document.querySelectorAll('figure')).toHaveLength(0);
    cleanup();
    render(<Compare runs={[]} />);
    expect(screen.getByText('Pick two or more runs to compare.')).toBeTruthy();
  });
});
