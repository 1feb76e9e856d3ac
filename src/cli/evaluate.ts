// npm run evaluate -- [--scale tiny | --checkpoint STEM] [--prompts 256] [--samples 8] [--flaky P] [--seed N] [--backend B]
// Held-out evaluation of a checkpoint: sampled accuracy (mean@k at temperature 1), pass@k,
// greedy accuracy, tool-call and call-failure rates, mixed groups.

import { resolveConfig } from '../core/config';
import { evaluateHeldOut } from '../core/evaluate';
import { bundledCheckpoint, loadPolicy, parseCommandArgs, runMain, startBackend, UsageError } from './common';
import { evaluationLine } from './trainRun';

const USAGE = `usage: npm run evaluate -- [--scale tiny|small|base | --checkpoint STEM] [--task NAME] [--prompts N] [--samples N]
                           [--flaky P] [--seed N] [--backend NAME]
Held-out evaluation of a checkpoint: sampled accuracy (mean@k at temperature 1), pass@k, greedy
accuracy, tool-call and call-failure rates, mixed groups.

  --scale NAME         evaluate the bundled checkpoint of this scale (default tiny)
  --checkpoint STEM    evaluate STEM.json and STEM.bin instead
  --task NAME          task family of the held-out prompts (default arithmetic)
  --prompts N          held-out prompts (default 256)
  --samples N          samples per prompt, the k of mean@k and pass@k (default 8)
  --flaky P            probability that a tool call times out, the environment's fault (default 0)
  --seed N             sampling seed (default 1)
  --backend NAME       cpu, wasm or webgpu (default wasm)
  -h, --help           this text`;

runMain(async () => {
  const values = parseCommandArgs(
    {
      scale: { type: 'string', default: 'tiny' },
      checkpoint: { type: 'string' },
      task: { type: 'string', default: 'arithmetic' },
      prompts: { type: 'string', default: '256' },
      samples: { type: 'string', default: '8' },
      flaky: { type: 'string', default: '0' },
      seed: { type: 'string', default: '1' },
      backend: { type: 'string' },
    },
    USAGE,
  );
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
