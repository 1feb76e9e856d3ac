// One entropy colour scale for the whole page (docs/page.md): the inspector's tokens, the
// token view and the legend all colour an entropy in nats through `entropyColor`, on a fixed
// range so a colour means the same entropy at every step.

import { createElement, type ReactElement } from 'react';
import { EMITTABLE } from '../core/tokenizer';

/**
 * Top of the scale: ln |emittable vocabulary| nats (ln 22 ≈ 3.09), the entropy of a uniform
 * distribution over what the policy may sample (docs/algorithm.md §1), so no token exceeds it.
 */
export const ENTROPY_MAX = Math.log(EMITTABLE.filter(Boolean).length);

/** Viridis (matplotlib, van der Walt & Smith) sampled at 0, 0.1, ..., 1: perceptually uniform, colour-blind safe. */
const VIRIDIS: readonly (readonly [number, number, number])[] = [
  [0x44, 0x01, 0x54],
  [0x48, 0x24, 0x75],
  [0x41, 0x44, 0x87],
  [0x35, 0x5f, 0x8d],
  [0x2a, 0x78, 0x8e],
  [0x21, 0x91, 0x8c],
  [0x22, 0xa8, 0x84],
  [0x44, 0xbf, 0x70],
  [0x7a, 0xd1, 0x51],
  [0xbd, 0xdf, 0x26],
  [0xfd, 0xe7, 0x25],
];

/** Position of an entropy on the scale, in [0, 1] (clamped; NaN counts as 0). */
export function entropyFraction(entropy: number): number {
  if (!(entropy > 0)) return 0;
  return Math.min(1, entropy / ENTROPY_MAX);
}

function viridisRgb(fraction: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, fraction)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  return [0, 1, 2].map((c) => Math.round(a[c] + (b[c] - a[c]) * f)) as [number, number, number];
}

function hex([r, g, b]: readonly number[]): string {
  return `#${[r, g, b].map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

/** WCAG relative luminance of an sRGB colour. */
function luminance(rgb: readonly number[]): number {
  const [r, g, b] = rgb.map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** Background colour of a token with this entropy (nats). */
export function entropyColor(entropy: number): string {
  return hex(viridisRgb(entropyFraction(entropy)));
}

/** Black or white, whichever contrasts more with `entropyColor(entropy)` (WCAG contrast ratio). */
export function entropyTextColor(entropy: number): string {
  const l = luminance(viridisRgb(entropyFraction(entropy)));
  const againstBlack = (l + 0.05) / 0.05;
  const againstWhite = 1.05 / (l + 0.05);
  return againstBlack >= againstWhite ? '#000000' : '#ffffff';
}

/**
 * Steps of the scale as CSS classes: a token carries one class name instead of two inline
 * colours, which keeps a step's thousands of token spans cheap to create. 64 steps of
 * ln 22 / 63 ≈ 0.05 nats are finer than the eye separates on viridis.
 */
export const ENTROPY_STEPS = 64;

/** The step (0 .. ENTROPY_STEPS - 1) of an entropy on the scale. */
export function entropyStep(entropy: number): number {
  return Math.round(entropyFraction(entropy) * (ENTROPY_STEPS - 1));
}

/** The entropy at the centre of a step. */
function stepEntropy(step: number): number {
  return (step / (ENTROPY_STEPS - 1)) * ENTROPY_MAX;
}

/** `.tao-h<step>` rules: background and contrasting text colour of every step of the scale. */
export function entropyStepCss(prefix = 'tao-h'): string {
  return Array.from({ length: ENTROPY_STEPS }, (_, step) => {
    const entropy = stepEntropy(step);
    return `.${prefix}${step}{background:${entropyColor(entropy)};color:${entropyTextColor(entropy)}}`;
  }).join('\n');
}

/** CSS gradient of the whole scale, left = 0 nats, right = ENTROPY_MAX. */
export function entropyGradientCss(direction = 'to right'): string {
  const stops = VIRIDIS.map((rgb, i) => `${hex(rgb)} ${((100 * i) / (VIRIDIS.length - 1)).toFixed(0)}%`);
  return `linear-gradient(${direction}, ${stops.join(', ')})`;
}

/** Tick marks for a legend: whole nats up to the maximum, then the maximum itself. */
export function entropyLegendTicks(): { entropy: number; label: string; fraction: number }[] {
  const ticks = [];
  for (let h = 0; h < ENTROPY_MAX - 0.25; h += 1) ticks.push(h);
  ticks.push(ENTROPY_MAX);
  return ticks.map((h) => ({ entropy: h, label: h.toFixed(h === ENTROPY_MAX ? 2 : 0), fraction: entropyFraction(h) }));
}

/** The scale as a small horizontal legend: gradient bar, ticks in nats, and the tool-result swatch. */
export function EntropyLegend({ width = 200 }: { width?: number }): ReactElement {
  const ticks = entropyLegendTicks();
  return createElement(
    'figure',
    {
      'aria-label': `Token entropy colour scale, 0 to ${ENTROPY_MAX.toFixed(2)} nats (viridis); tool-result tokens outlined and uncoloured: not sampled`,
      style: { margin: 0, display: 'inline-flex', alignItems: 'center', gap: 8, fontSize: 12 },
    },
    createElement('span', null, 'entropy'),
    createElement(
      'span',
      { style: { display: 'inline-block', position: 'relative', width, paddingBottom: 14 } },
      createElement('span', { style: { display: 'block', height: 10, background: entropyGradientCss(), borderRadius: 2 } }),
      ...ticks.map((tick) =>
        createElement(
          'span',
          {
            key: tick.label,
            style: { position: 'absolute', top: 11, left: `${tick.fraction * 100}%`, transform: 'translateX(-50%)', fontSize: 10 },
          },
          tick.label,
        ),
      ),
    ),
    createElement('span', null, 'nats'),
    createElement('span', { className: 'tao-tool-swatch', style: TOOL_RESULT_STYLE }, 'tool result'),
  );
}

/** Tool-result tokens: forced by the environment, not sampled, so never on the entropy scale (dark: theme.tsx). */
export const TOOL_RESULT_STYLE = {
  background: '#ffffff',
  color: '#5a3a00',
  outline: '1px dashed #a0712b',
  outlineOffset: -1,
  fontStyle: 'italic',
} as const;
