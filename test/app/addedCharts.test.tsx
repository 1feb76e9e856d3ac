// @vitest-environment jsdom
// "Add a chart": the picker lists every metric of the registry; an added chart can be smoothed,
// put on a log scale while its values are positive, and removed; the choice rides in the link and
// is saved with the run. The smoothing and the log axis against hand computations.

import 'fake-indexeddb/auto';
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chartsFromParam, chartsToParam, linkWithCharts, logAxis, logScaleFits, smoothed, withChartsParam } from '../../src/app/chartChoice';
import { addedChartData } from '../../src/app/panels/AddedCharts';
import { Curves } from '../../src/app/panels/Curves';
import { startPersistence } from '../../src/app/persistence';
import { RunsDb } from '../../src/app/runsDb';
import { initialConfig, newRunId, useWorkbench } from '../../src/app/store';
import { hasConfigParams } from '../../src/app/urlConfig';
import { METRIC_KEYS, METRICS } from '../../src/core/metrics';
import type { StepReport } from '../../src/core/trainer';

function report(step: number, metrics: StepReport['metrics']): StepReport {
  const config = initialConfig();
  const { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, flakyProbability, shape } = config;
  return {
    step,
    preset: 'tao-rl',
    seed: 1,
    skipped: false,
    settings: { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, flakyProbability, shape },
    metrics,
    trajectories: [],
  };
}

beforeEach(() => {
  useWorkbench.setState({ config: initialConfig(), reports: [], evaluations: [], changes: [], charts: [], selectedStep: null, runId: newRunId() });
});

afterEach(cleanup);

describe('smoothing and the log axis', () => {
  it('debiased exponential moving average: weight 0.5 over 1, 2, 3 gives 1, 5/3, 17/7; missing values stay missing', () => {
    // s1 = 0.5 / (1 - 0.5) = 1; s2 = (0.25 + 1) / 0.75 = 5/3; s3 = (0.625 + 1.5) / 0.875 = 17/7.
    const [a, b, c] = smoothed([1, 2, 3], 0.5);
    expect(a).toBeCloseTo(1, 12);
    expect(b).toBeCloseTo(5 / 3, 12);
    expect(c).toBeCloseTo(17 / 7, 12);
    expect(smoothed([1, null, 2], 0.5)).toEqual([1, null, 5 / 3]);
    expect(smoothed([4, 6], 0)).toEqual([4, 6]);
  });

  it('a log scale fits positive values only, and spans whole decades', () => {
    expect(logScaleFits([0.1, 2, null])).toBe(true);
    expect(logScaleFits([0.1, 0])).toBe(false);
    expect(logScaleFits([null])).toBe(false);
    // log10 0.002 = -2.7, log10 0.3 = -0.52: decades -3 to 0.
    expect(logAxis([0.002, 0.3])).toEqual({ domain: [-3, 0], ticks: [-3, -2, -1, 0] });
    expect(logAxis([5, 5])).toEqual({ domain: [0, 1], ticks: [0, 1] });
  });

  it('draws log10 of the values on a log scale, with ticks in the metric\'s own format', () => {
    const reports = [report(1, { grad_norm: 0.01 }), report(2, { grad_norm: 1 })];
    const data = addedChartData({ metric: 'grad_norm', smoothing: 0, log: true }, reports, []);
    expect(data.log).toBe(true);
    expect(data.rows).toEqual([
      { step: 1, raw: -2 },
      { step: 2, raw: 0 },
    ]);
    expect(data.left.ticks.map(data.left.format)).toEqual(['0.010', '0.10', '1.0']);
    const withZero = addedChartData({ metric: 'grad_norm', smoothing: 0, log: true }, [...reports, report(3, { grad_norm: 0 })], []);
    expect(withZero.log).toBe(false);
    expect(withZero.logFits).toBe(false);
  });
});

describe('charts in the link', () => {
  it('round-trips metric, smoothing and log scale', () => {
    const charts = [
      { metric: 'grad_norm' as const, smoothing: 0.9, log: true },
      { metric: 'actor/ppo_kl' as const, smoothing: 0, log: false },
    ];
    expect(chartsToParam(charts)).toBe('grad_norm~ema0.9~log,actor/ppo_kl');
    expect(chartsFromParam(chartsToParam(charts))).toEqual({ charts, problems: [] });
    expect(withChartsParam('?preset=tao-rl&seed=1', charts)).toBe('?preset=tao-rl&seed=1&charts=grad_norm~ema0.9~log,actor/ppo_kl');
    expect(withChartsParam('?preset=tao-rl&charts=grad_norm', [])).toBe('?preset=tao-rl');
    expect(linkWithCharts('https://x.test/page?seed=2', charts.slice(1))).toBe('https://x.test/page?seed=2&charts=actor/ppo_kl');
    // The charts are the page's own parameter, not a config field.
    expect(hasConfigParams('?charts=grad_norm')).toBe(false);
  });

  it('names what it cannot read and keeps the rest', () => {
    const { charts, problems } = chartsFromParam('nope,grad_norm~ema2~wide,grad_norm~log');
    expect(charts).toEqual([{ metric: 'grad_norm', smoothing: 0, log: false }]);
    expect(problems).toEqual([
      'charts: "nope" is not a metric; that chart is left out.',
      'charts: "ema2" is not an option of the grad_norm chart (ema0 to ema0.99, log); it is ignored.',
      'charts: "wide" is not an option of the grad_norm chart (ema0 to ema0.99, log); it is ignored.',
    ]);
  });
});

describe('the picker', () => {
  it('lists every metric of the registry, adds a chart, smooths it, puts it on a log scale, removes it', () => {
    useWorkbench.setState({ reports: [report(1, { grad_norm: 0.5 }), report(2, { grad_norm: 0.25 }), report(3, { grad_norm: 2 })] });
    render(<Curves />);
    const picker = screen.getByRole('combobox', { name: 'Add a chart' });
    const options = within(picker).getAllByRole('option').filter((option) => (option as HTMLOptionElement).value !== '');
    expect(options.map((option) => (option as HTMLOptionElement).value).sort()).toEqual([...METRIC_KEYS].sort());
    expect(options.find((option) => (option as HTMLOptionElement).value === 'grad_norm')!.textContent).toBe(METRICS.grad_norm.label);

    fireEvent.change(picker, { target: { value: 'grad_norm' } });
    expect(useWorkbench.getState().charts).toEqual([{ metric: 'grad_norm', smoothing: 0, log: false }]);
    const figure = screen.getByRole('figure', { name: 'Gradient norm' });
    expect(within(figure).getByRole('heading').getAttribute('title')).toBe(`${METRICS.grad_norm.label}: ${METRICS.grad_norm.meaning}`);

    fireEvent.change(within(figure).getByLabelText(`Smoothing of ${METRICS.grad_norm.label}`), { target: { value: '0.8' } });
    expect(useWorkbench.getState().charts[0].smoothing).toBe(0.8);
    fireEvent.click(within(figure).getByLabelText(`Log scale for ${METRICS.grad_norm.label}`));
    expect(useWorkbench.getState().charts[0].log).toBe(true);

    fireEvent.click(within(figure).getByRole('button', { name: `Remove the chart of ${METRICS.grad_norm.label}` }));
    expect(useWorkbench.getState().charts).toEqual([]);
    expect(screen.queryByRole('figure', { name: 'Gradient norm' })).toBeNull();
  });

  it('offers no log scale while a value is 0 or below', () => {
    useWorkbench.setState({ reports: [report(1, { 'actor/ppo_kl': 0 }), report(2, { 'actor/ppo_kl': 0.01 })], charts: [{ metric: 'actor/ppo_kl', smoothing: 0, log: false }] });
    render(<Curves />);
    expect((screen.getByLabelText(`Log scale for ${METRICS['actor/ppo_kl'].label}`) as HTMLInputElement).disabled).toBe(true);
  });
});

describe('saved with the run', () => {
  it('the charts go into the saved run and come back when it is opened', async () => {
    const db = await RunsDb.open();
    const persistence = startPersistence(db, () => {}, () => {});
    const runId = useWorkbench.getState().runId;
    const charts = [{ metric: 'grad_norm' as const, smoothing: 0.5, log: false }];
    act(() => useWorkbench.getState().setCharts(charts));
    await persistence.idle();
    persistence.stop();
    expect((await db.getRun(runId))!.charts).toEqual(charts);

    useWorkbench.setState({ charts: [], send: () => {} });
    useWorkbench.getState().openRun((await db.loadRun(runId))!);
    expect(useWorkbench.getState().charts).toEqual(charts);
    db.close();
  });
});
