// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import {
  PALETTE,
  barChartWithIntervals,
  escapeXml,
  lineChartWithBands,
  niceDomain,
  niceTicks,
  sweepChart,
} from '../../src/experiment/svg';

// Layout the expected pixels below are derived from (src/experiment/svg.ts): a 640 x 400 document,
// margins top 40, right 24, bottom 56, left 64, plus 140 on the right for the line chart's legend.

/** Parses with jsdom's XML parser and fails the test on any well-formedness error. */
function parse(svg: string): Document {
  const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
  expect(doc.getElementsByTagName('parsererror')).toHaveLength(0);
  expect(doc.documentElement.namespaceURI).toBe('http://www.w3.org/2000/svg');
  return doc;
}

const numbers = (points: string) => points.trim().split(/[\s,]+/).map(Number);

const flat = (mean: number, xs = [0, 10]) => xs.map((x) => ({ x, mean, low: mean - 0.1, high: mean + 0.1 }));

describe('niceDomain', () => {
  it('spans values a rounding error apart as if they were equal (a smoothed copy of a constant series)', () => {
    const value = 1.8449229002;
    const next = value + 2 * Number.EPSILON * value; // the next float or two up
    expect(niceDomain(value, next, 4)).toEqual(niceDomain(value, value, 4));
    const { domain } = niceDomain(value, next, 4);
    expect(domain[0]).toBeLessThan(domain[1]);
  });
});

describe('niceTicks', () => {
  it('steps by 1, 2 or 5 x 10^k without float noise', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]); // span 1 / 5 = 0.2 = 2 x 10^-1
    expect(niceTicks(0, 0.3, 5)).toEqual([0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]); // 0.06 -> nearest nice 0.05
    expect(niceTicks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]); // 100 / 5 = 20
    expect(niceTicks(-3, 1234, 5)).toEqual([0, 200, 400, 600, 800, 1000, 1200]); // 1237 / 5 = 247 -> 200
    expect(niceTicks(2, 2, 5)).toEqual([2]);
  });
});

describe('escapeXml', () => {
  it('escapes the five special characters', () => {
    expect(escapeXml(`a<b & "c" > 'd'`)).toBe('a&lt;b &amp; &quot;c&quot; &gt; &apos;d&apos;');
  });
});

describe('the parser check', () => {
  it('does catch malformed XML', () => {
    const doc = new DOMParser().parseFromString('<svg xmlns="http://www.w3.org/2000/svg"><text>a<b</text></svg>', 'image/svg+xml');
    expect(doc.getElementsByTagName('parsererror').length).toBeGreaterThan(0);
  });
});

describe('lineChartWithBands', () => {
  const title = `a<b & "c"`;
  const chart = () =>
    lineChartWithBands({
      title,
      xLabel: 'step',
      yLabel: 'success rate',
      yDomain: [0, 1],
      series: [
        { name: 'TAO-RL', points: flat(0.5) },
        { name: "Cheng's", points: flat(0.3) },
        { name: 'n=1 seed', points: [{ x: 5, mean: 0.2, low: -Infinity, high: Infinity }] },
      ],
    });

  it('is a well-formed standalone SVG with the title escaped', () => {
    const svg = chart();
    const doc = parse(svg);
    expect(svg).toContain('a&lt;b &amp; &quot;c&quot;');
    expect(svg).toContain('Cheng&apos;s');
    expect(doc.getElementsByTagName('title')[0].textContent).toBe(title);
    expect([...doc.getElementsByTagName('text')].map((t) => t.textContent)).toEqual(
      expect.arrayContaining([title, 'step', 'success rate', 'TAO-RL', "Cheng's", 'n=1 seed']),
    );
    expect(doc.querySelector('rect')?.getAttribute('fill')).toBe('#ffffff'); // background first
    expect(svg).not.toMatch(/<script|@import|url\(/);
  });

  it('draws one mean polyline and one band per series, coloured in palette order', () => {
    const doc = parse(chart());
    const lines = [...doc.querySelectorAll('polyline.mean')];
    expect(lines).toHaveLength(3);
    expect(doc.querySelectorAll('polygon.band')).toHaveLength(3);
    expect(lines.map((l) => l.getAttribute('stroke'))).toEqual(PALETTE.slice(0, 3));
    expect(doc.querySelectorAll('rect.legend-swatch')).toHaveLength(3);
  });

  it('puts mean 0.5 on a [0, 1] domain at the vertical middle of the plot area', () => {
    const doc = parse(chart());
    // Plot area: y from 40 to 400 - 56 = 344, so 0.5 sits at 344 - 0.5 * 304 = 192.
    // x from 64 to 640 - 24 - 140 = 476; the x domain [0, 10] is already nice (step 2).
    expect(numbers(doc.querySelector('polyline.mean')!.getAttribute('points')!)).toEqual([64, 192, 476, 192]);
    // Its band from 0.4 to 0.6: y = 344 - 0.6 * 304 = 161.6 and 344 - 0.4 * 304 = 222.4.
    expect(numbers(doc.querySelector('polygon.band')!.getAttribute('points')!)).toEqual([
      64, 161.6, 476, 161.6, 476, 222.4, 64, 222.4,
    ]);
  });

  it('clips an infinite band to the y domain', () => {
    const doc = parse(chart());
    // The n=1 point at x = 5 (64 + 0.5 * 412 = 270) spans the whole plot height, 40 (y = 1) to 344 (y = 0).
    expect(numbers(doc.querySelectorAll('polygon.band')[2].getAttribute('points')!)).toEqual([270, 40, 270, 344]);
  });

  it('is deterministic', () => {
    expect(chart()).toBe(chart());
  });
});

describe('barChartWithIntervals', () => {
  const bars = (labels: string[]) => labels.map((label) => ({ label, mean: 0.5, low: 0.4, high: 0.6 }));

  it('draws one bar and one whisker per condition, labels under the bars', () => {
    const doc = parse(barChartWithIntervals({ title: 'final', yLabel: 'success', bars: bars(['a', 'b', 'c & d']) }));
    expect(doc.querySelectorAll('rect.bar')).toHaveLength(3);
    expect(doc.querySelectorAll('path.whisker')).toHaveLength(3);
    const labels = [...doc.getElementsByTagName('text')].filter((t) => ['a', 'b', 'c & d'].includes(t.textContent!));
    expect(labels).toHaveLength(3);
    expect(labels.every((t) => !t.hasAttribute('transform'))).toBe(true);
  });

  it('puts a bar of mean 0.5 on [0, 1] half-way up the plot area', () => {
    const doc = parse(barChartWithIntervals({ title: 't', yLabel: 'y', yDomain: [0, 1], bars: bars(['only']) }));
    const bar = doc.querySelector('rect.bar')!;
    // y: 344 - 0.5 * 304 = 192, height 344 - 192 = 152.
    // x: one slot of 640 - 24 - 64 = 552 px, bar 0.6 * 552 = 331.2 wide, centred at 64 + 276 = 340 -> 174.4.
    expect(['x', 'y', 'width', 'height'].map((a) => Number(bar.getAttribute(a)))).toEqual([174.4, 192, 331.2, 152]);
  });

  it('slants labels that are wider than their slot', () => {
    const labels = Array.from({ length: 12 }, (_, i) => `condition ${i} with a long name`);
    const doc = parse(barChartWithIntervals({ title: 't', yLabel: 'y', bars: bars(labels) }));
    expect(doc.querySelectorAll('rect.bar')).toHaveLength(12);
    // 12 slots of 552 / 12 = 46 px, each label 28 chars x 7 px = 196 px wide: all slanted.
    const slanted = [...doc.getElementsByTagName('text')].filter((t) => t.getAttribute('transform')?.startsWith('rotate(-45'));
    expect(slanted).toHaveLength(12);
  });
});

describe('sweepChart', () => {
  const points = [0, 0.01, 0.1, 1].map((x) => ({ x, mean: 0.5, low: 0.4, high: 0.6 }));

  it('places x = 0 in its own slot left of a break on a log axis', () => {
    const doc = parse(sweepChart({ title: 'bonus sweep', xLabel: 'bonus weight', yLabel: 'success', points, logX: true }));
    // x range 64 + 16 = 80 to 616 - 16 = 600 (inset). Decades -2..0 plus the zero slot at -3:
    // 520 px / 3 decades = 173.33 px each, so 0 -> 80, 0.01 -> 253.33, 0.1 -> 426.67, 1 -> 600.
    const cx = [...doc.querySelectorAll('circle.point')].map((c) => Number(c.getAttribute('cx')));
    expect(cx).toEqual([80, 253.33, 426.67, 600]);
    expect(doc.querySelectorAll('path.axis-break')).toHaveLength(1);
    const labels = [...doc.getElementsByTagName('text')].map((t) => t.textContent);
    expect(labels).toEqual(expect.arrayContaining(['0', '0.01', '0.1', '1']));
    expect(doc.querySelectorAll('polyline.mean')).toHaveLength(1);
    expect(doc.querySelectorAll('path.whisker')).toHaveLength(4);
  });

  it('has no break without a zero, and a linear axis without logX', () => {
    const positive = sweepChart({ title: 't', xLabel: 'x', yLabel: 'y', points: points.slice(1), logX: true });
    expect(parse(positive).querySelectorAll('path.axis-break')).toHaveLength(0);
    const linear = parse(sweepChart({ title: 't', xLabel: 'x', yLabel: 'y', points }));
    // Domain [0, 1] niced with step 0.2 over 80..600: 0.01 -> 80 + 0.01 * 520 = 85.2.
    const cx = [...linear.querySelectorAll('circle.point')].map((c) => Number(c.getAttribute('cx')));
    expect(cx).toEqual([80, 85.2, 132, 600]); // 0.1 -> 80 + 52 = 132
  });

  it('rejects negative x on a log axis', () => {
    expect(() => sweepChart({ title: 't', xLabel: 'x', yLabel: 'y', points: flat(0.5, [-1, 1]), logX: true })).toThrow(
      /x >= 0/,
    );
  });
});
