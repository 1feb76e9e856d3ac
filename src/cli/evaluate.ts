// npm run evaluate -- [--scale tiny | --checkpoint STEM] [--prompts 256] [--samples 8] [--flaky P] [--seed N] [--backend B]
// Held-out evaluation of a checkpoint: sampled accuracy (mean@k at temperature 1), pass@k,
// greedy accuracy, tool-call and call-failure rates, mixed groups.

import { parseArgs } from 'node:util';
import { resolveConfig } from '../core/config';
import { evaluateHeldOut } from '../core/evaluate';
import { bundledCheckpoint, loadPolicy, runMain, startBackend, UsageError } from './common';
import { evaluationLine } from './trainRun';

runMain(async () => {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: 'tiny' },
      checkpoint: { type: 'string' },
      task: { type: 'string', default: 'arithmetic' },
      prompts: { type: 'string', default: '256' },
      samples: { type: 'string', default: '8' },
      flaky: { type: 'string', default: '0' },
      seed: { type: 'string', default: '1' },
      backend: { type: 'string' },
    },
  });
  let config;
  try {
    config = resolveConfig({
      scale: values.scale,
      task: values.task,
      seed: Number(values.seed),
      evalPrompts: Number(values.prompts),
      evalSamples: Number(values.samples),
      flakyProbability: Number(values.flaky),
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const backend = await startBackend(values.backend);
  const stem = values.checkpoint ?? bundledCheckpoint(config.scale, config.task);
  const { policy } = loadPolicy(stem);
  console.log(`evaluating ${stem} on ${backend}`);
  const evaluation = await evaluateHeldOut(policy, config, true);
  console.log(evaluationLine(0, evaluation));
  console.log(
    `mixed groups of ${evaluation.samples}: ${evaluation.mixedGroups.toFixed(3)}, all calls failed: ${evaluation.allCallsFailedRate.toFixed(3)}, ` +
      `by kind: ${Object.entries(evaluation.byKind).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')}`,
  );
});
