// Connects the page's store to the training worker: commands from the store go to the worker,
// the worker's messages go into the store. The page thread never runs tfjs.

import type { FromWorker, ToWorker } from '../worker/protocol';
import type { SavedRun } from './runsDb';
import { useWorkbench } from './store';
import { Watchdog, type Silence } from './watchdog';

/** What the watchdog found, as the failure's detail (the header words the rest). */
function silenceDetail(silence: Silence): string {
  const steps = silence.slowestStep === null ? '' : ` (its steps took at most ${silence.slowestStep.toFixed(1)} s)`;
  return `no word from it for ${Math.round(silence.seconds)} s while ${silence.during}${steps}, so it was stopped`;
}

/**
 * Starts the training worker and wires it to the store; then opens `restore` (a run saved in the
 * browser) or starts a new run on the draft config. A watchdog stops a worker that goes quiet
 * (watchdog.ts); Resume then continues in a new worker from the page's copy of the last weights.
 * Returns a disconnect.
 */
export function connectWorker(restore?: SavedRun): () => void {
  const receive = (message: FromWorker) => useWorkbench.getState().receive(message);
  /** The worker is gone: one failure, with the last step whose weights the page holds. */
  const gone = (kind: 'crash' | 'unresponsive', detail: string) => {
    const lastGoodStep = useWorkbench.getState().lastWeights?.step ?? 0;
    receive({ type: 'failure', kind, message: detail, lastGoodStep });
  };

  let worker: Worker | null = null;
  const stop = () => {
    worker?.terminate();
    worker = null;
    watchdog.stop();
  };
  const watchdog = new Watchdog((silence) => {
    stop();
    gone('unresponsive', silenceDetail(silence));
  });

  const spawn = (): Worker => {
    const spawned = new Worker(new URL('../worker/trainingWorker.ts', import.meta.url), { type: 'module' });
    watchdog.restart();
    spawned.onmessage = (event: MessageEvent<FromWorker>) => {
      if (worker !== spawned) return; // a stopped worker's last words
      watchdog.heard(event.data);
      if (event.data.type !== 'heartbeat') receive(event.data);
    };
    // The worker reports its own errors as 'failure' messages; what reaches here it could not
    // report (its script failed to load or start), so it is treated as gone.
    spawned.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      if (worker !== spawned) return;
      stop();
      gone('crash', event.message || "the training worker's script failed to load or start");
    };
    spawned.onmessageerror = () => {
      if (worker !== spawned) return;
      stop();
      gone('crash', 'a message from the training worker could not be read');
    };
    return spawned;
  };

  const send = (command: ToWorker) => {
    if (worker === null) {
      // The old worker's weights went with it; the page keeps those of the last step, so a new
      // worker resumes from them (from the start when no step finished).
      const { config, backendChoice, lastWeights } = useWorkbench.getState();
      if (command.type === 'resume') {
        worker = spawn();
        worker.postMessage({ type: 'init', config, backend: backendChoice, ...(lastWeights ? { resume: lastWeights } : {}) } satisfies ToWorker);
        return;
      }
      if (command.type === 'fork') {
        receive({ type: 'fork', reply: { id: command.request.id, kind: 'failed', message: 'the training worker is not running: resume first' } });
        return;
      }
      // The failure shown already says what to do (Resume or Reset).
      if (command.type !== 'init') return;
      worker = spawn();
    }
    worker.postMessage(command);
  };

  worker = spawn();
  useWorkbench.setState({ send });
  if (restore) useWorkbench.getState().openRun(restore);
  else useWorkbench.getState().reset(); // 'init' with the draft config and backend choice

  return () => {
    stop();
    useWorkbench.setState({
      send: () => {
        throw new Error('no training worker is connected');
      },
    });
  };
}
