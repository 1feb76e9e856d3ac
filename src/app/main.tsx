import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { isBackendName } from '../core/backendNames';
import { CHARTS_PARAM, chartsFromParam, withChartsParam } from './chartChoice';
import { openOnFirstVisit } from './panels/Guide';
import { followTheme } from './theme';
import { LinkNotice } from './panels/LinkNotice';
import { useWorkbench } from './store';
import { configFromSearch, configToSearch, hasConfigParams } from './urlConfig';
import { connectWorker } from './workerClient';
import { liveDifference, runToReopen, startPersistence, wasReloaded } from './persistence';
import { RunsDb, type SavedRun } from './runsDb';
import { useSavedRuns } from './savedRuns';

// `?backend=webgpu|webgl|wasm|cpu` picks the backend, even a slow software one (default 'auto': the
// fastest this machine really has, worker/backendChoice.ts).
const requestedBackend = new URLSearchParams(window.location.search).get('backend');
if (requestedBackend !== null && isBackendName(requestedBackend)) useWorkbench.setState({ backendChoice: requestedBackend });

/** The address with `search` in place of its query, hash and history entry kept. */
function showSearch(search: string): void {
  if (search === window.location.search) return;
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${search}${window.location.hash}`);
}

// A link carries the config (urlConfig.ts). It goes into the store before the worker connects,
// so the worker's first 'init' (sent from the draft) already trains the linked setup.
// The charts a link adds below the curves (chartChoice.ts) go in first, so the address keeps them.
const linkedCharts = chartsFromParam(new URLSearchParams(window.location.search).get(CHARTS_PARAM));
if (linkedCharts.charts.length > 0) useWorkbench.setState({ charts: linkedCharts.charts });
let linkProblems: string[] = linkedCharts.problems;
const linked = hasConfigParams(window.location.search) ? configFromSearch(window.location.search).config : null;
if (linked) {
  const { config, problems } = configFromSearch(window.location.search);
  linkProblems = [...problems, ...linkProblems];
  useWorkbench.setState({ config, draft: config });
  showSearch(withChartsParam(configToSearch(config, requestedBackend), linkedCharts.charts)); // the fields as used, defaults in place of refused values
}

// Runs are saved in the browser as they go (IndexedDB). A reload reopens the run its tab showed;
// a new tab reopens the run open last, unless its address asks for another setup (persistence.ts:
// runToReopen). A reopened run resumes from its saved weights; then training runs in a worker, and
// the page only renders what the store holds.
async function connect(): Promise<void> {
  let db: RunsDb | null = null;
  let restore: SavedRun | undefined;
  const reloaded = wasReloaded();
  try {
    db = await RunsDb.open();
    await db.purgeDeleted();
    restore = await runToReopen(db, linked, reloaded);
  } catch (error) {
    useSavedRuns.getState().say(`Runs cannot be saved in this browser: ${(error as Error).message}`);
  }
  connectWorker(restore);
  // A live change made just before the reload is in the address even where storage missed it.
  const pending = restore && reloaded && linked ? liveDifference(restore.meta.config, linked) : null;
  if (pending) useWorkbench.getState().editConfig(pending);
  // The reopened run brings its own charts; those the address names win.
  if (restore && linkedCharts.charts.length > 0) useWorkbench.setState({ charts: linkedCharts.charts });
  if (db) {
    const saved = useSavedRuns.getState();
    saved.attach(db);
    startPersistence(db, saved.say, () => void saved.refresh());
  }
}
void connect();

// From here on the address follows the run's config (a reset with a new draft, a live change),
// so it is always a link to what is shown.
useWorkbench.subscribe((state, previous) => {
  if (state.config !== previous.config || state.charts !== previous.charts) {
    showSearch(withChartsParam(configToSearch(state.config, requestedBackend), state.charts));
  }
});

openOnFirstVisit();
followTheme();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LinkNotice problems={linkProblems} />
    <App />
  </StrictMode>,
);
