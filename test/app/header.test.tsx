// @vitest-environment jsdom
// The header against a fake worker: backend, fallback, status, counter, speed, failure, switcher.

import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StepReport } from '../../src/core/trainer';
import { failureSentence, formatRate, formatSeconds, Header } from '../../src/app/panels/Header';
import { useWorkbench } from '../../src/app/store';
import type { FromWorker, ToWorker } from '../../src/worker/protocol';

const pristine = useWorkbench.getState();
let send: ReturnType<typeof vi.fn<(command: ToWorker) => void>>;

beforeEach(() => {
  send = vi.fn<(command: ToWorker) => void>();
  useWorkbench.setState({ ...pristine, send }, true);
});

afterEach(cleanup);

function receive(message: FromWorker): void {
  act(() => useWorkbench.getState().receive(message));
}

/** A step report with only what the header reads. */
function report(step: number, metrics: Record<string, number>): StepReport {
  const { config } = useWorkbench.getState();
  return { step, preset: config.preset, seed: config.seed, settings: config, skipped: false, metrics, trajectories: [] };
}

describe('Header', () => {
  it('shows the backend, its adapter and why it runs there in plain words', () => {
    render(<Header />);
    const fallback =
      'Training on WebAssembly (wasm): WebGPU is not available in this browser and WebGL here is a software renderer (SwiftShader) that draws on the CPU, many times slower.';
    receive({ type: 'backend', backend: { name: 'webgpu', adapter: 'google / swiftshader / SwiftShader driver 5.0.0 (fallback adapter)' } });
    expect(screen.getByText('WebGPU · google / swiftshader / SwiftShader driver 5.0.0 (fallback adapter)')).toBeTruthy();
    receive({ type: 'backend', backend: { name: 'wasm', fallback } });
    expect(screen.getByText('WASM', { selector: '.wb-backend' })).toBeTruthy();
    expect(screen.getByRole('note').textContent).toBe(fallback);
  });

  it('names the kernels that sample, warns when the fused ones were refused, and shows dispatches per token', () => {
    render(<Header />);
    receive({ type: 'backend', backend: { name: 'webgpu' } });
    receive({ type: 'kernels', kernels: { path: 'fused', reason: 'fused WGSL kernels sample on WebGPU' } });
    expect(screen.getByText('fused WGSL kernels').getAttribute('title')).toBe('fused WGSL kernels sample on WebGPU');
    expect(screen.queryByRole('note')).toBeNull();
    receive({
      type: 'step',
      report: report(1, { 'time/step_s': 2, 'perf/sampled_tokens_per_s': 50, 'perf/dispatches_per_sampled_token': 4.83, 'perf/readbacks_per_rollout': 3, 'perf/tool_rounds_per_rollout': 2 }),
    });
    expect(screen.getByText('4.8')).toBeTruthy();
    // Readbacks per rollout beside the dispatches, with the tool rounds they are bounded by.
    const readbacks = screen.getByText('3.0').closest('.wb-stat')!;
    expect(readbacks.textContent).toBe('3.0 readbacks/rollout');
    expect(readbacks.getAttribute('title')).toContain('(2.0 tool rounds per rollout)');
    receive({
      type: 'kernels',
      kernels: { path: 'stock', reason: 'the fused kernels failed their self-check', warning: 'a fused WebGPU shader did not compile on this adapter: bad' },
    });
    expect(screen.getByText('tfjs kernels')).toBeTruthy();
    expect(screen.getByRole('note').textContent).toBe(
      "The fused WebGPU kernels are off: a fused WebGPU shader did not compile on this adapter: bad. Sampling runs on tfjs's own kernels, slower.",
    );
  });

  it('shows the status in words, the latest step, its time and sampled tokens/s', () => {
    render(<Header />);
    expect(screen.getByRole('status').textContent).toBe('loading');
    expect(screen.getByLabelText('Step').textContent).toBe('0');
    receive({ type: 'status', status: 'ready' });
    expect(screen.getByRole('status').textContent).toBe('ready');
    receive({ type: 'status', status: 'running' });
    receive({ type: 'step', report: report(1, { 'time/step_s': 2.04, 'perf/sampled_tokens_per_s': 950 }) });
    receive({ type: 'step', report: report(2, { 'time/step_s': 1.83, 'perf/sampled_tokens_per_s': 6140 }) });
    expect(screen.getByRole('status').textContent).toBe('training');
    expect(screen.getByLabelText('Step').textContent).toBe('2');
    expect(screen.getByText('1.8 s')).toBeTruthy();
    expect(screen.getByText('6.1k')).toBeTruthy();
    // The Step button of the controls stays the only button of that name.
    expect(screen.queryByRole('button', { name: 'Step' })).toBeNull();
  });

  it('announces a failure once, with what Resume does, and resumes', () => {
    render(<Header />);
    receive({ type: 'failure', kind: 'nan', message: 'the loss became NaN at step 13; weights were not updated', lastGoodStep: 12 });
    expect(screen.getByRole('status').textContent).toBe('error');
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toBe(
      'Training stopped: the loss became NaN at step 13; weights were not updated. Resume continues from the weights of step 12.Resume',
    );
    fireEvent.click(screen.getByRole('button', { name: 'Resume' }));
    expect(send).toHaveBeenCalledWith({ type: 'resume' });
    receive({ type: 'status', status: 'paused' });
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('words each kind of failure with each fact once', () => {
    expect(failureSentence({ kind: 'crash', message: 'an uncaught error in the training worker: boom', lastGoodStep: 7 })).toBe(
      'Training crashed: an uncaught error in the training worker: boom. Resume continues from the weights of step 7.',
    );
    expect(failureSentence({ kind: 'device_lost', message: 'the GPU process restarted (reason: unknown)', lastGoodStep: 1 })).toBe(
      'The GPU device was lost: the GPU process restarted (reason: unknown). Resume continues from the weights of step 1 on a restarted backend.',
    );
    expect(failureSentence({ kind: 'unresponsive', message: 'no word from it for 16 s while training, so it was stopped', lastGoodStep: 0 })).toBe(
      'The training worker stopped responding: no word from it for 16 s while training, so it was stopped. Resume starts again from the starting weights in a new worker.',
    );
    expect(failureSentence({ kind: 'load', message: 'no bundled checkpoint for the base scale.', lastGoodStep: 0 })).toBe(
      'Could not load the run: no bundled checkpoint for the base scale. Reset starts a new run with the settings in the controls.',
    );
  });

  it('switches backend by restarting the run on it', () => {
    render(<Header />);
    act(() => useWorkbench.setState({ status: 'ready' }));
    fireEvent.change(screen.getByLabelText('Backend'), { target: { value: 'wasm' } });
    expect(useWorkbench.getState().backendChoice).toBe('wasm');
    expect(send).toHaveBeenCalledTimes(1);
    expect(send).toHaveBeenCalledWith({ type: 'init', config: useWorkbench.getState().draft, backend: 'wasm' });
    expect(screen.getByRole('status').textContent).toBe('loading');
  });

  it('formats seconds and rates with precision that matches their noise', () => {
    expect([0.421, 1.83, 12.4].map(formatSeconds)).toEqual(['0.42 s', '1.8 s', '12 s']);
    expect([840.4, 6140, 23_400].map(formatRate)).toEqual(['840', '6.1k', '23k']);
  });
});
