// The checkpoint file-naming rule (src/core/checkpointFiles.ts), against the files bundled in
// public/models: the commands, the worker and the page all find checkpoints through it.

import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundledCheckpointStem, checkpointFiles } from '../../src/core/checkpointFiles';

const publicDir = fileURLToPath(new URL('../../public/', import.meta.url));

describe('checkpoint files', () => {
  it('are a manifest and a weights file beside each other', () => {
    expect(checkpointFiles('runs/a')).toEqual({ manifest: 'runs/a.json', weights: 'runs/a.bin' });
    expect(checkpointFiles('/base/models/tiny')).toEqual({ manifest: '/base/models/tiny.json', weights: '/base/models/tiny.bin' });
  });

  it('name a bundled checkpoint by its scale, and by scale and task off arithmetic', () => {
    expect(bundledCheckpointStem('tiny')).toBe('models/tiny');
    expect(bundledCheckpointStem('small', 'arithmetic')).toBe('models/small');
    expect(bundledCheckpointStem('tiny', 'three_operand')).toBe('models/tiny-three_operand');
  });

  it('find the checkpoints the repository bundles', () => {
    for (const [scale, task] of [['tiny', 'arithmetic'], ['small', 'arithmetic'], ['tiny', 'three_operand'], ['small', 'three_operand']] as const) {
      const files = checkpointFiles(`${publicDir}${bundledCheckpointStem(scale, task)}`);
      expect(fs.existsSync(files.manifest), files.manifest).toBe(true);
      expect(fs.existsSync(files.weights), files.weights).toBe(true);
    }
  });
});
