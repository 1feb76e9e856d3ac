// @vitest-environment jsdom
// Fork at a token in the token view, on a hand-built step with a fake worker: the default token
// (first after the tool result), the next-token list from a hand-written distribution, the
// requests sent, the continuations and their pass rate, the scan with its progress and cancel,
// and why the buttons are off.

import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forkUnavailable, formatProbability, labelledPoints, NextTokenList, passRateWords, topTokens, weightsWords } from '../../src/app/panels/Fork';
import { TokenView } from '../../src/app/panels/TokenView';
import { DEFAULT_SAMPLES, useFork } from '../../src/app/forkState';
import { initialConfig, useWorkbench } from '../../src/app/store';
import type { Continuation, NextTokenDistribution } from '../../src/core/fork';
import type { TokenKind } from '../../src/core/tao/types';
import { DEFAULT_SHAPE_CONFIG } from '../../src/core/tao/shape';
import { VOCAB, VOCAB_SIZE } from '../../src/core/tokenizer';
import type { StepReport, TrajectoryReport } from '../../src/core/trainer';
import type { ForkReply, ToWorker } from '../../src/worker/protocol';

/** "2+3=<call>2+3</call><result>5</result><answer>5</answer><eos>": the answer starts at 13. */
const TEXT = ['<bos>', '2', '+', '3', '=', '<call>', '2', '+', '3', '</call>', '<result>', '5', '</result>', '<answer>', '5', '</answer>', '<eos>'];
const KIND: TokenKind[] = [...Array(5).fill('prompt'), ...Array(5).fill('policy'), ...Array(3).fill('tool'), ...Array(4).fill('policy')];
const POST_TOOL = KIND.map((_, t) => (t >= 13 ? 1 : 0)) as (0 | 1)[];

function report(): StepReport {
  const config = initialConfig();
  const { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, flakyProbability } = config;
  const trajectory: TrajectoryReport = {
    group: 0,
    prompt: '2+3',
    expected: '5',
    answer: '5',
    reward: 1,
    finishReason: 'eos',
    kept: true,
    reason: null,
    trainedCopies: 1,
    advantage: 0.7,
    toolCalls: [{ expression: '2+3', ok: true, value: '5' }],
    segments: [],
    tokens: {
      text: TEXT,
      kind: KIND,
      entropy: KIND.map((k) => (k === 'policy' ? 0.8 : 0)),
      logprob: KIND.map(() => -0.5),
      postTool: POST_TOOL,
      lossWeight: KIND.map((k) => (k === 'policy' ? 1 : 0)),
      advantage: KIND.map((k) => (k === 'policy' ? 0.7 : 0)),
      bonus: KIND.map(() => 0),
    },
  };
  return {
    step: 4,
    preset: 'tao-rl',
    seed: 1,
    settings: { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, flakyProbability, shape: DEFAULT_SHAPE_CONFIG },
    skipped: false,
    metrics: {},
    trajectories: [trajectory],
  };
}

/** <answer> 0.5, '5' 0.25, '4' 0.125, <call> 0.0625, eight digits 0.0078125 each: sums to 1. */
function distribution(): NextTokenDistribution {
  const probabilities = new Array<number>(VOCAB_SIZE).fill(0);
  probabilities[VOCAB.indexOf('<answer>')] = 0.5;
  probabilities[VOCAB.indexOf('5')] = 0.25;
  probabilities[VOCAB.indexOf('4')] = 0.125;
  probabilities[VOCAB.indexOf('<call>')] = 0.0625;
  for (const digit of '01236789') probabilities[VOCAB.indexOf(digit)] = 0.0078125;
  return { probabilities, entropy: 1.35 };
}

function continuation(reward: number, text: string[], calls: Continuation['toolCalls'] = []): Continuation {
  return { text, kind: text.map(() => 'policy' as const), toolCalls: calls, answer: reward ? '5' : '6', reward, finishReason: 'eos' };
}

let sent: ToWorker[];
const forkRequests = () => sent.flatMap((m) => (m.type === 'fork' ? [m.request] : []));
const reply = (message: ForkReply) => act(() => useWorkbench.getState().receive({ type: 'fork', reply: message }));

beforeEach(() => {
  sent = [];
  useWorkbench.setState({ reports: [report()], selectedStep: null, selectedTrajectory: 0, status: 'paused', viewOnly: false, runId: 'run-a', send: (m) => sent.push(m) });
  useFork.setState({ chosen: {}, results: {}, pending: {}, samples: DEFAULT_SAMPLES, scanSamples: 8, seed: 1 });
});

afterEach(cleanup);

describe('the next-token list', () => {
  it('lists the most probable tokens first, at least 5, with their probabilities, and marks the one written', () => {
    const top = topTokens(distribution());
    expect(top.map((entry) => entry.token)).toEqual(['<answer>', '5', '4', '<call>', '0', '1', '2', '3']);
    // Shown with the rest, the probabilities add up to 1: 0.5 + 0.25 + 0.125 + 0.0625 + 8 x 0.0078125.
    expect(distribution().probabilities.reduce((a, b) => a + b, 0)).toBe(1);
    render(<NextTokenList distribution={distribution()} sampled="<answer>" recordedEntropy={0.8} />);
    const items = within(screen.getByRole('list', { name: 'Next-token probabilities' })).getAllByRole('listitem');
    expect(items.length).toBeGreaterThanOrEqual(5);
    expect(items[0].textContent).toContain('50.0%');
    expect(items[0].textContent).toContain('written here');
    expect(items[1].textContent).toContain('25.0%');
    expect(items[4].textContent).toContain('0.8%');
    expect(screen.getByText(/entropy 1\.35 nats \(when sampled: 0\.80\)/)).toBeTruthy();
  });

  it('names every token the mask forbids', () => {
    render(<NextTokenList distribution={distribution()} sampled="<answer>" recordedEntropy={1.35} />);
    const forbids = screen.getByText(/The mask forbids/);
    for (const token of ['<pad>', '<bos>', '<result>', '</result>', 'E', 'R']) expect(within(forbids).getByText(token)).toBeTruthy();
    expect(formatProbability(0.0001)).toBe('< 0.1%');
  });
});

describe('words', () => {
  it('pass rate: 7 of 16 is 44%', () => {
    const continuations = [...Array(7).fill(continuation(1, ['5'])), ...Array(9).fill(continuation(0, ['6']))];
    expect(passRateWords(continuations)).toBe('pass rate from here: 44% (7 of 16)');
  });

  it('labels scanned points from the most uncertain, leaving out a label that would print over another', () => {
    const points = [
      { position: 13, entropy: 0.01, passed: 8, total: 8 },
      { position: 14, entropy: 0.02, passed: 8, total: 8 }, // 1 px from 13: unlabelled
      { position: 5, entropy: 0.6, passed: 4, total: 8 },
    ];
    const at = (point: { entropy: number; passed: number; total: number }): [number, number] => [100 * point.entropy, 100 * (1 - point.passed / point.total)];
    expect([...labelledPoints(points, at)].sort()).toEqual([14, 5].sort());
  });

  it('says which weights were used, and why the buttons are off', () => {
    expect(weightsWords({ step: 3, sampledWith: true }, 4)).toBe('Weights: those step 4 sampled with (the weights after step 3).');
    expect(weightsWords({ step: 9, sampledWith: false }, 4)).toContain('the current ones (the weights after step 9), not those step 4 sampled with');
    expect(forkUnavailable('paused', false)).toBeNull();
    expect(forkUnavailable('ready', true)).toMatch(/imported without weights/);
    expect(forkUnavailable('running', false)).toMatch(/pause/);
  });
});

describe('the fork panel', () => {
  it('forks at the first token after the tool result, asks for its distribution and shows it', () => {
    render(<TokenView />);
    expect(screen.getByRole('heading', { name: /Fork at token 13/ })).toBeTruthy();
    expect((screen.getByLabelText('Fork at token') as HTMLSelectElement).value).toBe('13');
    expect(forkRequests()).toEqual([expect.objectContaining({ kind: 'distribution', position: 13, step: 4, seed: 1 })]);
    const [request] = forkRequests();
    reply({ id: request.id, kind: 'distribution', weights: { step: 3, sampledWith: true }, position: 13, distribution: distribution() });
    expect(screen.getByRole('list', { name: 'Next-token probabilities' })).toBeTruthy();
    expect(screen.getByText('Weights: those step 4 sampled with (the weights after step 3).')).toBeTruthy();
  });

  it('resamples from the chosen token and shows the continuations with the pass rate beside the reward', () => {
    render(<TokenView />);
    fireEvent.change(screen.getByLabelText('Fork at token'), { target: { value: '14' } });
    expect(forkRequests().at(-1)).toMatchObject({ kind: 'distribution', position: 14 });
    fireEvent.click(screen.getByRole('button', { name: 'Resample from here' }));
    const resample = forkRequests().at(-1)!;
    expect(resample).toMatchObject({ kind: 'resample', position: 14, samples: DEFAULT_SAMPLES });
    expect((screen.getByRole('button', { name: 'Resampling…' }) as HTMLButtonElement).disabled).toBe(true);

    reply({
      id: resample.id,
      kind: 'continuations',
      weights: { step: 9, sampledWith: false },
      position: 14,
      seconds: 0.25,
      continuations: [
        continuation(1, ['5', '</answer>', '<eos>']),
        continuation(0, ['6', '</answer>', '<eos>'], [{ expression: '2*', ok: false, error: 'syntax', message: 'the expression ends early', cause: 'policy' }]),
        continuation(0, ['7', '</answer>', '<eos>']),
        continuation(1, ['5', '</answer>', '<eos>']),
      ],
    });
    const region = screen.getByRole('region', { name: 'Continuations' });
    expect(region.textContent).toContain('pass rate from here: 50% (2 of 4)');
    expect(region.textContent).toContain('this trajectory: reward 1 ✓');
    const cards = within(region).getAllByRole('article');
    expect(cards).toHaveLength(4);
    expect(cards[1].getAttribute('aria-label')).toBe('Continuation 2: reward 0 ✗');
    expect(cards[1].textContent).toContain('wrote 6 instead of 5');
    expect(within(cards[1]).getByRole('list', { name: 'tool calls' }).textContent).toContain('2* → ERR ✗');
    expect(screen.getByText(/the current ones \(the weights after step 9\)/)).toBeTruthy();
  });

  it('scans with progress, can be cancelled, and draws pass rate against entropy', () => {
    render(<TokenView />);
    fireEvent.click(screen.getByRole('button', { name: 'Scan this trajectory' }));
    const scan = forkRequests().at(-1)!;
    if (scan.kind !== 'scan') throw new Error('expected a scan');
    // Post-tool 13..16, and 4 contrast tokens among 5..9 (indices 0, 1, 3, 4 of 5: round(i * 4 / 3)).
    expect(scan.positions).toEqual([5, 6, 8, 9, 13, 14, 15, 16]);
    expect(scan.samples).toBe(8);
    reply({ id: scan.id, kind: 'scanPoint', weights: { step: 3, sampledWith: true }, position: 5, entropy: 0.2, passed: 8, total: 8, done: 1, of: 8 });
    reply({ id: scan.id, kind: 'scanPoint', weights: { step: 3, sampledWith: true }, position: 13, entropy: 1.4, passed: 3, total: 8, done: 2, of: 8 });
    expect((screen.getByRole('progressbar', { name: 'Scan progress' }) as HTMLProgressElement).value).toBe(2);
    expect(screen.getByText(/2 of 8 tokens/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Cancel scan' }));
    expect(sent.at(-1)).toEqual({ type: 'cancelFork', id: scan.id });
    reply({ id: scan.id, kind: 'scanDone', weights: { step: 3, sampledWith: true }, cancelled: true, seconds: 0.5 });
    expect(screen.getByText(/2 of 8 tokens, cancelled in 0\.5 s \(0\.25 s a token\)/)).toBeTruthy();
    const rows = within(screen.getByRole('table')).getAllByRole('row');
    expect(rows.map((row) => row.textContent)).toEqual([
      'tokenpositionentropypass rate from here',
      '<call>50.20100% (8 of 8)',
      '<answer> post-tool131.4038% (3 of 8)',
    ]);
    expect(screen.getByRole('button', { name: 'Scan this trajectory' })).toBeTruthy();
  });

  it('keeps the buttons off, saying why, on a run imported without weights and while training runs', () => {
    useWorkbench.setState({ viewOnly: true });
    const { rerender } = render(<TokenView />);
    expect(screen.getByText(/imported without weights/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Resample from here' }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole('button', { name: 'Scan this trajectory' }) as HTMLButtonElement).disabled).toBe(true);
    expect(forkRequests()).toEqual([]);
    act(() => useWorkbench.setState({ viewOnly: false, status: 'running' }));
    rerender(<TokenView />);
    expect(screen.getByText(/pause it to fork here/)).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Resample from here' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('nothing stays waiting when the worker fails: the buttons come back', () => {
    render(<TokenView />);
    fireEvent.click(screen.getByRole('button', { name: 'Scan this trajectory' }));
    fireEvent.click(screen.getByRole('button', { name: 'Resample from here' }));
    act(() => useWorkbench.getState().receive({ type: 'failure', kind: 'crash', message: 'Training crashed: gone.', lastGoodStep: 4 }));
    act(() => useWorkbench.setState({ status: 'paused', failure: null }));
    // Only the distribution is asked for again, now that the worker can answer.
    expect(Object.values(useFork.getState().pending).map((request) => request.kind)).toEqual(['distribution']);
    expect((screen.getByRole('button', { name: 'Resample from here' }) as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getByRole('button', { name: 'Scan this trajectory' })).toBeTruthy();
  });

  it('a worker refusal is shown', () => {
    render(<TokenView />);
    const [request] = forkRequests();
    reply({ id: request.id, kind: 'failed', message: 'no policy is loaded yet' });
    expect(screen.getByRole('alert').textContent).toBe('The worker could not fork: no policy is loaded yet.');
  });
});
