// Token view: one trajectory along its tokens, with entropy, the bonus at each eligible token and
// the advantage before and after shaping. While training is paused, a changed shaping setting is
// previewed on the shown step with the same shapeBatch the trainer uses: the UI computes nothing
// of its own.

import { memo, useCallback, useDeferredValue, useEffect, useMemo, useRef, useState, type KeyboardEvent, type ReactElement } from 'react';
import { Curve, Rectangle, Surface } from 'recharts';
import { diffLeaves, labelInSentence, readableValue, settingAt } from '../../core/settings';
import { isBonusEligible } from '../../core/tao/bonus';
import { shapeBatch } from '../../core/tao/shape';
import type { ShapeConfig, ShapeResult, ShapingTrajectory, TokenKind } from '../../core/tao/types';
import type { StepReport } from '../../core/trainer';
import { SPECIALS } from '../../core/tokenizer';
import { linearScale, niceDomain } from '../../experiment/svg';
import type { WorkerStatus } from '../../worker/protocol';
import { ENTROPY_MAX, entropyColor } from '../entropyColor';
import { useQueuedValue } from '../frameQueue';
import { chosenPosition, useFork } from '../forkState';
import { shownReport, useWorkbench } from '../store';
import { themeColor } from '../theme';
import { AxesFrame, Cursor, HoverBox, HoverLayer, keyboardCursor, useWidth, type PlotArea } from './chartFrame';
import { LineLegend, stepTicks } from './chartParts';
import { ForkPanel } from './Fork';
import { DISCARD_WORDS, formatAdvantage, TokenStyles, TokenText } from './Inspector';

/** One token position of the chart; null where a series has no value (no point is drawn). */
export interface TokenPoint {
  position: number;
  text: string;
  kind: TokenKind;
  /** Entropy in nats, policy tokens only. */
  entropy: number | null;
  /** Shaped minus unshaped advantage, at tokens eligible for the bonus (post-tool, or all policy tokens with scope "all"). */
  bonus: number | null;
  /** GRPO advantage, at policy tokens with loss weight > 0. */
  before: number | null;
  /** Shaped advantage, at policy tokens with loss weight > 0. */
  after: number | null;
  postTool: boolean;
  lossWeight: number;
}

export interface TokenSeries {
  points: TokenPoint[];
  /** Inclusive token ranges from <call> to </call> (to the end when a call is never closed). */
  callSpans: [number, number][];
  /** Inclusive token ranges of each tool result. */
  resultSpans: [number, number][];
  /** The trajectory's GRPO advantage under the shaping shown. */
  advantage: number;
  /** True when the values come from re-shaping with a setting the step was not trained with. */
  preview: boolean;
}

/** What shapeBatch needs of each reported trajectory. */
export function shapingTrajectories(report: StepReport): ShapingTrajectory[] {
  return report.trajectories.map((t) => ({
    group: t.group,
    reward: t.reward,
    toolCalls: t.toolCalls.map((call) => ({ ok: call.ok })),
    tokens: t.tokens.kind.map((kind, i) => ({ kind, entropy: t.tokens.entropy[i] })),
  }));
}

/**
 * The shown step re-shaped with other settings. An approximation of what training would do: it
 * re-shapes the generated batch as is, so the bonus's entropy statistics span every kept group,
 * surplus ones included, and duplicated groups count once; the trainer normalises over the
 * training batch. With the step's own settings it is not shown (the report is exact).
 */
export function previewShaping(report: StepReport, shape: ShapeConfig): ShapeResult {
  return shapeBatch(shapingTrajectories(report), shape);
}

/**
 * How the run's shaping differs from the one the shown step trained with, one clause per setting
 * that differs ("bonus mode additive (step trained with multiplicative)"), in the shaping's order.
 */
export function shapeDifferences(shape: ShapeConfig, trained: ShapeConfig): string[] {
  return diffLeaves(trained, shape, 'shape').map(({ path, from, to }) => {
    const setting = settingAt(path);
    if (!setting) return `${path} ${String(to)} (step trained with ${String(from)})`;
    return `${labelInSentence(setting)} ${readableValue(setting, to)} (step trained with ${readableValue(setting, from)})`;
  });
}

/** Preview while no step is running and the run's shaping differs from the shown step's. */
export function isPreviewing(status: WorkerStatus, shape: ShapeConfig, report: StepReport): boolean {
  return (status === 'paused' || status === 'ready') && shapeDifferences(shape, report.settings.shape).length > 0;
}

/** Inclusive [start, end] ranges of <call> ... </call> and of each tool-result run. */
function spansOf(text: readonly string[], kind: readonly TokenKind[]): Pick<TokenSeries, 'callSpans' | 'resultSpans'> {
  const callSpans: [number, number][] = [];
  const resultSpans: [number, number][] = [];
  let openCall: number | null = null;
  for (let t = 0; t < text.length; t++) {
    if (kind[t] === 'tool') {
      if (t === 0 || kind[t - 1] !== 'tool') resultSpans.push([t, t]);
      else resultSpans[resultSpans.length - 1][1] = t;
    } else if (kind[t] === 'policy' && text[t] === SPECIALS.callOpen) {
      openCall = t;
    } else if (kind[t] === 'policy' && text[t] === SPECIALS.callClose && openCall !== null) {
      callSpans.push([openCall, t]);
      openCall = null;
    }
  }
  if (openCall !== null) callSpans.push([openCall, text.length - 1]);
  return { callSpans, resultSpans };
}

/**
 * The plotted values for trajectory `index` of `report`: as reported (what the step trained
 * with), or, given `shapeOverride`, re-shaped with those settings (see `previewShaping`).
 */
export function tokenSeries(report: StepReport, index: number, shapeOverride?: ShapeConfig): TokenSeries {
  const preview = shapeOverride ? previewShaping(report, shapeOverride).trajectories[index] : null;
  return seriesOf(report, index, preview, shapeOverride ?? report.settings.shape);
}

function seriesOf(report: StepReport, index: number, preview: ShapeResult['trajectories'][number] | null, shape: ShapeConfig): TokenSeries {
  const trajectory = report.trajectories[index];
  const { text, kind, entropy } = trajectory.tokens;
  const advantage = preview ? preview.advantage : trajectory.advantage;
  const points = text.map((token, t): TokenPoint => {
    const postTool = preview ? preview.tokens[t].postTool : trajectory.tokens.postTool[t];
    const lossWeight = preview ? preview.tokens[t].lossWeight : trajectory.tokens.lossWeight[t];
    const shaped = preview ? preview.tokens[t].advantage : trajectory.tokens.advantage[t];
    const bonus = preview ? preview.tokens[t].bonus : trajectory.tokens.bonus[t];
    const policy = kind[t] === 'policy';
    const trained = policy && lossWeight > 0;
    return {
      position: t,
      text: token,
      kind: kind[t],
      entropy: policy ? entropy[t] : null,
      bonus: isBonusEligible(kind[t], lossWeight, postTool, shape.bonus.scope) ? bonus : null,
      before: trained ? advantage : null,
      after: trained ? shaped : null,
      postTool: postTool === 1,
      lossWeight,
    };
  });
  return { points, ...spansOf(text, kind), advantage, preview: preview !== null };
}

// ---------------------------------------------------------------------------------------------
// Chart

const CALL_FILL = '#9ec5ff';
const RESULT_FILL = '#e8c996';
const BEFORE_COLOR = themeColor('advantageBefore');
/** The entropy line, the dots' outline and the chart's own labels: the chart's ink in either theme. */
const CHART_INK = themeColor('chartInk');
export const AFTER_COLOR = '#d95f02';
export const BONUS_COLOR = '#7570b3';

function show(value: number | null, digits: number): string {
  return value === null ? '–' : value.toFixed(digits);
}

/** What hovering a token position shows: the token, its kind, entropy, bonus and advantages. */
export function TokenTooltip({ point }: { point: TokenPoint | undefined }): ReactElement | null {
  if (!point) return null;
  const kindWords = point.kind === 'tool' ? 'tool result (not sampled)' : point.kind === 'prompt' ? 'prompt' : point.postTool ? 'policy, post-tool' : 'policy';
  return (
    <div style={{ fontSize: 12 }}>
      <div>
        token <code style={{ fontWeight: 700 }}>{point.text}</code> at {point.position}
      </div>
      <div>{kindWords}</div>
      <div>entropy {show(point.entropy, 2)} nats</div>
      <div>bonus {point.bonus === null ? '–' : formatAdvantage(point.bonus)}</div>
      <div>
        A before {point.before === null ? '–' : formatAdvantage(point.before)} · after{' '}
        {point.after === null ? '–' : formatAdvantage(point.after)}
      </div>
    </div>
  );
}

const CHART_HEIGHT = 260;
/** Width before the chart has been measured (and where ResizeObserver is missing). */
const INITIAL_WIDTH = 720;
/** Space for tick labels and axis titles, px. */
const AXIS_WIDTH = 52;
const TOP_MARGIN = 8;
const BOTTOM_AXIS_HEIGHT = 36;
const ENTROPY_DOMAIN: [number, number] = [0, ENTROPY_MAX];
const ENTROPY_TICKS = [0, 1, 2, 3].filter((tick) => tick <= ENTROPY_MAX);
const LEGEND_MARKS = {
  entropy: { key: 'entropy', name: 'entropy', color: CHART_INK, marker: 'dot' as const },
  bonus: { key: 'bonus', name: 'bonus', color: BONUS_COLOR, marker: 'bar' as const },
  before: { key: 'before', name: 'A before shaping', color: BEFORE_COLOR, dashed: true },
  call: { key: 'call', name: 'call', color: CALL_FILL, marker: 'area' as const },
  result: { key: 'result', name: 'tool result', color: RESULT_FILL, marker: 'area' as const },
};
const signed = (value: number) => (value > 0 ? `+${value}` : String(value));
/** A value the chart draws: present and finite (a diverged step's NaN is left out). */
const drawable = (value: number | null): value is number => value !== null && Number.isFinite(value);

/** The advantage axis: round numbers around every plotted advantage and bonus, and 0. */
function advantageAxis(points: TokenPoint[]): { domain: [number, number]; ticks: number[] } {
  let [low, high] = [0, 0];
  for (const point of points) {
    for (const value of [point.before, point.after, point.bonus]) {
      if (!drawable(value)) continue;
      low = Math.min(low, value);
      high = Math.max(high, value);
    }
  }
  return niceDomain(low, high, 4);
}

/**
 * Entropy (left axis, dots in the page's entropy colours), the bonus at each eligible token (bars)
 * and the advantage before and after shaping (right axis) along the trajectory, with its call and
 * result spans shaded; hovering names the token. Drawn with recharts' drawing components, not a
 * ComposedChart, so that following the live step while training costs a few milliseconds a step.
 */
const TokenChart = memo(function TokenChart({ series, forkAt, onFork }: { series: TokenSeries; forkAt: number | null; onFork: (position: number) => void }): ReactElement {
  const frame = useRef<HTMLDivElement>(null);
  const width = useWidth(frame, INITIAL_WIDTH);
  const [hovered, setHovered] = useState<number | null>(null);
  const { points } = series;
  const n = points.length;
  const plot: PlotArea = { left: AXIS_WIDTH, right: Math.max(AXIS_WIDTH + 10, width - AXIS_WIDTH), top: TOP_MARGIN, bottom: CHART_HEIGHT - BOTTOM_AXIS_HEIGHT };
  const x = linearScale([-0.5, Math.max(0.5, n - 0.5)], [plot.left, plot.right]);
  const entropyY = linearScale(ENTROPY_DOMAIN, [plot.bottom, plot.top]);
  const advantage = useMemo(() => advantageAxis(points), [points]);
  const advantageY = linearScale(advantage.domain, [plot.bottom, plot.top]);
  // One token's slot in px; bars and dots shrink with it on long trajectories.
  const slot = (plot.right - plot.left) / Math.max(1, n);
  const barWidth = Math.min(6, 0.8 * slot);
  const dotRadius = Math.min(3.5, Math.max(1.5, slot / 3));

  const drawn = useMemo(
    () => (
      <>
        {series.callSpans.map(([start, end]) => (
          <Span key={`call-${start}`} className="token-span token-span-call" x0={x(start - 0.5)} x1={x(end + 0.5)} plot={plot} fill={CALL_FILL} opacity={0.35} label="call" />
        ))}
        {series.resultSpans.map(([start, end]) => (
          <Span key={`result-${start}`} className="token-span token-span-result" x0={x(start - 0.5)} x1={x(end + 0.5)} plot={plot} fill={RESULT_FILL} opacity={0.5} label="result" />
        ))}
        <line x1={plot.left} x2={plot.right} y1={advantageY(0)} y2={advantageY(0)} stroke={themeColor('chartCursor')} />
        {points.map(({ position, bonus }) =>
          drawable(bonus) ? (
            <Rectangle
              key={`bonus-${position}`}
              className="token-bonus"
              x={x(position) - barWidth / 2}
              y={Math.min(advantageY(0), advantageY(bonus))}
              width={barWidth}
              height={Math.abs(advantageY(bonus) - advantageY(0))}
              fill={BONUS_COLOR}
            />
          ) : null,
        )}
        <Curve
          className="token-entropy"
          type="linear"
          points={points.map((point) => ({ x: x(point.position), y: point.entropy === null ? null : entropyY(point.entropy) }))}
          stroke={CHART_INK}
          strokeWidth={1}
          fill="none"
        />
        {points.map(({ position, entropy }) =>
          drawable(entropy) ? (
            <circle key={`entropy-${position}`} cx={x(position)} cy={entropyY(entropy)} r={dotRadius} fill={entropyColor(entropy)} stroke={CHART_INK} strokeWidth={0.5} />
          ) : null,
        )}
        <Curve
          className="token-advantage-before"
          type="stepAfter"
          points={points.map((point) => ({ x: x(point.position), y: point.before === null ? null : advantageY(point.before) }))}
          stroke={BEFORE_COLOR}
          strokeDasharray="4 3"
          fill="none"
        />
        <Curve
          className="token-advantage-after"
          type="stepAfter"
          points={points.map((point) => ({ x: x(point.position), y: point.after === null ? null : advantageY(point.after) }))}
          stroke={AFTER_COLOR}
          strokeWidth={2}
          fill="none"
        />
      </>
    ),
    // The scales are functions of the width, the points and the advantage axis, so they are not listed.
    [series, width, advantage],
  );

  const hoveredPoint = hovered !== null ? points[hovered] : undefined;
  const onHover = (fraction: number | null) =>
    setHovered(fraction === null || n === 0 ? null : Math.min(n - 1, Math.max(0, Math.round(-0.5 + fraction * n))));
  const policy = points.filter((point) => drawable(point.entropy));
  const meanEntropy = policy.reduce((sum, point) => sum + point.entropy!, 0) / Math.max(1, policy.length);
  const bonusTokens = points.filter((point) => point.bonus !== null).length;
  // A click, or Enter on the keyboard cursor, forks at the token under it (policy tokens only).
  const forkHovered = () => {
    if (hovered !== null && points[hovered]?.kind === 'policy') onFork(hovered);
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key !== 'Enter' || hovered === null) return;
    event.preventDefault();
    forkHovered();
  };

  return (
    <div>
      <div ref={frame} className="live-chart token-chart" style={{ height: CHART_HEIGHT }} onClick={forkHovered} onKeyDown={onKeyDown}>
        <Surface
          width={width}
          height={CHART_HEIGHT}
          role="img"
          aria-label={`${n} tokens; mean entropy ${meanEntropy.toFixed(2)} nats over ${policy.length} policy tokens; bonus on ${bonusTokens} tokens`}
          {...keyboardCursor(n, hovered, setHovered)}
        >
          <AxesFrame
            plot={plot}
            x={{ ticks: n > 0 ? stepTicks(0, n - 1) : [], scale: x, format: String }}
            left={{ ticks: ENTROPY_TICKS, scale: entropyY, format: String }}
            right={{ ticks: advantage.ticks, scale: advantageY, format: signed }}
          />
          <g fontSize={11} fill={CHART_INK}>
            <text x={plot.right} y={CHART_HEIGHT - 4} textAnchor="end">
              token position
            </text>
            <text transform={`translate(12 ${(plot.top + plot.bottom) / 2}) rotate(-90)`} textAnchor="middle">
              entropy (nats)
            </text>
            <text transform={`translate(${width - 10} ${(plot.top + plot.bottom) / 2}) rotate(90)`} textAnchor="middle">
              advantage
            </text>
          </g>
          {drawn}
          {forkAt !== null && forkAt < n && (
            <g className="token-fork-marker" pointerEvents="none">
              <line x1={x(forkAt)} x2={x(forkAt)} y1={plot.top} y2={plot.bottom} strokeWidth={2} />
              <path d={`M ${x(forkAt) - 5} ${plot.top - 6} h 10 l -5 7 z`} />
            </g>
          )}
          {hoveredPoint && <Cursor x={x(hoveredPoint.position)} plot={plot} />}
          <HoverLayer plot={plot} onHover={onHover} />
        </Surface>
        {hoveredPoint && (
          <HoverBox x={x(hoveredPoint.position)} plot={plot} width={width}>
            <TokenTooltip point={hoveredPoint} />
          </HoverBox>
        )}
      </div>
      <LineLegend
        items={[
          LEGEND_MARKS.entropy,
          LEGEND_MARKS.bonus,
          LEGEND_MARKS.before,
          { key: 'after', name: series.preview ? 'A after shaping (preview)' : 'A after shaping', color: AFTER_COLOR },
          LEGEND_MARKS.call,
          LEGEND_MARKS.result,
        ]}
      />
    </div>
  );
});

/** A shaded token span across the plot's height, named at its top. */
function Span({ className, x0, x1, plot, fill, opacity, label }: { className: string; x0: number; x1: number; plot: PlotArea; fill: string; opacity: number; label: string }) {
  return (
    <g className={className}>
      <Rectangle x={x0} y={plot.top} width={x1 - x0} height={plot.bottom - plot.top} fill={fill} fillOpacity={opacity} />
      <text x={(x0 + x1) / 2} y={plot.top + 11} textAnchor="middle" fontSize={10} fill={CHART_INK}>
        {label}
      </text>
    </g>
  );
}

// ---------------------------------------------------------------------------------------------
// Panel

export function TokenView(): ReactElement | null {
  // Through the frame queue: following the live step, the new step's chart is drawn in a frame
  // of its own, not inside the task that received the step nor in a frame with the step's cards.
  const report = useQueuedValue(useWorkbench(shownReport));
  const index = useWorkbench((state) => state.selectedTrajectory);
  const status = useWorkbench((state) => state.status);
  // Deferred: while the coefficient slider moves, the slider stays responsive and the preview follows.
  const shape = useDeferredValue(useWorkbench((state) => state.config.shape));
  const selectTrajectory = useWorkbench((state) => state.selectTrajectory);
  const runId = useWorkbench((state) => state.runId);
  const chosen = useFork((state) => state.chosen);

  const open = report !== null && index !== null && index < report.trajectories.length;
  const previewing = open && isPreviewing(status, shape, report);
  // Re-shaping the whole batch is one pass over its tokens, so every slider move re-runs it.
  const preview = useMemo(() => (previewing && report ? previewShaping(report, shape) : null), [previewing, report, shape]);
  const series = useMemo(
    () => (open ? seriesOf(report, index, preview ? preview.trajectories[index] : null, preview ? shape : report.settings.shape) : null),
    [open, report, index, preview, shape],
  );

  useEffect(() => {
    if (!open) return;
    const onKey = (event: globalThis.KeyboardEvent) => {
      if (event.key === 'Escape' && !event.defaultPrevented) selectTrajectory(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [open, selectTrajectory]);

  const forkAt = open ? chosenPosition(chosen, { runId, report, index }) : null;
  const onFork = useCallback((position: number) => {
    if (report && index !== null) useFork.getState().choose({ runId, report, index }, position);
  }, [runId, report, index]);

  if (!open || !series) return null;
  const trajectory = report.trajectories[index];
  const positionInGroup = report.trajectories.slice(0, index + 1).filter((t) => t.group === trajectory.group).length;
  const title = `Token view (group ${trajectory.group + 1}, #${positionInGroup})`;
  const untrained = series.points.every((point) => point.after === null);
  // A trajectory opened from a rollout dump (verl) has text, no tokens: nothing per token to draw.
  const textOnly = trajectory.tokens.kind.some((kind) => kind === 'policy') && series.points.every((point) => point.kind !== 'policy' || !drawable(point.entropy));

  return (
    <section aria-label={title}>
      <TokenStyles />
      <header style={{ display: 'flex', flexWrap: 'wrap', gap: '4px 16px', alignItems: 'baseline' }}>
        <h2 style={{ fontSize: 16, margin: 0 }}>{title}</h2>
        <span style={{ fontSize: 13 }}>
          step {report.step} · reward {trajectory.reward} · A={formatAdvantage(series.advantage)}
        </span>
        {series.preview && (
          <span role="note" style={{ fontSize: 13, fontWeight: 600, background: themeColor('warnBg'), border: `1px solid ${themeColor('warnBorder')}`, padding: '1px 6px', borderRadius: 3 }}>
            Preview: {shapeDifferences(shape, report.settings.shape).join('; ')} — not trained with yet
          </span>
        )}
        <button type="button" onClick={() => selectTrajectory(null)} style={{ marginLeft: 'auto' }}>
          Close (Esc)
        </button>
      </header>
      {series.preview && (
        <p style={{ fontSize: 11, color: themeColor('muted'), margin: '2px 0' }}>
          The preview re-shapes the step's whole generated batch: its entropy statistics include every kept group, also those the
          update did not train on, so values differ slightly from what training would use.
        </p>
      )}
      {textOnly ? (
        <p role="note" style={{ fontSize: 13, margin: '4px 0' }}>
          This trajectory comes from a rollout dump, which stores the text only: it has no tokens, entropy, log-probs or per-token
          advantages to draw. Its segments (the model's text and each tool result) are below; the verdict and the advantage above are
          the workbench's dual filter's.
        </p>
      ) : untrained && (
        <p style={{ fontSize: 12, margin: '2px 0' }}>
          No token of this trajectory has loss weight above 0
          {trajectory.reason ? ` (discarded: ${DISCARD_WORDS[trajectory.reason]})` : ' (not in the training batch)'}: no advantage is
          plotted.
        </p>
      )}
      {!textOnly && <TokenChart series={series} forkAt={forkAt} onFork={onFork} />}
      <div style={{ marginTop: 4 }}>
        <TokenText tokens={trajectory.tokens} />
      </div>
      {/* A text-only trajectory has no tokens to fork at (and its run no weights). */}
      {!textOnly && <ForkPanel report={report} index={index} />}
    </section>
  );
}
