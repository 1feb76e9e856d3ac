// The controls: run buttons, the preset, and every knob of the config the page exposes. Live
// fields (LIVE_SETTINGS) go to the worker on each valid change and take effect at the next step;
// the others only edit the draft, are marked "needs reset", and a reset applies them.

import { MODEL_SCALES, parameterCount, type ModelScale } from '../../core/model/config';
import { NUMBER_RANGES, PRESET_NAMES, PRESETS, numberProblem, presetConfig, type Config, type PresetName } from '../../core/config';
import type { BonusMode, BonusScope, ShapeConfig } from '../../core/tao/types';
import { taskNames } from '../../core/tasks';
import { pendingResetFields, useWorkbench } from '../store';
import { NumberField, SelectField, Toggle } from './fields';
import './panels.css';

/** How the pending-reset note names a config field. */
const FIELD_LABELS: Partial<Record<keyof Config, string>> = {
  preset: 'preset',
  fill: 'batch fill',
  scale: 'model scale',
  task: 'task family',
  seed: 'seed',
  groupSize: 'group size',
  promptsPerStep: 'prompts per batch',
};

const PRESET_OPTIONS = PRESET_NAMES.map((name) => ({ value: name, label: PRESETS[name].label }));

const SCALE_OPTIONS = (Object.keys(MODEL_SCALES) as ModelScale[]).map((scale) => ({
  value: scale,
  label: `${scale} · ${(parameterCount(MODEL_SCALES[scale]) / 1e6).toFixed(1)}M`,
}));

const BONUS_MODE_OPTIONS: { value: BonusMode; label: string }[] = [
  { value: 'multiplicative', label: 'multiplicative (TAO-RL)' },
  { value: 'additive', label: 'additive (Cheng)' },
  { value: 'off', label: 'off' },
];

const SCOPE_OPTIONS: { value: BonusScope; label: string }[] = [
  { value: 'post_tool', label: 'post-tool (TAO-RL)' },
  { value: 'all', label: 'all tokens (AEPO)' },
];

const WINDOW_RANGE = { ...NUMBER_RANGES['shape.bonus.window'], describe: 'empty (whole turn) or an integer in [0, 80]' };

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
function editShape(patch: Partial<ShapeConfig>): void {
  const { draft, editConfig } = useWorkbench.getState();
  editConfig({ shape: { ...draft.shape, ...patch } });
}

function editBonus(patch: Partial<ShapeConfig['bonus']>): void {
  editShape({ bonus: { ...useWorkbench.getState().draft.shape.bonus, ...patch } });
}

export function Controls() {
  const draft = useWorkbench((state) => state.draft);
  const config = useWorkbench((state) => state.config);
  const status = useWorkbench((state) => state.status);
  const editConfig = useWorkbench((state) => state.editConfig);
  const start = useWorkbench((state) => state.start);
  const pause = useWorkbench((state) => state.pause);
  const step = useWorkbench((state) => state.step);
  const reset = useWorkbench((state) => state.reset);

  const pending = new Set(pendingResetFields({ config, draft }));
  const canRun = status === 'ready' || status === 'paused';
  const canReset = status !== 'loading';
  const { bonus } = draft.shape;
  const presetModified = !sameJson(draft.shape, PRESETS[draft.preset].shape) || draft.fill !== presetConfig(draft.preset).fill;

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
            Reset to apply: {[...pending].map((field) => FIELD_LABELS[field as keyof Config] ?? field).join(', ')}.
          </span>
          <button type="button" onClick={reset} disabled={!canReset}>
            Apply now
          </button>
        </div>
      )}

      <fieldset className="controls-group">
        <legend>Run · applies at reset</legend>
        <SelectField
          label="Preset"
          value={draft.preset}
          options={PRESET_OPTIONS}
          onChange={(preset) => editConfig(presetPatch(preset))}
          pending={pending.has('preset') || pending.has('fill')}
          hint={`${PRESETS[draft.preset].source}${presetModified ? ' (modified below)' : ''}`}
        />
        <SelectField label="Model scale" value={draft.scale} options={SCALE_OPTIONS} onChange={(scale) => editConfig({ scale })} pending={pending.has('scale')} />
        <SelectField
          label="Task family"
          value={draft.task}
          options={taskNames().map((task) => ({ value: task, label: task }))}
          onChange={(task) => editConfig({ task })}
          pending={pending.has('task')}
        />
        <NumberField label="Seed" value={draft.seed} range={NUMBER_RANGES.seed} onCommit={(seed) => editConfig({ seed })} pending={pending.has('seed')} />
        <NumberField
          label="Group size"
          value={draft.groupSize}
          range={NUMBER_RANGES.groupSize}
          onCommit={(groupSize) => editConfig({ groupSize })}
          hint="trajectories per prompt"
          pending={pending.has('groupSize')}
        />
        <NumberField
          label="Prompts per batch"
          value={draft.promptsPerStep}
          range={NUMBER_RANGES.promptsPerStep}
          onCommit={(promptsPerStep) => editConfig({ promptsPerStep })}
          hint="groups trained on per RL step"
          pending={pending.has('promptsPerStep')}
        />
      </fieldset>

      <fieldset className="controls-group">
        <legend>Entropy bonus · live, next step</legend>
        <SelectField label="Bonus mode" value={bonus.mode} options={BONUS_MODE_OPTIONS} onChange={(mode) => editBonus({ mode })} />
        <NumberField
          label="Entropy bonus coefficient"
          value={bonus.coef}
          range={NUMBER_RANGES['shape.bonus.coef']}
          onCommit={(coef) => editBonus({ coef })}
          hint="a (multiplicative) or α (additive); slider 0–1, field up to 10"
          extra={
            <input
              type="range"
              className="field-slider"
              aria-label="Entropy bonus slider"
              min={0}
              max={1}
              step={0.01}
              value={Math.min(bonus.coef, 1)}
              onChange={(event) => {
                const coef = Number(event.target.value);
                if (numberProblem(coef, NUMBER_RANGES['shape.bonus.coef']) === null && coef !== bonus.coef) editBonus({ coef });
              }}
            />
          }
        />
        <NumberField
          label="Kappa"
          value={bonus.kappa}
          range={NUMBER_RANGES['shape.bonus.kappa']}
          onCommit={(kappa) => editBonus({ kappa })}
          hint="additive form: bonus clipped to |A| / κ"
        />
        <SelectField label="Bonus scope" value={bonus.scope} options={SCOPE_OPTIONS} onChange={(scope) => editBonus({ scope })} />
        <NumberField
          label="Post-tool window"
          value={bonus.window}
          range={WINDOW_RANGE}
          emptyAllowed
          placeholder="whole turn"
          unit="tokens"
          onCommit={(window) => editBonus({ window })}
          hint="first k policy tokens after a tool result; empty: the whole turn"
        />
        <Toggle label="After successful calls only" checked={bonus.afterSuccessOnly} onChange={(afterSuccessOnly) => editBonus({ afterSuccessOnly })} />
      </fieldset>

      <fieldset className="controls-group">
        <legend>Filters · live, next step</legend>
        <Toggle
          label="Group filter"
          checked={draft.shape.groupFilter}
          onChange={(groupFilter) => editShape({ groupFilter })}
          hint="drop groups whose rewards are all equal (DAPO dynamic sampling)"
        />
        <Toggle
          label="Tool-fail filter"
          checked={draft.shape.toolFailFilter}
          onChange={(toolFailFilter) => editShape({ toolFailFilter })}
          hint="mask trajectories whose tool calls all failed (TAO-RL)"
        />
        <NumberField
          label="Tool-fail strength"
          value={draft.shape.toolFailStrength}
          range={NUMBER_RANGES['shape.toolFailStrength']}
          onCommit={(toolFailStrength) => editShape({ toolFailStrength })}
          hint="a masked trajectory's loss weight is 1 − strength"
        />
      </fieldset>

      <fieldset className="controls-group">
        <legend>Optimiser · live, next step</legend>
        <NumberField label="Learning rate" value={draft.learningRate} range={NUMBER_RANGES.learningRate} onCommit={(learningRate) => editConfig({ learningRate })} />
        <NumberField label="Temperature" value={draft.temperature} range={NUMBER_RANGES.temperature} onCommit={(temperature) => editConfig({ temperature })} />
        <NumberField label="Clip low" value={draft.clipLow} range={NUMBER_RANGES.clipLow} onCommit={(clipLow) => editConfig({ clipLow })} hint="PPO ε below 1" />
        <NumberField label="Clip high" value={draft.clipHigh} range={NUMBER_RANGES.clipHigh} onCommit={(clipHigh) => editConfig({ clipHigh })} hint="PPO ε above 1 (DAPO clip-higher)" />
        <NumberField
          label="Entropy regulariser"
          value={draft.entropyCoef}
          range={NUMBER_RANGES.entropyCoef}
          onCommit={(entropyCoef) => editConfig({ entropyCoef })}
          hint="β_H: loss −= β_H · mean entropy"
        />
        <NumberField label="KL coefficient" value={draft.klCoef} range={NUMBER_RANGES.klCoef} onCommit={(klCoef) => editConfig({ klCoef })} hint="to the starting policy; 0 is off" />
        <NumberField
          label="Flaky tool probability"
          value={draft.flakyProbability}
          range={NUMBER_RANGES.flakyProbability}
          onCommit={(flakyProbability) => editConfig({ flakyProbability })}
          hint="chance a tool call times out whatever its expression"
        />
      </fieldset>
    </section>
  );
}
