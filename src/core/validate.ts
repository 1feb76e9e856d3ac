// Reading JSON that comes in (a config, `tao shape` input, a run file): each reader returns the
// value with its type or throws a ValidationError whose one-line message says where (the path),
// what was found and what is allowed, e.g. `trajectories[0].reward: "1" is not a number (must be
// a finite number)`. A module that reads one kind of input runs its readers inside readAs, so a
// caller catches that module's own error class.
//
// Two wordings: a number with a range says which test failed (type, finiteness, integrality or
// range) before what is allowed; every other check says "<value> is not <what is allowed>".

export type JsonObject = Record<string, unknown>;

export class ValidationError extends Error {
  override name = 'ValidationError';

  /** `path` is where the problem is (e.g. `reports[3].step`); '' when the problem is the whole input. */
  constructor(
    readonly problem: string,
    readonly path = '',
  ) {
    super(path === '' ? problem : `${path}: ${problem}`);
  }
}

export function fail(path: string, problem: string): never {
  throw new ValidationError(problem, path);
}

/**
 * Runs `read`; a ValidationError it throws comes out as an `As` (a reader module's own subclass)
 * with the same problem and path.
 */
export function readAs<T>(As: new (problem: string, path?: string) => ValidationError, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof As || !(error instanceof ValidationError)) throw error;
    throw new As(error.problem, error.path);
  }
}

/** `path` one step further: `path.key`, `path["odd key"]` for keys such as "reward/mean", `path[3]`. */
export function pathTo(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** The value as written, short and on one line; NaN and Infinity read as themselves. */
export function formatValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** "missing (must be M)" or "<value> is not M": the short wording. */
export function isNot(value: unknown, must: string): string {
  return value === undefined ? `missing (must be ${must})` : `${formatValue(value)} is not ${must}`;
}

export function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Any value `accepts` lets through; otherwise "path: <value> is not <must>". */
export function expectValue<T>(value: unknown, path: string, accepts: (value: unknown) => value is T, must: string): T {
  if (!accepts(value)) fail(path, isNot(value, must));
  return value;
}

/** An object; with `allowedKeys`, a key outside them is an error naming the key and the allowed ones. */
export function expectObject(value: unknown, path: string, allowedKeys?: readonly string[]): JsonObject {
  if (!isPlainObject(value)) fail(path, isNot(value, 'an object'));
  if (allowedKeys) expectKnownKeys(value, path, allowedKeys);
  return value;
}

export function expectKnownKeys(object: JsonObject, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) fail(pathTo(path, key), `unknown key (allowed: ${allowed.join(', ')})`);
  }
}

export function expectArray(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, isNot(value, 'an array'));
  return value;
}

/**
 * Every entry of `list` passes `accepts`, else "path[i]: <entry> is not <must>" for the first that
 * does not. The list itself is returned: no copy, and no path is built unless an entry fails.
 */
export function expectEach<T>(list: unknown[], path: string, accepts: (value: unknown) => value is T, must: string): T[] {
  for (let i = 0; i < list.length; i++) {
    if (!accepts(list[i])) fail(pathTo(path, i), isNot(list[i], must));
  }
  return list as T[];
}

/** `must` names what is allowed, e.g. 'a string or null' where the caller has let null through. */
export function expectString(value: unknown, path: string, must = 'a string'): string {
  if (typeof value !== 'string') fail(path, isNot(value, must));
  return value;
}

export function expectBoolean(value: unknown, path: string): boolean {
  if (value === undefined) fail(path, 'missing (must be true or false)');
  if (typeof value !== 'boolean') fail(path, `${formatValue(value)} is not a boolean`);
  return value;
}

/** One of `allowed`; `orAlso` extends the list in the message, e.g. 'or null' where the caller lets null through. */
export function expectOneOf<T>(value: unknown, path: string, allowed: readonly T[], orAlso = ''): T {
  if (!allowed.includes(value as T)) fail(path, `${formatValue(value)} is not one of ${allowed.join(', ')}${orAlso ? ` ${orAlso}` : ''}`);
  return value as T;
}

// ---------------------------------------------------------------------------------------------
// Numbers with a range

/** A number's allowed values, with the words a message uses for them (`describe`). */
export interface NumberRange {
  describe: string;
  integer?: boolean;
  min?: number;
  /** min itself is not allowed. */
  minExclusive?: boolean;
  max?: number;
}

export const FINITE: NumberRange = { describe: 'a finite number' };
export const INTEGER: NumberRange = { describe: 'an integer', integer: true };
export const NON_NEGATIVE: NumberRange = { describe: 'a number >= 0', min: 0 };
export const POSITIVE: NumberRange = { describe: 'a number > 0', min: 0, minExclusive: true };
export const UNIT_INTERVAL: NumberRange = { describe: 'a number in [0, 1]', min: 0, max: 1 };

export const NON_NEGATIVE_INTEGER: NumberRange = { describe: 'an integer >= 0', integer: true, min: 0 };
export const POSITIVE_INTEGER: NumberRange = { describe: 'an integer >= 1', integer: true, min: 1 };

export function isInRange(value: unknown, range: NumberRange): value is number {
  return numberFault(value, range) === null;
}

/**
 * Why a value is not a number in `range`, as the words after the value ("is out of range (must be
 * a number in [0, 1])"), or null when it is one.
 */
export function numberProblem(value: unknown, range: NumberRange): string | null {
  const fault = numberFault(value, range);
  return fault === null ? null : `is ${fault} (must be ${range.describe})`;
}

/** The first test a value fails, in words, or null; builds no string on the way. */
function numberFault(value: unknown, range: NumberRange): string | null {
  if (typeof value !== 'number') return 'not a number';
  if (!Number.isFinite(value)) return 'not finite';
  if (range.integer && !Number.isInteger(value)) return 'not an integer';
  const belowMin = range.min !== undefined && (range.minExclusive ? value <= range.min : value < range.min);
  const aboveMax = range.max !== undefined && value > range.max;
  return belowMin || aboveMax ? 'out of range' : null;
}

/** A number in `range`; the message says which test failed, then what is allowed. */
export function expectNumber(value: unknown, path: string, range: NumberRange): number {
  if (value === undefined) fail(path, `missing (must be ${range.describe})`);
  const problem = numberProblem(value, range);
  if (problem !== null) fail(path, `${formatValue(value)} ${problem}`);
  return value as number;
}
