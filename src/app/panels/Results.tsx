// Experiment results on the page: pick or drop a results folder written by `npm run experiment`
// or `npm run sweep` (several at once, e.g. results/) and see, per experiment, the table of
// accuracies with intervals and paired differences, the learning curves with confidence bands,
// the end-of-training bars and a sweep's curve: the same summary and plots the command writes.

import { useState, type DragEvent, type ReactElement } from 'react';
import { loadExperiments, type LoadedExperiment, type PickedFile } from '../../experiment/folder';
import { ciText, differenceText, summaryPlots } from '../../experiment/report';

/** Files of a drop, folders walked (the DataTransfer entries API), with their relative paths. */
async function droppedFiles(transfer: DataTransfer): Promise<{ files: PickedFile[]; sizes: Map<string, number> }> {
  const files: PickedFile[] = [];
  const sizes = new Map<string, number>();
  const add = (file: File, path: string) => {
    files.push({ path, text: () => file.text() });
    sizes.set(path, file.size);
  };
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      add(file, `${prefix}${entry.name}`);
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries returns the folder in batches until an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  const entries = [...transfer.items].map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length > 0) {
    for (const entry of entries) await walk(entry, '');
  } else {
    for (const file of transfer.files) add(file, file.name);
  }
  return { files, sizes };
}

/** Files from the folder picker: their paths start with the picked folder's name. */
export function pickedFiles(list: FileList | File[]): { files: PickedFile[]; sizes: Map<string, number> } {
  const files = [...list].map((file) => ({ path: file.webkitRelativePath || file.name, text: () => file.text(), size: file.size }));
  return { files, sizes: new Map(files.map((f) => [f.path, f.size])) };
}

function svgUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
}

function ExperimentView({ experiment }: { experiment: LoadedExperiment }): ReactElement {
  const { summary } = experiment;
  const k = summary.samples;
  const plots = [...summaryPlots(summary)];
  return (
    <section aria-label={`Results: ${experiment.folder}`} className="results-experiment">
      <h3>
        {experiment.folder}: {summary.kind} on {summary.condition} ({summary.scale}, {summary.steps} steps, {summary.evalPrompts} held-out prompts x {k})
      </h3>
      <table className="results-table">
        <thead>
          <tr>
            <th scope="col">variant</th>
            <th scope="col">runs</th>
            <th scope="col">final accuracy (mean@{k})</th>
            <th scope="col">final pass@{k}</th>
            <th scope="col">averaged over evaluations</th>
            <th scope="col">Δ final vs {summary.baseline} (points)</th>
            <th scope="col">post-tool entropy</th>
          </tr>
        </thead>
        <tbody>
          {summary.variants.map((v) => (
            <tr key={v.variant}>
              <th scope="row">{v.variant}</th>
              <td>{v.runs}</td>
              <td>{ciText(v.finalAccuracy)}</td>
              <td>{ciText(v.finalPassAtK)}</td>
              <td>{ciText(v.meanAccuracy)}</td>
              <td>{v.variant === summary.baseline ? 'baseline' : differenceText(v.vsBaseline?.finalAccuracy)}</td>
              <td>{ciText(v.postToolEntropy, 2)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="results-plots">
        {plots.map(([name, svg]) => (
          <img key={name} src={svgUrl(svg)} alt={`${name.replace('.svg', '')} plot of ${experiment.folder}`} width={480} />
        ))}
      </div>
      {summary.missing.length > 0 && (
        <p role="note">
          Not included ({summary.missing.length} runs without a finished file): {summary.missing.map((m) => `${m.id} (${m.reason})`).join(', ')}
        </p>
      )}
    </section>
  );
}

export function Results(): ReactElement {
  const [experiments, setExperiments] = useState<LoadedExperiment[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const open = async (picked: Promise<{ files: PickedFile[]; sizes: Map<string, number> }>) => {
    setBusy(true);
    setError(null);
    try {
      const { files, sizes } = await picked;
      setExperiments(await loadExperiments(files, sizes));
    } catch (reason) {
      setError((reason as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    void open(droppedFiles(event.dataTransfer));
  };
  return (
    <section className="panel results" aria-labelledby="results-heading" onDragOver={(event) => event.preventDefault()} onDrop={onDrop}>
      <h2 id="results-heading">Experiment results</h2>
      <p className="muted">
        Open a folder written by <code>npm run experiment</code> or <code>npm run sweep</code> (or a folder of them), or drop it here.
      </p>
      <label>
        Open a results folder{' '}
        <input
          type="file"
          multiple
          {...{ webkitdirectory: '' }}
          onChange={(event) => event.target.files && void open(Promise.resolve(pickedFiles(event.target.files)))}
        />
      </label>
      {busy && <p aria-live="polite">Reading the run files…</p>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {experiments.map((experiment) => (
        <ExperimentView key={experiment.folder} experiment={experiment} />
      ))}
    </section>
  );
}
