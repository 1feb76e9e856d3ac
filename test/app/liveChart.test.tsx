// @vitest-environment jsdom
// The live chart's geometry, checked against positions worked out by hand: a 360 x 190 chart
// (the width before measuring) has its plot at x 44..348 and y 14..166.

import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { LiveChart, nearestRow, type LiveChartProps } from '../../src/app/panels/LiveChart';

afterEach(cleanup);

const percent = (value: number) => `${Math.round(100 * value)}%`;

function props(overrides: Partial<LiveChartProps> = {}): LiveChartProps {
  return {
    rows: [
      { step: 1, a: 0, h: null, r: 0 },
      { step: 2, a: 0.25, h: null, r: 0.25 },
      { step: 3, a: 0.5, h: 0.5, r: 0.5 },
      { step: 4, a: null, h: null, r: 0.5 },
      { step: 5, a: 1, h: null, r: 0.5 },
    ],
    series: [
      { key: 'a', name: 'series a', color: '#0072b2' },
      { key: 'h', name: 'held-out h', color: '#d55e00', sparse: true },
    ],
    x: { domain: [1, 5], ticks: [1, 2, 3, 4, 5] },
    left: { domain: [0, 1], ticks: [0, 0.5, 1], format: percent },
    marks: [],
    viewedStep: null,
    height: 190,
    ...overrides,
  };
}

/** The (x, y) points of an SVG path's M and L commands, and how many separate runs it has. */
function pathPoints(path: Element): { points: number[][]; runs: number } {
  const d = path.getAttribute('d') ?? '';
  const points = [...d.matchAll(/[ML](-?[\d.]+),(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  return { points, runs: (d.match(/M/g) ?? []).length };
}

function expectPoints(actual: number[][], expected: number[][]) {
  expect(actual).toHaveLength(expected.length);
  actual.forEach(([x, y], i) => {
    expect(x).toBeCloseTo(expected[i][0], 6);
    expect(y).toBeCloseTo(expected[i][1], 6);
  });
}

describe('LiveChart', () => {
  it('places each value at x = 44 + (step - 1) / 4 * 304 and y = 166 - value * 152, with a gap where a value is missing', () => {
    const { container } = render(<LiveChart {...props()} />);
    const [line, sparse] = [...container.querySelectorAll('path.curve-line')];
    const drawn = pathPoints(line);
    expectPoints(drawn.points, [
      [44, 166],
      [120, 128],
      [196, 90],
      [348, 14],
    ]);
    expect(drawn.runs).toBe(2); // step 4 has no value: the line breaks there
    // A sparse series is joined across its missing steps and dotted at its values.
    expectPoints(pathPoints(sparse).points, [[196, 90]]);
    const dots = [...container.querySelectorAll('circle')].map((c) => [Number(c.getAttribute('cx')), Number(c.getAttribute('cy'))]);
    expectPoints(dots, [[196, 90]]);
  });

  it('puts a right-axis series on its own scale and its tick labels on the right', () => {
    const right = { domain: [0, 0.5] as [number, number], ticks: [0, 0.25, 0.5], format: percent };
    const series = [{ key: 'r', name: 'right r', color: '#e69f00', axis: 'right' as const }];
    const { container } = render(<LiveChart {...props({ series, right })} />);
    // With a right axis the plot ends at 360 - 40 = 320: x = 44 + (step - 1) / 4 * 276; y = 166 - r / 0.5 * 152.
    expectPoints(pathPoints(container.querySelector('path.curve-line')!).points, [
      [44, 166],
      [113, 90],
      [182, 14],
      [251, 14],
      [320, 14],
    ]);
    const labels = [...container.querySelectorAll('.chart-ticks text')].map((t) => t.textContent);
    expect(labels).toEqual(['1', '2', '3', '4', '5', '0%', '50%', '100%', '0%', '25%', '50%']);
  });

  it('draws a change mark with its label beside it, in its lane', () => {
    const marks = [{ step: 4, label: 'lr 1 → 2', lane: 1, leftOfLine: false }];
    const { container } = render(<LiveChart {...props({ marks })} />);
    const line = container.querySelector('.curve-mark line')!;
    expect([line.getAttribute('x1'), line.getAttribute('y1'), line.getAttribute('y2')]).toEqual(['272', '14', '166']);
    const label = container.querySelector('.curve-mark text')!;
    expect(label.textContent).toBe('lr 1 → 2');
    expect([label.getAttribute('x'), label.getAttribute('y'), label.getAttribute('text-anchor')]).toEqual(['275', '34', 'start']);
  });

  it('names the values at the hovered step, nearest to the pointer', () => {
    const { container } = render(<LiveChart {...props()} />);
    const overlay = container.querySelector('rect.chart-hover')!;
    overlay.getBoundingClientRect = () => ({ left: 44, width: 304, top: 14, height: 152, right: 348, bottom: 166, x: 44, y: 14, toJSON: () => ({}) });
    // 60% across the plot is step 3.4: the nearest row is step 3.
    fireEvent.mouseMove(overlay, { clientX: 44 + 0.6 * 304, clientY: 50 });
    expect(screen.getByRole('tooltip').textContent).toBe('step 3series a: 50%held-out h: 50%');
    // Step 4.1: the nearest row is step 4, where neither series has a value (the line's gap).
    fireEvent.mouseMove(overlay, { clientX: 44 + 0.775 * 304, clientY: 50 });
    expect(screen.getByRole('tooltip').textContent).toBe('step 4');
    fireEvent.mouseLeave(overlay);
    expect(screen.queryByRole('tooltip')).toBeNull();
  });

  it('moves its readout with the keyboard when focused, and keeps the arrows from the page', () => {
    render(<LiveChart {...props()} />);
    const chart = screen.getByRole('img');
    expect(chart.getAttribute('tabindex')).toBe('0');
    const press = (key: string) => fireEvent.keyDown(chart, { key }); // false when the chart took the key
    expect(press('ArrowLeft')).toBe(false); // from none, ← starts at the latest step
    expect(screen.getByRole('tooltip').textContent).toBe('step 5series a: 100%');
    press('ArrowLeft');
    expect(screen.getByRole('tooltip').textContent).toBe('step 4');
    press('Home');
    expect(screen.getByRole('tooltip').textContent).toBe('step 1series a: 0%');
    press('ArrowLeft'); // stays at the first
    expect(screen.getByRole('tooltip').textContent).toBe('step 1series a: 0%');
    press('End');
    expect(screen.getByRole('tooltip').textContent).toBe('step 5series a: 100%');
    expect(press('Escape')).toBe(false);
    expect(screen.queryByRole('tooltip')).toBeNull();
    expect(press('Escape')).toBe(true); // nothing to clear: Esc is left to the page
    expect(press('j')).toBe(true);
    press('ArrowRight'); // from none, → starts at the first step
    expect(screen.getByRole('tooltip').textContent).toBe('step 1series a: 0%');
    fireEvent.blur(chart);
    expect(screen.queryByRole('tooltip')).toBeNull();
  });

  it('has the latest values in its accessible name', () => {
    render(<LiveChart {...props()} />);
    expect(screen.getByRole('img').getAttribute('aria-label')).toBe('Latest, step 5: series a 100%');
    cleanup();
    render(<LiveChart {...props({ rows: [] })} />);
    expect(screen.getByRole('img').getAttribute('aria-label')).toBe('No steps yet');
  });
});

describe('nearestRow', () => {
  const rows = [{ step: 1 }, { step: 3 }, { step: 10 }];
  it('finds the row whose step is nearest, the earlier one on a tie', () => {
    expect(nearestRow(rows, 0)).toBe(0);
    expect(nearestRow(rows, 2)).toBe(0); // 1 and 3 are both 1 away
    expect(nearestRow(rows, 2.1)).toBe(1);
    expect(nearestRow(rows, 6.5)).toBe(1); // 3 and 10 are both 3.5 away
    expect(nearestRow(rows, 7)).toBe(2);
    expect(nearestRow(rows, 100)).toBe(2);
    expect(nearestRow([{ step: 4 }], 1)).toBe(0);
  });
});
