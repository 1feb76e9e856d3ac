// The controls: run buttons, the preset, and every setting the registry places on the page
// (src/core/settings.ts: label, range, help and fieldset). Live settings go to the worker on each
// valid change and take effect at the next step; the others only edit the draft, are marked
// "needs reset", and a reset applies them.

import { PRESETS, presetConfig, type Config, type PresetName } from '../../core/config';
import { getAt, labelInSentence, setAt, settingAt, settingProblem, settings, type ControlGroup, type NumberSetting, type Setting } from '../../core/settings';
import { pendingResetFields, useWorkbench } from '../store';
import { NumberField, SelectField, Toggle } from './fields';
import './panels.css';

const FIELDSETS: { group: ControlGroup; name: string }[] = [
  { group: 'run', name: 'Run' },
  { group: 'bonus', name: 'Entropy bonus' },
  { group: 'filters', name: 'Filters' },
  { group: 'optimiser', name: 'Optimiser' },
];

/** The order within each fieldset; a setting the registry puts in a fieldset and this list lacks comes last in it. */
const PAGE_ORDER = [
  'preset', 'scale', 'task', 'seed', 'groupSize', 'promptsPerStep',
  'shape.bonus.mode', 'shape.bonus.coef', 'shape.bonus.kappa', 'shape.bonus.scope', 'shape.bonus.window', 'shape.bonus.afterSuccessOnly',
  'shape.groupFilter', 'shape.toolFailFilter', 'shape.toolFailStrength',
  'learningRate', 'temperature', 'clipLow', 'clipHigh', 'entropyCoef', 'klCoef', 'flakyProbability',
];

function pageRank(setting: Setting): number {
  const rank = PAGE_ORDER.indexOf(setting.path);
  return rank === -1 ? PAGE_ORDER.length : rank;
}

function settingsIn(group: ControlGroup): Setting[] {
  return settings()
    .filter((setting) => setting.control === group)
    .sort((a, b) => pageRank(a) - pageRank(b));
}

function topField(path: string): string {
  return path.split('.')[0];
}

/** How the pending-reset note names a config field. */
function fieldName(field: string): string {
  const setting = settingAt(field);
  return setting ? labelInSentence(setting) : field;
}

/**
 * A preset sets exactly what docs/algorithm.md §6 varies between the ablations: the preset
 * name, how the batch is filled (`fill`: DAPO resamples) and the whole shaping (`shape`:
 * filters, baseline, bonus). Model, task, seed, batch sizes and optimiser settings are kept, so
 * presets compare on the same run. `shape` is live and applies at the next step like any shaping
 * edit; `preset` and `fill` are marked as needing a reset.
 */
function presetPatch(preset: PresetName): Pick<Config, 'preset' | 'fill' | 'shape'> {
  const { fill, shape } = presetConfig(preset);
  return { preset, fill, shape };
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

// Edits read the store at call time, so two edits between renders both land.
function editSetting(path: string, value: unknown): void {
  const { draft, editConfig } = useWorkbench.getState();
  const field = topField(path);
  editConfig({ [field]: getAt(setAt(draft, path, value), field) } as Partial<Config>);
}

/** What the field says under it: the registry's help, and how to write null where null is allowed. */
function hintOf(setting: Setting): string {
  return 'nullMeans' in setting && setting.nullMeans ? `${setting.help}; empty: ${setting.nullMeans}` : setting.help;
}

function CoefSlider({ setting, coef }: { setting: NumberSetting; coef: number }) {
  return (
    <input
      type="range"
      className="field-slider"
      aria-label="Entropy bonus slider"
      min={0}
      max={1}
      step={0.01}
      value={Math.min(coef, 1)}
      onChange={(event) => {
        const next = Number(event.target.value);
        if (settingProblem(setting, next) === null && next !== coef) editSetting(setting.path, next);
      }}
    />
  );
}

function PresetField({ setting, draft, pending }: { setting: Setting; draft: Config; pending: Set<string> }) {
  const editConfig = useWorkbench((state) => state.editConfig);
  const options = setting.type === 'choice' ? setting.choices().map((name) => ({ value: name as PresetName, label: setting.choiceLabel?.(name) ?? name })) : [];
  const modified = !sameJson(draft.shape, PRESETS[draft.preset].shape) || draft.fill !== presetConfig(draft.preset).fill;
  return (
    <SelectField
      label={setting.label}
      value={draft.preset}
      options={options}
      onChange={(preset) => editConfig(presetPatch(preset))}
      pending={pending.has('preset') || pending.has('fill')}
      hint={`${PRESETS[draft.preset].source}${modified ? ' (modified below)' : ''}`}
    />
  );
}

/** One setting's field, drawn from its registry entry. */
function SettingControl({ setting, draft, pending }: { setting: Setting; draft: Config; pending: Set<string> }) {
  if (setting.path === 'preset') return <PresetField setting={setting} draft={draft} pending={pending} />;
  const value = getAt(draft, setting.path);
  const isPending = pending.has(topField(setting.path));
  const onChange = (next: unknown) => editSetting(setting.path, next);
  switch (setting.type) {
    case 'boolean':
      return <Toggle label={setting.label} checked={value as boolean} onChange={onChange} hint={hintOf(setting)} pending={isPending} />;
    case 'choice':
      return (
        <SelectField
          label={setting.label}
          value={value as string}
          options={setting.choices().map((choice) => ({ value: choice, label: setting.choiceLabel?.(choice) ?? choice }))}
          onChange={onChange}
          hint={hintOf(setting)}
          pending={isPending}
        />
      );
    default: {
      const slider = setting.path === 'shape.bonus.coef';
      return (
        <NumberField
          setting={setting}
          value={value as number | null}
          onCommit={onChange}
          hint={slider ? `${setting.help}; slider 0–1, field up to ${setting.max}` : hintOf(setting)}
          pending={isPending}
          extra={slider ? <CoefSlider setting={setting} coef={value as number} /> : undefined}
        />
      );
    }
  }
}

export function Controls() {
  const draft = useWorkbench((state) => state.draft);
  const config = useWorkbench((state) => state.config);
  const status = useWorkbench((state) => state.status);
  const start = useWorkbench((state) => state.start);
  const pause = useWorkbench((state) => state.pause);
  const step = useWorkbench((state) => state.step);
  const reset = useWorkbench((state) => state.reset);

  const pending = new Set(pendingResetFields({ config, draft }));
  const canRun = status === 'ready' || status === 'paused';
  const canReset = status !== 'loading';

  return (
    <section className="panel controls" aria-labelledby="controls-heading">
      <h2 id="controls-heading" className="controls-heading">
        Controls
      </h2>

      <div className="controls-buttons">
        <button type="button" onClick={start} disabled={!canRun}>
          Start
        </button>
        <button type="button" onClick={step} disabled={!canRun} title="Exactly one RL step, then pause">
          Step
        </button>
        <button type="button" onClick={pause} disabled={status !== 'running'}>
          Pause
        </button>
        <button type="button" onClick={reset} disabled={!canReset} title="New run with the settings below">
          Reset
        </button>
      </div>

      {pending.size > 0 && (
        <div className="controls-pending" role="note">
          <span>
            Reset to apply: {[...pending].map((field) => fieldName(field)).join(', ')}.
          </span>
          <button type="button" onClick={reset} disabled={!canReset}>
            Apply now
          </button>
        </div>
      )}

      {FIELDSETS.map(({ group, name }) => {
        const members = settingsIn(group);
        if (members.length === 0) return null;
        return (
          <fieldset key={group} className="controls-group">
            <legend>
              {name} · {members.every((setting) => setting.live) ? 'live, next step' : 'applies at reset'}
            </legend>
            {members.map((setting) => (
              <SettingControl key={setting.path} setting={setting} draft={draft} pending={pending} />
            ))}
          </fieldset>
        );
      })}
    </section>
  );
}
