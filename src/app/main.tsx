import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { isBackendName } from '../core/backend';
import { useWorkbench } from './store';
import { connectWorker } from './workerClient';

// `?backend=webgpu|webgl|wasm|cpu` picks the backend (default: the best the browser offers).
const requestedBackend = new URLSearchParams(window.location.search).get('backend');
if (requestedBackend !== null && isBackendName(requestedBackend)) useWorkbench.setState({ backendChoice: requestedBackend });

// Training runs in a worker from the start; the page only renders what the store holds.
connectWorker();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
