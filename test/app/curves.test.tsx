// @vitest-environment jsdom
// The curves panel: one headed chart per metric family, held-out points, and a marked vertical
// line for every live change of a hyperparameter.

import { act, cleanup, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Evaluation } from '../../src/core/evaluate';
import type { StepReport } from '../../src/core/trainer';
import { Curves, strideIndices } from '../../src/app/panels/Curves';
import { initialConfig, useWorkbench } from '../../src/app/store';

function pickSettings(): StepReport['settings'] {
  const { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, shape, flakyProbability } = initialConfig();
  return { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, shape, flakyProbability };
}

function report(step: number): StepReport {
  return {
    step,
    preset: 'tao-rl',
    seed: 1,
    settings: pickSettings(),
    skipped: false,
    metrics: {
      'critic/score/mean': 0.5,
      'entropy/mean': 1.2,
      'entropy/post_tool_mean': 1.6,
      'filter/kept_trajectories': 0.6,
      'filter/group_all_correct': 0.2,
      'filter/group_all_wrong': 0.1,
      'filter/all_tools_failed': 0.1,
      'tools/call_rate': 0.9,
      'tools/failure_frequency': 0.3,
      'loss/policy': 0.01,
      'actor/pg_clipfrac': 0.05,
      'actor/ppo_kl': 0.002,
      'perf/sampled_tokens_per_s': 5000,
      'perf/trained_tokens_per_s': 3000,
    },
    trajectories: [],
  };
}

const evaluation: Evaluation = {
  prompts: 64,
  samples: 8,
  sampledAccuracy: 0.4,
  passAtK: 0.9,
  greedyAccuracy: 0.8,
  callRate: 1,
  callFailureRate: 0.3,
  environmentFailureRate: 0,
  allCallsFailedRate: 0.1,
  mixedGroups: 0.8,
  byKind: {},
};

beforeEach(() => {
  useWorkbench.setState({
    send: vi.fn(),
    status: 'paused',
    reports: Array.from({ length: 6 }, (_, i) => report(i + 1)),
    evaluations: [{ step: 5, evaluation }],
    changes: [{ field: 'shape.bonus.coef', from: 0.01, to: 0.3, step: 3 }],
    selectedStep: null,
    selectedTrajectory: null,
  });
});

afterEach(cleanup);

/** Render the curves and wait for all six charts. */
async function renderCurves() {
  const result = render(<Curves />);
  await waitFor(() => expect(result.container.querySelectorAll('.live-chart')).toHaveLength(6), { timeout: 10_000 });
  return result;
}

describe('Curves', () => {
  it('draws six headed charts', async () => {
    await renderCurves();
    const curves = screen.getByTestId('curves');
    const headings = within(curves).getAllByRole('heading', { level: 3 }).map((h) => h.textContent);
    expect(headings).toEqual([
      'Reward and accuracy',
      'Entropy (nats per token)',
      'Kept and discarded trajectories',
      'Tool calls and failures',
      'Loss, clip fraction, approximate KL',
      'Throughput (tokens/s)',
    ]);
    expect(curves.querySelectorAll('svg.recharts-surface').length).toBeGreaterThanOrEqual(6);
  });

  it('marks a live change on every chart with its short field name, old and new value', async () => {
    await renderCurves();
    const curves = screen.getByTestId('curves');
    // One labelled vertical line per chart, in the SVG.
    expect(curves.querySelectorAll('.curve-mark line')).toHaveLength(6);
    const labels = [...curves.querySelectorAll('svg text')].filter((text) => text.textContent?.includes('0.01 → 0.3'));
    expect(labels.map((text) => text.textContent)).toEqual(Array(6).fill('coef 0.01 → 0.3'));
    // And in words under the charts.
    expect(within(screen.getByRole('list', { name: 'Live changes' })).getByText('step 3: coef 0.01 → 0.3')).toBeTruthy();
  });

  it('names the held-out series once an evaluation exists', async () => {
    await renderCurves();
    expect(screen.getAllByText('held-out sampled accuracy').length).toBeGreaterThan(0);
    cleanup();
    useWorkbench.setState({ evaluations: [] });
    render(<Curves />);
    expect(screen.queryByText('held-out sampled accuracy', { ignore: 'script, style, option' })).toBeNull(); // the picker lists every metric
  });

  it('draws the six charts empty before the first step, and says so', async () => {
    useWorkbench.setState({ reports: [], evaluations: [], changes: [] });
    const { container } = await renderCurves();
    expect(screen.getByText('Curves fill in from the first step.')).toBeTruthy();
    expect(container.querySelectorAll('path.curve-line[d]').length).toBe(0);
  });

  it('catches up with steps that arrive while a redraw waits: the charts end on the latest step', async () => {
    const { container } = await renderCurves();
    const pointsPerPath = () =>
      [...container.querySelectorAll('path.curve-line')].map((path) => (path.getAttribute('d')?.match(/[ML]/g) ?? []).length);
    expect(Math.max(...pointsPerPath())).toBe(6);
    // Steps 7 and 8 arrive back to back, inside the charts' one-second redraw interval.
    act(() => useWorkbench.setState((state) => ({ reports: [...state.reports, report(7)] })));
    act(() => useWorkbench.setState((state) => ({ reports: [...state.reports, report(8)] })));
    await waitFor(() => expect(pointsPerPath().filter((n) => n === 8)).toHaveLength(Object.keys(report(1).metrics).length), { timeout: 10_000 });
  });

  it('draws at most about 500 points per series however long the run', async () => {
    useWorkbench.setState({ reports: Array.from({ length: 5000 }, (_, i) => report(i + 1)), evaluations: [], changes: [] });
    await renderCurves();
    // Every metric of report() drawn (tools/failure_environment is absent from it: no path).
    const paths = [...screen.getByTestId('curves').querySelectorAll('path.curve-line')].filter((path) => path.getAttribute('d'));
    expect(paths).toHaveLength(Object.keys(report(1).metrics).length);
    for (const path of paths) {
      const points = (path.getAttribute('d')?.match(/[ML]/g) ?? []).length;
      expect(points).toBe(501); // steps 1, 11, ..., 4991 and the latest, 5000
    }
  });
});

describe('strideIndices', () => {
  it('keeps everything up to the limit', () => {
    expect(strideIndices(4, 500)).toEqual([0, 1, 2, 3]);
    expect(strideIndices(0, 500)).toEqual([]);
  });

  it('strides longer runs to about the limit and always keeps the latest step', () => {
    // 1001 items, at most 500: stride 3 -> 0, 3, ..., 999 (334 indices), plus the last, 1000.
    const indices = strideIndices(1001, 500);
    expect(indices.slice(0, 3)).toEqual([0, 3, 6]);
    expect(indices.at(-2)).toBe(999);
    expect(indices.at(-1)).toBe(1000);
    expect(indices).toHaveLength(335);
    expect(strideIndices(5000, 500)).toHaveLength(500 + 1); // stride 10: 0..4990, then 4999
  });
});
