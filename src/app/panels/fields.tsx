// Small labelled inputs for the controls. A number field validates every keystroke against its
// setting's range in the registry (src/core/settings.ts) and calls onCommit only with a valid
// value, so invalid input is refused at the field and never reaches the store or the worker.

import { useId, useState, type ChangeEvent, type ReactNode } from 'react';
import { allowedValues, settingProblem, type NumberSetting } from '../../core/settings';
import './panels.css';

/** How a number field writes null: empty, and what that means ("empty (whole turn)"). */
function emptyWord(setting: NumberSetting): string {
  return `empty (${setting.nullMeans})`;
}

/** The value typed, or why it is refused. Empty text is null where the setting allows null. */
export function parseNumberInput(text: string, setting: NumberSetting): { value: number | null } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === '') return setting.nullMeans !== undefined ? { value: null } : { problem: `required: ${allowedValues(setting)}` };
  const value = Number(trimmed);
  const problem = settingProblem(setting, value, emptyWord(setting));
  return problem === null ? { value } : { problem: `${trimmed} ${problem}` };
}

function formatNumber(value: number | null): string {
  return value === null ? '' : String(value);
}

/** The notes under a field: why the input is refused, that it needs a reset, a hint. */
function FieldNotes({ id, problem, pending, hint }: { id: string; problem?: string | null; pending?: boolean; hint?: ReactNode }) {
  return (
    <>
      {problem && (
        <span id={`${id}-problem`} className="field-problem">
          {problem}
        </span>
      )}
      {pending && (
        <span id={`${id}-pending`} className="field-pending">
          needs reset
        </span>
      )}
      {hint && (
        <span id={`${id}-hint`} className="field-hint">
          {hint}
        </span>
      )}
    </>
  );
}

function describedBy(id: string, problem: string | null | undefined, pending: boolean | undefined, hint: ReactNode): string | undefined {
  const ids = [problem ? `${id}-problem` : null, pending ? `${id}-pending` : null, hint ? `${id}-hint` : null].filter(Boolean);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

/** A setting's number field: its label, range and unit from the registry; empty is null where the setting allows null. */
export interface NumberFieldProps {
  setting: NumberSetting;
  /** null only where the setting allows it. */
  value: number | null;
  /** Gets each valid value that differs from `value`, never a refused one. */
  onCommit: (value: number | null) => void;
  hint?: ReactNode;
  /** The draft differs from the running config and only a reset applies it. */
  pending?: boolean;
  /** A row under the input spanning the field, e.g. a slider over part of the range. */
  extra?: ReactNode;
}

export function NumberField({ setting, value, onCommit, hint, pending, extra }: NumberFieldProps) {
  const { label, unit } = setting;
  const id = useId();
  const [text, setText] = useState(formatNumber(value));
  // The value the text was last synced with: a change from outside (preset, slider, reset) replaces the text.
  const [synced, setSynced] = useState(value);
  if (!Object.is(value, synced)) {
    setSynced(value);
    setText(formatNumber(value));
  }
  const parsed = parseNumberInput(text, setting);
  const problem = 'problem' in parsed ? parsed.problem : null;

  const onChange = (event: ChangeEvent<HTMLInputElement>) => {
    const next = event.target.value;
    setText(next);
    const result = parseNumberInput(next, setting);
    if ('value' in result && !Object.is(result.value, value)) {
      setSynced(result.value);
      onCommit(result.value);
    }
  };

  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <div className="field-control">
        <input
          id={id}
          className="field-number"
          type="text"
          inputMode="decimal"
          autoComplete="off"
          spellCheck={false}
          value={text}
          placeholder={setting.nullMeans}
          title={`${label}: ${allowedValues(setting, emptyWord(setting))}`}
          aria-invalid={problem !== null}
          aria-describedby={describedBy(id, problem, pending, hint)}
          onChange={onChange}
          onBlur={() => {
            if (problem === null) setText(formatNumber(value));
          }}
        />
        {unit && <span className="field-unit">{unit}</span>}
      </div>
      {extra && <div className="field-extra">{extra}</div>}
      <FieldNotes id={id} problem={problem} pending={pending} hint={hint} />
    </div>
  );
}

export interface SelectFieldProps<T extends string> {
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (value: T) => void;
  hint?: ReactNode;
  pending?: boolean;
  disabled?: boolean;
}

export function SelectField<T extends string>({ label, value, options, onChange, hint, pending, disabled }: SelectFieldProps<T>) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <div className="field-control">
        <select
          id={id}
          className="field-select"
          value={value}
          disabled={disabled}
          aria-describedby={describedBy(id, null, pending, hint)}
          onChange={(event) => onChange(event.target.value as T)}
        >
          {options.map((option) => (
            <option key={option.value} value={option.value}>
              {option.label}
            </option>
          ))}
        </select>
      </div>
      <FieldNotes id={id} pending={pending} hint={hint} />
    </div>
  );
}

export interface ToggleProps {
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
  hint?: ReactNode;
  pending?: boolean;
}

export function Toggle({ label, checked, onChange, hint, pending }: ToggleProps) {
  const id = useId();
  return (
    <div className="field field-toggle">
      <input
        id={id}
        type="checkbox"
        checked={checked}
        aria-describedby={describedBy(id, null, pending, hint)}
        onChange={(event) => onChange(event.target.checked)}
      />
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      <FieldNotes id={id} pending={pending} hint={hint} />
    </div>
  );
}
