// Connects the page's store to the training worker: commands from the store go to the worker,
// the worker's messages go into the store. The page thread never runs tfjs.

import type { FromWorker, ToWorker } from '../worker/protocol';
import { useWorkbench } from './store';

/** Starts the training worker, wires it to the store and loads the draft config. Returns a disconnect. */
export function connectWorker(): () => void {
  const receive = (message: FromWorker) => useWorkbench.getState().receive(message);
  const crash = (detail: string) => {
    const reports = useWorkbench.getState().reports;
    const lastGoodStep = reports.length > 0 ? reports[reports.length - 1].step : 0;
    receive({ type: 'failure', kind: 'crash', message: `The training worker crashed: ${detail}.`, lastGoodStep });
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
      // The weights went with the old worker: only a fresh run (reset, i.e. 'init') can continue.
      if (command.type !== 'init') {
        crash('it is no longer running and the weights it held are lost; reset to start a new run');
        return;
      }
      worker = spawn();
    }
    worker.postMessage(command);
  };

  worker = spawn();
  useWorkbench.setState({ send });
  useWorkbench.getState().reset(); // 'init' with the draft config and backend choice

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
