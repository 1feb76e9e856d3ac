// The runs saved in this browser: open one (it resumes from its saved weights), rename, delete
// with undo, duplicate with changes, export (JSON with weights, rollouts as the command line's
// JSONL, metrics.csv, or the settings as files verl or TRL read), import run files or a verl
// rollout dump, and tick two or more to compare their curves and settings.

import { useState, type ReactElement } from 'react';
import { useSavedRuns } from '../savedRuns';
import { useWorkbench } from '../store';
import type { Engine } from '../../export';
import type { RunMeta } from '../runsDb';
import { Compare } from './Compare';

const MEDIA_TYPES: [RegExp, string][] = [
  [/\.json$/, 'application/json'],
  [/\.jsonl$/, 'application/x-ndjson'],
  [/\.csv$/, 'text/csv'],
];

function download(fileName: string, text: string): void {
  const type = MEDIA_TYPES.find(([ending]) => ending.test(fileName))?.[1] ?? 'text/plain';
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

function RunRow({ run, current }: { run: RunMeta; current: boolean }): ReactElement {
  const { open, rename, remove, duplicate, exportRun, exportToEngine, togglePick } = useSavedRuns.getState();
  const picked = useSavedRuns((state) => state.picked.includes(run.id));
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(run.name);
  const saveAs = async (what: 'json' | 'jsonl' | 'csv') => {
    const file = await exportRun(run.id, what);
    if (file) download(file.fileName, file.text);
  };
  const exportTo = async (engine: Engine) => {
    const exported = await exportToEngine(run.id, engine);
    for (const file of exported?.files ?? []) download(file.fileName, file.text);
  };
  return (
    <li aria-label={`Run ${run.name}${current ? ' (shown)' : ''}`} aria-current={current ? 'true' : undefined} className="run-row">
      <input type="checkbox" checked={picked} onChange={() => togglePick(run.id)} aria-label={`Compare ${run.name}`} />
      {editing ? (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            setEditing(false);
            void rename(run.id, name);
          }}
        >
          <input aria-label="Run name" value={name} onChange={(event) => setName(event.target.value)} autoFocus />
          <button type="submit">Save name</button>
        </form>
      ) : (
        <strong>{run.name}</strong>
      )}
      <span className="muted">
        {run.source === 'import' ? 'imported · ' : ''}
        {run.lastStep} {run.lastStep === 1 ? 'step' : 'steps'}{run.weightsStep > 0 ? ` · weights of step ${run.weightsStep}` : ''} · {when(run.updated)}
      </span>
      <span className="run-actions">
        {!current && (
          <button type="button" onClick={() => void open(run.id)}>
            Open
          </button>
        )}
        <button type="button" onClick={() => setEditing(true)} aria-label={`Rename ${run.name}`}>
          Rename
        </button>
        <button type="button" onClick={() => void duplicate(run.id)} aria-label={`Duplicate ${run.name} with changes`}>
          Duplicate
        </button>
        <button type="button" onClick={() => void saveAs('json')} aria-label={`Export ${run.name} as JSON`}>
          Export
        </button>
        <button type="button" onClick={() => void saveAs('jsonl')} aria-label={`Export the rollouts of ${run.name} as JSONL`}>
          JSONL
        </button>
        <button type="button" onClick={() => void saveAs('csv')} aria-label={`Export the metrics of ${run.name} as metrics.csv`}>
          CSV
        </button>
        <button type="button" onClick={() => void exportTo('verl')} aria-label={`Export the settings of ${run.name} to verl`} title="overrides.txt and run_verl.sh for the TAO-RL recipe">
          Export to verl
        </button>
        <button type="button" onClick={() => void exportTo('trl')} aria-label={`Export the settings of ${run.name} to TRL`} title="grpo_config.json and train_trl.py for TRL's GRPOTrainer">
          Export to TRL
        </button>
        {!current && (
          <button type="button" onClick={() => void remove(run.id)} aria-label={`Delete ${run.name}`}>
            Delete
          </button>
        )}
      </span>
    </li>
  );
}

export function Runs(): ReactElement {
  const runs = useSavedRuns((state) => state.runs);
  const saving = useSavedRuns((state) => state.db !== null);
  const notice = useSavedRuns((state) => state.notice);
  const undoable = useSavedRuns((state) => state.undoable);
  const picked = useSavedRuns((state) => state.picked);
  const compared = useSavedRuns((state) => state.compared);
  const currentId = useWorkbench((state) => state.runId);
  const { importFiles, undo, compare, say } = useSavedRuns.getState();
  return (
    <section className="panel runs" aria-labelledby="runs-heading">
      <h2 id="runs-heading">Runs</h2>
      {!saving && <p className="muted">Runs are not saved: this browser gives the page no IndexedDB storage.</p>}
      {notice && (
        <p className="runs-notice" role="note">
          {notice}{' '}
          <button type="button" onClick={() => say(null)}>
            OK
          </button>
        </p>
      )}
      {undoable && (
        <p role="note">
          Deleted “{undoable.name}”.{' '}
          <button type="button" onClick={() => void undo()}>
            Undo
          </button>
        </p>
      )}
      <ul className="run-list" aria-label="Saved runs">
        {runs.map((run) => (
          <RunRow key={`${run.id}:${run.name}`} run={run} current={run.id === currentId} />
        ))}
      </ul>
      <p className="run-tools">
        <label>
          Import runs{' '}
          <input
            type="file"
            multiple
            accept=".json,.jsonl,application/json"
            onChange={(event) => {
              const files = [...(event.target.files ?? [])];
              event.target.value = '';
              void importFiles(files);
            }}
          />
        </label>{' '}
        <label title="A verl trainer.rollout_data_dir folder: its {step}.jsonl files open as one run, view-only">
          Import a verl rollout folder{' '}
          <input
            type="file"
            multiple
            {...{ webkitdirectory: '' }}
            onChange={(event) => {
              const files = [...(event.target.files ?? [])].filter((file) => file.name.endsWith('.jsonl'));
              event.target.value = '';
              void importFiles(files);
            }}
          />
        </label>{' '}
        <button type="button" disabled={picked.length < 2} onClick={() => void compare()}>
          Compare {picked.length} runs
        </button>
      </p>
      {compared.length > 0 && <Compare runs={compared} />}
    </section>
  );
}
