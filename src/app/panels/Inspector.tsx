// Rollout inspector: the shown step's trajectories grouped by prompt, each token coloured by its
// entropy, tool calls and results set apart, and what the dual filter did to each trajectory.
// Rollout text is data: it is only ever rendered as React text children.

import { memo, useDeferredValue, useEffect, useMemo, useRef, useState, type KeyboardEvent, type MouseEvent, type ReactElement, type RefObject } from 'react';
import type { ToolCallRecord } from '../../core/environment';
import type { DiscardReason } from '../../core/tao/types';
import type { StepReport, TrajectoryReport } from '../../core/trainer';
import { EntropyLegend, entropyStep, entropyStepCss, TOOL_RESULT_STYLE } from '../entropyColor';
import { shownReport, useWorkbench } from '../store';
import { themeColor } from '../theme';
import { inAFrame } from '../frameQueue';
import { useNear } from '../useNear';

/** The dual filter's reasons in words (docs/algorithm.md §2). */
export const DISCARD_WORDS: Record<DiscardReason, string> = {
  all_tools_failed: 'all tool calls failed',
  group_all_correct: 'group all correct',
  group_all_wrong: 'group all wrong',
};

const REASONS: readonly DiscardReason[] = ['all_tools_failed', 'group_all_correct', 'group_all_wrong'];

export function isGroupReason(reason: DiscardReason | null): boolean {
  return reason === 'group_all_correct' || reason === 'group_all_wrong';
}

/** A binary reward above 0 is a correct answer. */
export function passed(trajectory: Pick<TrajectoryReport, 'reward'>): boolean {
  return trajectory.reward > 0;
}

/** Signed, two decimals, with a real minus sign: "+0.93", "−1.06". */
export function formatAdvantage(advantage: number): string {
  const text = Math.abs(advantage).toFixed(2);
  if (text === '0.00') return '0.00';
  return `${advantage < 0 ? '−' : '+'}${text}`;
}

/** Whose failure a failed call was, in words. */
export function failureCauseWords(call: ToolCallRecord): string | null {
  if (call.cause === 'environment') return "the environment's failure";
  if (call.cause === 'policy') return call.error === 'syntax' ? "the policy's malformed call" : "the policy's own failure";
  return null;
}

/** "expr → value ✓", or "expr → ERR ✗ (syntax: message; the policy's malformed call)". */
export function toolCallText(call: ToolCallRecord): string {
  if (call.ok) return `${call.expression} → ${call.value ?? ''} ✓`;
  const what = [call.error, call.message].filter(Boolean).join(': ');
  const detail = [what, failureCauseWords(call)].filter(Boolean).join('; ');
  return `${call.expression} → ERR ✗${detail ? ` (${detail})` : ''}`;
}

/** How much the update used this trajectory. */
export function trainedText(trajectory: Pick<TrajectoryReport, 'kept' | 'trainedCopies' | 'tokens'>): string {
  const weights = trajectory.tokens.lossWeight.filter((w) => w > 0);
  if (trajectory.trainedCopies === 0 || weights.length === 0) {
    return trajectory.kept ? 'not trained (surplus)' : 'not trained';
  }
  const copies = trajectory.trainedCopies > 1 ? `trained ×${trajectory.trainedCopies}` : 'trained';
  const weight = Math.max(...weights);
  return weight < 1 ? `${copies} at weight ${weight.toFixed(2)}` : copies;
}

export interface GroupView {
  /** Group index in the step's generated batch. */
  group: number;
  prompt: string;
  expected: string;
  /** Indices into report.trajectories, in generation order. */
  indices: number[];
  passed: number;
  /** The group filter's reason, shared by every member; null when the group was kept. */
  reason: DiscardReason | null;
}

/** The step's trajectories grouped by prompt, in the order groups were generated. */
export function groupsOf(report: StepReport): GroupView[] {
  const byGroup = new Map<number, GroupView>();
  report.trajectories.forEach((trajectory, index) => {
    let view = byGroup.get(trajectory.group);
    if (!view) {
      view = { group: trajectory.group, prompt: trajectory.prompt, expected: trajectory.expected, indices: [], passed: 0, reason: null };
      byGroup.set(trajectory.group, view);
    }
    view.indices.push(index);
    if (passed(trajectory)) view.passed += 1;
    if (isGroupReason(trajectory.reason)) view.reason = trajectory.reason;
  });
  return [...byGroup.values()];
}

/** Kept trajectories and discards by reason, over the whole generated batch. */
export function filterCounts(report: StepReport): { kept: number } & Record<DiscardReason, number> {
  const counts = { kept: 0, all_tools_failed: 0, group_all_correct: 0, group_all_wrong: 0 };
  for (const trajectory of report.trajectories) {
    if (trajectory.reason === null) counts.kept += 1;
    else counts[trajectory.reason] += 1;
  }
  return counts;
}

/** "Group 3, trajectory 2: reward 0, discarded: all tool calls failed" (1-based numbers). */
export function trajectoryLabel(trajectory: TrajectoryReport, positionInGroup: number, groupNumber: number): string {
  const discard = trajectory.reason ? `, discarded: ${DISCARD_WORDS[trajectory.reason]}` : '';
  return `Group ${groupNumber}, trajectory ${positionInGroup}: reward ${trajectory.reward}${discard}`;
}

// ---------------------------------------------------------------------------------------------
// Tokens

// Static rules in one hoisted stylesheet (React 19 dedupes it by href): each policy token then
// carries only the class of its step on the entropy scale, which keeps 128 x 40 tokens cheap.
const TOKEN_CSS = `
.tao-tokens { font-family: ui-monospace, monospace; font-size: 12px; line-height: 18px; word-break: break-all; }
.tao-tokens > span { white-space: pre; border-radius: 2px; padding: 0 1px; }
.tao-tokens > span[data-kind="tool"] { background: ${TOOL_RESULT_STYLE.background}; color: ${TOOL_RESULT_STYLE.color}; outline: ${TOOL_RESULT_STYLE.outline}; outline-offset: ${TOOL_RESULT_STYLE.outlineOffset}px; font-style: ${TOOL_RESULT_STYLE.fontStyle}; }
${entropyStepCss()}
`;

/** The token stylesheet; render it in every panel that shows TokenText. */
export function TokenStyles(): ReactElement {
  return (
    <style href="tao-tokens" precedence="default">
      {TOKEN_CSS}
    </style>
  );
}

/** What hovering a token says: the token and its entropy, or that a tool result was not sampled. */
export function tokenTitle(tokens: TrajectoryReport['tokens'], t: number): string {
  const text = tokens.text[t];
  const kind = tokens.kind[t];
  if (kind === 'policy') {
    // An imported rollout dump holds text, not tokens: its "tokens" are whole segments, without entropy.
    return Number.isFinite(tokens.entropy[t]) ? `${text} · entropy ${tokens.entropy[t].toFixed(2)} nats` : `${text} · no entropy (a rollout dump stores text only)`;
  }
  return kind === 'tool' ? `${text} · tool result, not sampled` : `${text} · prompt`;
}

/** One trajectory's tokens: policy tokens on the entropy scale, prompt plain, tool results set apart. */
export const TokenText = memo(function TokenText({ tokens }: { tokens: TrajectoryReport['tokens'] }): ReactElement {
  // A token's title is set when the pointer first reaches it: thousands of title attributes
  // written up front cost more than the spans themselves.
  const onMouseOver = (event: MouseEvent<HTMLSpanElement>) => {
    const span = event.target as HTMLElement;
    if (span === event.currentTarget || span.title) return;
    span.title = tokenTitle(tokens, Array.prototype.indexOf.call(event.currentTarget.children, span));
  };
  return (
    <span className="tao-tokens" onMouseOver={onMouseOver}>
      {tokens.text.map((text, t) => {
        const kind = tokens.kind[t];
        return (
          <span key={t} data-kind={kind} className={kind === 'policy' ? `tao-h${entropyStep(tokens.entropy[t])}` : undefined}>
            {text}
          </span>
        );
      })}
    </span>
  );
});

// ---------------------------------------------------------------------------------------------
// Cards

const OK_COLOR = themeColor('ok');
const FAIL_COLOR = themeColor('fail');
const HATCH = `repeating-linear-gradient(45deg, ${themeColor('hatchA')} 0 3px, ${themeColor('hatchB')} 3px 7px)`;

function Mark({ ok, children }: { ok: boolean; children: string }): ReactElement {
  return <span style={{ color: ok ? OK_COLOR : FAIL_COLOR, fontWeight: 600 }}>{children}</span>;
}

interface CardProps {
  trajectory: TrajectoryReport;
  /** Index into report.trajectories. */
  index: number;
  positionInGroup: number;
  groupNumber: number;
  selected: boolean;
  onSelect: (index: number) => void;
}

/** One trajectory; memoised so a selection change re-renders two cards, not the batch. */
const TrajectoryCard = memo(function TrajectoryCard({ trajectory, index, positionInGroup, groupNumber, selected, onSelect }: CardProps) {
  const discarded = trajectory.reason !== null;
  const correct = passed(trajectory);
  const card = useRef<HTMLElement>(null);
  // A selection made from the keyboard (j/k) brings its card into view.
  useEffect(() => {
    if (selected) card.current?.scrollIntoView?.({ block: 'nearest' });
  }, [selected]);
  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      onSelect(index);
    }
  };
  return (
    <article
      ref={card}
      aria-label={trajectoryLabel(trajectory, positionInGroup, groupNumber)}
      data-trajectory-index={index}
      aria-current={selected ? 'true' : undefined}
      data-discarded={discarded ? 'true' : undefined}
      tabIndex={0}
      onClick={() => onSelect(index)}
      onKeyDown={onKeyDown}
      style={{
        // A discarded card keeps its content but sits inside a hatched frame (docs/page.md).
        padding: discarded ? 4 : 1,
        background: discarded ? HATCH : themeColor('cardFrame'),
        outline: selected ? `3px solid ${themeColor('accent')}` : undefined,
        outlineOffset: 1,
        borderRadius: 4,
        margin: '4px 0',
        cursor: 'pointer',
        // Off-screen cards skip layout and paint: a step has up to 128 of them.
        contentVisibility: 'auto',
        containIntrinsicSize: 'auto 80px',
      }}
    >
      <div style={{ background: themeColor(discarded ? 'cardDiscarded' : 'card'), padding: '4px 6px', borderRadius: 3 }}>
        <div style={{ display: 'flex', flexWrap: 'wrap', gap: '0 12px', fontSize: 13, alignItems: 'baseline' }}>
          <strong>#{positionInGroup}</strong>
          <Mark ok={correct}>{`reward ${trajectory.reward} ${correct ? '✓' : '✗'}`}</Mark>
          <span title="GRPO advantage before shaping">A={formatAdvantage(trajectory.advantage)}</span>
          <span>answer {trajectory.answer ?? '(none)'}</span>
          <span style={{ color: themeColor('muted') }}>{trainedText(trajectory)}</span>
          {trajectory.reason && !isGroupReason(trajectory.reason) && (
            <span style={{ color: FAIL_COLOR, fontWeight: 600 }}>discarded: {DISCARD_WORDS[trajectory.reason]}</span>
          )}
        </div>
        <div style={{ opacity: discarded ? 0.6 : 1, filter: discarded ? 'grayscale(60%)' : undefined, margin: '2px 0' }}>
          <TokenText tokens={trajectory.tokens} />
        </div>
        {trajectory.toolCalls.length > 0 && (
          <ul aria-label="tool calls" style={{ margin: 0, paddingLeft: 18, fontSize: 12 }}>
            {trajectory.toolCalls.map((call, c) => (
              <li key={c} style={{ color: call.ok ? OK_COLOR : FAIL_COLOR }}>
                <code>{toolCallText(call)}</code>
              </li>
            ))}
          </ul>
        )}
      </div>
    </article>
  );
});

function GroupHeader({ view }: { view: GroupView }) {
  const rate = `${view.passed}/${view.indices.length}`;
  return (
    <h3 style={{ fontSize: 14, margin: '4px 0', display: 'flex', flexWrap: 'wrap', gap: '0 12px', alignItems: 'baseline' }}>
      <span>Group {view.group + 1}</span>
      <code>“{view.prompt}”</code>
      <span style={{ fontWeight: 400 }}>expected {view.expected}</span>
      <span style={{ fontWeight: 400 }}>
        pass <span data-testid="pass-rate">{rate}</span>
      </span>
      {view.reason && (
        <span style={{ fontWeight: 600, color: FAIL_COLOR, padding: '0 4px', background: HATCH }}>
          <span style={{ background: themeColor('paper'), padding: '0 4px' }}>{DISCARD_WORDS[view.reason]}: not trained</span>
        </span>
      )}
    </h3>
  );
}

function groupLabel(view: GroupView): string {
  return `Group ${view.group + 1}: pass ${view.passed}/${view.indices.length}${view.reason ? `, discarded: ${DISCARD_WORDS[view.reason]}` : ''}`;
}

/** A group whose cards are not rendered yet: its heading, and room for its cards. */
function GroupHeading({ view, placeholderHeight }: { view: GroupView; placeholderHeight: number }) {
  return (
    <section aria-label={groupLabel(view)} aria-busy="true" style={{ margin: '8px 0', minHeight: placeholderHeight }}>
      <GroupHeader view={view} />
    </section>
  );
}

function GroupSection({ view, report, selected, onSelect }: { view: GroupView; report: StepReport; selected: number | null; onSelect: (index: number) => void }) {
  return (
    <section aria-label={groupLabel(view)} style={{ margin: '8px 0' }}>
      <GroupHeader view={view} />
      {view.indices.map((index, k) => (
        <TrajectoryCard
          key={index}
          trajectory={report.trajectories[index]}
          index={index}
          positionInGroup={k + 1}
          groupNumber={view.group + 1}
          selected={selected === index}
          onSelect={onSelect}
        />
      ))}
    </section>
  );
}

/** The settings a step ran with, so a live change is visible on the first step that used it. */
export function settingsText(report: StepReport): string {
  const { shape, learningRate, temperature, entropyCoef } = report.settings;
  const bonus = shape.bonus.mode === 'off' ? 'bonus off' : `${shape.bonus.mode} bonus, coef ${shape.bonus.coef}, ${shape.bonus.scope === 'all' ? 'all tokens' : 'post-tool'}`;
  return `trained with: ${bonus} · lr ${learningRate} · temperature ${temperature}${entropyCoef > 0 ? ` · entropy reg. ${entropyCoef}` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Rendering a step without blocking the page

// One group's cards are committed per animation frame (inAFrame, ../frameQueue), whichever
// slots ask: a step's thousands of token spans never land in one long main-thread task, and a busy
// page still paints between.

/** Distance (px) outside the visible rollouts at which a group is rendered ahead of scrolling. */
const RENDER_AHEAD_PX = 600;

/** Approximate height of a group not rendered yet, so the scroll range stays about right. */
const CARD_HEIGHT_PX = 84;

interface GroupSlotProps {
  view: GroupView;
  report: StepReport;
  selected: number | null;
  onSelect: (index: number) => void;
  scroller: RefObject<HTMLElement | null>;
}

/**
 * A group's place in the list. Its cards are rendered once it comes near the visible part of
 * the list (or holds the selected trajectory), one group per frame; until then it is its heading
 * and a space of about its height. When a new step arrives, the cards shown keep the previous
 * step's content for the frame or two until their turn comes.
 */
function GroupSlot({ view, report, selected, onSelect, scroller }: GroupSlotProps) {
  const slot = useRef<HTMLDivElement>(null);
  const near = useNear(slot, RENDER_AHEAD_PX, scroller);
  const holdsSelection = selected !== null && view.indices.includes(selected);
  const [renderedFor, setRenderedFor] = useState<StepReport | null>(null);
  const previous = useRef<ReactElement | null>(null);
  const wanted = near || holdsSelection;
  useEffect(() => {
    if (!wanted || renderedFor === report) return;
    return inAFrame(() => setRenderedFor(report));
  }, [wanted, report, renderedFor]);

  let content: ReactElement | null = null;
  if (renderedFor === report) {
    content = <GroupSection view={view} report={report} selected={selected} onSelect={onSelect} />;
    previous.current = content;
  } else if (wanted) {
    content = previous.current;
  }
  return (
    <div ref={slot} data-group-slot={view.group}>
      {content ?? <GroupHeading view={view} placeholderHeight={view.indices.length * CARD_HEIGHT_PX} />}
    </div>
  );
}

export function Inspector(): ReactElement {
  // Deferred: a new step's thousands of token spans render in interruptible slices, so live
  // training never blocks the page (useSyncExternalStore updates alone would render at once).
  const report = useDeferredValue(useWorkbench(shownReport));
  const selected = useWorkbench((state) => state.selectedTrajectory);
  const selectTrajectory = useWorkbench((state) => state.selectTrajectory);
  const groups = useMemo(() => (report ? groupsOf(report) : []), [report]);
  const counts = useMemo(() => (report ? filterCounts(report) : null), [report]);
  const scroller = useRef<HTMLDivElement>(null);

  if (!report) {
    return (
      <section aria-label="Rollouts">
        <h2 style={{ fontSize: 16 }}>Rollouts</h2>
        <p>No step yet: start the run or take one step.</p>
      </section>
    );
  }
  return (
    <section aria-label={`Rollouts (step ${report.step})`}>
      <TokenStyles />
      <header style={{ display: 'flex', flexWrap: 'wrap', gap: '4px 16px', alignItems: 'baseline' }}>
        <h2 style={{ fontSize: 16, margin: 0 }}>Rollouts (step {report.step})</h2>
        {counts && report.trajectories.length > 0 && (
          <p aria-label="filter summary" style={{ margin: 0, fontSize: 13 }}>
            filter: kept {counts.kept}
            {REASONS.map((reason) => ` · ${DISCARD_WORDS[reason]} ${counts[reason]}`).join('')}
            {report.skipped ? ' · step skipped: no group survived, no update' : ''}
          </p>
        )}
        <p aria-label="step settings" style={{ margin: 0, fontSize: 13 }}>
          {settingsText(report)}
        </p>
        <EntropyLegend />
      </header>
      {report.trajectories.length === 0 ? (
        <p>The rollouts of step {report.step} are no longer kept; only the most recent steps keep them.</p>
      ) : (
        <div ref={scroller} className="rollout-list">
          {groups.map((view) => (
            <GroupSlot key={view.group} view={view} report={report} selected={selected} onSelect={selectTrajectory} scroller={scroller} />
          ))}
        </div>
      )}
    </section>
  );
}
