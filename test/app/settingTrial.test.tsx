// @vitest-environment jsdom
// A new numeric setting added as a trial, by its default and its registry entry alone (no other
// edit), reaches validation, the URL, the train command's flags and the page's controls.

import { cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { parseArgs } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Controls } from '../../src/app/panels/Controls';
import { initialConfig, useWorkbench } from '../../src/app/store';
import { configFromSearch, configToSearch } from '../../src/app/urlConfig';
import { configFromFlags, settingFlagOptions } from '../../src/cli/trainRun';
import { ConfigError, presetConfig, resolveConfig } from '../../src/core/config';
import { registerSetting } from '../../src/core/settings';
import type { ToWorker } from '../../src/worker/protocol';

let unregister: () => void;

beforeAll(() => {
  unregister = registerSetting(
    {
      path: 'trialDecay',
      type: 'number',
      min: 0,
      max: 1,
      label: 'Trial decay',
      help: 'a setting that exists only in this test',
      live: true,
      flag: 'trial-decay',
      control: 'optimiser',
      verl: { none: 'a trial' },
      trl: { none: 'a trial' },
    },
    0.5,
  );
});

afterAll(() => unregister());

/** The trial setting's value, which Config's type does not know. */
function trialDecay(config: object): unknown {
  return (config as Record<string, unknown>).trialDecay;
}

describe('a trial setting, from its registry entry alone', () => {
  it('is in every preset at its default, and validation refuses it out of range', () => {
    expect(trialDecay(presetConfig('grpo'))).toBe(0.5);
    expect(trialDecay(resolveConfig({ trialDecay: 0.25 }))).toBe(0.25);
    expect(() => resolveConfig({ trialDecay: 2 })).toThrow(ConfigError);
    expect(() => resolveConfig({ trialDecay: 2 })).toThrow('trialDecay: 2 is out of range (must be a number in [0, 1])');
  });

  it('round-trips through the URL, and a bad value in a link is named', () => {
    const config = resolveConfig({ preset: 'aepo', trialDecay: 0.125 });
    const search = configToSearch(config);
    expect(search).toContain('trialDecay=0.125');
    expect(configFromSearch(search)).toEqual({ config, problems: [] });
    expect(configFromSearch('?trialDecay=7').problems).toEqual(['trialDecay: 7 is out of range (must be a number in [0, 1]); the default 0.5 is used.']);
  });

  it('is a flag of the train command', () => {
    const parse = (args: string[]) => parseArgs({ args, options: settingFlagOptions() }).values;
    expect(trialDecay(configFromFlags(parse(['--trial-decay', '0.75', '--lr', '0.001'])))).toBe(0.75);
    expect(() => configFromFlags(parse(['--trial-decay', '3']))).toThrow('trialDecay: 3 is out of range (must be a number in [0, 1])');
  });

  describe('on the page', () => {
    const pristine = useWorkbench.getState();
    let send: ReturnType<typeof vi.fn<(command: ToWorker) => void>>;

    beforeEach(() => {
      send = vi.fn<(command: ToWorker) => void>();
      useWorkbench.setState({ ...pristine, config: initialConfig(), draft: initialConfig(), status: 'ready', send }, true);
    });
    afterEach(cleanup);

    it('is a field of its fieldset, refuses a value out of range, and sends a valid one live', () => {
      render(<Controls />);
      const fieldset = screen.getByText(/^Optimiser/).closest('fieldset')!;
      const input = within(fieldset).getByLabelText('Trial decay') as HTMLInputElement;
      expect(input.value).toBe('0.5');
      expect(within(fieldset).getByText('a setting that exists only in this test')).toBeTruthy();

      fireEvent.change(input, { target: { value: '2' } });
      expect(input.getAttribute('aria-invalid')).toBe('true');
      expect(screen.getByText('2 is out of range (must be a number in [0, 1])')).toBeTruthy();
      expect(send).not.toHaveBeenCalled();

      fireEvent.change(input, { target: { value: '0.3' } });
      expect(send).toHaveBeenCalledWith({ type: 'settings', settings: { trialDecay: 0.3 } });
      expect(trialDecay(useWorkbench.getState().draft)).toBe(0.3);
    });
  });
});
