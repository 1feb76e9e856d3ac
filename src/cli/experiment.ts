// npm run experiment -- --presets grpo,tao-rl --seeds 6 --steps 40 --scale tiny [--task NAME]
//   [--flaky P] [--backend wasm|cpu|webgpu] [--jobs 2] --out results/NAME
// Every preset for every seed from the same warm-start checkpoint, seeds shared across presets
// (paired comparison), in parallel worker threads; resumable; writes run files, summary.json,
// summary.md and SVG plots into the results folder.

import { PRESET_NAMES } from '../core/config';
import { planExperiment } from '../experiment/plan';
import { runMain, UsageError } from './common';
import { COMMON_FLAGS, commonPlanOptions, parseCommand, runnerOptions, runPlan, type CommonValues } from './experimentRunner';

runMain(async () => {
  const values = parseCommand({ ...COMMON_FLAGS, presets: { type: 'string', default: PRESET_NAMES.join(',') } });
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
