// One worker thread of `npm run experiment` / `npm run sweep`: trains the runs it is sent, one at
// a time, each from the warm-start checkpoint, and writes each run's JSONL (the format of
// `npm run train`) to <id>.jsonl.part, renamed to <id>.jsonl once the run has finished.

import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { evaluateHeldOut } from '../core/evaluate';
import { disposePolicy } from '../core/model/transformer';
import { Trainer } from '../core/trainer';
import type { RunSpec } from '../experiment/plan';
import { loadPolicy, startBackend, tf } from './common';
import { jsonLine } from './jsonl';

/** Which steps keep their full rollouts in the run file (every step's metrics are always kept). */
export type RolloutsKept = 'all' | 'last' | 'none';

export type ToRunner =
  | { type: 'ready'; backend: string }
  | { type: 'progress'; id: string; step: number }
  | { type: 'done'; id: string; wallSeconds: number }
  | { type: 'failed'; id: string; error: string };

export type ToWorker = {
  type: 'run';
  spec: RunSpec;
  file: string;
  rollouts: RolloutsKept;
  /** Held-out prompts of the run's last evaluation (its config's evalPrompts for the others). */
  finalEvalPrompts: number;
};

async function train(message: ToWorker, backend: string): Promise<number> {
  const { spec, file, rollouts, finalEvalPrompts } = message;
  const { checkpoint } = spec;
  const started = performance.now();
  const partial = `${file}.part`;
  const out = fs.openSync(partial, 'w');
  const write = (record: object) => fs.writeSync(out, jsonLine(record));
  const { policy } = loadPolicy(checkpoint);
  const { config } = spec;
  write({ type: 'run', id: spec.id, condition: spec.condition, variant: spec.variant, config, steps: spec.steps, backend, checkpoint, started: new Date().toISOString() });
  let trajectories = 0; // generated so far: what a compute-matched comparison plots against
  const evaluate = async (step: number) => {
    const evalPrompts = step === spec.steps ? finalEvalPrompts : config.evalPrompts;
    write({ type: 'evaluation', step, trajectories, ...(await evaluateHeldOut(policy, { ...config, evalPrompts }, false)) });
  };
  await evaluate(0);
  const trainer = new Trainer(config, policy);
  try {
    for (let step = 1; step <= spec.steps; step++) {
      const report = await trainer.runStep();
      trajectories += report.trajectories.length;
      const keep = rollouts === 'all' || (rollouts === 'last' && step === spec.steps);
      write({ type: 'step', ...report, trajectories: keep ? report.trajectories : [] });
      if ((config.evalEvery > 0 && step % config.evalEvery === 0) || step === spec.steps) await evaluate(step);
      parentPort!.postMessage({ type: 'progress', id: spec.id, step } satisfies ToRunner);
    }
  } finally {
    trainer.dispose();
    disposePolicy(policy);
  }
  const wallSeconds = (performance.now() - started) / 1000;
  write({ type: 'end', wallSeconds, tensors: tf.memory().numTensors });
  fs.closeSync(out);
  fs.renameSync(partial, file);
  return wallSeconds;
}

async function main(): Promise<void> {
  const backend = await startBackend(process.env.TAO_EXPERIMENT_BACKEND);
  parentPort!.postMessage({ type: 'ready', backend } satisfies ToRunner);
  // Runs arrive one at a time: the runner sends the next after this one's 'done' or 'failed'.
  parentPort!.on('message', (message: ToWorker) => {
    train(message, backend).then(
      (wallSeconds) => parentPort!.postMessage({ type: 'done', id: message.spec.id, wallSeconds } satisfies ToRunner),
      (error: unknown) => parentPort!.postMessage({ type: 'failed', id: message.spec.id, error: error instanceof Error ? error.message : String(error) } satisfies ToRunner),
    );
  });
}

void main();
