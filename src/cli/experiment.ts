// npm run experiment -- --presets grpo,tao-rl --seeds 6 --steps 40 --scale tiny [--task NAME]
//   [--flaky P] [--backend wasm|cpu|webgpu] [--jobs 2] --out results/NAME
// Every preset for every seed from the same warm-start checkpoint, seeds shared across presets
// (paired comparison), in parallel worker threads; resumable; writes run files, summary.json,
// summary.md and SVG plots into the results folder.

import { PRESET_NAMES } from '../core/config';
import { planExperiment } from '../experiment/plan';
import { runMain, UsageError } from './common';
import { COMMON_FLAGS, COMMON_USAGE, commonPlanOptions, parseCommand, runnerOptions, runPlan, type CommonValues } from './experimentRunner';

const USAGE = `usage: npm run experiment -- [--presets LIST] [--seeds N] [--steps N] [--scale NAME] [--task NAME] [--flaky P]
                             [--backend NAME] [--jobs N] --out DIR
Every preset for every seed from the same warm-start checkpoint, seeds shared across presets (a
paired comparison), in worker threads; resumable with the same command.

  --presets LIST       presets to compare (default ${PRESET_NAMES.join(',')}); the baseline
                       of paired differences is grpo when listed, else the first
${COMMON_USAGE}`;

runMain(async () => {
  const values = parseCommand({ ...COMMON_FLAGS, presets: { type: 'string', default: PRESET_NAMES.join(',') } }, USAGE);
  const presets = values.presets!.split(',').map((p) => p.trim()).filter(Boolean);
  const unknown = presets.filter((p) => !(PRESET_NAMES as readonly string[]).includes(p));
  if (unknown.length > 0 || presets.length === 0) throw new UsageError(`--presets: "${unknown.join(',') || values.presets}" is not a list of ${PRESET_NAMES.join(', ')}`);
  const runner = runnerOptions(values as CommonValues, `npm run experiment -- ${process.argv.slice(2).join(' ')}`);
  let plan;
  try {
    plan = planExperiment({ kind: 'experiment', presets, ...commonPlanOptions(values as CommonValues) });
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message);
  }
  const summary = await runPlan(plan, runner);
  if (summary.missing.length > 0) {
    throw new Error(`${summary.missing.length} of ${plan.runs.length} runs did not finish (listed in summary.md); run the same command again to retry them`);
  }
});
