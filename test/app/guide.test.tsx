// @vitest-environment jsdom
// "What am I looking at?": opened by the header's button and once by itself on a first visit,
// with the paper's link, a guided first run and a glossary of every metric of the registry; and
// the curves' titles and legends say the same meanings on hover.

import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Curves } from '../../src/app/panels/Curves';
import { Guide, GUIDE_SEEN_KEY, GuideButton, openOnFirstVisit, useGuide } from '../../src/app/panels/Guide';
import { initialConfig, useWorkbench } from '../../src/app/store';
import { METRIC_KEYS, METRICS } from '../../src/core/metrics';

function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> & { values: Map<string, string> } {
  const values = new Map<string, string>();
  return { values, getItem: (key) => values.get(key) ?? null, setItem: (key, value) => void values.set(key, value) };
}

beforeEach(() => {
  useGuide.setState({ open: false });
  useWorkbench.setState({ config: initialConfig(), reports: [], evaluations: [], changes: [] });
});

afterEach(cleanup);

describe('the guide', () => {
  it('opens by itself on a first visit only', () => {
    const storage = memoryStorage();
    openOnFirstVisit(storage);
    expect(useGuide.getState().open).toBe(true);
    expect(storage.values.has(GUIDE_SEEN_KEY)).toBe(true);
    useGuide.setState({ open: false });
    openOnFirstVisit(storage);
    expect(useGuide.getState().open).toBe(false);
  });

  it('opens from the header button, closes with Close or Esc', () => {
    render(
      <>
        <GuideButton />
        <Guide />
      </>,
    );
    expect(screen.queryByRole('dialog')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'What am I looking at?' }));
    expect(screen.getByRole('dialog', { name: 'What am I looking at?' })).toBeTruthy();
    fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByRole('dialog')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'What am I looking at?' }));
    fireEvent.click(screen.getByRole('button', { name: 'Close (Esc)' }));
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('explains the task, the step, the filter and the bonus, links the paper and guides a first run', () => {
    act(() => useGuide.setState({ open: true }));
    render(<Guide />);
    const dialog = screen.getByRole('dialog', { name: 'What am I looking at?' });
    expect(within(dialog).getByRole('link', { name: /arXiv 2606\.03762/ }).getAttribute('href')).toBe('https://arxiv.org/abs/2606.03762');
    for (const words of ['One RL step', 'The dual filter', 'The bonus', 'group of 8']) expect(dialog.textContent).toContain(words);
    const steps = within(dialog).getAllByRole('listitem').map((item) => item.textContent);
    expect(steps[0]).toMatch(/^Press Step/);
    expect(steps.some((step) => /discarded/.test(step ?? ''))).toBe(true);
    expect(steps.some((step) => /coefficient/.test(step ?? ''))).toBe(true);
  });

  it('has a glossary entry for every metric of the registry, with its meaning', () => {
    act(() => useGuide.setState({ open: true }));
    render(<Guide />);
    const terms = screen.getAllByRole('term');
    expect(terms).toHaveLength(METRIC_KEYS.length);
    for (const key of METRIC_KEYS) {
      const term = terms.find((t) => within(t).queryByText(key, { selector: 'code' }));
      expect(term, key).toBeTruthy();
      expect(term!.nextElementSibling!.textContent).toBe(METRICS[key].meaning);
    }
  });
});

describe('hovering the curves', () => {
  it('a chart title names each metric with its meaning; a legend label its meaning', () => {
    render(<Curves />);
    const title = screen.getByRole('heading', { name: 'Reward and accuracy' });
    expect(title.getAttribute('title')).toContain(`${METRICS['critic/score/mean'].label}: ${METRICS['critic/score/mean'].meaning}`);
    const legend = screen.getAllByText(METRICS['critic/score/mean'].label, { selector: 'li' })[0];
    expect(legend.getAttribute('title')).toBe(METRICS['critic/score/mean'].meaning);
  });
});
