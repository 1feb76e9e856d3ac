// @vitest-environment jsdom
// The controls against a fake worker: what each edit sends, and that refused input sends nothing.

import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Controls } from '../../src/app/panels/Controls';
import { useWorkbench } from '../../src/app/store';
import type { ToWorker } from '../../src/worker/protocol';

const pristine = useWorkbench.getState();
let send: ReturnType<typeof vi.fn<(command: ToWorker) => void>>;

beforeEach(() => {
  send = vi.fn<(command: ToWorker) => void>();
  useWorkbench.setState({ ...pristine, status: 'ready', send }, true);
});

afterEach(cleanup);

function type(label: string, text: string): HTMLElement {
  const input = screen.getByLabelText(label);
  fireEvent.change(input, { target: { value: text } });
  return input;
}

describe('Controls', () => {
  it.each(['-1', 'abc', '0', '', '0.5'])('refuses learning rate %j at the field with the allowed range and sends nothing', (text) => {
    render(<Controls />);
    const input = type('Learning rate', text);
    expect(input.getAttribute('aria-invalid')).toBe('true');
    const message = document.getElementById(input.getAttribute('aria-describedby')!.split(' ')[0])!;
    expect(message.textContent).toContain('(0, 0.1]');
    expect(send).not.toHaveBeenCalled();
    expect(useWorkbench.getState().draft.learningRate).toBe(3e-4);
  });

  it('sends a valid learning rate once as a live setting and clears the refusal', () => {
    render(<Controls />);
    type('Learning rate', 'abc');
    const input = type('Learning rate', '0.001');
    expect(input.getAttribute('aria-invalid')).toBe('false');
    expect(screen.queryByText(/\(0, 0\.1\]/)).toBeNull();
    expect(send).toHaveBeenCalledTimes(1);
    expect(send).toHaveBeenCalledWith({ type: 'settings', settings: { learningRate: 0.001 } });
  });

  it('sends a valid entropy bonus coefficient once as the shape setting, slider following', () => {
    render(<Controls />);
    const before = useWorkbench.getState().draft.shape;
    type('Entropy bonus coefficient', '0.3');
    expect(send).toHaveBeenCalledTimes(1);
    expect(send).toHaveBeenCalledWith({ type: 'settings', settings: { shape: { ...before, bonus: { ...before.bonus, coef: 0.3 } } } });
    expect((screen.getByLabelText('Entropy bonus slider') as HTMLInputElement).value).toBe('0.3');
    expect(screen.queryByText(/needs reset/)).toBeNull();
  });

  it('accepts a coefficient up to 10 in the number input and refuses 11', () => {
    render(<Controls />);
    type('Entropy bonus coefficient', '11');
    expect(screen.getByText(/\[0, 10\]/)).toBeTruthy();
    expect(send).not.toHaveBeenCalled();
    type('Entropy bonus coefficient', '2.5');
    expect(useWorkbench.getState().draft.shape.bonus.coef).toBe(2.5);
    expect((screen.getByLabelText('Entropy bonus slider') as HTMLInputElement).value).toBe('1');
  });

  it('moves the coefficient with the slider and updates the number input', () => {
    render(<Controls />);
    fireEvent.change(screen.getByLabelText('Entropy bonus slider'), { target: { value: '0.42' } });
    expect(send).toHaveBeenCalledTimes(1);
    expect(useWorkbench.getState().config.shape.bonus.coef).toBe(0.42);
    expect((screen.getByLabelText('Entropy bonus coefficient') as HTMLInputElement).value).toBe('0.42');
  });

  it('sends kappa and the entropy regulariser live', () => {
    render(<Controls />);
    type('Kappa', '3');
    type('Entropy regulariser', '0.001');
    expect(send).toHaveBeenCalledTimes(2);
    expect(send.mock.calls[0][0]).toMatchObject({ type: 'settings', settings: { shape: { bonus: { kappa: 3 } } } });
    expect(send.mock.calls[1][0]).toEqual({ type: 'settings', settings: { entropyCoef: 0.001 } });
  });

  it('keeps a non-live change (group size) in the draft, sends nothing, and offers the reset', () => {
    render(<Controls />);
    type('Group size', '16');
    expect(send).not.toHaveBeenCalled();
    expect(useWorkbench.getState().draft.groupSize).toBe(16);
    expect(useWorkbench.getState().config.groupSize).toBe(8);
    expect(screen.getAllByText('needs reset')).toHaveLength(1);
    const note = screen.getByRole('note');
    expect(note.textContent).toContain('Reset to apply: group size');
    fireEvent.click(within(note).getByRole('button', { name: 'Apply now' }));
    expect(send).toHaveBeenCalledWith({ type: 'init', config: useWorkbench.getState().draft, backend: 'auto' });
  });

  it('refuses a fractional group size', () => {
    render(<Controls />);
    type('Group size', '4.5');
    expect(screen.getByText(/an integer in \[2, 64\]/)).toBeTruthy();
    expect(useWorkbench.getState().draft.groupSize).toBe(8);
  });

  it('sends the draft with Reset', () => {
    render(<Controls />);
    type('Seed', '7');
    fireEvent.click(screen.getByRole('button', { name: 'Reset' }));
    expect(send).toHaveBeenCalledTimes(1);
    const command = send.mock.calls[0][0];
    expect(command).toEqual({ type: 'init', config: { ...pristine.draft, seed: 7 }, backend: 'auto' });
    expect(screen.queryByText('needs reset')).toBeNull();
  });

  it('sets the shaping of a preset: GRPO turns both filters and the bonus off', () => {
    render(<Controls />);
    fireEvent.change(screen.getByLabelText('Preset'), { target: { value: 'grpo' } });
    const { draft } = useWorkbench.getState();
    expect(draft.preset).toBe('grpo');
    expect(draft.shape.groupFilter).toBe(false);
    expect(draft.shape.toolFailFilter).toBe(false);
    expect(draft.shape.bonus.mode).toBe('off');
    expect(draft.learningRate).toBe(3e-4);
    expect((screen.getByLabelText('Group filter') as HTMLInputElement).checked).toBe(false);
    expect((screen.getByLabelText('Bonus mode') as HTMLSelectElement).value).toBe('off');
    expect(screen.getByRole('note').textContent).toContain('preset');
  });

  it('keeps model, seed and batch sizes when the preset changes; DAPO fills by resampling', () => {
    render(<Controls />);
    type('Seed', '5');
    type('Group size', '4');
    fireEvent.change(screen.getByLabelText('Preset'), { target: { value: 'dapo' } });
    const { draft } = useWorkbench.getState();
    expect(draft).toMatchObject({ preset: 'dapo', fill: 'resample', seed: 5, groupSize: 4 });
    expect(draft.shape.groupFilter).toBe(true);
    expect(draft.shape.toolFailFilter).toBe(false);
  });

  it('edits the window: empty is the whole turn, an integer a window, 81 refused', () => {
    render(<Controls />);
    type('Post-tool window', '4');
    expect(useWorkbench.getState().draft.shape.bonus.window).toBe(4);
    type('Post-tool window', '');
    expect(useWorkbench.getState().draft.shape.bonus.window).toBeNull();
    type('Post-tool window', '81');
    expect(useWorkbench.getState().draft.shape.bonus.window).toBeNull();
    expect(send).toHaveBeenCalledTimes(2);
  });

  it('enables the buttons by status', () => {
    const enabled = () =>
      Object.fromEntries(['Start', 'Pause', 'Step', 'Reset'].map((name) => [name, !(screen.getByRole('button', { name }) as HTMLButtonElement).disabled]));
    render(<Controls />);
    expect(enabled()).toEqual({ Start: true, Pause: false, Step: true, Reset: true });
    act(() => useWorkbench.setState({ status: 'running' }));
    expect(enabled()).toEqual({ Start: false, Pause: true, Step: false, Reset: true });
    act(() => useWorkbench.setState({ status: 'loading' }));
    expect(enabled()).toEqual({ Start: false, Pause: false, Step: false, Reset: false });
    act(() => useWorkbench.setState({ status: 'paused' }));
    expect(enabled()).toEqual({ Start: true, Pause: false, Step: true, Reset: true });
  });

  it('sends start, step and pause', () => {
    render(<Controls />);
    fireEvent.click(screen.getByRole('button', { name: 'Step' }));
    fireEvent.click(screen.getByRole('button', { name: 'Start' }));
    act(() => useWorkbench.setState({ status: 'running' }));
    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    expect(send.mock.calls.map(([command]) => command)).toEqual([{ type: 'step' }, { type: 'start' }, { type: 'pause' }]);
  });
});
