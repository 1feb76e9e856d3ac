// npm run bench:page -- [--backend wasm|webgpu|webgl|cpu] [--steps N] [--build]
// The page's responsiveness while it trains: builds the app, opens it in headless Chromium,
// presses Start with the default batch, and records every main-thread task over 50 ms (the Long
// Tasks API) until N steps are done. Prints counts, the worst task and the step times.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { REPO_ROOT, runMain, UsageError } from './common';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu'];

/** Installed before the page's scripts: keeps every long task with the step counter at its time. */
const OBSERVER = `
window.__longTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const step = document.querySelector('[aria-label="Step"]')?.textContent ?? '';
    window.__longTasks.push({ start: entry.startTime, duration: entry.duration, step });
  }
}).observe({ type: 'longtask', buffered: true });
`;

interface LongTask {
  start: number;
  duration: number;
  step: string;
}

runMain(async () => {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'wasm' },
      steps: { type: 'string', default: '8' },
      profile: { type: 'boolean', default: false },
    },
  });
  const steps = Number(values.steps);
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--steps: "${values.steps}" is not an integer >= 1`);
  if (!fs.existsSync(CHROMIUM)) throw new UsageError(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tao-page-bench-'));
  await build({ root: REPO_ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true, minify: !values.profile } });
  const server = await preview({ root: REPO_ROOT, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    await page.addInitScript(OBSERVER);
    await page.goto(`${server.resolvedUrls!.local[0]}?backend=${values.backend}`);
    const status = page.getByRole('status');
    await page.waitForFunction(() => /ready|paused/.test(document.querySelector('[role="status"]')?.textContent ?? ''), null, { timeout: 300_000 });
    const header = (await page.locator('header').first().textContent()) ?? '';
    await page.evaluate(() => ((window as unknown as { __longTasks: LongTask[] }).__longTasks = []));
    const cdp = values.profile ? await page.context().newCDPSession(page) : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    const started = Date.now();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForFunction(
      (n) => Number(document.querySelector('[aria-label="Step"]')?.textContent ?? 0) >= n,
      steps,
      { timeout: 1_800_000, polling: 500 },
    );
    const seconds = (Date.now() - started) / 1000;
    const profile = cdp ? ((await cdp.send('Profiler.stop')) as { profile: CpuProfile }).profile : null;
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await status.waitFor();
    const tasks = await page.evaluate(() => (window as unknown as { __longTasks: LongTask[] }).__longTasks);
    const durations = tasks.map((t) => t.duration).sort((a, b) => a - b);
    const quantile = (q: number) => (durations.length ? durations[Math.min(durations.length - 1, Math.floor(q * durations.length))] : 0);
    console.log(header.replace(/\s+/g, ' ').trim());
    console.log(`${steps} steps on ${values.backend} in ${seconds.toFixed(1)} s (${(seconds / steps).toFixed(2)} s/step)`);
    console.log(
      `main-thread tasks over 50 ms: ${tasks.length} (${(tasks.length / steps).toFixed(1)} per step); ` +
        `median ${quantile(0.5).toFixed(0)} ms, p90 ${quantile(0.9).toFixed(0)} ms, worst ${quantile(1).toFixed(0)} ms; ` +
        `over 100 ms: ${durations.filter((d) => d > 100).length}`,
    );
    const byStep = new Map<string, number[]>();
    for (const task of tasks) byStep.set(task.step, [...(byStep.get(task.step) ?? []), Math.round(task.duration)]);
    for (const [step, list] of byStep) console.log(`  while step counter read ${step || '-'}: ${list.join(', ')} ms`);
    if (profile) printProfile(profile);
  } finally {
    await browser.close();
    await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
  }
});

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time of the page's main thread by function, the top 25 (unminified build). */
function printProfile(profile: CpuProfile): void {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byNode.get(id)!;
    const key = `${frame.functionName || '(anonymous)'} ${path.basename(frame.url.split('?')[0])}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`main-thread self time by function (ms of ${total.toFixed(0)}):`);
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${ms.toFixed(0).padStart(6)}  ${key}`);
  // Inclusive time of the page's own components and functions (named, capitalised or not).
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byNode.get(at)!.functionName;
      if (name && !seen.has(name)) {
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
      }
    }
  });
  console.log('inclusive time of components (capitalised names), top 40:');
  for (const [name, ms] of [...inclusive].filter(([name]) => /^[A-Z]/.test(name)).sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`  ${ms.toFixed(0).padStart(6)}  ${name}`);
}
