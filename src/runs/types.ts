// What a run file stores besides the engine's own reports. The worker's protocol and the page's
// database carry the same records, so they take these types from here.

/** A live setting that changed during a run: which field, from what to what, from which step. */
export interface SettingChange {
  field: string;
  from: unknown;
  to: unknown;
  /** The first step that runs with the new value. */
  step: number;
}
