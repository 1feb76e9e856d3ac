// An experiment summary for people: summary.md (tables with 95% intervals and the paired
// differences against the baseline) and the plots as standalone SVG (learning curves with bands,
// end-of-training bars, and a sweep's curve). Pure text out, so the page can draw the same plots.

import type { MeanCI, PairedCI } from './stats';
import { barChartWithIntervals, lineChartWithBands, sweepChart } from './svg';
import type { ExperimentSummary, VariantSummary } from './summary';

/** "0.812 ± 0.014"; "0.812 (n=1)"; "-" when nothing was measured. */
export function ciText(ci: MeanCI, digits = 3): string {
  if (ci.n === 0 || !Number.isFinite(ci.mean)) return '-';
  const m = ci.mean.toFixed(digits);
  return ci.n === 1 ? `${m} (n=1)` : `${m} ± ${ci.halfWidth.toFixed(digits)}`;
}

/** A paired difference in points of accuracy, signed, with its interval and a mark when it excludes 0. */
export function differenceText(ci: PairedCI | null | undefined): string {
  if (!ci || ci.n === 0) return '-';
  const points = (v: number) => (100 * v).toFixed(1);
  const sign = ci.mean > 0 ? '+' : '';
  if (ci.n === 1) return `${sign}${points(ci.mean)} (n=1)`;
  const excludesZero = ci.low > 0 || ci.high < 0;
  return `${sign}${points(ci.mean)} ± ${points(ci.halfWidth)}${excludesZero ? ' *' : ''}`;
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function table(header: string[], rows: string[][]): string {
  return [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');
}

/** The plots of a summary: file name -> SVG text. */
export function summaryPlots(summary: ExperimentSummary): Map<string, string> {
  const k = summary.samples;
  const plots = new Map<string, string>();
  const label = `${summary.condition}, ${summary.scale}`;
  plots.set(
    'accuracy.svg',
    lineChartWithBands({
      title: `Held-out accuracy, ${label}`,
      xLabel: 'RL step',
      yLabel: `mean@${k}; band: 95% interval over seeds`,
      series: summary.variants
        .filter((v) => v.runs > 0)
        .map((v) => ({ name: v.variant, points: v.curve.map((p) => ({ x: p.step, ...p.accuracy })) })),
    }),
  );
  plots.set(
    'final.svg',
    barChartWithIntervals({
      title: `Accuracy at step ${summary.steps}, ${label}`,
      yLabel: `accuracy (mean@${k})`,
      bars: summary.variants.filter((v) => v.runs > 0).map((v) => ({ label: v.variant, ...v.finalAccuracy })),
    }),
  );
  plots.set(
    'pass.svg',
    barChartWithIntervals({
      title: `pass@${k} at step ${summary.steps}, ${label}`,
      yLabel: `pass@${k}`,
      bars: summary.variants.filter((v) => v.runs > 0).map((v) => ({ label: v.variant, ...v.finalPassAtK })),
    }),
  );
  if (summary.sweep) {
    const { param, values } = summary.sweep;
    const points = summary.variants
      .map((v, i) => ({ x: values[i], ...v.finalAccuracy, runs: v.runs }))
      .filter((p) => p.runs > 0);
    const positive = values.filter((v) => v > 0);
    plots.set(
      'sweep.svg',
      sweepChart({
        title: `Accuracy at step ${summary.steps} by ${param}, ${label}`,
        xLabel: param,
        yLabel: `accuracy (mean@${k})`,
        points,
        logX: positive.length > 1 && Math.max(...positive) / Math.min(...positive) >= 30,
      }),
    );
  }
  return plots;
}

function fractionText(ci: MeanCI): string {
  return ci.n === 0 || !Number.isFinite(ci.mean) ? '-' : ci.mean.toFixed(3);
}

function variantRow(v: VariantSummary, baseline: string): string[] {
  return [
    v.variant === baseline ? `**${v.variant}** (baseline)` : v.variant,
    String(v.runs),
    ciText(v.finalAccuracy),
    ciText(v.finalPassAtK),
    ciText(v.meanAccuracy),
    differenceText(v.vsBaseline?.finalAccuracy),
    differenceText(v.vsBaseline?.meanAccuracy),
    differenceText(v.vsBaseline?.finalPassAtK),
    v.stepsToTarget.meanStep === null ? `0/${v.runs}` : `${v.stepsToTarget.reached}/${v.runs} at ${v.stepsToTarget.meanStep.toFixed(0)}`,
  ];
}

function mechanismRow(v: VariantSummary): string[] {
  const d = v.discarded;
  return [
    v.variant,
    ciText(v.entropy, 2),
    ciText(v.postToolEntropy, 2),
    `${fractionText(d.all_tools_failed)} / ${fractionText(d.group_all_correct)} / ${fractionText(d.group_all_wrong)}`,
    fractionText(v.callRate),
    `${fractionText(v.policyFailureRate)} / ${fractionText(v.environmentFailureRate)}`,
    fractionText(v.trainingPolicyFailureRate),
    v.wallSeconds.n ? v.wallSeconds.mean.toFixed(0) : '-',
  ];
}

/** summary.md: what was run, the result tables, the mechanism table, the plots, and missing runs. */
export function summaryMarkdown(summary: ExperimentSummary, command?: string): string {
  const k = summary.samples;
  const lines = [
    `# ${summary.kind === 'sweep' ? 'Sweep' : 'Experiment'}: ${summary.condition} (${summary.scale})`,
    '',
    `${summary.steps} RL steps per run; held-out evaluation on ${summary.evalPrompts} prompts x ${k} samples at temperature 1.`,
    `Values are means over seeds with 95% t-intervals; differences are paired by seed against **${summary.baseline}**, in points of accuracy (* = the interval excludes 0).`,
  ];
  if (command) lines.push('', 'Command:', '', '```', command, '```');
  lines.push(
    '',
    '## Accuracy',
    '',
    table(
      ['variant', 'runs', `final acc (mean@${k})`, `final pass@${k}`, 'acc averaged over evals', `Δ final vs ${summary.baseline}`, 'Δ averaged', `Δ pass@${k}`, `reached ${summary.target}`],
      summary.variants.map((v) => variantRow(v, summary.baseline)),
    ),
    '',
    '## Mechanism',
    '',
    `Entropy in nats per policy token, mean of the last steps' reports. Discarded: fraction of generated trajectories dropped as all-tools-failed / group-all-correct / group-all-wrong, averaged over steps. Call failures at the last evaluation by cause (policy / environment), as fractions of calls; training failures: the policy's share over all steps.`,
    '',
    table(
      ['variant', 'entropy', 'post-tool entropy', 'discarded (tools failed / all correct / all wrong)', 'call rate', 'call failures (policy / env.)', 'policy failures in training', 'wall s / run'],
      summary.variants.map(mechanismRow),
    ),
    '',
    '## Plots',
    '',
    ...[...summaryPlots(summary).keys()].map((file) => `![${file}](${file})`),
  );
  if (summary.missing.length > 0) {
    lines.push('', '## Missing runs', '', ...summary.missing.map((m) => `- ${m.id}: ${m.reason}`));
  }
  return `${lines.join('\n')}\n`;
}
