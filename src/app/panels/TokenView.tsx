// Token view: one trajectory along its tokens, with entropy, the bonus at each eligible token and
// the advantage before and after shaping. While training is paused, a changed shaping setting is
// previewed on the shown step with the same shapeBatch the trainer uses: the UI computes nothing
// of its own.

import { memo, useDeferredValue, useEffect, useMemo, type ReactElement } from 'react';
import {
  Bar,
  ComposedChart,
  Legend,
  Line,
  ReferenceArea,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type DotItemDotProps,
  type TooltipContentProps,
} from 'recharts';
import { isBonusEligible } from '../../core/tao/bonus';
import { shapeBatch } from '../../core/tao/shape';
import type { ShapeConfig, ShapeResult, ShapingTrajectory, TokenKind } from '../../core/tao/types';
import type { StepReport } from '../../core/trainer';
import { SPECIALS } from '../../core/tokenizer';
import type { WorkerStatus } from '../../worker/protocol';
import { ENTROPY_MAX, entropyColor } from '../entropyColor';
import { shownReport, useWorkbench } from '../store';
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

/** Whether training would use the shown step's shaping unchanged (field by field, so key order is irrelevant). */
export function shapeDifferences(shape: ShapeConfig, trained: ShapeConfig): string[] {
  const clauses: string[] = [];
  const [now, then] = [shape.bonus, trained.bonus];
  const scope = (s: ShapeConfig['bonus']['scope']) => (s === 'post_tool' ? 'post-tool' : 'all tokens');
  const window = (w: number | null) => (w === null ? 'whole turn' : `${w} tokens`);
  if (now.coef !== then.coef) clauses.push(`coefficient ${now.coef.toFixed(2)} (step trained with ${then.coef.toFixed(2)})`);
  if (now.mode !== then.mode) clauses.push(`bonus mode ${now.mode} (step trained with ${then.mode})`);
  if (now.scope !== then.scope) clauses.push(`scope ${scope(now.scope)} (step trained with ${scope(then.scope)})`);
  if (now.kappa !== then.kappa) clauses.push(`kappa ${now.kappa} (step trained with ${then.kappa})`);
  if (now.window !== then.window) clauses.push(`window ${window(now.window)} (step trained with ${window(then.window)})`);
  if (now.afterSuccessOnly !== then.afterSuccessOnly) {
    clauses.push(`post-tool ${now.afterSuccessOnly ? 'after successful calls only' : 'after every call'} (step trained otherwise)`);
  }
  if (shape.groupFilter !== trained.groupFilter) clauses.push(`group filter ${shape.groupFilter ? 'on' : 'off'} (step trained ${trained.groupFilter ? 'on' : 'off'})`);
  if (shape.toolFailFilter !== trained.toolFailFilter) {
    clauses.push(`tool-failure filter ${shape.toolFailFilter ? 'on' : 'off'} (step trained ${trained.toolFailFilter ? 'on' : 'off'})`);
  }
  if (shape.toolFailStrength !== trained.toolFailStrength) {
    clauses.push(`tool-failure strength ${shape.toolFailStrength} (step trained with ${trained.toolFailStrength})`);
  }
  if (shape.baseline !== trained.baseline) clauses.push(`baseline ${shape.baseline} (step trained with ${trained.baseline})`);
  if (shape.stdNormalize !== trained.stdNormalize) clauses.push(`std division ${shape.stdNormalize ? 'on' : 'off'} (step trained ${trained.stdNormalize ? 'on' : 'off'})`);
  return clauses;
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
const BEFORE_COLOR = '#6b6b6b';
const AFTER_COLOR = '#d95f02';
const BONUS_COLOR = '#7570b3';

function show(value: number | null, digits: number): string {
  return value === null ? '–' : value.toFixed(digits);
}

/** What hovering a token position shows: the token, its kind, entropy, bonus and advantages. */
export function TokenTooltip({ point }: { point: TokenPoint | undefined }): ReactElement | null {
  if (!point) return null;
  const kindWords = point.kind === 'tool' ? 'tool result (not sampled)' : point.kind === 'prompt' ? 'prompt' : point.postTool ? 'policy, post-tool' : 'policy';
  return (
    <div style={{ background: '#fff', border: '1px solid #999', padding: '4px 8px', fontSize: 12 }}>
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

/** Entropy dots in the page's entropy colours. */
function EntropyDot(props: DotItemDotProps): ReactElement {
  const { cx, cy, index } = props;
  const point = props.payload as TokenPoint | undefined;
  if (cx == null || cy == null || point?.entropy == null || !Number.isFinite(Number(cy))) return <g key={index} />;
  return <circle key={index} cx={cx} cy={cy} r={3.5} fill={entropyColor(point.entropy)} stroke="#333" strokeWidth={0.5} />;
}

// Props recharts stores by identity are module constants: a fresh object each render would make
// it re-register the axis or label, which dominates the cost of a slider move.
const MARGIN = { top: 8, right: 16, bottom: 8, left: 8 };
const TICK = { fontSize: 10 };
const CALL_LABEL = { value: 'call', position: 'insideTop', fontSize: 10 } as const;
const RESULT_LABEL = { value: 'result', position: 'insideTop', fontSize: 10 } as const;
const X_LABEL = { value: 'token position', position: 'insideBottomRight', offset: -4, fontSize: 11 } as const;
const ENTROPY_LABEL = { value: 'entropy (nats)', angle: -90, position: 'insideLeft', fontSize: 11 } as const;
const ADVANTAGE_LABEL = { value: 'advantage', angle: 90, position: 'insideRight', fontSize: 11 } as const;
const ENTROPY_DOMAIN = [0, Number(ENTROPY_MAX.toFixed(2))];
const INITIAL_SIZE = { width: 720, height: 260 };
const LEGEND_STYLE = { fontSize: 11 };

function tooltipContent(props: TooltipContentProps): ReactElement | null {
  return <TokenTooltip point={props.payload?.[0]?.payload as TokenPoint | undefined} />;
}

const TokenChart = memo(function TokenChart({ series }: { series: TokenSeries }): ReactElement {
  const n = series.points.length;
  const xDomain = useMemo(() => [-0.5, Math.max(0.5, n - 0.5)], [n]);
  return (
    <ResponsiveContainer width="100%" height={260} initialDimension={INITIAL_SIZE}>
      <ComposedChart data={series.points} margin={MARGIN}>
        {series.callSpans.map(([start, end]) => (
          <ReferenceArea key={`call-${start}`} yAxisId="entropy" x1={start - 0.5} x2={end + 0.5} fill={CALL_FILL} fillOpacity={0.35} label={CALL_LABEL} />
        ))}
        {series.resultSpans.map(([start, end]) => (
          <ReferenceArea key={`result-${start}`} yAxisId="entropy" x1={start - 0.5} x2={end + 0.5} fill={RESULT_FILL} fillOpacity={0.5} label={RESULT_LABEL} />
        ))}
        <XAxis dataKey="position" type="number" domain={xDomain} allowDecimals={false} tick={TICK} label={X_LABEL} />
        <YAxis yAxisId="entropy" domain={ENTROPY_DOMAIN} tick={TICK} label={ENTROPY_LABEL} />
        <YAxis yAxisId="advantage" orientation="right" tick={TICK} label={ADVANTAGE_LABEL} />
        <ReferenceLine yAxisId="advantage" y={0} stroke="#bbb" />
        <Bar yAxisId="advantage" dataKey="bonus" name="bonus" fill={BONUS_COLOR} barSize={6} isAnimationActive={false} />
        <Line yAxisId="entropy" dataKey="entropy" name="entropy" stroke="#444" strokeWidth={1} dot={EntropyDot} connectNulls={false} isAnimationActive={false} />
        <Line yAxisId="advantage" dataKey="before" name="A before shaping" type="stepAfter" stroke={BEFORE_COLOR} strokeDasharray="4 3" dot={false} connectNulls={false} isAnimationActive={false} />
        <Line yAxisId="advantage" dataKey="after" name={series.preview ? 'A after shaping (preview)' : 'A after shaping'} type="stepAfter" stroke={AFTER_COLOR} strokeWidth={2} dot={false} connectNulls={false} isAnimationActive={false} />
        <Tooltip content={tooltipContent} isAnimationActive={false} />
        <Legend wrapperStyle={LEGEND_STYLE} />
      </ComposedChart>
    </ResponsiveContainer>
  );
});

// ---------------------------------------------------------------------------------------------
// Panel

export function TokenView(): ReactElement | null {
  const report = useWorkbench(shownReport);
  const index = useWorkbench((state) => state.selectedTrajectory);
  const status = useWorkbench((state) => state.status);
  // Deferred: while the coefficient slider moves, the slider stays responsive and the preview follows.
  const shape = useDeferredValue(useWorkbench((state) => state.config.shape));
  const selectTrajectory = useWorkbench((state) => state.selectTrajectory);

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

  if (!open || !series) return null;
  const trajectory = report.trajectories[index];
  const positionInGroup = report.trajectories.slice(0, index + 1).filter((t) => t.group === trajectory.group).length;
  const title = `Token view (group ${trajectory.group + 1}, #${positionInGroup})`;
  const untrained = series.points.every((point) => point.after === null);

  return (
    <section aria-label={title}>
      <TokenStyles />
      <header style={{ display: 'flex', flexWrap: 'wrap', gap: '4px 16px', alignItems: 'baseline' }}>
        <h2 style={{ fontSize: 16, margin: 0 }}>{title}</h2>
        <span style={{ fontSize: 13 }}>
          step {report.step} · reward {trajectory.reward} · A={formatAdvantage(series.advantage)}
        </span>
        {series.preview && (
          <span role="note" style={{ fontSize: 13, fontWeight: 600, background: '#fff4d6', border: '1px solid #d9a400', padding: '1px 6px', borderRadius: 3 }}>
            Preview: {shapeDifferences(shape, report.settings.shape).join('; ')} — not trained with yet
          </span>
        )}
        <button type="button" onClick={() => selectTrajectory(null)} style={{ marginLeft: 'auto' }}>
          Close (Esc)
        </button>
      </header>
      {series.preview && (
        <p style={{ fontSize: 11, color: '#555', margin: '2px 0' }}>
          The preview re-shapes the step's whole generated batch: its entropy statistics include every kept group, also those the
          update did not train on, so values differ slightly from what training would use.
        </p>
      )}
      {untrained && (
        <p style={{ fontSize: 12, margin: '2px 0' }}>
          No token of this trajectory has loss weight above 0
          {trajectory.reason ? ` (discarded: ${DISCARD_WORDS[trajectory.reason]})` : ' (not in the training batch)'}: no advantage is
          plotted.
        </p>
      )}
      <TokenChart series={series} />
      <div style={{ marginTop: 4 }}>
        <TokenText tokens={trajectory.tokens} />
      </div>
    </section>
  );
}
