import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { isBackendName } from '../core/backend';
import { LinkNotice } from './panels/LinkNotice';
import { useWorkbench } from './store';
import { configFromSearch, configToSearch, hasConfigParams } from './urlConfig';
import { connectWorker } from './workerClient';

// `?backend=webgpu|webgl|wasm|cpu` picks the backend (default: the best the browser offers).
const requestedBackend = new URLSearchParams(window.location.search).get('backend');
if (requestedBackend !== null && isBackendName(requestedBackend)) useWorkbench.setState({ backendChoice: requestedBackend });

/** The address with `search` in place of its query, hash and history entry kept. */
function showSearch(search: string): void {
  if (search === window.location.search) return;
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${search}${window.location.hash}`);
}

// A link carries the config (urlConfig.ts). It goes into the store before the worker connects,
// so the worker's first 'init' (sent from the draft) already trains the linked setup.
let linkProblems: string[] = [];
if (hasConfigParams(window.location.search)) {
  const { config, problems } = configFromSearch(window.location.search);
  linkProblems = problems;
  useWorkbench.setState({ config, draft: config });
  showSearch(configToSearch(config, requestedBackend)); // the fields as used, defaults in place of refused values
}

// Training runs in a worker from the start; the page only renders what the store holds.
connectWorker();

// From here on the address follows the run's config (a reset with a new draft, a live change),
// so it is always a link to what is shown.
useWorkbench.subscribe((state, previous) => {
  if (state.config !== previous.config) showSearch(configToSearch(state.config, requestedBackend));
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LinkNotice problems={linkProblems} />
    <App />
  </StrictMode>,
);
