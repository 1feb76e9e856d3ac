// npm run warmstart -- --scale tiny|small|base --seed N [--steps N] [--task NAME] [--out STEM] [--backend B]
// Supervised warm start on generated demonstrations, then a held-out check of the properties RL
// needs (sampled accuracy .25-.45, greedy > .6, mixed groups of 8 > 80%, failing calls).

import { checkpointFiles } from '../core/checkpointFiles';
import { evaluatePolicy } from '../core/evaluate';
import { MODEL_SCALES, type ModelScale, parameterCount } from '../core/model/config';
import { PRETRAIN_DEFAULTS, pretrain } from '../core/pretrain';
import { evaluationSet, getTask } from '../core/tasks';
import { bundledCheckpoint, formatNumber, parseCommandArgs, runMain, savePolicy, startBackend, UsageError } from './common';

const USAGE = `usage: npm run warmstart -- [--scale tiny|small|base] [--seed N] [--steps N] [--task NAME] [--out STEM] [--backend NAME]
Supervised warm start on generated demonstrations, then a held-out check; writes a checkpoint
(STEM.json and STEM.bin) that RL starts from.

  --scale NAME         model scale: tiny, small or base (default tiny)
  --seed N             seed of the initial weights and the demonstrations (default 1)
  --steps N            optimiser steps (default per scale: ${Object.entries(PRETRAIN_DEFAULTS).map(([s, d]) => `${s} ${d.steps}`).join(', ')})
  --task NAME          task family of the demonstrations (default arithmetic)
  --out STEM           where to write (default: the bundled checkpoint of the scale and task)
  --backend NAME       cpu, wasm or webgpu (default wasm)
  -h, --help           this text`;

runMain(async () => {
  const values = parseCommandArgs(
    {
      scale: { type: 'string', default: 'tiny' },
      seed: { type: 'string', default: '1' },
      steps: { type: 'string' },
      task: { type: 'string', default: 'arithmetic' },
      out: { type: 'string' },
      backend: { type: 'string' },
    },
    USAGE,
  );
  const scale = values.scale as ModelScale;
  if (!(scale in MODEL_SCALES)) throw new UsageError(`--scale: "${values.scale}" is not one of tiny, small, base`);
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed: "${values.seed}" is not an integer >= 0`);
  const defaults = PRETRAIN_DEFAULTS[scale];
  const steps = values.steps === undefined ? defaults.steps : Number(values.steps);
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--steps: "${values.steps}" is not an integer >= 1`);
  const backend = await startBackend(values.backend);
  getTask(values.task!);
  const options = { ...defaults, steps, scale, seed, task: values.task! };
  console.log(`pretraining ${scale} (${parameterCount(MODEL_SCALES[scale])} parameters) on ${backend}: ${steps} steps x ${defaults.batchSize} demonstrations, lr ${defaults.learningRate}, seed ${seed}`);
  const started = performance.now();
  const policy = await pretrain(options, ({ step, loss, learningRate }) => {
    if (step % 25 === 0 || step === steps) {
      const elapsed = (performance.now() - started) / 1000;
      const eta = (elapsed / step) * (steps - step);
      console.log(`step ${step}/${steps}  loss ${loss.toFixed(4)}  lr ${learningRate.toExponential(2)}  ${elapsed.toFixed(0)}s elapsed, ~${eta.toFixed(0)}s left`);
    }
  });
  const trainSeconds = (performance.now() - started) / 1000;
  const items = evaluationSet(getTask(values.task!)).slice(0, 256);
  const evaluation = await evaluatePolicy(policy, items, {
    samples: 8, temperature: 1, greedy: true, seed, tool: 'calculator', maxToolCalls: 5, flakyProbability: 0, coldCalls: getTask(values.task!).coldCalls,
  });
  console.log(
    `held-out (${items.length} prompts x 8 samples): sampled accuracy ${formatNumber(evaluation.sampledAccuracy)}, greedy ${formatNumber(evaluation.greedyAccuracy)}, ` +
      `pass@8 ${formatNumber(evaluation.passAtK)}, mixed groups ${formatNumber(evaluation.mixedGroups)}, call rate ${formatNumber(evaluation.callRate)}, ` +
      `call failure rate ${formatNumber(evaluation.callFailureRate)}, all calls failed ${formatNumber(evaluation.allCallsFailedRate)}`,
  );
  console.log(`by kind: ${Object.entries(evaluation.byKind).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`);
  const stem = values.out ?? bundledCheckpoint(scale, values.task!);
  await savePolicy(stem, policy, { pretrain: options, backend, trainSeconds: Math.round(trainSeconds), evaluation });
  const files = checkpointFiles(stem);
  console.log(`wrote ${files.manifest} and ${files.weights}`);
});
