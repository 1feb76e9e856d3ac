// @vitest-environment jsdom
// The step timeline: moving between completed steps, following live, and saying when a step is
// old enough that only its metrics are kept.

import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StepReport, TrajectoryReport } from '../../src/core/trainer';
import { Timeline } from '../../src/app/panels/Timeline';
import { initialConfig, ROLLOUT_HISTORY, useWorkbench } from '../../src/app/store';

const trajectory = { group: 0, prompt: '2+2', expected: '4', answer: '4', reward: 1 } as TrajectoryReport;

/** Steps 1..count; like the store, only the last ROLLOUT_HISTORY keep their rollouts. */
function reports(count: number): StepReport[] {
  return Array.from({ length: count }, (_, i) => ({
    step: i + 1,
    preset: 'tao-rl',
    seed: 1,
    settings: initialConfig(),
    skipped: false,
    metrics: { 'critic/score/mean': 0.5 },
    trajectories: i < count - ROLLOUT_HISTORY ? [] : [trajectory],
  }));
}

beforeEach(() => {
  useWorkbench.setState({ send: vi.fn(), status: 'running', reports: reports(5), selectedStep: null, selectedTrajectory: null });
});

afterEach(cleanup);

const slider = () => screen.getByRole('slider', { name: 'Step timeline' }) as HTMLInputElement;

describe('Timeline', () => {
  it('follows the latest step by default', () => {
    render(<Timeline />);
    expect(screen.getByText('step 5 of 5 (live)')).toBeTruthy();
    expect(slider().value).toBe('4');
    expect((screen.getByRole('button', { name: 'Follow live' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('moves the selected step with its buttons and slider, and returns to live', () => {
    render(<Timeline />);
    fireEvent.click(screen.getByRole('button', { name: 'Previous step' }));
    expect(useWorkbench.getState().selectedStep).toBe(4);
    expect(screen.getByText('step 4 of 5')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'First step' }));
    expect(useWorkbench.getState().selectedStep).toBe(1);
    expect((screen.getByRole('button', { name: 'Previous step' }) as HTMLButtonElement).disabled).toBe(true);

    fireEvent.click(screen.getByRole('button', { name: 'Next step' }));
    expect(useWorkbench.getState().selectedStep).toBe(2);

    fireEvent.change(slider(), { target: { value: '2' } });
    expect(useWorkbench.getState().selectedStep).toBe(3);

    fireEvent.click(screen.getByRole('button', { name: 'Last step' }));
    expect(useWorkbench.getState().selectedStep).toBe(5);
    expect(screen.getByText('step 5 of 5')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Follow live' }));
    expect(useWorkbench.getState().selectedStep).toBeNull();
    expect(screen.getByText('step 5 of 5 (live)')).toBeTruthy();
  });

  it('keeps the chosen step while new steps arrive', () => {
    useWorkbench.setState({ selectedStep: 3 });
    render(<Timeline />);
    act(() => useWorkbench.getState().receive({ type: 'step', report: reports(6)[5] }));
    expect(screen.getByText('step 3 of 6')).toBeTruthy();
  });

  it('says when a step keeps metrics only', () => {
    useWorkbench.setState({ reports: reports(250) });
    render(<Timeline />);
    expect(screen.getByText('step 250 of 250 (live)')).toBeTruthy();

    // Steps 1..50 are older than the last 200.
    fireEvent.change(slider(), { target: { value: '49' } });
    expect(useWorkbench.getState().selectedStep).toBe(50);
    expect(screen.getByText('step 50 of 250 (metrics only: rollouts kept for the last 200 steps)')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Next step' }));
    expect(useWorkbench.getState().selectedStep).toBe(51);
    expect(screen.getByText('step 51 of 250')).toBeTruthy();
  });

  it('shows an empty run', () => {
    useWorkbench.setState({ reports: [] });
    render(<Timeline />);
    expect(screen.getByText('no steps yet')).toBeTruthy();
    expect(slider().disabled).toBe(true);
  });
});
