// npm run train -- --preset tao-rl --scale tiny --steps 50 --seed 1 --out runs/a.jsonl [--csv runs/a.csv] [--backend cpu|wasm|webgpu]
// Headless RL from the bundled warm-start checkpoint: one progress line per step, one JSON line
// per step report, held-out evaluations, and a final evaluation.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Trainer } from '../core/trainer';
import { evaluateHeldOut } from '../core/evaluate';
import { bundledCheckpoint, loadPolicy, parseCommandArgs, runMain, startBackend, tf, UsageError } from './common';
import { metricsCsvHeader, metricsCsvLine } from '../runs/metricsCsv';
import { jsonLine } from './jsonl';
import { configFromFlags, evaluationLine, progressLine, settingFlagOptions, settingFlagUsage } from './trainRun';

const USAGE = `usage: npm run train -- [--preset NAME] [--scale tiny|small|base] [--steps N] [--seed N] [--out FILE]
                        [--backend cpu|wasm|webgpu] [config flags]
Headless RL from the bundled warm-start checkpoint: one progress line per step, held-out
evaluations, and with --out one JSON line per record.

  --steps N            RL steps (default 50)
  --out FILE           write the run as JSON lines: run, step and evaluation records
  --csv FILE           write metrics.csv: one row per step, one column per step metric
  --checkpoint STEM    start from STEM.json and STEM.bin instead of the bundled checkpoint
  --backend NAME       cpu, wasm or webgpu (default wasm)
  --config JSON        any config fields, e.g. '{"shape":{"bonus":{"coef":0.1}}}'; flags win
${settingFlagUsage()}
  -h, --help           this text`;

runMain(async () => {
  const values = parseCommandArgs(
    {
      ...settingFlagOptions(),
      config: { type: 'string' },
      steps: { type: 'string', default: '50' },
      out: { type: 'string' },
      csv: { type: 'string' },
      checkpoint: { type: 'string' },
      backend: { type: 'string' },
    },
    USAGE,
  );
  const config = configFromFlags(values);
  const steps = Number(values.steps);
  if (!Number.isInteger(steps) || steps < 0) throw new UsageError(`--steps: "${values.steps}" is not an integer >= 0`);
  const backend = await startBackend(values.backend);
  const checkpoint = values.checkpoint ?? bundledCheckpoint(config.scale, config.task);
  const { policy } = loadPolicy(checkpoint);
  const out = values.out ? fs.openSync(prepare(values.out), 'w') : null;
  const write = (record: object) => out !== null && fs.writeSync(out, jsonLine(record));
  const csv = values.csv ? fs.openSync(prepare(values.csv), 'w') : null;
  if (csv !== null) fs.writeSync(csv, metricsCsvHeader());
  write({ type: 'run', config, steps, backend, checkpoint: path.basename(checkpoint), started: new Date().toISOString() });
  console.log(`training ${config.preset} on ${config.task} from ${path.basename(checkpoint)} (${config.scale}) on ${backend}, seed ${config.seed}, ${steps} steps`);

  const evaluate = async (step: number, greedy: boolean) => {
    const evaluation = await evaluateHeldOut(policy, config, greedy);
    console.log(evaluationLine(step, evaluation));
    write({ type: 'evaluation', step, ...evaluation });
    return evaluation;
  };
  await evaluate(0, true);
  const trainer = new Trainer(config, policy);
  for (let step = 1; step <= steps; step++) {
    const report = await trainer.runStep();
    console.log(progressLine(report));
    write({ type: 'step', ...report });
    if (csv !== null) fs.writeSync(csv, metricsCsvLine(report.step, report.metrics));
    if (config.evalEvery > 0 && step % config.evalEvery === 0 && step < steps) await evaluate(step, false);
  }
  await evaluate(steps, true);
  console.log(`tensors in memory: ${tf.memory().numTensors}`);
  trainer.dispose();
  if (out !== null) {
    fs.closeSync(out);
    console.log(`wrote ${values.out}`);
  }
  if (csv !== null) {
    fs.closeSync(csv);
    console.log(`wrote ${values.csv}`);
  }
});

function prepare(file: string): string {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  return file;
}
