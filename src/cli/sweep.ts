// npm run sweep -- --param bonus.coef --values 0,0.01,0.03,0.1,0.3,1 [--preset tao-rl] --seeds 6
//   --steps 40 --out results/NAME [the experiment's other flags]
// A sensitivity sweep of one setting: the experiment's runner with one variant per value.

import { PRESET_NAMES } from '../core/config';
import { planExperiment } from '../experiment/plan';
import { runMain, UsageError } from './common';
import { COMMON_FLAGS, COMMON_USAGE, commonPlanOptions, parseCommand, runnerOptions, runPlan, type CommonValues } from './experimentRunner';

const USAGE = `usage: npm run sweep -- --param NAME --values LIST [--preset NAME] [--seeds N] [--steps N] --out DIR [the experiment's flags]
A sensitivity sweep of one setting: one variant per value, every value for every seed from the same
warm-start checkpoint, in worker threads; resumable with the same command.

  --param NAME         the setting to sweep, by its config path, e.g. bonus.coef
  --values LIST        numbers, the first is the baseline, e.g. 0,0.01,0.03,0.1 (one value: a
                       variant to combine with other folders' runs, see npm run summarize)
  --preset NAME        the preset the values are set on (default tao-rl)
${COMMON_USAGE}`;

runMain(async () => {
  const values = parseCommand({ ...COMMON_FLAGS, param: { type: 'string' }, values: { type: 'string' }, preset: { type: 'string', default: 'tao-rl' } }, USAGE);
  if (!values.param) throw new UsageError('--param: name the setting to sweep, e.g. --param bonus.coef');
  const swept = (values.values ?? '').split(',').map((v) => v.trim());
  if (swept.some((v) => v === '' || !Number.isFinite(Number(v)))) {
    throw new UsageError(`--values: "${values.values ?? ''}" is not a list of numbers, e.g. 0,0.01,0.1`);
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
