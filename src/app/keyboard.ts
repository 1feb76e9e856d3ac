// Keyboard shortcuts (docs/page.md): Space start/pause, `.` one step, ←/→ between steps, j/k between
// trajectories, Enter opens the token view, Esc closes it. Also the step and trajectory moves
// the timeline's buttons share. Handlers read the store when the key arrives, so the hook
// subscribes to nothing and never re-renders the page.

import { useEffect } from 'react';
import type { StepReport } from '../core/trainer';
import { shownReport, useWorkbench } from './store';

/** Index into `reports` of the shown step (the latest when following live); -1 when none. */
export function shownStepIndex(reports: StepReport[], selectedStep: number | null): number {
  if (reports.length === 0) return -1;
  if (selectedStep === null) return reports.length - 1;
  const guess = selectedStep - reports[0].step; // steps are consecutive
  if (reports[guess]?.step === selectedStep) return guess;
  return reports.findIndex((report) => report.step === selectedStep);
}

/** Show the step `delta` places from the shown one, clamped to the run; leaves live mode. */
export function stepBy(delta: number): void {
  const { reports, selectedStep, selectStep } = useWorkbench.getState();
  const index = shownStepIndex(reports, selectedStep);
  if (index < 0) return;
  const target = Math.min(reports.length - 1, Math.max(0, index + delta));
  selectStep(reports[target].step);
}

/**
 * Open the trajectory `delta` places from the open one in the shown step, clamped. With none
 * open, j (+1) opens the first and k (-1) the last.
 */
export function trajectoryBy(delta: number): void {
  const state = useWorkbench.getState();
  const count = shownReport(state)?.trajectories.length ?? 0;
  if (count === 0) return;
  const from = state.selectedTrajectory ?? (delta > 0 ? -1 : count);
  state.selectTrajectory(Math.min(count - 1, Math.max(0, from + delta)));
}

/** A slider (the step timeline): it takes arrow keys itself, and no other keys. */
function isSlider(target: EventTarget | null): boolean {
  return target instanceof HTMLInputElement && target.type === 'range';
}

/** Where typing happens: a shortcut there would eat the user's keystrokes. */
function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (isSlider(target)) return false;
  if (target.closest('input, select, textarea')) return true;
  if ((target as HTMLElement).isContentEditable) return true;
  return target.closest('[contenteditable]:not([contenteditable="false"])') !== null;
}

/** Elements that Space or Enter already activate: the browser's own handling wins. */
function activatesNatively(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest('button, a[href], summary, [role="button"]') !== null;
}

/**
 * The trajectory a focused element stands for, if it carries `data-trajectory-index`
 * (a row of the inspector), else null.
 */
function focusedTrajectory(target: EventTarget | null): number | null {
  if (!(target instanceof Element)) return null;
  const raw = target.closest('[data-trajectory-index]')?.getAttribute('data-trajectory-index');
  const index = raw === undefined || raw === null ? NaN : Number(raw);
  return Number.isInteger(index) && index >= 0 ? index : null;
}

function toggleTraining(): void {
  const { status, start, pause } = useWorkbench.getState();
  if (status === 'running') pause();
  else if (status === 'ready' || status === 'paused') start();
}

function stepOnce(): void {
  const { status, step } = useWorkbench.getState();
  if (status === 'ready' || status === 'paused') step();
}

function openTokenView(target: EventTarget | null): boolean {
  const state = useWorkbench.getState();
  const count = shownReport(state)?.trajectories.length ?? 0;
  const focused = focusedTrajectory(target);
  if (focused !== null && focused < count) {
    state.selectTrajectory(focused);
    return true;
  }
  if (activatesNatively(target)) return false;
  if (state.selectedTrajectory !== null || count === 0) return false;
  state.selectTrajectory(0);
  return true;
}

function closeTokenView(): boolean {
  const { selectedTrajectory, selectTrajectory } = useWorkbench.getState();
  if (selectedTrajectory === null) return false;
  selectTrajectory(null);
  return true;
}

/** Acts on one keydown; returns whether the key was a shortcut here (its default is prevented). */
function handleShortcut(event: KeyboardEvent): boolean {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return false;
  if (isTypingTarget(event.target)) return false;
  switch (event.key) {
    case ' ':
      if (activatesNatively(event.target)) return false;
      if (!event.repeat) toggleTraining();
      return true; // also when repeating: Space would scroll the page
    case '.':
      stepOnce();
      return true;
    case 'ArrowLeft':
    case 'ArrowRight':
      if (isSlider(event.target)) return false;
      stepBy(event.key === 'ArrowLeft' ? -1 : 1);
      return true;
    case 'j':
      trajectoryBy(1);
      return true;
    case 'k':
      trajectoryBy(-1);
      return true;
    case 'Enter':
      return openTokenView(event.target);
    case 'Escape':
      return closeTokenView();
    default:
      return false;
  }
}

/** Installs the page's keyboard shortcuts for as long as the calling component is mounted. */
export function useKeyboardShortcuts(): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (handleShortcut(event)) event.preventDefault();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, []);
}
