// @vitest-environment jsdom
// The rollout inspector on a hand-built step: 2 groups x 2 trajectories. Group 1 is mixed (one
// correct call, one malformed call that the tool-failure filter drops); group 2 is all wrong
// (one environment timeout, one trajectory without a call) and its prompt is hostile text.

import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Inspector, toolCallText, trainedText } from '../../src/app/panels/Inspector';
import { ENTROPY_MAX, entropyColor, entropyTextColor } from '../../src/app/entropyColor';
import { initialConfig, useWorkbench } from '../../src/app/store';
import { DEFAULT_SHAPE_CONFIG } from '../../src/core/tao/shape';
import type { DiscardReason, TokenKind } from '../../src/core/tao/types';
import type { StepReport, TrajectoryReport } from '../../src/core/trainer';
import type { ToolCallRecord } from '../../src/core/environment';

const HOSTILE = '<img src=x onerror=alert(1)>';

type Segment = [TokenKind, string[], number[]?];

function trajectory(fields: {
  group: number;
  prompt: string;
  expected: string;
  answer: string | null;
  reward: number;
  reason: DiscardReason | null;
  trainedCopies: number;
  advantage: number;
  toolCalls: ToolCallRecord[];
  segments: Segment[];
}): TrajectoryReport {
  const text: string[] = [];
  const kind: TokenKind[] = [];
  const entropy: number[] = [];
  for (const [k, texts, entropies] of fields.segments) {
    texts.forEach((t, i) => {
      text.push(t);
      kind.push(k);
      entropy.push(entropies?.[i] ?? 0);
    });
  }
  const policyAdvantage = (k: TokenKind) => (k === 'policy' ? fields.advantage : 0);
  return {
    group: fields.group,
    prompt: fields.prompt,
    expected: fields.expected,
    answer: fields.answer,
    reward: fields.reward,
    finishReason: 'eos',
    kept: fields.reason === null,
    reason: fields.reason,
    trainedCopies: fields.trainedCopies,
    advantage: fields.advantage,
    toolCalls: fields.toolCalls,
    segments: fields.segments.map(([k, texts]) => ({ kind: k, text: texts.join('') })),
    tokens: {
      text,
      kind,
      entropy,
      logprob: text.map(() => -1),
      postTool: kind.map(() => 0 as const),
      lossWeight: kind.map((k) => (k === 'policy' && fields.reason === null ? 1 : 0)),
      advantage: kind.map(policyAdvantage),
      bonus: kind.map(() => 0),
    },
  };
}

const A = 0.5 / (Math.SQRT1_2 + 1e-6); // rewards {1, 0}: (1 - 0.5) / (sample std 0.7071 + 1e-6)

function stepReport(): StepReport {
  const config = initialConfig();
  return {
    step: 7,
    preset: 'tao-rl',
    seed: 1,
    settings: {
      learningRate: config.learningRate,
      temperature: config.temperature,
      clipLow: config.clipLow,
      clipHigh: config.clipHigh,
      dualClip: config.dualClip,
      entropyCoef: config.entropyCoef,
      klCoef: config.klCoef,
      gradClip: config.gradClip,
      flakyProbability: config.flakyProbability,
      shape: DEFAULT_SHAPE_CONFIG,
    },
    skipped: false,
    metrics: {},
    trajectories: [
      trajectory({
        group: 0, prompt: '2+3', expected: '5', answer: '5', reward: 1, reason: null, trainedCopies: 2, advantage: A,
        toolCalls: [{ expression: '2+3', ok: true, value: '5' }],
        segments: [
          ['prompt', ['<bos>', '2', '+', '3']],
          ['policy', ['<call>', '2', '+', '3', '</call>'], [0.5, 1.5, 0.5, 1.5, 0.5]],
          ['tool', ['<result>', '5', '</result>']],
          ['policy', ['<answer>', '5', '</answer>'], [1.5, 0.5, 1.5]],
        ],
      }),
      trajectory({
        group: 0, prompt: '2+3', expected: '5', answer: '6', reward: 0, reason: 'all_tools_failed', trainedCopies: 2, advantage: -A,
        toolCalls: [{ expression: '2+', ok: false, error: 'syntax', message: 'the expression ends early', cause: 'policy' }],
        segments: [
          ['prompt', ['<bos>', '2', '+', '3']],
          ['policy', ['<call>', '2', '+', '</call>'], [0.4, 0.4, 0.4, 0.4]],
          ['tool', ['<result>', 'E', 'R', 'R', '</result>']],
          ['policy', ['<answer>', '6', '</answer>'], [0.4, 0.4, 0.4]],
        ],
      }),
      trajectory({
        group: 1, prompt: HOSTILE, expected: '9', answer: '8', reward: 0, reason: 'group_all_wrong', trainedCopies: 0, advantage: 0,
        toolCalls: [{ expression: '4+5', ok: false, error: 'timeout', message: 'the tool timed out', cause: 'environment' }],
        segments: [
          ['prompt', ['<bos>', '4', '+', '5']],
          ['policy', ['<call>', '4', '+', '5', '</call>'], [0.2, 0.2, 0.2, 0.2, 0.2]],
          ['tool', ['<result>', 'E', 'R', 'R', '</result>']],
          ['policy', ['<answer>', '8', '</answer>'], [2.9, 2.9, 2.9]],
        ],
      }),
      trajectory({
        group: 1, prompt: HOSTILE, expected: '9', answer: '10', reward: 0, reason: 'group_all_wrong', trainedCopies: 0, advantage: 0,
        toolCalls: [],
        segments: [
          ['prompt', ['<bos>', '4', '+', '5']],
          ['policy', ['<answer>', '1', '0', '</answer>'], [1, 1, 1, 1]],
        ],
      }),
    ],
  };
}

beforeEach(() => {
  useWorkbench.setState({ reports: [stepReport()], selectedStep: null, selectedTrajectory: null, status: 'paused', config: initialConfig() });
});
afterEach(cleanup);

/** Render the inspector and wait for its groups: it adds one group per animation frame. */
async function renderInspector(groups = 2) {
  const result = render(<Inspector />);
  await waitFor(() => expect(result.container.querySelectorAll('section[aria-label^="Group "]:not([aria-busy])')).toHaveLength(groups));
  return result;
}

describe('Inspector', () => {
  it('shows every trajectory as an article named with its group, reward and discard reason', async () => {
    await renderInspector();
    const names = screen.getAllByRole('article').map((card) => card.getAttribute('aria-label'));
    expect(names).toEqual([
      'Group 1, trajectory 1: reward 1',
      'Group 1, trajectory 2: reward 0, discarded: all tool calls failed',
      'Group 2, trajectory 1: reward 0, discarded: group all wrong',
      'Group 2, trajectory 2: reward 0, discarded: group all wrong',
    ]);
    expect(screen.getByRole('article', { name: /all tool calls failed/ })).toHaveProperty('tabIndex', 0);
  });

  it('summarises the filter and shows each group pass rate and group-level discard once', async () => {
    await renderInspector();
    expect(screen.getByLabelText('filter summary').textContent).toBe(
      'filter: kept 1 · all tool calls failed 1 · group all correct 0 · group all wrong 2',
    );
    const [first, second] = screen.getAllByTestId('pass-rate').map((node) => node.textContent);
    expect([first, second]).toEqual(['1/2', '0/2']);
    const group2 = screen.getByRole('region', { name: 'Group 2: pass 0/2, discarded: group all wrong' });
    expect(within(group2).getAllByText('group all wrong: not trained')).toHaveLength(1);
    // The trajectory-level reason is written on its card too, not only in its name.
    const failed = screen.getByRole('article', { name: /all tool calls failed/ });
    expect(within(failed).getByText('discarded: all tool calls failed')).toBeTruthy();
  });

  it('lists tool calls with their result, mark and whose failure it was', async () => {
    await renderInspector();
    expect(screen.getByText('2+3 → 5 ✓')).toBeTruthy();
    expect(screen.getByText("2+ → ERR ✗ (syntax: the expression ends early; the policy's malformed call)")).toBeTruthy();
    expect(screen.getByText("4+5 → ERR ✗ (timeout: the tool timed out; the environment's failure)")).toBeTruthy();
  });

  it('shows answer, reward mark, signed advantage and how the trajectory was trained', async () => {
    await renderInspector();
    const correct = screen.getByRole('article', { name: 'Group 1, trajectory 1: reward 1' });
    expect(within(correct).getByText('reward 1 ✓')).toBeTruthy();
    expect(within(correct).getByText('A=+0.71')).toBeTruthy();
    expect(within(correct).getByText('answer 5')).toBeTruthy();
    expect(within(correct).getByText('trained ×2')).toBeTruthy();
    const failed = screen.getByRole('article', { name: /all tool calls failed/ });
    expect(within(failed).getByText('reward 0 ✗')).toBeTruthy();
    expect(within(failed).getByText('A=−0.71')).toBeTruthy();
    expect(within(failed).getByText('not trained')).toBeTruthy();
  });

  it('renders rollout text as text: a prompt carrying markup injects nothing', async () => {
    const { container } = await renderInspector();
    expect(container.querySelector('img')).toBeNull();
    expect(screen.getByText(`“${HOSTILE}”`)).toBeTruthy();
  });

  it('colours policy tokens by entropy and leaves tool-result tokens off the scale', async () => {
    const { container } = await renderInspector();
    const card = screen.getByRole('article', { name: 'Group 1, trajectory 1: reward 1' });
    const policy = card.querySelector('[data-kind="policy"]') as HTMLElement;
    // 0.5 nats is 0.5 / ln 22 = 0.1618 of the scale: step round(0.1618 x 63) = round(10.19) = 10,
    // whose colour is that of the step's centre, 10/63 x ln 22 nats.
    expect(policy.className).toBe('tao-h10');
    expect(getComputedStyle(policy).backgroundColor).toBe(toRgb(entropyColor((10 / 63) * ENTROPY_MAX)));
    // Hovering names the token and its entropy.
    fireEvent.mouseOver(policy);
    expect(policy.getAttribute('title')).toBe('<call> · entropy 0.50 nats');
    const tool = card.querySelector('[data-kind="tool"]') as HTMLElement;
    fireEvent.mouseOver(tool);
    expect(tool.getAttribute('title')).toBe('<result> · tool result, not sampled');
    expect(tool.className).toBe(''); // not on the entropy scale: styled by the token stylesheet
    expect(getComputedStyle(tool).fontStyle).toBe('italic');
    expect(getComputedStyle(tool).backgroundColor).toBe('rgb(255, 255, 255)');
    expect((card.querySelector('[data-kind="prompt"]') as HTMLElement).style.background).toBe('');
    expect(container.querySelectorAll('[data-kind="tool"]')).toHaveLength(3 + 5 + 5);
  });

  it('selects a trajectory by click or Enter, with its index into the step', async () => {
    await renderInspector();
    fireEvent.click(screen.getByRole('article', { name: /Group 2, trajectory 1/ }));
    expect(useWorkbench.getState().selectedTrajectory).toBe(2);
    fireEvent.keyDown(screen.getByRole('article', { name: /Group 1, trajectory 2/ }), { key: 'Enter' });
    expect(useWorkbench.getState().selectedTrajectory).toBe(1);
    expect(screen.getByRole('article', { name: /Group 1, trajectory 2/ }).getAttribute('aria-current')).toBe('true');
    // The page's j/k and Enter shortcuts find a focused card's trajectory by this attribute.
    expect(screen.getAllByRole('article').map((card) => card.getAttribute('data-trajectory-index'))).toEqual(['0', '1', '2', '3']);
  });

  it('renders a group far from view as its heading only, and a group holding the selection in full', async () => {
    // An IntersectionObserver that never reports an intersection: every group is off screen.
    class NothingVisible {
      observe() {}
      disconnect() {}
    }
    vi.stubGlobal('IntersectionObserver', NothingVisible);
    try {
      const { container } = render(<Inspector />);
      const busy = () => container.querySelectorAll('section[aria-busy="true"]');
      expect(busy()).toHaveLength(2);
      expect(screen.getByRole('heading', { name: /Group 2/ })).toBeTruthy(); // headings stay
      expect(screen.queryAllByRole('article')).toHaveLength(0);
      act(() => useWorkbench.getState().selectTrajectory(2)); // first trajectory of group 2
      await waitFor(() => expect(screen.getAllByRole('article')).toHaveLength(2));
      expect(busy()).toHaveLength(1);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('says so when there is no step yet', () => {
    useWorkbench.setState({ reports: [] });
    render(<Inspector />);
    expect(screen.getByText(/No step yet/)).toBeTruthy();
  });
});

describe('inspector wording', () => {
  it('names surplus and partially weighted trajectories', () => {
    const base = stepReport().trajectories[0];
    expect(trainedText({ ...base, trainedCopies: 1 })).toBe('trained');
    expect(trainedText({ ...base, trainedCopies: 0 })).toBe('not trained (surplus)');
    const half = { ...base.tokens, lossWeight: base.tokens.lossWeight.map((w) => w * 0.5) };
    expect(trainedText({ ...base, trainedCopies: 1, kept: false, tokens: half })).toBe('trained at weight 0.50');
    expect(toolCallText({ expression: '1/0', ok: false, error: 'division_by_zero', message: 'division by zero', cause: 'policy' })).toBe(
      "1/0 → ERR ✗ (division_by_zero: division by zero; the policy's own failure)",
    );
  });
});

describe('entropy colour scale', () => {
  it('spans 0 .. ln 22 nats, the emittable vocabulary', () => {
    expect(ENTROPY_MAX).toBeCloseTo(3.0910, 4);
    expect(entropyColor(0)).toBe('#440154'); // viridis ends
    expect(entropyColor(ENTROPY_MAX)).toBe('#fde725');
    expect(entropyColor(ENTROPY_MAX / 2)).toBe('#21918c'); // viridis midpoint
    expect(entropyColor(99)).toBe('#fde725'); // clamped
  });

  it('writes white on the dark end and black on the light end', () => {
    expect(entropyTextColor(0)).toBe('#ffffff');
    expect(entropyTextColor(ENTROPY_MAX)).toBe('#000000');
  });
});

function toRgb(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  return `rgb(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255})`;
}
