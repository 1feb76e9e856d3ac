// The runs saved in this browser as the runs panel sees them: the list, what to do with one
// (open, rename, delete with undo, duplicate with changes, export as files or to verl and TRL),
// importing run files and verl rollout dumps, and the runs picked for comparison. The saving
// itself is persistence.ts.

import { create } from 'zustand';
import type { CheckpointManifest } from '../core/checkpoint';
import { bundledCheckpointStem, checkpointFiles } from '../core/checkpointFiles';
import { base64FromBytes, bytesFromBase64, exportRunJson, importRun, rolloutsJsonl, type ExportedRun, RUN_FORMAT, RUN_FORMAT_VERSION } from '../runs/format';
import { engineExport, type Engine } from '../export';
import { metricsCsv } from '../runs/metricsCsv';
import type { ComparedRun } from './compare';
import { RunsDb, type RunMeta, type SavedRun } from './runsDb';
import { newRunId, useWorkbench } from './store';
import { importVerlDump, isVerlDumpFile, type PickedFile } from './verlImport';

/** How long a deletion can be undone, in ms. */
export const UNDO_MS = 10_000;

interface SavedRunsState {
  db: RunsDb | null;
  runs: RunMeta[];
  /** One sentence about saving, importing or exporting; null when there is nothing to say. */
  notice: string | null;
  /** A deleted run that can still be brought back. */
  undoable: RunMeta | null;
  /** Runs ticked for comparison, and the loaded comparison. */
  picked: string[];
  compared: ComparedRun[];

  attach: (db: RunsDb) => void;
  refresh: () => Promise<void>;
  say: (notice: string | null) => void;
  open: (id: string) => Promise<void>;
  rename: (id: string, name: string) => Promise<void>;
  remove: (id: string) => Promise<void>;
  undo: () => Promise<void>;
  duplicate: (id: string) => Promise<void>;
  exportRun: (id: string, what: 'json' | 'jsonl' | 'csv', withWeights?: boolean) => Promise<{ fileName: string; text: string } | null>;
  /** The run's settings as files verl or TRL read (src/export/), and what did not carry over. */
  exportToEngine: (id: string, engine: Engine) => Promise<{ files: { fileName: string; text: string }[]; warnings: string[] } | null>;
  /** Run files, and verl rollout dumps (a folder's or picked {step}.jsonl files, read as one run). */
  importFiles: (files: PickedFile[]) => Promise<void>;
  togglePick: (id: string) => void;
  compare: () => Promise<void>;
}

let purgeTimer: ReturnType<typeof setTimeout> | undefined;

/** The manifest of the bundled checkpoint a config starts from (saved weights use its layout). */
async function bundledManifest(meta: RunMeta): Promise<CheckpointManifest> {
  const { scale, task } = meta.config;
  const file = checkpointFiles(bundledCheckpointStem(scale, task)).manifest;
  const response = await fetch(`${import.meta.env.BASE_URL}${file}`);
  if (!response.ok) throw new Error(`${file} could not be fetched (HTTP ${response.status})`);
  return (await response.json()) as CheckpointManifest;
}

function fileStem(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'run';
}

/** An imported run as the browser saves it. */
export function savedFromImport(run: ExportedRun): SavedRun {
  const now = new Date().toISOString();
  const lastStep = run.reports.at(-1)?.step ?? 0;
  return {
    meta: { id: newRunId(), name: run.name, created: run.created || now, updated: now, config: run.config, lastStep, weightsStep: run.weights?.step ?? 0, source: 'import' },
    reports: run.reports,
    evaluations: run.evaluations,
    changes: run.changes,
    weights: run.weights ? { step: run.weights.step, bytes: bytesFromBase64(run.weights.base64) } : null,
  };
}

export function comparedFrom(run: SavedRun): ComparedRun {
  return {
    id: run.meta.id,
    name: run.meta.name,
    config: run.meta.config,
    steps: run.reports.map((report) => ({ step: report.step, metrics: report.metrics })),
    evaluations: run.evaluations,
  };
}

export const useSavedRuns = create<SavedRunsState>()((set, get) => {
  const db = () => {
    const attached = get().db;
    if (!attached) throw new Error('runs are not saved in this browser (IndexedDB is unavailable)');
    return attached;
  };
  /** Runs `action`, turning a failure into the panel's notice. */
  const guarded = async <T>(what: string, action: () => Promise<T>): Promise<T | null> => {
    try {
      return await action();
    } catch (error) {
      set({ notice: `${what} failed: ${(error as Error).message}` });
      return null;
    }
  };
  return {
    db: null,
    runs: [],
    notice: null,
    undoable: null,
    picked: [],
    compared: [],

    attach: (attached) => {
      set({ db: attached });
      void get().refresh();
    },
    refresh: async () => {
      const attached = get().db;
      if (attached) set({ runs: await attached.listRuns() });
    },
    say: (notice) => set({ notice }),

    open: async (id) => {
      await guarded('Opening the run', async () => {
        if (id === useWorkbench.getState().runId) return;
        const run = await db().loadRun(id);
        if (!run) throw new Error('it is no longer saved');
        useWorkbench.getState().openRun(run);
      });
    },

    rename: async (id, name) => {
      const trimmed = name.trim();
      if (!trimmed) return set({ notice: 'A run needs a name.' });
      await guarded('Renaming', async () => {
        if (id === useWorkbench.getState().runId) useWorkbench.getState().renameRun(trimmed);
        else {
          const meta = await db().getRun(id);
          if (meta) await db().putRun({ ...meta, name: trimmed });
        }
        await get().refresh();
      });
    },

    remove: async (id) => {
      if (id === useWorkbench.getState().runId) return set({ notice: 'The run shown cannot be deleted: open or start another run first.' });
      await guarded('Deleting', async () => {
        // Another deletion waiting for its undo becomes final now.
        const pending = get().undoable;
        if (pending) await db().deleteRun(pending.id);
        clearTimeout(purgeTimer);
        await db().markDeleted(id, true);
        const meta = (await db().getRun(id)) ?? null;
        set({ undoable: meta, picked: get().picked.filter((p) => p !== id) });
        purgeTimer = setTimeout(() => {
          void db().deleteRun(id).then(() => set({ undoable: null }));
        }, UNDO_MS);
        await get().refresh();
      });
    },

    undo: async () => {
      const pending = get().undoable;
      if (!pending) return;
      clearTimeout(purgeTimer);
      await guarded('Undoing the deletion', async () => {
        await db().markDeleted(pending.id, false);
        set({ undoable: null });
        await get().refresh();
      });
    },

    duplicate: async (id) => {
      await guarded('Duplicating', async () => {
        const meta = await db().getRun(id);
        if (!meta) throw new Error('it is no longer saved');
        useWorkbench.setState({ draft: meta.config });
        set({ notice: `The settings of "${meta.name}" are in the controls: change what you like, then Apply now (or Reset) starts the duplicate as a new run.` });
      });
    },

    exportRun: async (id, what, withWeights = true) =>
      guarded('Exporting', async () => {
        const run = await db().loadRun(id);
        if (!run) throw new Error('it is no longer saved');
        const exported: ExportedRun = {
          format: RUN_FORMAT,
          version: RUN_FORMAT_VERSION,
          name: run.meta.name,
          created: run.meta.created,
          config: run.meta.config,
          reports: run.reports,
          evaluations: run.evaluations,
          changes: run.changes,
        };
        if (what === 'json' && withWeights && run.weights) {
          exported.weights = { step: run.weights.step, manifest: await bundledManifest(run.meta), base64: base64FromBytes(run.weights.bytes) };
        }
        const stem = fileStem(run.meta.name);
        if (what === 'csv') return { fileName: `${stem}.metrics.csv`, text: metricsCsv(run.reports) };
        return what === 'json'
          ? { fileName: `${stem}.json`, text: exportRunJson(exported) }
          : { fileName: `${stem}.jsonl`, text: rolloutsJsonl(exported) };
      }),

    exportToEngine: async (id, engine) =>
      guarded(`Exporting to ${engine === 'verl' ? 'verl' : 'TRL'}`, async () => {
        const meta = await db().getRun(id);
        if (!meta) throw new Error('it is no longer saved');
        const exported = engineExport(engine, meta.config, meta.name);
        const stem = fileStem(meta.name);
        set({
          notice:
            exported.warnings.length === 0
              ? `Exported "${meta.name}" to ${engine === 'verl' ? 'verl' : 'TRL'}: every setting carried over.`
              : `Exported "${meta.name}" to ${engine === 'verl' ? 'verl' : 'TRL'}; not carried over as they are: ${exported.warnings.map((w) => w.slice(0, w.indexOf(' ('))).join(', ')} (why: in the script's header).`,
        });
        return { files: exported.files.map((file) => ({ fileName: `${stem}-${file.name}`, text: file.text })), warnings: exported.warnings };
      }),

    importFiles: async (files) => {
      // Every file is checked before anything is saved: one bad file changes nothing.
      const runs: SavedRun[] = [];
      const dumpFiles: PickedFile[] = [];
      const runFiles: PickedFile[] = [];
      for (const file of files) (await isVerlDumpFile(file) ? dumpFiles : runFiles).push(file);
      if (dumpFiles.length > 0) {
        try {
          const { run } = await importVerlDump(dumpFiles, (bytes, total) =>
            set({ notice: `Reading the verl rollout dump: ${(bytes / 2 ** 20).toFixed(0)} of ${(total / 2 ** 20).toFixed(0)} MB…` }),
          );
          runs.push(savedFromImport(run));
        } catch (error) {
          set({ notice: `The verl rollout dump was not imported: ${(error as Error).message}` });
          return;
        }
      }
      for (const file of runFiles) {
        try {
          runs.push(savedFromImport(importRun(await file.text(), file.size, file.name)));
        } catch (error) {
          set({ notice: `${file.name} was not imported: ${(error as Error).message}` });
          return;
        }
      }
      await guarded('Importing', async () => {
        for (const run of runs) await db().saveRun(run);
        set({ notice: `Imported ${runs.map((run) => `"${run.meta.name}"`).join(', ')}.` });
        await get().refresh();
      });
    },

    togglePick: (id) => {
      const picked = get().picked;
      set({ picked: picked.includes(id) ? picked.filter((p) => p !== id) : [...picked, id] });
    },

    compare: async () => {
      await guarded('Comparing', async () => {
        const loaded = await Promise.all(get().picked.map((id) => db().loadRun(id)));
        set({ compared: loaded.filter((run): run is SavedRun => run !== undefined).map(comparedFrom) });
      });
    },
  };
});
