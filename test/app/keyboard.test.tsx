// @vitest-environment jsdom
// Keyboard shortcuts: Space start/pause, `.` one step, arrows between steps, j/k between
// trajectories, Enter/Esc for the token view, and nothing while typing in a field.

import { cleanup, fireEvent, render, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import type { StepReport, TrajectoryReport } from '../../src/core/trainer';
import { useKeyboardShortcuts } from '../../src/app/keyboard';
import { initialConfig, useWorkbench } from '../../src/app/store';
import type { ToWorker } from '../../src/worker/protocol';

/** Step `step` with `count` (stub) trajectories. */
function report(step: number, count: number): StepReport {
  return {
    step,
    preset: 'tao-rl',
    seed: 1,
    settings: initialConfig(),
    skipped: false,
    metrics: { 'critic/score/mean': 0.5 },
    trajectories: Array.from({ length: count }, (_, group) => ({ group, reward: 1 }) as TrajectoryReport),
  };
}

let send: Mock<(command: ToWorker) => void>;

beforeEach(() => {
  send = vi.fn();
  useWorkbench.setState({
    send,
    status: 'paused',
    reports: [report(1, 2), report(2, 2), report(3, 3)],
    selectedStep: null,
    selectedTrajectory: null,
  });
  renderHook(() => useKeyboardShortcuts());
});

afterEach(() => {
  cleanup();
  document.body.innerHTML = '';
});

const press = (key: string, target: Element | Window = window) => fireEvent.keyDown(target, { key });
const sent = () => send.mock.calls.map(([command]) => command.type);

describe('useKeyboardShortcuts', () => {
  it('Space starts when paused or ready and pauses when running', () => {
    expect(press(' ')).toBe(false); // default prevented: Space would scroll the page
    expect(sent()).toEqual(['start']);

    useWorkbench.setState({ status: 'running' });
    press(' ');
    expect(sent()).toEqual(['start', 'pause']);

    useWorkbench.setState({ status: 'ready' });
    press(' ');
    expect(sent()).toEqual(['start', 'pause', 'start']);

    useWorkbench.setState({ status: 'loading' });
    press(' ');
    expect(sent()).toEqual(['start', 'pause', 'start']);
  });

  it('`.` takes one step', () => {
    press('.');
    expect(sent()).toEqual(['step']);
  });

  it('arrow keys move between steps and leave live mode', () => {
    press('ArrowLeft');
    expect(useWorkbench.getState().selectedStep).toBe(2);
    press('ArrowLeft');
    press('ArrowLeft'); // clamped at the first step
    expect(useWorkbench.getState().selectedStep).toBe(1);
    press('ArrowRight');
    expect(useWorkbench.getState().selectedStep).toBe(2);

    useWorkbench.setState({ selectedStep: null });
    press('ArrowRight'); // already at the latest: held there
    expect(useWorkbench.getState().selectedStep).toBe(3);
  });

  it('j and k move between the trajectories of the shown step', () => {
    press('j');
    expect(useWorkbench.getState().selectedTrajectory).toBe(0);
    press('j');
    press('j');
    press('j'); // step 3 has 3 trajectories
    expect(useWorkbench.getState().selectedTrajectory).toBe(2);
    press('k');
    expect(useWorkbench.getState().selectedTrajectory).toBe(1);

    useWorkbench.setState({ selectedStep: 1, selectedTrajectory: null });
    press('k'); // none open: k opens the last
    expect(useWorkbench.getState().selectedTrajectory).toBe(1);
  });

  it('Enter opens the token view of the first or the focused trajectory; Escape closes it', () => {
    press('Enter');
    expect(useWorkbench.getState().selectedTrajectory).toBe(0);
    press('Escape');
    expect(useWorkbench.getState().selectedTrajectory).toBeNull();

    const { getByTestId } = render(<div tabIndex={0} data-trajectory-index="2" data-testid="card" />);
    press('Enter', getByTestId('card'));
    expect(useWorkbench.getState().selectedTrajectory).toBe(2);
  });

  it('ignores keys typed into fields', () => {
    const { getByRole, getByTestId } = render(
      <form>
        <input aria-label="seed" />
        <select aria-label="preset">
          <option>tao-rl</option>
        </select>
        <textarea aria-label="notes" />
        <div contentEditable suppressContentEditableWarning data-testid="editable">
          <span data-testid="inside">text</span>
        </div>
      </form>,
    );
    for (const target of [getByRole('textbox', { name: 'seed' }), getByRole('combobox'), getByRole('textbox', { name: 'notes' }), getByTestId('inside')]) {
      expect(press(' ', target)).toBe(true); // default not prevented: the space is typed
      for (const key of ['.', 'j', 'k', 'ArrowLeft', 'Enter']) press(key, target);
    }
    expect(send).not.toHaveBeenCalled();
    expect(useWorkbench.getState().selectedStep).toBeNull();
    expect(useWorkbench.getState().selectedTrajectory).toBeNull();
  });

  it('leaves Space on a focused button to the button', () => {
    const { getByRole } = render(<button type="button">Reset</button>);
    expect(press(' ', getByRole('button'))).toBe(true);
    expect(send).not.toHaveBeenCalled();
  });

  it('stops listening when unmounted', () => {
    cleanup();
    press(' ');
    expect(send).not.toHaveBeenCalled();
  });
});
