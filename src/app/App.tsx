// A first page over the engine: loads the bundled tiny policy on the best backend the browser
// offers and runs RL steps on demand, showing each step's metrics and rollouts as text. The
// full workbench (worker, inspector, charts) builds on this.

import { useEffect, useRef, useState } from 'react';
import { isBackendName, useBackend, type BackendName } from '../core/backend';
import { deserializePolicy, type CheckpointManifest } from '../core/checkpoint';
import { resolveConfig } from '../core/config';
import { Trainer, type StepReport } from '../core/trainer';

const BACKEND_ORDER: BackendName[] = ['webgpu', 'webgl', 'cpu'];

/** `?backend=wasm` (or webgpu, webgl, cpu) picks the backend; otherwise the best available. */
function requestedBackends(): BackendName[] {
  const requested = new URLSearchParams(window.location.search).get('backend');
  return isBackendName(requested ?? '') ? [requested as BackendName] : BACKEND_ORDER;
}

async function startBestBackend(): Promise<string> {
  const failures: string[] = [];
  for (const name of requestedBackends()) {
    try {
      const info = await useBackend(name);
      const fallback = failures.length > 0 ? ` (${failures.join('; ')})` : '';
      return `${info.name}${info.adapter ? ` · ${info.adapter}` : ''}${fallback}`;
    } catch (error) {
      failures.push((error as Error).message);
    }
  }
  throw new Error(`no backend could start: ${failures.join('; ')}`);
}

async function loadBundledTrainer(): Promise<Trainer> {
  const base = `${import.meta.env.BASE_URL}models/tiny`;
  const [manifest, weights] = await Promise.all([
    fetch(`${base}.json`).then((r) => (r.ok ? (r.json() as Promise<CheckpointManifest>) : Promise.reject(new Error(`${base}.json: HTTP ${r.status}`)))),
    fetch(`${base}.bin`).then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`${base}.bin: HTTP ${r.status}`)))),
  ]);
  return new Trainer(resolveConfig({ preset: 'tao-rl' }), deserializePolicy(manifest, new Uint8Array(weights)));
}

export function App() {
  const [status, setStatus] = useState('starting…');
  const [backend, setBackend] = useState('');
  const [reports, setReports] = useState<StepReport[]>([]);
  const [busy, setBusy] = useState(true);
  const trainer = useRef<Trainer | null>(null);

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        const label = await startBestBackend();
        if (cancelled) return;
        setBackend(label);
        setStatus('loading the bundled tiny policy…');
        trainer.current = await loadBundledTrainer();
        setStatus('ready');
      } catch (error) {
        setStatus(`error: ${(error as Error).message}`);
      } finally {
        setBusy(false);
      }
    })();
    return () => {
      cancelled = true;
    };
  }, []);

  const step = async () => {
    if (!trainer.current) return;
    setBusy(true);
    setStatus('running one RL step…');
    try {
      const report = await trainer.current.runStep();
      setReports((previous) => [...previous, report]);
      setStatus('ready');
    } catch (error) {
      setStatus(`error: ${(error as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  const last = reports.at(-1);
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', margin: '1rem 2rem' }}>
      <h1>TAO-RL Workbench</h1>
      <p>
        Backend: <strong>{backend || '…'}</strong> · <span role="status">{status}</span>
      </p>
      <button type="button" onClick={step} disabled={busy || !trainer.current}>
        Step
      </button>{' '}
      <span aria-label="Step">{reports.length}</span>
      {last && (
        <section>
          <h2>Step {last.step}</h2>
          <p>
            reward {last.metrics['reward/mean'].toFixed(2)} · kept {(100 * last.metrics['filter/kept_trajectories']).toFixed(0)}% ·
            entropy {last.metrics['entropy/mean'].toFixed(2)} · post-tool entropy {last.metrics['entropy/post_tool_mean'].toFixed(2)} ·
            {' '}{Math.round(last.metrics['perf/sampled_tokens_per_s'])} tok/s
          </p>
          <ol>
            {last.trajectories.slice(0, 16).map((t, i) => (
              <li key={i}>
                <code>{t.tokens.text.join('')}</code> — reward {t.reward}
                {t.reason ? ` — discarded: ${t.reason.replaceAll('_', ' ')}` : ''}
              </li>
            ))}
          </ol>
        </section>
      )}
    </main>
  );
}
