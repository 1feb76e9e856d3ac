// "What am I looking at?": the page explained to someone who has not read the paper. The task and
// the tool of the run shown, what one RL step does, the dual filter and the bonus, the paper, a
// guided first run, and a glossary of every metric read from the metric registry. It opens by
// itself on a first visit and from the header's button after that. Not modal: the guided run is
// done with the guide open, so it sits at the top of the page and pushes the panels down.

import { useEffect, useRef, type ReactElement } from 'react';
import { create } from 'zustand';
import { EVALUATION_METRICS, METRICS, STEP_METRICS, type MetricKey } from '../../core/metrics';
import { getTask } from '../../core/tasks';
import { getTool } from '../../core/tools';
import { useWorkbench } from '../store';
import './guide.css';

export const PAPER_URL = 'https://arxiv.org/abs/2606.03762';

/** Set once the guide has been shown, so it opens by itself only on a first visit. */
export const GUIDE_SEEN_KEY = 'tao-rl-workbench:guide-seen';

export const useGuide = create<{ open: boolean; setOpen: (open: boolean) => void }>()((set) => ({
  open: false,
  setOpen: (open) => set({ open }),
}));

/** Opens the guide if this browser has never shown it, and remembers that it has. */
export function openOnFirstVisit(storage: Pick<Storage, 'getItem' | 'setItem'> | undefined = globalThis.localStorage): void {
  try {
    if (!storage || storage.getItem(GUIDE_SEEN_KEY) !== null) return;
    storage.setItem(GUIDE_SEEN_KEY, new Date().toISOString());
  } catch {
    return; // storage refused (a private window): the button still opens it
  }
  useGuide.getState().setOpen(true);
}

/** The header's button. */
export function GuideButton(): ReactElement {
  const open = useGuide((state) => state.open);
  const setOpen = useGuide((state) => state.setOpen);
  return (
    <button type="button" aria-expanded={open} aria-controls="guide" onClick={() => setOpen(!open)}>
      What am I looking at?
    </button>
  );
}

/** "label: meaning" of a metric, as the charts' hover text says it. */
export function metricHover(key: MetricKey): string {
  return `${METRICS[key].label}: ${METRICS[key].meaning}`;
}

function Glossary({ keys, title }: { keys: MetricKey[]; title: string }): ReactElement {
  return (
    <>
      <h4>{title}</h4>
      <dl className="guide-glossary">
        {keys.map((key) => (
          <div key={key}>
            <dt>
              {METRICS[key].label} <code>{key}</code>
            </dt>
            <dd>{METRICS[key].meaning}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

export function Guide(): ReactElement | null {
  const open = useGuide((state) => state.open);
  const setOpen = useGuide((state) => state.setOpen);
  const config = useWorkbench((state) => state.config);
  const closeButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!open) return;
    closeButton.current?.focus({ preventScroll: true });
    const onKey = (event: KeyboardEvent) => {
      // Esc closes the guide first; the token view's own Esc waits for the next one.
      if (event.key === 'Escape' && !event.defaultPrevented) {
        event.preventDefault();
        setOpen(false);
      }
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [open, setOpen]);

  if (!open) return null;
  const task = getTask(config.task);
  const tool = getTool(config.tool);
  const stepKeys = Object.keys(STEP_METRICS) as MetricKey[];
  const evaluationKeys = Object.keys(EVALUATION_METRICS) as MetricKey[];
  return (
    <section id="guide" role="dialog" aria-labelledby="guide-title" className="panel guide">
      <header className="guide-head">
        <h2 id="guide-title">What am I looking at?</h2>
        <button type="button" ref={closeButton} onClick={() => setOpen(false)}>
          Close (Esc)
        </button>
      </header>
      <div className="guide-columns">
        <div>
          <p>
            A small language model (the <em>policy</em>, {config.scale} scale) learns by reinforcement learning to use a tool. The task (
            {config.task}): {task.description}. The policy reads a problem such as <code>47*86=</code>, may call the tool by writing{' '}
            <code>&lt;call&gt;47*86&lt;/call&gt;</code>, and the environment runs it and writes the result,{' '}
            <code>&lt;result&gt;4042&lt;/result&gt;</code>, before the policy goes on; it ends with <code>&lt;answer&gt;…&lt;/answer&gt;</code>. The
            tool: {tool.description} Tokens are coloured by the policy's <em>entropy</em> there: dark where it was sure, yellow where it hesitated.
          </p>
          <p>
            <strong>One RL step</strong> samples a group of {config.groupSize} answers (trajectories) to each of {config.promptsPerStep} prompts,
            gives each reward 1 if its answer is right and 0 otherwise, and scores each trajectory against its group: its <em>advantage</em> is its
            reward minus the group's mean, over the group's spread (GRPO). The update then makes the tokens of trajectories with a positive advantage
            more likely and those with a negative one less likely.
          </p>
          <p>
            <strong>The dual filter</strong> drops what carries no signal: a group whose trajectories all got the same reward (nothing to compare),
            and a trajectory whose every tool call failed, so that the policy is not blamed for a tool's failure. A dropped trajectory stays on the
            page, hatched, with the reason in words.
          </p>
          <p>
            <strong>The bonus</strong>: the tokens right after a tool result are where the policy decides what to do with it. TAO-RL multiplies
            their advantage by (1 + a × their normalised entropy), so the update acts more where the policy was unsure; <em>a</em> is the entropy
            bonus coefficient. The paper:{' '}
            <a href={PAPER_URL} target="_blank" rel="noreferrer">
              TAO-RL, arXiv 2606.03762
            </a>
            .
          </p>
          <h3>A first run</h3>
          <ol className="guide-steps">
            <li>
              Press <strong>Step</strong> (or <kbd>.</kbd>): one RL step. Its trajectories appear under Rollouts, grouped by prompt.
            </li>
            <li>Open a discarded (hatched) trajectory: the token view shows its entropy and advantage along its tokens, and why it was dropped.</li>
            <li>
              Move the <strong>entropy bonus coefficient</strong> while paused: the token view re-shapes the step at once, marked as a preview.
            </li>
            <li>
              Pick a token right after a tool result and press <strong>Resample from here</strong>: what the policy writes from that point, and how
              often it still gets the answer.
            </li>
            <li>
              Press <strong>Start</strong> (or <kbd>Space</kbd>) and watch the curves; <strong>Add a chart</strong> charts any metric below.
            </li>
          </ol>
        </div>
        <div className="guide-glossary-box">
          <h3>Glossary</h3>
          <Glossary title="Every step" keys={stepKeys} />
          <Glossary title="Held-out evaluations" keys={evaluationKeys} />
        </div>
      </div>
    </section>
  );
}
