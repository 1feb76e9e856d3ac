// Connects the page's store to the training worker: commands from the store go to the worker,
// the worker's messages go into the store. The page thread never runs tfjs.

import type { FromWorker, ToWorker } from '../worker/protocol';
import type { SavedRun } from './runsDb';
import { useWorkbench } from './store';

/**
 * Starts the training worker and wires it to the store; then opens `restore` (a run saved in the
 * browser) or starts a new run on the draft config. Returns a disconnect.
 */
export function connectWorker(restore?: SavedRun): () => void {
  const receive = (message: FromWorker) => useWorkbench.getState().receive(message);
  const crash = (detail: string) => {
    const { lastWeights } = useWorkbench.getState();
    const lastGoodStep = lastWeights?.step ?? 0;
    const kept = lastWeights ? ` The page kept the weights of step ${lastGoodStep}: Resume continues from there in a new worker.` : '';
    receive({ type: 'failure', kind: 'crash', message: `The training worker crashed: ${detail}.${kept}`, lastGoodStep });
  };

  let worker: Worker | null = null;
  const spawn = (): Worker => {
    const spawned = new Worker(new URL('../worker/trainingWorker.ts', import.meta.url), { type: 'module' });
    spawned.onmessage = (event: MessageEvent<FromWorker>) => receive(event.data);
    // The worker reports its own errors as 'failure' messages; what reaches here it could not
    // report (its script failed to load or start), so it is treated as gone.
    spawned.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      if (worker !== spawned) return;
      spawned.terminate();
      worker = null;
      crash(event.message || 'its script failed to load or start');
    };
    spawned.onmessageerror = () => crash('a message from the worker could not be read');
    return spawned;
  };

  const send = (command: ToWorker) => {
    if (worker === null) {
      // The old worker's weights went with it; the page keeps those of the last step, so a new
      // worker can resume from them. Without them only a fresh run ('init') can continue.
      const { config, backendChoice, lastWeights } = useWorkbench.getState();
      if (command.type === 'resume' && lastWeights) {
        worker = spawn();
        worker.postMessage({ type: 'init', config, backend: backendChoice, resume: lastWeights } satisfies ToWorker);
        return;
      }
      if (command.type !== 'init') {
        crash('it is no longer running; reset to start a new run');
        return;
      }
      worker = spawn();
    }
    worker.postMessage(command);
  };

  worker = spawn();
  useWorkbench.setState({ send });
  if (restore) useWorkbench.getState().openRun(restore);
  else useWorkbench.getState().reset(); // 'init' with the draft config and backend choice

  return () => {
    worker?.terminate();
    worker = null;
    useWorkbench.setState({
      send: () => {
        throw new Error('no training worker is connected');
      },
    });
  };
}
