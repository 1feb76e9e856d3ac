// npm run export -- --target verl|trl [--preset NAME] [config flags] | --from RUNFILE  --out DIR
// A run's settings as files another engine reads: verl's overrides.txt and run_verl.sh, or TRL's
// grpo_config.json and train_trl.py (src/export/). What cannot be carried over is printed as a
// warning and written in the script's header.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { ENGINES, engineExport, type Engine } from '../export';
import { importRun } from '../runs/format';
import { parseCommandArgs, runMain, UsageError } from './common';
import { configFromFlags, settingFlagOptions, settingFlagUsage } from './trainRun';

const USAGE = `usage: npm run export -- --target verl|trl [--preset NAME] [config flags] --out DIR
       npm run export -- --target verl|trl --from RUNFILE [config flags] --out DIR
A run's settings for verl (the TAO-RL recipe: overrides.txt, run_verl.sh) or TRL (GRPOTrainer:
grpo_config.json, train_trl.py). Each setting that cannot be carried over is printed as a warning
and written in the script's header. docs/scale-out.md says how to go on from there.

  --target ENGINE      verl or trl
  --out DIR            folder for the files (made if missing)
  --from RUNFILE       the settings of a run file (.json export or .jsonl rollouts); flags
                       given with it change those settings
  --config JSON        any config fields, e.g. '{"shape":{"bonus":{"coef":0.1}}}'; flags win
${settingFlagUsage()}
  -h, --help           this text`;

runMain(async () => {
  const values = parseCommandArgs(
    { ...settingFlagOptions(), config: { type: 'string' }, target: { type: 'string' }, out: { type: 'string' }, from: { type: 'string' } },
    USAGE,
  );
  const target = values.target;
  if (target === undefined) throw new UsageError('--target: name the engine, verl or trl');
  if (!ENGINES.includes(target as Engine)) throw new UsageError(`--target: "${target}" is not one of ${ENGINES.join(', ')}`);
  if (!values.out) throw new UsageError('--out: name a folder for the files, e.g. --out export/verl');
  let name = 'the command line';
  let base: Record<string, unknown> = {};
  if (values.from !== undefined) {
    const file = values.from;
    if (!fs.existsSync(file)) throw new UsageError(`--from: no file at ${file}`);
    const text = fs.readFileSync(file, 'utf8');
    let run;
    try {
      run = importRun(text, Buffer.byteLength(text), file);
    } catch (error) {
      throw new UsageError(`--from: ${file}: ${(error as Error).message}`);
    }
    name = run.name;
    base = run.config as unknown as Record<string, unknown>;
    if (run.changes.length > 0) console.log(`${file}: the run changed settings while training (${run.changes.length} changes); exporting the settings it records`);
  }
  const config = configFromFlags(values, base);
  if (values.from === undefined) name = `${config.preset}, seed ${config.seed}`;

  const exported = engineExport(target as Engine, config, name);
  fs.mkdirSync(values.out, { recursive: true });
  for (const file of exported.files) {
    const where = path.join(values.out, file.name);
    fs.writeFileSync(where, file.text, file.executable ? { mode: 0o755 } : {});
    if (file.executable) fs.chmodSync(where, 0o755);
  }
  for (const warning of exported.warnings) process.stderr.write(`warning: ${warning}\n`);
  console.log(exported.command);
  console.log(`wrote ${exported.files.map((file) => path.join(values.out!, file.name)).join(', ')}${exported.warnings.length ? `; ${exported.warnings.length} settings not exported as they are (warnings above)` : ''}`);
});
