// summary.json, summary.md and the plots of an evidence folder, from evals.csv and the comparisons
// its plan named before running: nothing else, so a reader can recompute every number.

import { compare, MEASURES, PRIMARY_MEASURE, rowsByRun, type Comparison, type EvalRow, type Measure } from './evidence';
import type { PlannedComparison } from './plan';
import { meanCI, type MeanCI } from './stats';
import { lineChartWithBands } from './svg';

/** Measures reported beside the primary one (described, not tested). */
export const SECONDARY_MEASURES: Measure[] = [
  'accuracy_final',
  'pass_at_1_final',
  'pass_at_4_final',
  'pass_at_8_final',
  'malformed_call_rate_final',
  'first_post_tool_entropy_final',
];

export interface EvidenceSummary {
  kind: 'evidence';
  condition: string;
  variants: { variant: string; runs: number; measures: Partial<Record<Measure, MeanCI>> }[];
  comparisons: Comparison[];
}

export function evidenceSummary(condition: string, rows: EvalRow[], planned: PlannedComparison[]): EvidenceSummary {
  const runs = rowsByRun(rows);
  const variants = [...runs].map(([variant, byRun]) => {
    const measures: Partial<Record<Measure, MeanCI>> = {};
    for (const measure of [PRIMARY_MEASURE, ...SECONDARY_MEASURES]) {
      const values = [...byRun.values()].map((r) => MEASURES[measure](r)).filter((v): v is number => v !== null && Number.isFinite(v));
      if (values.length > 0) measures[measure] = meanCI(values);
    }
    return { variant, runs: byRun.size, measures };
  });
  return { kind: 'evidence', condition, variants, comparisons: compare(rows, planned, SECONDARY_MEASURES) };
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '∞';
}

/** A probability in points (x100) for accuracy-like measures, raw for entropy. */
function scaled(measure: Measure, value: number): string {
  return measure.includes('entropy') ? fixed(value, 3) : `${value >= 0 ? '+' : ''}${fixed(100 * value, 1)}`;
}

function pText(p: number | null): string {
  if (p === null) return '-';
  return p < 0.001 ? '<.001' : p.toFixed(3).replace(/^0/, '');
}

export function evidenceMarkdown(summary: EvidenceSummary, command?: string): string {
  const lines = [`# Evidence: ${summary.condition}`, ''];
  lines.push(
    `Paired by seed and warm start; differences are variant minus baseline, in points (x100) except entropy (nats); ` +
      `95% t-intervals; p from a two-sided paired permutation test; Holm's correction over the primary comparisons ` +
      `(measure ${PRIMARY_MEASURE}: mean sampled accuracy over the evaluations after step 0). ` +
      `"significant" means p_holm < 0.05; an interval of zero width is "all pairs equal", never significant.`,
    '',
  );
  if (command) lines.push('Command:', '', '```', command, '```', '');
  lines.push('## Primary comparisons', '', '| variant | baseline | n | diff | 95% CI | p | p_holm | verdict |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const c of summary.comparisons.filter((c) => c.primary)) {
    const verdict = c.all_pairs_equal ? 'all pairs equal' : c.significant ? '**significant**' : 'not significant';
    lines.push(
      `| ${c.variant} | ${c.baseline} | ${c.n} | ${scaled(c.measure, c.diff)} | [${scaled(c.measure, c.ci_low)}, ${scaled(c.measure, c.ci_high)}] | ${pText(c.p)} | ${pText(c.p_holm)} | ${verdict} |`,
    );
  }
  lines.push('', '## Secondary measures (descriptive: p unadjusted, nothing is tested here)', '', '| variant | baseline | measure | n | diff | 95% CI | p |', '| --- | --- | --- | --- | --- | --- | --- |');
  for (const c of summary.comparisons.filter((c) => !c.primary)) {
    lines.push(`| ${c.variant} | ${c.baseline} | ${c.measure} | ${c.n} | ${scaled(c.measure, c.diff)} | [${scaled(c.measure, c.ci_low)}, ${scaled(c.measure, c.ci_high)}] | ${pText(c.p)} |`);
  }
  const measures = [PRIMARY_MEASURE, ...SECONDARY_MEASURES];
  lines.push('', '## Per variant (mean ± 95% half-width over runs)', '', `| variant | runs | ${measures.join(' | ')} |`, `| --- | --- | ${measures.map(() => '---').join(' | ')} |`);
  for (const v of summary.variants) {
    const cells = measures.map((m) => {
      const ci = v.measures[m];
      return ci ? `${fixed(ci.mean, 3)} ± ${fixed(ci.halfWidth, 3)}` : '-';
    });
    lines.push(`| ${v.variant} | ${v.runs} | ${cells.join(' | ')} |`);
  }
  lines.push('', '## Plots', '', '![accuracy.svg](accuracy.svg)', '', '![accuracy-vs-trajectories.svg](accuracy-vs-trajectories.svg)', '');
  return `${lines.join('\n')}\n`;
}

/** Held-out accuracy per variant against steps and against trajectories generated, with 95% bands over runs. */
export function evidencePlots(rows: EvalRow[]): Map<string, string> {
  const runs = rowsByRun(rows);
  const curve = (x: (row: EvalRow) => number | null) =>
    [...runs].map(([variant, byRun]) => {
      const byX = new Map<number, number[]>();
      for (const runRows of byRun.values()) {
        for (const row of runRows) {
          const at = x(row);
          if (at === null || row.accuracy === null) continue;
          byX.set(at, [...(byX.get(at) ?? []), row.accuracy]);
        }
      }
      const points = [...byX].sort((a, b) => a[0] - b[0]).map(([at, values]) => ({ x: at, ...meanCI(values) }));
      return { name: variant, points };
    });
  const plots = new Map<string, string>();
  plots.set('accuracy.svg', lineChartWithBands({ title: 'Held-out accuracy (mean@n), 95% bands over runs', xLabel: 'RL step', yLabel: 'accuracy', series: curve((r) => r.step) }));
  // Runs of one variant generate the same count at a step only when no batch is resampled; bucket by step's mean.
  const meanTrajectories = new Map<string, Map<number, number>>();
  for (const [variant, byRun] of runs) {
    const byStep = new Map<number, number[]>();
    for (const runRows of byRun.values()) for (const row of runRows) if (row.trajectories !== null) byStep.set(row.step, [...(byStep.get(row.step) ?? []), row.trajectories]);
    meanTrajectories.set(variant, new Map([...byStep].map(([step, values]) => [step, values.reduce((a, b) => a + b, 0) / values.length])));
  }
  plots.set(
    'accuracy-vs-trajectories.svg',
    lineChartWithBands({
      title: 'Held-out accuracy against trajectories generated (compute), 95% bands',
      xLabel: 'trajectories generated (mean over runs)',
      yLabel: 'accuracy',
      series: curve((r) => meanTrajectories.get(r.variant)?.get(r.step) ?? null),
    }),
  );
  return plots;
}
