// npm run sweep -- --param bonus.coef --values 0,0.01,0.03,0.1,0.3,1 [--preset tao-rl] --seeds 6
//   --steps 40 --out results/NAME [the experiment's other flags]
// A sensitivity sweep of one setting: the experiment's runner with one variant per value.

import { PRESET_NAMES } from '../core/config';
import { planExperiment } from '../experiment/plan';
import { runMain, UsageError } from './common';
import { COMMON_FLAGS, commonPlanOptions, parseCommand, runnerOptions, runPlan, type CommonValues } from './experimentRunner';

runMain(async () => {
  const values = parseCommand({ ...COMMON_FLAGS, param: { type: 'string' }, values: { type: 'string' }, preset: { type: 'string', default: 'tao-rl' } });
  if (!values.param) throw new UsageError('--param: name the setting to sweep, e.g. --param bonus.coef');
  const swept = (values.values ?? '').split(',').map((v) => v.trim());
  if (swept.length < 2 || swept.some((v) => v === '' || !Number.isFinite(Number(v)))) {
    throw new UsageError(`--values: "${values.values ?? ''}" is not a list of at least two numbers, e.g. 0,0.01,0.1`);
  }
  if (!(PRESET_NAMES as readonly string[]).includes(values.preset!)) throw new UsageError(`--preset: "${values.preset}" is not one of ${PRESET_NAMES.join(', ')}`);
  const runner = runnerOptions(values as CommonValues, `npm run sweep -- ${process.argv.slice(2).join(' ')}`);
  let plan;
  try {
    plan = planExperiment({
      kind: 'sweep',
      sweep: { preset: values.preset!, param: values.param, values: swept.map(Number) },
      ...commonPlanOptions(values as CommonValues),
    });
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message);
  }
  const summary = await runPlan(plan, runner);
  if (summary.missing.length > 0) {
    throw new Error(`${summary.missing.length} of ${plan.runs.length} runs did not finish (listed in summary.md); run the same command again to retry them`);
  }
});
