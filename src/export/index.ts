// Exports of a run's config to the engines a researcher takes it to: verl (the TAO-RL authors'
// recipe) and TRL. docs/scale-out.md tells how to go from the page to verl and back.

import type { Config } from '../core/config';
import type { Engine, EngineExport } from './counterparts';
import { trlExport } from './trl';
import { verlExport } from './verl';

export type { Engine, EngineExport, ExportedFile } from './counterparts';
export const ENGINES: readonly Engine[] = ['verl', 'trl'];

export function engineExport(engine: Engine, config: Config, name: string): EngineExport {
  return engine === 'verl' ? verlExport(config, name) : trlExport(config, name);
}
