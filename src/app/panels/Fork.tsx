// Fork at a token, in the token view: the distribution the policy had at the chosen token, the
// continuations it writes from there (same tool environment, in the worker, training untouched)
// with their pass rate beside the trajectory's own reward, and a scan of the pass rate from every
// post-tool token against its entropy. The numbers come from the worker; this only lays them out.

import { useEffect, type ReactElement } from 'react';
import { forbiddenTokens, MAX_FORK_SAMPLES, passRate, scanPositions, type Continuation, type NextTokenDistribution } from '../../core/fork';
import type { StepReport } from '../../core/trainer';
import { VOCAB } from '../../core/tokenizer';
import type { ForkWeights, WorkerStatus } from '../../worker/protocol';
import { ENTROPY_MAX } from '../entropyColor';
import { chosenPosition, isPending, trajectoryKey, useFork, type ForkTarget, type ScanPoint } from '../forkState';
import { useWorkbench } from '../store';
import { linearScale } from '../../experiment/svg';
import { AxesFrame, type PlotArea } from './chartFrame';
import { passed, toolCallText } from './Inspector';
import './fork.css';

/** Tokens the list shows at least, most probable first. */
export const TOP_TOKENS = 8;

/** The `count` most probable tokens, most probable first (ties in vocabulary order); forbidden tokens never. */
export function topTokens(distribution: NextTokenDistribution, count = TOP_TOKENS): { token: string; probability: number }[] {
  return distribution.probabilities
    .map((probability, id) => ({ token: VOCAB[id], probability }))
    .filter((entry) => entry.probability > 0)
    .sort((a, b) => b.probability - a.probability)
    .slice(0, count);
}

/** A probability as a person reads it: "43.1%", "< 0.1%". */
export function formatProbability(probability: number): string {
  return probability < 0.0005 ? '< 0.1%' : `${(100 * probability).toFixed(1)}%`;
}

/** Why the fork buttons are off, in words; null when they are on. */
export function forkUnavailable(status: WorkerStatus, viewOnly: boolean): string | null {
  if (viewOnly) return 'This run was imported without weights: the policy that wrote these trajectories is not here, so nothing can be resampled.';
  switch (status) {
    case 'running':
      return 'Training is running: pause it to fork here (the weights change with every step).';
    case 'loading':
      return 'The policy is still loading.';
    case 'error':
      return 'Training stopped on an error: resume it to fork here.';
    default:
      return null;
  }
}

/** Which weights a fork used, in words. */
export function weightsWords(weights: ForkWeights, step: number): string {
  const after = (s: number) => (s === 0 ? 'the starting checkpoint' : `the weights after step ${s}`);
  if (weights.sampledWith) return `Weights: those step ${step} sampled with (${after(weights.step)}).`;
  return `Weights: the current ones (${after(weights.step)}), not those step ${step} sampled with (${after(step - 1)}), which are no longer held.`;
}

/** The distribution at the chosen token: the most probable tokens, its entropy, and what the mask forbids. */
export function NextTokenList({ distribution, sampled, recordedEntropy }: { distribution: NextTokenDistribution; sampled: string; recordedEntropy: number }): ReactElement {
  const top = topTokens(distribution);
  return (
    <section className="fork-distribution" aria-labelledby="fork-next-token">
      <h4 id="fork-next-token">Next-token probabilities</h4>
      <ol aria-label="Next-token probabilities" className="fork-probabilities">
        {top.map(({ token, probability }) => (
          <li key={token} aria-current={token === sampled ? 'true' : undefined}>
            <code>{token}</code>
            <span className="fork-bar" aria-hidden="true">
              <span style={{ width: `${(100 * probability).toFixed(1)}%` }} />
            </span>
            <span className="fork-probability">{formatProbability(probability)}</span>
            {token === sampled && <span className="fork-sampled">written here</span>}
          </li>
        ))}
      </ol>
      <p>
        entropy {distribution.entropy.toFixed(2)} nats
        {Math.abs(distribution.entropy - recordedEntropy) >= 0.005 && ` (when sampled: ${recordedEntropy.toFixed(2)})`}
      </p>
      <p className="muted">
        The mask forbids{' '}
        {forbiddenTokens().map((token, i) => (
          <span key={token}>
            {i > 0 && ' '}
            <code>{token}</code>
          </span>
        ))}
        : the environment writes them (tool results), never the policy.
      </p>
    </section>
  );
}

/** One continuation: its tokens from the fork on (tool results set apart), its calls, its reward. */
function ContinuationCard({ continuation, number, original }: { continuation: Continuation; number: number; original: string }): ReactElement {
  const ok = passed(continuation);
  const first = continuation.text[0];
  return (
    <article aria-label={`Continuation ${number}: reward ${continuation.reward} ${ok ? '✓' : '✗'}`} className="fork-continuation">
      <div className="fork-continuation-head">
        <strong>#{number}</strong>
        <span className={ok ? 'fork-ok' : 'fork-fail'}>{`reward ${continuation.reward} ${ok ? '✓' : '✗'}`}</span>
        <span>answer {continuation.answer ?? '(none)'}</span>
        <span className="muted">{first === original ? 'same first token' : `wrote ${first} instead of ${original}`}</span>
      </div>
      <span className="tao-tokens">
        <span className="fork-ellipsis">…</span>
        {continuation.text.map((token, t) => (
          <span key={t} data-kind={continuation.kind[t]} className={t === 0 ? 'fork-first' : undefined}>
            {token}
          </span>
        ))}
      </span>
      {continuation.toolCalls.length > 0 && (
        <ul aria-label="tool calls" className="fork-calls">
          {continuation.toolCalls.map((call, c) => (
            <li key={c} className={call.ok ? 'fork-ok' : 'fork-fail'}>
              <code>{toolCallText(call)}</code>
            </li>
          ))}
        </ul>
      )}
    </article>
  );
}

/** "pass rate from here: 44% (7 of 16)". */
export function passRateWords(continuations: readonly Continuation[]): string {
  const { passed: count, total, rate } = passRate(continuations.map((c) => c.reward));
  return rate === null ? 'pass rate from here: –' : `pass rate from here: ${Math.round(100 * rate)}% (${count} of ${total})`;
}

// ---------------------------------------------------------------------------------------------
// The scan: pass rate from each scanned token against its entropy

const SCAN_WIDTH = 380;
const SCAN_HEIGHT = 220;
const SCAN_PLOT: PlotArea = { left: 44, right: SCAN_WIDTH - 12, top: 10, bottom: SCAN_HEIGHT - 34 };

/** Pass rate of a scanned point, in [0, 1]. */
const rateOf = (point: ScanPoint) => (point.total > 0 ? point.passed / point.total : 0);

/**
 * Which points get a text label: the most uncertain first (highest entropy), each unless it would
 * print over one already labelled (within `gap` px); the others are named by their hover title.
 */
export function labelledPoints(points: ScanPoint[], at: (point: ScanPoint) => [number, number], gap = 12): Set<number> {
  const placed: [number, number][] = [];
  const labelled = new Set<number>();
  for (const point of [...points].sort((a, b) => b.entropy - a.entropy)) {
    const [px, py] = at(point);
    if (placed.some(([x, y]) => Math.abs(x - px) < 4 * gap && Math.abs(y - py) < gap)) continue;
    placed.push([px, py]);
    labelled.add(point.position);
  }
  return labelled;
}

export function ScanChart({ points, texts, postTool }: { points: ScanPoint[]; texts: readonly string[]; postTool: readonly (0 | 1)[] }): ReactElement {
  const x = linearScale([0, ENTROPY_MAX], [SCAN_PLOT.left, SCAN_PLOT.right]);
  const y = linearScale([0, 1], [SCAN_PLOT.bottom, SCAN_PLOT.top]);
  const rateTicks = [0, 0.25, 0.5, 0.75, 1];
  const labelled = labelledPoints(points, (point) => [x(point.entropy), y(rateOf(point))]);
  return (
    <figure className="fork-scan" aria-labelledby="fork-scan-title">
      <figcaption id="fork-scan-title">Pass rate from here against entropy</figcaption>
      <svg width={SCAN_WIDTH} height={SCAN_HEIGHT} role="img" aria-label={`${points.length} tokens scanned; ${points.filter((p) => postTool[p.position] === 1).length} post-tool`}>
        <AxesFrame
          plot={SCAN_PLOT}
          grid={rateTicks.map(y)}
          x={{ ticks: [0, 1, 2, 3].filter((tick) => tick <= ENTROPY_MAX), scale: x, format: String }}
          left={{ ticks: rateTicks, scale: y, format: (value) => `${Math.round(100 * value)}%` }}
        />
        <text className="fork-axis-title" x={SCAN_PLOT.right} y={SCAN_HEIGHT - 4} textAnchor="end">
          entropy at the token (nats)
        </text>
        {points.map((point) => {
          const post = postTool[point.position] === 1;
          return (
            <g key={point.position} className={post ? 'fork-point fork-point-post' : 'fork-point'}>
              <title>{`token ${point.position} ${texts[point.position]}${post ? ' (post-tool)' : ''}: entropy ${point.entropy.toFixed(2)} nats, pass rate ${Math.round(100 * rateOf(point))}% (${point.passed} of ${point.total})`}</title>
              <circle cx={x(point.entropy)} cy={y(rateOf(point))} r={post ? 5 : 4} />
              {labelled.has(point.position) && (
                <text x={x(point.entropy) + 7} y={y(rateOf(point)) + 3}>
                  {texts[point.position]}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <p className="muted fork-legend">
        <span className="fork-key fork-key-post" /> post-tool token <span className="fork-key" /> other token, for contrast. A token with high
        entropy and a pass rate between 0 and 100% is a fork: what the policy writes there decides the outcome.
      </p>
      <table className="fork-scan-table">
        <thead>
          <tr>
            <th scope="col">token</th>
            <th scope="col">position</th>
            <th scope="col">entropy</th>
            <th scope="col">pass rate from here</th>
          </tr>
        </thead>
        <tbody>
          {points.map((point) => (
            <tr key={point.position}>
              <th scope="row">
                <code>{texts[point.position]}</code>
                {postTool[point.position] === 1 ? ' post-tool' : ''}
              </th>
              <td>{point.position}</td>
              <td>{point.entropy.toFixed(2)}</td>
              <td>
                {Math.round(100 * rateOf(point))}% ({point.passed} of {point.total})
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

// ---------------------------------------------------------------------------------------------
// The panel

/** The fork part of the token view, for trajectory `index` of `report`. */
export function ForkPanel({ report, index }: { report: StepReport; index: number }): ReactElement | null {
  const runId = useWorkbench((state) => state.runId);
  const status = useWorkbench((state) => state.status);
  const viewOnly = useWorkbench((state) => state.viewOnly);
  const chosen = useFork((state) => state.chosen);
  const pending = useFork((state) => state.pending);
  const samples = useFork((state) => state.samples);
  const scanSamples = useFork((state) => state.scanSamples);
  const seed = useFork((state) => state.seed);
  const target: ForkTarget = { runId, report, index };
  const key = trajectoryKey(target);
  const results = useFork((state) => state.results[key]);
  const position = chosenPosition(chosen, target);
  const trajectory = report.trajectories[index];
  const unavailable = forkUnavailable(status, viewOnly);

  // The distribution at the chosen token is asked for as soon as it can be.
  const haveDistribution = results?.distribution?.position === position;
  useEffect(() => {
    if (position === null || unavailable || haveDistribution) return;
    useFork.getState().requestDistribution({ runId, report, index }, position);
  }, [position, unavailable, haveDistribution, runId, report, index]);

  if (!trajectory) return null;
  if (position === null) {
    return (
      <section aria-label="Fork at a token" className="fork">
        <p>This trajectory has no token the policy sampled: nothing to fork.</p>
      </section>
    );
  }
  const { text, kind, entropy, postTool } = trajectory.tokens;
  const fork = useFork.getState();
  const scan = results?.scan;
  const scanning = scan?.running === true;
  const resampling = isPending(pending, key, 'resample');
  const continuations = results?.continuations?.position === position ? results.continuations : undefined;
  const weights = continuations?.weights ?? (haveDistribution ? results?.distribution?.weights : undefined) ?? scan?.weights ?? null;
  const policyPositions = kind.flatMap((k, t) => (k === 'policy' && t > 0 ? [t] : []));

  return (
    <section aria-label="Fork at a token" className="fork">
      <header className="fork-head">
        <h3>
          Fork at token {position} <code>{text[position]}</code>
          {postTool[position] === 1 ? ' (post-tool)' : ''}
        </h3>
        <label>
          Fork at{' '}
          <select aria-label="Fork at token" value={position} onChange={(event) => fork.choose(target, Number(event.target.value))}>
            {policyPositions.map((t) => (
              <option key={t} value={t}>
                {t} · {text[t]}
                {postTool[t] === 1 ? ' · post-tool' : ''}
                {t > 0 && kind[t - 1] === 'tool' ? ' · first after a result' : ''}
              </option>
            ))}
          </select>
        </label>
        <span className="muted">or click a token on the chart (Enter on its keyboard cursor)</span>
      </header>
      {unavailable && (
        <p className="fork-unavailable">
          {unavailable}
        </p>
      )}
      {weights && <p className="fork-weights">{weightsWords(weights, report.step)}</p>}
      {results?.problem && (
        <p role="alert" className="fork-fail">
          The worker could not fork: {results.problem}.
        </p>
      )}
      <div className="fork-columns">
        {haveDistribution && results?.distribution ? (
          <NextTokenList distribution={results.distribution.distribution} sampled={text[position]} recordedEntropy={entropy[position]} />
        ) : (
          <section className="fork-distribution" aria-label="Next-token probabilities">
            <h4>Next-token probabilities</h4>
            <p className="muted">
              {unavailable ? `Not available. Entropy when sampled: ${entropy[position].toFixed(2)} nats.` : 'Asking the worker…'}
            </p>
          </section>
        )}
        <div className="fork-actions">
          <SampleCount label="Continuations" ariaLabel="Continuations to sample" value={samples} onChange={fork.setSamples} />
          <label>
            Seed{' '}
            <input type="number" aria-label="Fork seed" min={0} value={seed} onChange={(event) => fork.setSeed(Number.isInteger(event.target.valueAsNumber) ? event.target.valueAsNumber : seed)} />
          </label>
          <button type="button" disabled={unavailable !== null || resampling || scanning} onClick={() => fork.resample(target, position)}>
            {resampling ? 'Resampling…' : 'Resample from here'}
          </button>
          <SampleCount label="Per token" ariaLabel="Continuations per scanned token" value={scanSamples} onChange={fork.setScanSamples} />
          {scanning ? (
            <button type="button" onClick={() => fork.cancelScan(target)}>
              Cancel scan
            </button>
          ) : (
            <button type="button" disabled={unavailable !== null || resampling} onClick={() => fork.scan(target, scanPositions(kind, postTool))}>
              Scan this trajectory
            </button>
          )}
          {scan && (
            <span className="fork-progress">
              <progress aria-label="Scan progress" max={scan.of} value={scan.points.length} /> {scan.points.length} of {scan.of} tokens
              {scan.cancelled ? ', cancelled' : ''}
              {scan.seconds !== null ? ` in ${scan.seconds.toFixed(1)} s (${(scan.seconds / Math.max(1, scan.points.length)).toFixed(2)} s a token)` : ''}
            </span>
          )}
        </div>
      </div>
      {scan && scan.points.length > 0 && <ScanChart points={scan.points} texts={text} postTool={postTool} />}
      {continuations && (
        <ContinuationsList continuations={continuations.continuations} reward={trajectory.reward} seconds={continuations.seconds} original={text[position]} />
      )}
    </section>
  );
}

/** A count of continuations, 1 to MAX_FORK_SAMPLES; a value out of range is clamped, a non-number ignored. */
function SampleCount({ label, ariaLabel, value, onChange }: { label: string; ariaLabel: string; value: number; onChange: (count: number) => void }): ReactElement {
  return (
    <label>
      {label}{' '}
      <input type="number" aria-label={ariaLabel} min={1} max={MAX_FORK_SAMPLES} value={value} onChange={(event) => onChange(clampSamples(event.target.valueAsNumber, value))} />
    </label>
  );
}

function clampSamples(value: number, previous: number): number {
  return Number.isInteger(value) ? Math.min(MAX_FORK_SAMPLES, Math.max(1, value)) : previous;
}

/** The Continuations region with its cards. */
export function ContinuationsList({ continuations, reward, seconds, original }: { continuations: Continuation[]; reward: number; seconds: number | null; original: string }): ReactElement {
  const ok = reward > 0;
  return (
    <section aria-label="Continuations" className="fork-continuations">
      <h4>Continuations</h4>
      <p className="fork-summary">
        <strong>{passRateWords(continuations)}</strong>
        <span>
          this trajectory: reward {reward} {ok ? '✓' : '✗'}
        </span>
        {seconds !== null && <span className="muted">sampled in {seconds.toFixed(2)} s</span>}
      </p>
      {continuations.map((continuation, i) => (
        <ContinuationCard key={i} continuation={continuation} number={i + 1} original={original} />
      ))}
    </section>
  );
}
