// @vitest-environment jsdom
// Light and dark themes (src/app/theme.tsx): every pair of colours that must be read against each
// other passes its WCAG 2 contrast ratio in both palettes (text 4.5:1, lines and marks 3:1), the
// entropy scale's tokens stay readable, the hatching of discarded trajectories stays visible; and
// the theme follows the system until the toggle picks one.

import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENTROPY_MAX, entropyColor, entropyTextColor, TOOL_RESULT_STYLE } from '../../src/app/entropyColor';
import { ADDED_CHART_COLORS } from '../../src/app/panels/AddedCharts';
import { CHARTS } from '../../src/app/panels/Curves';
import { AFTER_COLOR, BONUS_COLOR } from '../../src/app/panels/TokenView';
import { DARK, followTheme, LIGHT, resolvedTheme, THEME_KEY, themeCss, ThemeToggle, useTheme, type Palette } from '../../src/app/theme';

/** WCAG 2 relative luminance of #rrggbb, computed here from the definition. */
function luminance(hex: string): number {
  const channels = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  const [r, g, b] = channels.map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
}

const THEMES: [string, Palette][] = [
  ['light', LIGHT],
  ['dark', DARK],
];

describe('contrast', () => {
  it('is computed as WCAG defines it', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 6);
    // #777777: the well-known grey just under 4.5:1 on white (4.48).
    expect(contrast('#777777', '#ffffff')).toBeCloseTo(4.48, 2);
  });

  it.each(THEMES)('%s: text is readable on every background it sits on', (_, p) => {
    for (const background of [p.page, p.paper, p.card, p.cardDiscarded, p.surface, p.hoverBg, p.selectedBg]) {
      expect(contrast(p.ink, background), `ink on ${background}`).toBeGreaterThanOrEqual(7);
    }
    for (const [ink, background] of [
      [p.muted, p.paper],
      [p.muted, p.card],
      [p.accent, p.paper],
      [p.ok, p.card],
      [p.ok, p.cardDiscarded],
      [p.fail, p.card],
      [p.fail, p.cardDiscarded],
      [p.warnInk, p.warnBg],
      [p.warnInk, p.paper],
      [p.failInk, p.failBg],
      [p.toolInk, p.toolBg],
      [p.ink, p.warnBg],
    ]) {
      expect(contrast(ink, background), `${ink} on ${background}`).toBeGreaterThanOrEqual(4.5);
    }
  });

  it.each(THEMES)('%s: chart axes, labels and marks stand out from the chart, the grid faintly', (_, p) => {
    expect(contrast(p.chartAxis, p.paper)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(p.chartInk, p.paper)).toBeGreaterThanOrEqual(4.5);
    expect(contrast(p.chartMark, p.paper)).toBeGreaterThanOrEqual(3);
    expect(contrast(p.advantageBefore, p.paper)).toBeGreaterThanOrEqual(3);
    expect(contrast(p.toolOutline, p.toolBg)).toBeGreaterThanOrEqual(3);
    expect(contrast(p.chartGrid, p.paper)).toBeGreaterThanOrEqual(1.15);
    expect(contrast(p.chartGrid, p.paper)).toBeLessThan(contrast(p.chartAxis, p.paper));
  });

  it.each(THEMES)('%s: the hatching of a discarded trajectory shows, against its card and the page', (_, p) => {
    expect(contrast(p.hatchA, p.hatchB)).toBeGreaterThanOrEqual(2.2);
    expect(contrast(p.hatchA, p.paper)).toBeGreaterThanOrEqual(2);
    expect(contrast(p.hatchA, p.cardDiscarded)).toBeGreaterThanOrEqual(2);
  });

  it('dark: every series colour of the curves, the added charts and the token view is a visible line (3:1)', () => {
    const series = [...new Set([...CHARTS.flatMap((chart) => chart.series.map((line) => line.color)), ...ADDED_CHART_COLORS, AFTER_COLOR, BONUS_COLOR])];
    for (const color of series) expect(contrast(color, DARK.paper), color).toBeGreaterThanOrEqual(3);
  });

  it('the entropy scale: every token\'s text on its colour, in either theme, and its dots outlined visibly', () => {
    for (let i = 0; i <= 64; i++) {
      const entropy = (i / 64) * ENTROPY_MAX;
      expect(contrast(entropyTextColor(entropy), entropyColor(entropy)), `${entropy.toFixed(2)} nats`).toBeGreaterThanOrEqual(4.5);
    }
    for (const [, p] of THEMES) expect(contrast(p.chartInk, p.paper)).toBeGreaterThanOrEqual(4.5); // the dots' outline
  });

  it('the tool-result tokens\' own light style is the light palette\'s', () => {
    expect([TOOL_RESULT_STYLE.background, TOOL_RESULT_STYLE.color, TOOL_RESULT_STYLE.outline]).toEqual([LIGHT.toolBg, LIGHT.toolInk, `1px dashed ${LIGHT.toolOutline}`]);
  });
});

describe('the theme shown', () => {
  const matches = { dark: false };
  const listeners: (() => void)[] = [];

  beforeEach(() => {
    localStorage.clear();
    matches.dark = false;
    listeners.length = 0;
    window.matchMedia = ((query: string) => ({
      matches: query.includes('dark') && matches.dark,
      addEventListener: (_: string, listener: () => void) => listeners.push(listener),
      removeEventListener: () => {},
    })) as unknown as typeof window.matchMedia;
  });

  afterEach(cleanup);

  it('defines every variable in both themes', () => {
    const css = themeCss();
    for (const name of ['--ink', '--chart-axis', '--hatch-a', '--tool-ink', '--advantage-before']) {
      expect(css.match(new RegExp(`${name}:`, 'g'))).toHaveLength(2);
    }
    expect(css).toContain(":root[data-theme='dark'] .wb-backend {");
  });

  it('follows the system until the toggle picks one, and keeps the choice', () => {
    expect(resolvedTheme('system', true)).toBe('dark');
    expect(resolvedTheme('light', true)).toBe('light');
    matches.dark = true;
    const stop = followTheme();
    expect(document.documentElement.dataset.theme).toBe('dark');
    matches.dark = false;
    act(() => listeners.forEach((listener) => listener()));
    expect(document.documentElement.dataset.theme).toBe('light');

    render(<ThemeToggle />);
    fireEvent.change(screen.getByLabelText('Colour theme'), { target: { value: 'dark' } });
    expect(document.documentElement.dataset.theme).toBe('dark');
    expect(localStorage.getItem(THEME_KEY)).toBe('dark');
    // The system changing no longer matters.
    matches.dark = false;
    act(() => listeners.forEach((listener) => listener()));
    expect(document.documentElement.dataset.theme).toBe('dark');
    fireEvent.change(screen.getByLabelText('Colour theme'), { target: { value: 'system' } });
    expect(document.documentElement.dataset.theme).toBe('light');
    expect(localStorage.getItem(THEME_KEY)).toBeNull();
    stop();
    expect(useTheme.getState().choice).toBe('system');
  });
});
