// The step timeline: go back to any completed step while training continues, or follow the
// latest. Full rollouts are kept for the last ROLLOUT_HISTORY steps; older steps show metrics only.

import { shownStepIndex, stepBy } from '../keyboard';
import { ROLLOUT_HISTORY, useWorkbench } from '../store';

export function Timeline() {
  const reports = useWorkbench((state) => state.reports);
  const selectedStep = useWorkbench((state) => state.selectedStep);
  const selectStep = useWorkbench((state) => state.selectStep);

  const live = selectedStep === null;
  const index = shownStepIndex(reports, selectedStep);
  const last = reports.length - 1;
  const none = reports.length === 0;
  const shown = index >= 0 ? reports[index] : null;
  // The store empties the rollouts of steps older than the history it keeps.
  const metricsOnly = index >= 0 && index < reports.length - ROLLOUT_HISTORY;

  let position: string;
  if (none) position = 'no steps yet';
  else if (!shown) position = `step ${selectedStep} is not in this run`;
  else {
    const suffix = live ? ' (live)' : metricsOnly ? ` (metrics only: rollouts kept for the last ${ROLLOUT_HISTORY} steps)` : '';
    position = `step ${shown.step} of ${reports[last].step}${suffix}`;
  }

  return (
    <section className="panel timeline" aria-labelledby="timeline-heading">
      <h2 id="timeline-heading">Step timeline</h2>
      <div className="timeline-row">
        <button type="button" aria-label="First step" title="First step" disabled={none || index === 0} onClick={() => selectStep(reports[0].step)}>
          |&lt;
        </button>
        <button type="button" aria-label="Previous step" title="Previous step (←)" disabled={none || index <= 0} onClick={() => stepBy(-1)}>
          &lt;
        </button>
        <input
          type="range"
          aria-label="Step timeline"
          aria-valuetext={shown ? `step ${shown.step}` : 'no steps'}
          min={0}
          max={Math.max(0, last)}
          step={1}
          value={Math.max(0, index)}
          disabled={none}
          onChange={(event) => selectStep(reports[Number(event.currentTarget.value)].step)}
        />
        <button type="button" aria-label="Next step" title="Next step (→)" disabled={none || index < 0 || index >= last} onClick={() => stepBy(1)}>
          &gt;
        </button>
        <button
          type="button"
          aria-label="Last step"
          title="Last step, held while training continues"
          disabled={none || (!live && index === last)}
          onClick={() => selectStep(reports[last].step)}
        >
          &gt;|
        </button>
        <button type="button" className="timeline-live" disabled={live} onClick={() => selectStep(null)}>
          Follow live
        </button>
        <span className={metricsOnly ? 'timeline-position metrics-only' : 'timeline-position'}>{position}</span>
      </div>
      <p className="key-hint">
        Keys: <kbd>Space</kbd> start/pause · <kbd>.</kbd> one step · <kbd>←</kbd>/<kbd>→</kbd> steps · <kbd>j</kbd>/<kbd>k</kbd>{' '}
        trajectories · <kbd>Enter</kbd>/<kbd>Esc</kbd> token view
      </p>
    </section>
  );
}
