// The page's colours, light and dark, in one place: CSS variables the stylesheets and the charts
// read (var(--ink), var(--chart-axis), ...), and the dark overrides of the rules that name a light
// colour of their own. Dark follows the system setting unless the header's toggle picks one; the
// choice is kept in this browser. test/app/theme.test.ts checks every pair of colours that must
// be read against each other.

import type { ReactElement } from 'react';
import { create } from 'zustand';

export interface Palette {
  page: string;
  paper: string;
  ink: string;
  muted: string;
  line: string;
  accent: string;
  /** Chips and quiet boxes in the header. */
  surface: string;
  buttonTop: string;
  buttonBottom: string;
  buttonBorder: string;
  buttonHover: string;
  disabledInk: string;
  /** Chart axes and tick labels, grid lines, labels drawn in a chart, the hover cursor, live-change marks. */
  chartAxis: string;
  chartGrid: string;
  chartInk: string;
  chartCursor: string;
  chartMark: string;
  hoverBg: string;
  hoverBorder: string;
  /** Trajectory cards: the frame of a kept one, the card, a discarded one's card and its hatching. */
  cardFrame: string;
  card: string;
  cardDiscarded: string;
  hatchA: string;
  hatchB: string;
  ok: string;
  fail: string;
  warnInk: string;
  warnBg: string;
  warnBorder: string;
  failInk: string;
  failBg: string;
  failBorder: string;
  /** Tool-result tokens: forced by the environment, set apart from the entropy scale. */
  toolBg: string;
  toolInk: string;
  toolOutline: string;
  selectedBg: string;
  /** The token view's advantage before shaping. */
  advantageBefore: string;
}

export const LIGHT: Palette = {
  page: '#f4f4f6',
  paper: '#ffffff',
  ink: '#1d1d1f',
  muted: '#5a5a5f',
  line: '#d6d6da',
  accent: '#1f5fbf',
  surface: '#f5f7fa',
  buttonTop: '#ffffff',
  buttonBottom: '#ececf0',
  buttonBorder: '#b8b8be',
  buttonHover: '#8d8d95',
  disabledInk: '#9a9aa0',
  chartAxis: '#666666',
  chartGrid: '#e4e4e4',
  chartInk: '#333333',
  chartCursor: '#bbbbbb',
  chartMark: '#555555',
  hoverBg: '#ffffff',
  hoverBorder: '#cccccc',
  cardFrame: '#c9c9c9',
  card: '#ffffff',
  cardDiscarded: '#eeeeee',
  hatchA: '#9a9a9a',
  hatchB: '#e4e4e4',
  ok: '#187a38', // 4.7:1 on a discarded card's grey (the page's old #1b7f3b was 4.4)
  fail: '#b3261e',
  warnInk: '#7a5200',
  warnBg: '#fdf7e8',
  warnBorder: '#e0c080',
  failInk: '#7a1010',
  failBg: '#fdf0f0',
  failBorder: '#e0a0a0',
  toolBg: '#ffffff',
  toolInk: '#5a3a00',
  toolOutline: '#a0712b',
  selectedBg: '#eef4fc',
  advantageBefore: '#6b6b6b',
};

export const DARK: Palette = {
  page: '#15161a',
  paper: '#1e1f24',
  ink: '#e8e8ec',
  muted: '#a9abb3',
  line: '#3d3f47',
  accent: '#6ea8ff',
  surface: '#272930',
  buttonTop: '#33353d',
  buttonBottom: '#2a2c33',
  buttonBorder: '#5a5d66',
  buttonHover: '#8a8d96',
  disabledInk: '#6f727a',
  chartAxis: '#a3a6ae',
  chartGrid: '#33353c',
  chartInk: '#d8d9de',
  chartCursor: '#70737b',
  chartMark: '#b0b3bb',
  hoverBg: '#26282e',
  hoverBorder: '#4d5058',
  cardFrame: '#4d5058',
  card: '#23252b',
  cardDiscarded: '#2e3035',
  hatchA: '#8c8f98',
  hatchB: '#3a3c43',
  ok: '#5cc47a',
  fail: '#ff8a80',
  warnInk: '#e8b84a',
  warnBg: '#33290f',
  warnBorder: '#7a6222',
  failInk: '#ffb4ab',
  failBg: '#3b1e1e',
  failBorder: '#8a3b3b',
  toolBg: '#2b2720',
  toolInk: '#f0c987',
  toolOutline: '#b58e4e',
  selectedBg: '#1f2d44',
  advantageBefore: '#9c9c9c',
};

/** "chartAxis" -> "--chart-axis". */
function variableName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function variables(palette: Palette): string {
  return Object.entries(palette)
    .map(([key, value]) => `${variableName(key)}:${value}`)
    .join(';');
}

/** `var(--chart-axis, #666666)`: a palette colour where a light fallback helps (SVG attributes, inline styles). */
export function themeColor(key: keyof Palette): string {
  return `var(${variableName(key)}, ${LIGHT[key]})`;
}

// The rules of app.css and panels.css that name a light colour of their own, said with the variables.
const DARK_RULES = `
button { border-color: var(--button-border); background: linear-gradient(var(--button-top), var(--button-bottom)); color: var(--ink); }
button:hover:not(:disabled) { border-color: var(--button-hover); }
button:disabled { color: var(--disabled-ink); }
a { color: var(--accent); }
.chart-hover-box { background: var(--hover-bg); border-color: var(--hover-border); color: var(--ink); box-shadow: 0 1px 3px rgba(0, 0, 0, 0.5); }
.chart-hover-title { color: var(--ink); }
.curve-mark-label { stroke: var(--paper); }
.timeline-position.metrics-only, .wb-fallback, .field-pending { color: var(--warn-ink); }
.results .error, .field-problem { color: var(--fail); }
.run-row[aria-current='true'] { background: var(--selected-bg); }
.runs-notice, .controls-pending { background: var(--warn-bg); border-color: var(--warn-border); }
.wb-header { border-bottom-color: var(--line); }
.wb-backend { border-color: var(--line); background: var(--surface); }
.wb-switch, .wb-stat, .wb-status-message, .controls-heading, .field-unit, .field-hint { color: var(--muted); }
.wb-kernels { border-color: var(--button-border); color: var(--muted); }
.wb-kernels-fused { border-color: var(--ok); color: var(--ok); }
.wb-stat-value, .controls-group legend { color: var(--ink); }
.wb-failure { border-color: var(--fail-border); background: var(--fail-bg); color: var(--fail-ink); }
.controls-group { border-color: var(--line); }
.field-number[aria-invalid='true'] { background: var(--fail-bg); }
.tao-tokens > span[data-kind='tool'] { background: var(--tool-bg); color: var(--tool-ink); outline-color: var(--tool-outline); }
.tao-tool-swatch { background: var(--tool-bg) !important; color: var(--tool-ink) !important; outline-color: var(--tool-outline) !important; }
`;

/** The page's theme stylesheet: the light palette by default, the dark one under data-theme="dark". */
export function themeCss(): string {
  const dark = DARK_RULES.trim()
    .split('\n')
    .map((rule) => rule.replace(/^([^{]+)\{/, (_, selectors: string) => `${selectors.split(',').map((s) => `:root[data-theme='dark'] ${s.trim()}`).join(', ')} {`))
    .join('\n');
  return `:root{${variables(LIGHT)};color-scheme:light}\n:root[data-theme='dark']{${variables(DARK)};color-scheme:dark;color:var(--ink);background:var(--page)}\n${dark}\n`;
}

/** The theme stylesheet, hoisted into the head once (React 19 dedupes it by href). */
export function ThemeStyles(): ReactElement {
  return (
    <style href="tao-theme" precedence="high">
      {themeCss()}
    </style>
  );
}

// ---------------------------------------------------------------------------------------------
// Which theme shows

export type ThemeChoice = 'system' | 'light' | 'dark';
export const THEME_KEY = 'tao-rl-workbench:theme';

function storedChoice(): ThemeChoice {
  try {
    const stored = globalThis.localStorage?.getItem(THEME_KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  } catch {
    return 'system';
  }
}

function systemDark(): boolean {
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches;
}

/** The theme a choice shows now. */
export function resolvedTheme(choice: ThemeChoice, prefersDark = systemDark()): 'light' | 'dark' {
  return choice === 'system' ? (prefersDark ? 'dark' : 'light') : choice;
}

export const useTheme = create<{ choice: ThemeChoice; shown: 'light' | 'dark'; choose: (choice: ThemeChoice) => void }>()((set) => ({
  choice: 'system',
  shown: 'light',
  choose: (choice) => {
    try {
      if (choice === 'system') globalThis.localStorage?.removeItem(THEME_KEY);
      else globalThis.localStorage?.setItem(THEME_KEY, choice);
    } catch {
      // not kept across visits where storage is refused
    }
    set({ choice, shown: resolvedTheme(choice) });
  },
}));

/**
 * Shows the stored choice (or the system's) on `root` and follows it: the store, and the
 * system setting while the choice is 'system'. Returns a stop.
 */
export function followTheme(root: HTMLElement = document.documentElement): () => void {
  const show = () => {
    root.dataset.theme = useTheme.getState().shown;
  };
  useTheme.setState({ choice: storedChoice(), shown: resolvedTheme(storedChoice()) });
  show();
  const unsubscribe = useTheme.subscribe(show);
  const query = typeof matchMedia === 'function' ? matchMedia('(prefers-color-scheme: dark)') : null;
  const onSystemChange = () => {
    const { choice } = useTheme.getState();
    if (choice === 'system') useTheme.setState({ shown: resolvedTheme('system') });
  };
  query?.addEventListener('change', onSystemChange);
  return () => {
    unsubscribe();
    query?.removeEventListener('change', onSystemChange);
  };
}

/** The header's theme switch. */
export function ThemeToggle(): ReactElement {
  const choice = useTheme((state) => state.choice);
  const choose = useTheme((state) => state.choose);
  return (
    <label className="wb-switch">
      Theme{' '}
      <select value={choice} aria-label="Colour theme" onChange={(event) => choose(event.target.value as ThemeChoice)}>
        <option value="system">as the system</option>
        <option value="light">light</option>
        <option value="dark">dark</option>
      </select>
    </label>
  );
}
