// npm run bench:page -- [--backend wasm|webgpu|webgl|cpu] [--steps N] [--token-view] [--profile | --trace] [--soak N]
// The page's responsiveness while it trains: builds the app, opens it in headless Chromium,
// presses Start with the default batch, and records every main-thread task over 50 ms (the Long
// Tasks API) until N steps are done. Prints counts, the worst task, the step times and the main
// thread's busy time per step by kind of work (from a light trace); --profile adds a JS profile
// by function and component, --trace what each long task ran. --token-view trains one step first
// and opens the token view of its first trajectory, which then follows the live step. --soak N
// instead trains N steps and reports the heaps, tensors and storage every 100 (pageSoak.ts).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { parseCommandArgs, REPO_ROOT, runMain, UsageError } from './common';
import { runSoak, soakGrowth } from './pageSoak';

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

const USAGE = `usage: npm run bench:page -- [--backend wasm|webgpu|webgl|cpu] [--steps N] [--token-view] [--profile | --trace] [--soak N]
The page's responsiveness while it trains: builds the app, trains in headless Chromium and
records every main-thread task over 50 ms and the main thread's busy time per step.

  --backend NAME       the page's backend (default wasm)
  --steps N            steps to record (default 8)
  --token-view         train one step first and keep the token view open
  --profile            add a JavaScript profile by function and component
  --trace              add what each long task ran
  --soak N             instead, train N steps and report every 100 the page's and the worker's
                       JavaScript heap (after a garbage collection), the worker's tensors and
                       IndexedDB's usage: a long run should stay flat
  -h, --help           this text`;

runMain(async () => {
  const values = parseCommandArgs(
    {
      backend: { type: 'string', default: 'wasm' },
      steps: { type: 'string', default: '8' },
      profile: { type: 'boolean', default: false },
      trace: { type: 'boolean', default: false },
      'token-view': { type: 'boolean', default: false },
      soak: { type: 'string' },
    },
    USAGE,
  );
  const soak = values.soak === undefined ? null : Number(values.soak);
  if (soak !== null && (!Number.isInteger(soak) || soak < 1)) throw new UsageError(`--soak: "${values.soak}" is not an integer >= 1`);
  const steps = Number(values.steps);
  if (!Number.isInteger(steps) || steps < 1) throw new UsageError(`--steps: "${values.steps}" is not an integer >= 1`);
  if (!fs.existsSync(CHROMIUM)) throw new UsageError(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tao-page-bench-'));
  await build({ root: REPO_ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true, minify: !values.profile && !values.trace } });
  const server = await preview({ root: REPO_ROOT, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    // The soak leaves the long tasks unrecorded: their list would grow with the run.
    if (soak === null) await page.addInitScript(OBSERVER);
    await page.goto(`${server.resolvedUrls!.local[0]}?backend=${values.backend}`);
    const status = page.getByRole('status');
    await page.waitForFunction(() => /ready|paused/.test(document.querySelector('[role="status"]')?.textContent ?? ''), null, { timeout: 300_000 });
    const header = (await page.locator('header').first().textContent()) ?? '';
    if (soak !== null) {
      console.log(header.replace(/\s+/g, ' ').trim());
      console.log(`soak: ${soak} steps on ${values.backend}, default batch; heaps after a garbage collection`);
      const samples = await runSoak(page, soak, Math.min(100, soak), (line) => console.log(line));
      console.log(soakGrowth(samples));
      return;
    }
    const stepCounter = () => page.evaluate(() => Number(document.querySelector('[aria-label="Step"]')?.textContent ?? 0));
    if (values['token-view']) {
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      await page.waitForFunction(() => Number(document.querySelector('[aria-label="Step"]')?.textContent ?? 0) >= 1, null, { timeout: 300_000 });
      await page.getByRole('article').first().click();
      await page.getByRole('region', { name: /^Token view/ }).waitFor();
    }
    const firstStep = await stepCounter();
    await page.evaluate(() => ((window as unknown as { __longTasks: LongTask[] }).__longTasks = []));
    const cdp = values.profile ? await page.context().newCDPSession(page) : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    // A light trace (task and rendering events, no JS sampling) always, for the main thread's busy
    // time; --trace adds the JS samples that name what each long task ran.
    const tracing = !values.profile;
    if (tracing) {
      const categories = values.trace
        ? ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'disabled-by-default-v8.cpu_profiler']
        : ['toplevel', 'devtools.timeline'];
      await browser.startTracing(page, { categories });
    }
    const started = Date.now();
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await page.waitForFunction(
      (n) => Number(document.querySelector('[aria-label="Step"]')?.textContent ?? 0) >= n,
      firstStep + steps,
      { timeout: 1_800_000, polling: 500 },
    );
    const seconds = (Date.now() - started) / 1000;
    // Read before anything else touches the page: finding the Pause button by its role computes
    // the accessible names of the whole page, itself a long task that training did not cause.
    const tasks = await page.evaluate(() => (window as unknown as { __longTasks: LongTask[] }).__longTasks);
    // The worker's own time for its last step (the header's figure, from the step report): the
    // rest of the wall time per step is the page, saving, evaluations and messages.
    const workerStep = (await page.locator('[title="Wall time of the last step"] .wb-stat-value').first().textContent()) ?? 'not shown';
    const profile = cdp ? ((await cdp.send('Profiler.stop')) as { profile: CpuProfile }).profile : null;
    const trace = tracing ? JSON.parse((await browser.stopTracing()).toString('utf8')) : null;
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await status.waitFor();
    const durations = tasks.map((t) => t.duration).sort((a, b) => a - b);
    const quantile = (q: number) => (durations.length ? durations[Math.min(durations.length - 1, Math.floor(q * durations.length))] : 0);
    console.log(header.replace(/\s+/g, ' ').trim());
    console.log(`${steps} steps on ${values.backend} in ${seconds.toFixed(1)} s (${(seconds / steps).toFixed(2)} s/step); the worker's last step took ${workerStep}`);
    console.log(
      `main-thread tasks over 50 ms: ${tasks.length} (${(tasks.length / steps).toFixed(1)} per step); ` +
        `median ${quantile(0.5).toFixed(0)} ms, p90 ${quantile(0.9).toFixed(0)} ms, worst ${quantile(1).toFixed(0)} ms; ` +
        `over 100 ms: ${durations.filter((d) => d > 100).length}`,
    );
    const byStep = new Map<string, number[]>();
    for (const task of tasks) byStep.set(task.step, [...(byStep.get(task.step) ?? []), Math.round(task.duration)]);
    for (const [step, list] of byStep) console.log(`  while step counter read ${step || '-'}: ${list.join(', ')} ms`);
    if (profile) printProfile(profile);
    if (trace) printMainThreadBusy(trace.traceEvents ?? trace, steps);
    if (trace && values.trace) printLongTaskTrace(trace.traceEvents ?? trace);
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

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  /** Thread (CPU) time; below dur when the thread waited for a core. */
  tdur?: number;
  pid: number;
  tid: number;
  id?: string;
  args?: { data?: Record<string, unknown>; name?: string };
}

interface ProfileNode {
  id: number;
  parent?: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** JS samples of the trace's CPU profile on one thread: time (trace clock, µs) and the node sampled. */
function traceSamples(events: TraceEvent[], pid: number, tid: number): { samples: { ts: number; node: number }[]; nodes: Map<number, ProfileNode> } {
  const nodes = new Map<number, ProfileNode>();
  const samples: { ts: number; node: number }[] = [];
  const profile = events.find((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid);
  if (!profile) return { samples, nodes };
  let ts = (profile.args?.data as { startTime: number }).startTime;
  for (const chunk of events.filter((e) => e.name === 'ProfileChunk' && e.id === profile.id)) {
    const data = chunk.args!.data as { cpuProfile?: { nodes?: ProfileNode[]; samples?: number[] }; timeDeltas?: number[] };
    for (const node of data.cpuProfile?.nodes ?? []) nodes.set(node.id, node);
    const ids = data.cpuProfile?.samples ?? [];
    ids.forEach((node, i) => {
      ts += data.timeDeltas?.[i] ?? 0;
      samples.push({ ts, node });
    });
  }
  return { samples, nodes };
}

/**
 * The named functions most often on the stack during [start, end]: inclusive ms, top 8; with
 * `components`, only capitalised names (the page's and recharts' components).
 */
function hotFunctions(window: { ts: number; dur: number }, profile: ReturnType<typeof traceSamples>, components = false): string {
  const inclusive = new Map<string, number>();
  const inside = profile.samples.filter((s) => s.ts >= window.ts && s.ts <= window.ts + window.dur);
  inside.forEach((sample, i) => {
    const next = inside[i + 1]?.ts ?? sample.ts;
    const seen = new Set<string>();
    for (let at: number | undefined = sample.node; at !== undefined; at = profile.nodes.get(at)?.parent) {
      const name = profile.nodes.get(at)?.callFrame.functionName;
      if (!name || seen.has(name) || /^(performWorkUntilDeadline|flushWork|workLoop|\(root\)|\(program\))$/.test(name)) continue;
      if (components && !/^[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*$/.test(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + (next - sample.ts) / 1000);
    }
  });
  return [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([name, ms]) => `${name} ${ms.toFixed(0)}`).join(', ');
}

/** A task of the thread's event loop; which names appear depends on the trace's categories. */
const isTask = (e: TraceEvent) => e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask';

/**
 * The events not inside another, in time order (events on one thread nest or follow each other;
 * of two that start together the longer one is the outer).
 */
function outermost(onThread: TraceEvent[]): TraceEvent[] {
  const outer: TraceEvent[] = [];
  let end = -Infinity;
  for (const event of [...onThread].sort((a, b) => a.ts - b.ts || b.dur! - a.dur!)) {
    if (event.ts < end) continue;
    end = event.ts + event.dur!;
    outer.push(event);
  }
  return outer;
}

/** The renderer's main thread in a trace, and its complete events (those with a duration). */
function mainThread(events: TraceEvent[]): { main: TraceEvent; onMain: TraceEvent[] } | null {
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!main) return null;
  return { main, onMain: events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined) };
}

/** What a main-thread task's top-level events are, by kind. */
const EVENT_KINDS: Record<string, string> = {
  FunctionCall: 'script',
  FireAnimationFrame: 'script',
  TimerFire: 'script',
  EventDispatch: 'script',
  HandlePostMessage: 'worker messages',
  UpdateLayoutTree: 'style and layout',
  Layout: 'style and layout',
  PrePaint: 'paint',
  Paint: 'paint',
  Layerize: 'paint',
  Commit: 'paint',
  MinorGC: 'garbage collection',
  MajorGC: 'garbage collection',
};

/**
 * The page's main thread over the measured steps: busy time per step, split by what its tasks'
 * top-level events were (script, worker messages, style and layout, paint, garbage collection).
 * Busy time is steadier than the count of long tasks, so it is the figure to compare changes by.
 */
function printMainThreadBusy(events: TraceEvent[], steps: number): void {
  const thread = mainThread(events);
  if (!thread) return;
  // The two task names nest when both are recorded: count each task once.
  const busy = outermost(thread.onMain.filter(isTask)).reduce((sum, task) => sum + task.dur!, 0);
  const byKind = new Map<string, number>();
  for (const event of outermost(thread.onMain.filter((e) => !isTask(e)))) {
    const kind = EVENT_KINDS[event.name] ?? 'other';
    byKind.set(kind, (byKind.get(kind) ?? 0) + event.dur!);
  }
  const parts = [...byKind].sort((a, b) => b[1] - a[1]).map(([kind, us]) => `${kind} ${(us / 1000 / steps).toFixed(0)}`);
  console.log(`main thread busy: ${(busy / 1000 / steps).toFixed(0)} ms per step (${parts.join(', ')})`);
}

/** What each main-thread task over 50 ms was made of: its largest inner events, by name and duration. */
function printLongTaskTrace(events: TraceEvent[]): void {
  const thread = mainThread(events);
  if (!thread) return;
  const { main, onMain } = thread;
  const tasks = outermost(onMain.filter(isTask)).filter((e) => e.dur! >= 50_000).sort((a, b) => b.dur! - a.dur!);
  const profile = traceSamples(events, main.pid, main.tid);
  console.log(`main-thread tasks over 50 ms in the trace: ${tasks.length}; the 12 longest, with what they ran (ms):`);
  for (const task of tasks.slice(0, 12)) {
    const inner = onMain.filter((e) => !isTask(e) && e.ts >= task.ts && e.ts + e.dur! <= task.ts + task.dur! && e.dur! >= 2_000);
    const label = (e: TraceEvent) => {
      const data = e.args?.data ?? {};
      const frame = data.functionName ? `${data.functionName}@${String(data.url ?? '').split('/').pop()}:${data.lineNumber ?? ''}` : '';
      const detail = (data.type ?? (frame || data.url) ?? '') as string;
      return detail ? `${e.name}(${String(detail).slice(-40)})` : e.name;
    };
    const parts = outermost(inner).map((e) => `${label(e)} ${(e.dur! / 1000).toFixed(0)}`);
    const hot = hotFunctions({ ts: task.ts, dur: task.dur! }, profile);
    const components = hotFunctions({ ts: task.ts, dur: task.dur! }, profile, true);
    const cpu = task.tdur !== undefined ? ` (on a core ${(task.tdur / 1000).toFixed(0)} ms)` : '';
    console.log(`  ${(task.dur! / 1000).toFixed(0)} ms${cpu}: ${parts.join(', ') || '(no inner event over 2 ms)'}`);
    if (hot) console.log(`      on the stack: ${hot}`);
    if (components) console.log(`      components: ${components}`);
  }
}
