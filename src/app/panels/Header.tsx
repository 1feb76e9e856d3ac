// The page header: which backend runs (and the WebGPU adapter), which kernels sample (fused WGSL
// or tfjs's own), in plain words why it runs there when that is not simply the first choice, the
// backend switcher, the step counter, the worker's status, the last step's speed and GPU
// dispatches per token, and a failure with the way back.

import { BACKEND_LABELS } from '../../core/backendNames';
import type { BackendChoice, FailureKind, WorkerStatus } from '../../worker/protocol';
import { GuideButton } from './Guide';
import { CopyLinkButton } from './LinkNotice';
import { useWorkbench } from '../store';
import { ThemeToggle } from '../theme';
import './panels.css';

const BACKEND_OPTIONS: { value: BackendChoice; label: string }[] = [
  { value: 'auto', label: 'auto (fastest available)' },
  { value: 'webgpu', label: 'WebGPU' },
  { value: 'webgl', label: 'WebGL' },
  { value: 'cpu', label: 'CPU' },
  { value: 'wasm', label: 'WASM' },
];

const STATUS_WORDS: Record<WorkerStatus, string> = {
  loading: 'loading',
  ready: 'ready',
  running: 'training',
  paused: 'paused',
  error: 'error',
};

const FAILURE_WORDS: Record<FailureKind, string> = {
  crash: 'Training crashed',
  device_lost: 'The GPU device was lost',
  nan: 'Training stopped',
  load: 'Could not load the run',
  unresponsive: 'The training worker stopped responding',
};

/** Where Resume continues, where it is not the same worker on the same backend. */
const RESUME_WHERE: Partial<Record<FailureKind, string>> = {
  device_lost: ' on a restarted backend',
  unresponsive: ' in a new worker',
};

/**
 * A failure said once: what stopped (the kind), why (the worker's or the watchdog's detail), and
 * what the button does. The detail carries neither of the other two.
 */
export function failureSentence(failure: { kind: FailureKind; message: string; lastGoodStep: number }): string {
  const detail = failure.message.replace(/[.\s]+$/, '');
  if (failure.kind === 'load') return `${FAILURE_WORDS.load}: ${detail}. Reset starts a new run with the settings in the controls.`;
  const where = RESUME_WHERE[failure.kind] ?? '';
  const next =
    failure.lastGoodStep > 0
      ? `Resume continues from the weights of step ${failure.lastGoodStep}${where}.`
      : `Resume starts again from the starting weights${where}.`;
  return `${FAILURE_WORDS[failure.kind]}: ${detail}. ${next}`;
}

/** Seconds with precision that matches their noise: 0.42 s, 1.8 s, 12 s. */
export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${seconds.toFixed(2)} s`;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  return `${Math.round(seconds)} s`;
}

/** A rate per second, thousands as k: 840, 6.1k, 23k. */
export function formatRate(perSecond: number): string {
  if (perSecond < 1000) return `${Math.round(perSecond)}`;
  if (perSecond < 10_000) return `${(perSecond / 1000).toFixed(1)}k`;
  return `${Math.round(perSecond / 1000)}k`;
}

export function Header() {
  const backend = useWorkbench((state) => state.backend);
  const kernels = useWorkbench((state) => state.kernels);
  const backendChoice = useWorkbench((state) => state.backendChoice);
  const status = useWorkbench((state) => state.status);
  const statusMessage = useWorkbench((state) => state.statusMessage);
  const failure = useWorkbench((state) => state.failure);
  const last = useWorkbench((state) => state.reports.at(-1));
  const setBackendChoice = useWorkbench((state) => state.setBackendChoice);
  const reset = useWorkbench((state) => state.reset);
  const resume = useWorkbench((state) => state.resume);

  const stepSeconds = last?.metrics['time/step_s'];
  const tokensPerSecond = last?.metrics['perf/sampled_tokens_per_s'];
  const dispatchesPerToken = last?.metrics['perf/dispatches_per_sampled_token'];
  const readbacksPerRollout = last?.metrics['perf/readbacks_per_rollout'];
  const toolRoundsPerRollout = last?.metrics['perf/tool_rounds_per_rollout'];

  return (
    <header className="wb-header">
      <div className="wb-header-row">
        <h1 className="wb-title">TAO-RL Workbench</h1>
        <GuideButton />
        <span className="wb-backend" title="Backend the training worker runs on">
          {backend ? [BACKEND_LABELS[backend.name], backend.adapter].filter(Boolean).join(' · ') : 'starting a backend…'}
        </span>
        {kernels && (
          <span className={`wb-kernels wb-kernels-${kernels.path}`} title={kernels.reason}>
            {kernels.path === 'fused' ? 'fused WGSL kernels' : 'tfjs kernels'}
          </span>
        )}
        <label className="wb-switch">
          Backend{' '}
          <select
            value={backendChoice}
            onChange={(event) => {
              setBackendChoice(event.target.value as BackendChoice);
              reset();
            }}
          >
            {BACKEND_OPTIONS.map((option) => (
              <option key={option.value} value={option.value}>
                {option.label}
              </option>
            ))}
          </select>
        </label>
        <CopyLinkButton />
        <ThemeToggle />
        <span className="wb-stat">
          <span className="wb-stat-name">Step</span>{' '}
          <span className="wb-stat-value" aria-label="Step">
            {last?.step ?? 0}
          </span>
        </span>
        {stepSeconds !== undefined && (
          <span className="wb-stat" title="Wall time of the last step">
            <span className="wb-stat-value">{formatSeconds(stepSeconds)}</span>/step
          </span>
        )}
        {tokensPerSecond !== undefined && (
          <span className="wb-stat" title="Tokens the policy sampled per second of the last step's rollouts">
            <span className="wb-stat-value">{formatRate(tokensPerSecond)}</span> tok/s
          </span>
        )}
        {dispatchesPerToken !== undefined && (
          <span className="wb-stat" title="GPU dispatches of the last step's rollouts per sampled token (a decoding position serves every row of the batch)">
            <span className="wb-stat-value">{dispatchesPerToken.toFixed(1)}</span> dispatches/tok
          </span>
        )}
        {dispatchesPerToken !== undefined && readbacksPerRollout !== undefined && (
          <span
            className="wb-stat"
            title={`GPU-to-CPU reads per rollout of the last step: one per decoding position on tfjs kernels, one per tool round on the fused loop (${(toolRoundsPerRollout ?? 0).toFixed(1)} tool rounds per rollout)`}
          >
            <span className="wb-stat-value">{readbacksPerRollout.toFixed(1)}</span> readbacks/rollout
          </span>
        )}
        <span className={`wb-status wb-status-${status}`}>
          <span className="wb-status-dot" aria-hidden="true" />
          <span role="status">{STATUS_WORDS[status]}</span>
          {statusMessage && status !== 'error' && <span className="wb-status-message">{statusMessage}</span>}
        </span>
      </div>

      {backend?.fallback && (
        <p className="wb-fallback" role="note">
          {backend.fallback}
        </p>
      )}
      {kernels?.warning && (
        <p className="wb-fallback" role="note">
          The fused WebGPU kernels are off: {kernels.warning}. Sampling runs on tfjs's own kernels, slower.
        </p>
      )}

      {status === 'error' && (
        <div className="wb-failure" role="alert">
          <span>{failure ? failureSentence(failure) : `Training stopped: ${statusMessage ?? 'no message from the worker'}`}</span>
          {failure?.kind === 'load' ? (
            <button type="button" onClick={reset}>
              Reset
            </button>
          ) : (
            <button type="button" onClick={resume}>
              Resume
            </button>
          )}
        </div>
      )}
    </header>
  );
}
