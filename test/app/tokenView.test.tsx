// @vitest-environment jsdom
// The token view on a hand-built step: 2 groups x 2 trajectories. Only trajectory 0 (group 1,
// correct, one successful call) has trained tokens: trajectory 1 is dropped by the tool-failure
// filter and group 2 is all wrong. Its 8 policy tokens have entropies 0.5 / 1.5 alternating, so
// the batch statistics are mean 1 and population std 0.5 and H^ = +1 at 1.5 nats, -1 at 0.5.

import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isPreviewing, shapeDifferences, TokenTooltip, TokenView, tokenSeries } from '../../src/app/panels/TokenView';
import { initialConfig, useWorkbench } from '../../src/app/store';
import type { ToolCallRecord } from '../../src/core/environment';
import { DEFAULT_SHAPE_CONFIG } from '../../src/core/tao/shape';
import type { DiscardReason, ShapeConfig, TokenKind } from '../../src/core/tao/types';
import type { StepReport, TrajectoryReport } from '../../src/core/trainer';

/** Group 1's GRPO advantage for the correct trajectory: (1 - 0.5) / (sample std 0.7071 + 1e-6). */
const A = 0.5 / (Math.SQRT1_2 + 1e-6);

/** A token: kind, text, entropy, and for the trained trajectory its post-tool mark. */
type Token = [TokenKind, string, number?, (0 | 1)?];

function trajectory(fields: {
  group: number;
  reward: number;
  reason: DiscardReason | null;
  trainedCopies: number;
  advantage: number;
  toolCalls: ToolCallRecord[];
  tokens: Token[];
}): TrajectoryReport {
  const trained = fields.reason === null;
  // As trained with the default coefficient 0.01: A~ = A (1 + 0.01 H^) on post-tool tokens.
  const shaped = (token: Token) => {
    if (token[0] !== 'policy') return 0;
    if (!trained || token[3] !== 1) return fields.advantage;
    return fields.advantage * (1 + 0.01 * (token[2] === 1.5 ? 1 : -1));
  };
  return {
    group: fields.group,
    prompt: fields.group === 0 ? '2+3' : '4+5',
    expected: fields.group === 0 ? '5' : '9',
    answer: null,
    reward: fields.reward,
    finishReason: 'eos',
    kept: trained,
    reason: fields.reason,
    trainedCopies: fields.trainedCopies,
    advantage: fields.advantage,
    toolCalls: fields.toolCalls,
    segments: [],
    tokens: {
      text: fields.tokens.map((t) => t[1]),
      kind: fields.tokens.map((t) => t[0]),
      entropy: fields.tokens.map((t) => t[2] ?? 0),
      logprob: fields.tokens.map(() => -1),
      postTool: fields.tokens.map((t) => t[3] ?? 0),
      lossWeight: fields.tokens.map((t) => (t[0] === 'policy' && trained ? 1 : 0)),
      advantage: fields.tokens.map(shaped),
      bonus: fields.tokens.map((t) => shaped(t) - (t[0] === 'policy' ? fields.advantage : 0)),
    },
  };
}

const prompt = (digits: string): Token[] => [['prompt', '<bos>'], ...[...digits].map((c): Token => ['prompt', c])];

function stepReport(shape: ShapeConfig = DEFAULT_SHAPE_CONFIG): StepReport {
  const config = initialConfig();
  const { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, flakyProbability } = config;
  return {
    step: 3,
    preset: 'tao-rl',
    seed: 1,
    settings: { learningRate, temperature, clipLow, clipHigh, dualClip, entropyCoef, klCoef, gradClip, flakyProbability, shape },
    skipped: false,
    metrics: {},
    trajectories: [
      trajectory({
        group: 0, reward: 1, reason: null, trainedCopies: 1, advantage: A,
        toolCalls: [{ expression: '2+3', ok: true, value: '5' }],
        tokens: [
          ...prompt('2+3'), // positions 0-3
          ['policy', '<call>', 0.5], ['policy', '2', 1.5], ['policy', '+', 0.5], ['policy', '3', 1.5], ['policy', '</call>', 0.5], // 4-8
          ['tool', '<result>'], ['tool', '5'], ['tool', '</result>'], // 9-11
          ['policy', '<answer>', 1.5, 1], ['policy', '5', 0.5, 1], ['policy', '</answer>', 1.5, 1], // 12-14
        ],
      }),
      trajectory({
        group: 0, reward: 0, reason: 'all_tools_failed', trainedCopies: 1, advantage: -A,
        toolCalls: [{ expression: '2+', ok: false, error: 'syntax', message: 'the expression ends early', cause: 'policy' }],
        tokens: [
          ...prompt('2+3'),
          ['policy', '<call>', 2], ['policy', '2', 2], ['policy', '+', 2], ['policy', '</call>', 2],
          ['tool', '<result>'], ['tool', 'E'], ['tool', 'R'], ['tool', 'R'], ['tool', '</result>'],
          ['policy', '<answer>', 3, 1], ['policy', '6', 3, 1], ['policy', '</answer>', 3, 1],
        ],
      }),
      trajectory({
        group: 1, reward: 0, reason: 'group_all_wrong', trainedCopies: 0, advantage: 0,
        toolCalls: [{ expression: '4+5', ok: false, error: 'timeout', message: 'the tool timed out', cause: 'environment' }],
        tokens: [
          ...prompt('4+5'),
          ['policy', '<call>', 0.1], ['policy', '4', 0.1], ['policy', '+', 0.1], ['policy', '5', 0.1], ['policy', '</call>', 0.1],
          ['tool', '<result>'], ['tool', 'E'], ['tool', 'R'], ['tool', 'R'], ['tool', '</result>'],
          ['policy', '<answer>', 2.5, 1], ['policy', '8', 2.5, 1], ['policy', '</answer>', 2.5, 1],
        ],
      }),
      trajectory({
        group: 1, reward: 0, reason: 'group_all_wrong', trainedCopies: 0, advantage: 0,
        toolCalls: [],
        tokens: [...prompt('4+5'), ['policy', '<answer>', 1], ['policy', '1', 1], ['policy', '0', 1], ['policy', '</answer>', 1]],
      }),
    ],
  };
}

function withBonus(bonus: Partial<ShapeConfig['bonus']>): ShapeConfig {
  return { ...DEFAULT_SHAPE_CONFIG, bonus: { ...DEFAULT_SHAPE_CONFIG.bonus, ...bonus } };
}

describe('tokenSeries', () => {
  it('plots the step as trained: entropy on policy tokens, bonus on post-tool tokens, A before and after', () => {
    const series = tokenSeries(stepReport(), 0);
    expect(series.preview).toBe(false);
    expect(series.callSpans).toEqual([[4, 8]]);
    expect(series.resultSpans).toEqual([[9, 11]]);
    const at = series.points;
    expect(at[2]).toMatchObject({ text: '+', kind: 'prompt', entropy: null, bonus: null, before: null, after: null });
    expect(at[10]).toMatchObject({ text: '5', kind: 'tool', entropy: null, bonus: null, before: null, after: null });
    expect(at[5]).toMatchObject({ text: '2', entropy: 1.5, bonus: null, before: A, after: A }); // in the call: no bonus
    expect(at[12].text).toBe('<answer>');
    expect(at[12].after).toBeCloseTo(A * 1.01, 12);
    expect(at[12].bonus).toBeCloseTo(A * 0.01, 12);
  });

  it('re-shapes with another coefficient: A~ = A (1 + a H^) at post-tool tokens, H^ from mean 1 and std 0.5', () => {
    const series = tokenSeries(stepReport(), 0, withBonus({ coef: 0.3 }));
    expect(series.preview).toBe(true);
    const [answerOpen, five, answerClose] = series.points.slice(12);
    // H = 1.5: H^ = (1.5 - 1) / (0.5 + 1e-8) = 0.99999998; H = 0.5: H^ = -0.99999998.
    expect(answerOpen.after).toBeCloseTo(0.70710578 * (1 + 0.3 * 0.99999998), 7);
    expect(answerOpen.after).toBeCloseTo(0.9192375, 6);
    expect(five.after).toBeCloseTo(0.70710578 * (1 - 0.3 * 0.99999998), 7);
    expect(answerClose.bonus).toBeCloseTo(0.70710578 * 0.3 * 0.99999998, 7);
    expect(answerOpen.before).toBeCloseTo(0.70710578, 7);
    expect(series.points[6].after).toBeCloseTo(0.70710578, 7); // '+' inside the call: not post-tool
    expect(series.points[6].bonus).toBeNull();
  });

  it('follows bonus mode and scope in the preview', () => {
    const off = tokenSeries(stepReport(), 0, withBonus({ mode: 'off' }));
    for (const point of off.points) expect(point.after).toBe(point.before);
    const all = tokenSeries(stepReport(), 0, withBonus({ coef: 0.3, scope: 'all' }));
    // '2' inside the call, H = 1.5, now eligible: A (1 + 0.3).
    expect(all.points[5].bonus).toBeCloseTo(0.70710578 * 0.3 * 0.99999998, 7);
    // Additive (Cheng et al.): A + min(0.3 * 1.5, |A| / 2) = A + 0.35355289.
    const additive = tokenSeries(stepReport(), 0, withBonus({ mode: 'additive', coef: 0.3 }));
    expect(additive.points[12].after).toBeCloseTo(0.70710578 + 0.35355289, 7);
  });

  it('plots no advantage for a trajectory the filter dropped', () => {
    const dropped = tokenSeries(stepReport(), 1, withBonus({ coef: 0.3 }));
    expect(dropped.points.every((point) => point.after === null && point.before === null && point.bonus === null)).toBe(true);
    expect(dropped.points[4].entropy).toBe(2);
  });
});

describe('preview rule', () => {
  it('previews only when no step runs and the shaping differs', () => {
    const report = stepReport();
    expect(isPreviewing('paused', withBonus({ coef: 0.3 }), report)).toBe(true);
    expect(isPreviewing('ready', withBonus({ scope: 'all' }), report)).toBe(true);
    expect(isPreviewing('running', withBonus({ coef: 0.3 }), report)).toBe(false);
    expect(isPreviewing('paused', structuredClone(DEFAULT_SHAPE_CONFIG), report)).toBe(false);
    // One clause per differing setting, in the shaping's order, worded from the setting registry.
    expect(shapeDifferences(withBonus({ coef: 0.3, mode: 'additive' }), DEFAULT_SHAPE_CONFIG)).toEqual([
      'bonus mode additive (step trained with multiplicative)',
      'entropy bonus coefficient 0.3 (step trained with 0.01)',
    ]);
    expect(shapeDifferences(withBonus({ window: 4 }), DEFAULT_SHAPE_CONFIG)).toEqual(['post-tool window 4 tokens (step trained with whole turn)']);
    expect(shapeDifferences({ ...DEFAULT_SHAPE_CONFIG, groupFilter: false }, DEFAULT_SHAPE_CONFIG)).toEqual(['group filter off (step trained with on)']);
  });
});

describe('TokenView', () => {
  beforeAll(() => {
    // jsdom has no layout: report a fixed size to recharts' ResponsiveContainer when it observes.
    globalThis.ResizeObserver = class {
      constructor(private readonly callback: ResizeObserverCallback) {}
      observe(target: Element) {
        this.callback([{ target, contentRect: { width: 720, height: 260 } } as unknown as ResizeObserverEntry], this as unknown as ResizeObserver);
      }
      unobserve() {}
      disconnect() {}
    } as unknown as typeof ResizeObserver;
  });
  beforeEach(() => {
    useWorkbench.setState({ reports: [stepReport()], selectedStep: null, selectedTrajectory: 0, status: 'paused', config: initialConfig() });
  });
  afterEach(cleanup);

  it('renders the chart for the selected trajectory, no preview when settings match', () => {
    useWorkbench.setState((state) => ({ config: { ...state.config, shape: structuredClone(DEFAULT_SHAPE_CONFIG) } }));
    const { container } = render(<TokenView />);
    expect(screen.getByRole('region', { name: 'Token view (group 1, #1)' })).toBeTruthy();
    expect(container.querySelector('svg.recharts-surface')).not.toBeNull();
    expect(container.querySelectorAll('.token-span')).toHaveLength(2); // one call span, one result span
    expect(container.querySelectorAll('.token-bonus')).toHaveLength(3); // the three post-tool tokens
    expect(screen.queryByRole('note')).toBeNull();
  });

  it('places each token in its slot, entropy on a 0 to ln 22 axis, and names the token under the pointer', () => {
    const { container } = render(<TokenView />);
    // 720 px wide: the plot spans x 52..668 and y 8..224; 15 tokens, so token t is centred at
    // 52 + (t + 0.5) * 616 / 15, and entropy H at 224 - H / ln 22 * 216.
    const dots = [...container.querySelectorAll('svg.recharts-surface circle')].map((c) => [Number(c.getAttribute('cx')), Number(c.getAttribute('cy'))]);
    expect(dots).toHaveLength(8); // the policy tokens, positions 4-8 and 12-14
    const answer = dots[5]; // '<answer>' at position 12, H = 1.5
    expect(answer[0]).toBeCloseTo(52 + (12.5 * 616) / 15, 6);
    expect(answer[1]).toBeCloseTo(224 - (1.5 / Math.log(22)) * 216, 6);
    // The call spans positions 4-8: from the left edge of slot 4 to the right edge of slot 8.
    const call = container.querySelector('.token-span-call path')!;
    const [left, width] = [Number(call.getAttribute('x')), Number(call.getAttribute('width'))];
    expect(left).toBeCloseTo(52 + (4 * 616) / 15, 3); // recharts writes a rectangle to 4 decimals
    expect(left + width).toBeCloseTo(52 + (9 * 616) / 15, 3);
    // Advantages run from -0.0071 (the bonus at 0.5 nats) to A (1 + 0.01) = 0.714: round steps of 0.2 around them and 0.
    const right = [...container.querySelectorAll('.chart-ticks text[text-anchor="start"]')].map((t) => t.textContent);
    expect(right).toEqual(['-0.2', '0', '+0.2', '+0.4', '+0.6', '+0.8']);
    const overlay = container.querySelector('rect.chart-hover')!;
    overlay.getBoundingClientRect = () => ({ left: 52, width: 616, top: 8, height: 216, right: 668, bottom: 224, x: 52, y: 8, toJSON: () => ({}) });
    fireEvent.mouseMove(overlay, { clientX: 52 + (12.4 * 616) / 15 });
    expect(screen.getByRole('tooltip').textContent).toContain('token <answer> at 12');
    fireEvent.mouseLeave(overlay);
    expect(screen.queryByRole('tooltip')).toBeNull();
  });

  it('names the hovered token with its kind, entropy, bonus and advantages', () => {
    const point = tokenSeries(stepReport(), 0, withBonus({ coef: 0.3 })).points[12];
    render(<TokenTooltip point={point} />);
    expect(screen.getByText('<answer>')).toBeTruthy();
    expect(screen.getByText('policy, post-tool')).toBeTruthy();
    expect(screen.getByText('entropy 1.50 nats')).toBeTruthy();
    expect(screen.getByText('bonus +0.21')).toBeTruthy(); // 0.7071 * 0.3
    expect(screen.getByText(/A before \+0\.71 · after \+0\.92/)).toBeTruthy();
  });

  it('marks a preview when the coefficient moved while paused, and drops it while running', () => {
    useWorkbench.setState((state) => ({ config: { ...state.config, shape: withBonus({ coef: 0.3 }) } }));
    render(<TokenView />);
    expect(screen.getByRole('note').textContent).toContain('Preview: entropy bonus coefficient 0.3 (step trained with 0.01)');
    act(() => useWorkbench.setState({ status: 'running' }));
    expect(screen.queryByRole('note')).toBeNull();
  });

  it('draws a diverged step: NaN values are left out, the axes come from the rest', () => {
    const report = stepReport();
    const tokens = report.trajectories[0].tokens;
    tokens.entropy[5] = NaN; // '2' inside the call
    tokens.advantage[12] = NaN; // '<answer>', post-tool
    tokens.bonus[12] = NaN;
    useWorkbench.setState({ reports: [report] });
    const { container } = render(<TokenView />);
    expect(container.querySelectorAll('svg.recharts-surface circle')).toHaveLength(7);
    expect(container.querySelectorAll('.token-bonus')).toHaveLength(2);
    const right = [...container.querySelectorAll('.chart-ticks text[text-anchor="start"]')].map((t) => t.textContent);
    expect(right).toEqual(['-0.2', '0', '+0.2', '+0.4', '+0.6', '+0.8']);
    expect(screen.getByRole('img').getAttribute('aria-label')).toBe('15 tokens; mean entropy 0.93 nats over 7 policy tokens; bonus on 3 tokens');
  });

  it('steps through the tokens with the keyboard; Esc clears the readout first, then closes', () => {
    render(<TokenView />);
    const chart = screen.getByRole('img');
    fireEvent.keyDown(chart, { key: 'ArrowRight' });
    expect(screen.getByRole('tooltip').textContent).toContain('token <bos> at 0');
    fireEvent.keyDown(chart, { key: 'End' });
    expect(screen.getByRole('tooltip').textContent).toContain('token </answer> at 14');
    fireEvent.keyDown(chart, { key: 'Escape' });
    expect(screen.queryByRole('tooltip')).toBeNull();
    expect(useWorkbench.getState().selectedTrajectory).toBe(0);
    fireEvent.keyDown(chart, { key: 'Escape' });
    expect(useWorkbench.getState().selectedTrajectory).toBeNull();
  });

  it('closes on Escape', () => {
    render(<TokenView />);
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(useWorkbench.getState().selectedTrajectory).toBeNull();
    expect(screen.queryByRole('region')).toBeNull();
  });

  it('says why a dropped trajectory has no advantage plotted', () => {
    useWorkbench.setState({ selectedTrajectory: 1 });
    render(<TokenView />);
    expect(screen.getByText(/discarded: all tool calls failed/)).toBeTruthy();
  });
});
