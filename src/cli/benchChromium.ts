// The bench's Chromium columns: builds the site (bench.html among its pages) once, serves it,
// and runs bench.html in headless Chromium with the WebGPU flags of the end-to-end tests, one
// page per scale. Chromium's WebGPU here is SwiftShader unless the machine has a GPU.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import type { BackendPlan, BackendResult, KernelPath } from '../bench/measure';
import type { ModelScale } from '../core/model/config';
import { REPO_ROOT } from './common';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu'];

let session: { server: PreviewServer; browser: Browser; url: string } | null = null;

async function open(): Promise<{ browser: Browser; url: string }> {
  if (session) return session;
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tao-bench-site-'));
  process.stderr.write('[chromium] building the site\n');
  await build({ root: REPO_ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server = await preview({ root: REPO_ROOT, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  session = { server, browser, url: server.resolvedUrls!.local[0] };
  return session;
}

export async function closeChromiumBench(): Promise<void> {
  if (!session) return;
  await session.browser.close();
  await session.server.close();
  session = null;
}

export interface ChromiumBenchOptions {
  scale: ModelScale;
  seed: number;
  group: number;
  plan: BackendPlan;
  kernels: KernelPath[];
}

/** One column per kernel path, measured in bench.html; a failure becomes a skipped column. */
export async function benchInChromium(options: ChromiumBenchOptions): Promise<BackendResult[]> {
  const started = performance.now();
  const skipped = (reason: string): BackendResult[] => {
    process.stderr.write(`[${options.scale} chromium] skipped: ${reason}\n`);
    return options.kernels.map((path) => ({ backend: 'chromium', path, skipped: reason, seconds: (performance.now() - started) / 1000 }));
  };
  let opened: { browser: Browser; url: string };
  try {
    opened = await open();
  } catch (error) {
    return skipped(error instanceof Error ? error.message : String(error));
  }
  const page = await opened.browser.newPage();
  page.on('console', (message) => {
    if (message.text().startsWith('[')) process.stderr.write(`${message.text()}\n`);
  });
  try {
    const { scale, seed, group, plan, kernels } = options;
    const query = new URLSearchParams({
      scale, seed: String(seed), group: String(group), kernels: kernels.join(','),
      prompts: String(plan.prompts), ratioPrompts: String(plan.ratioPrompts), steps: String(plan.steps), trainPrompts: String(plan.trainPrompts), samplingRepeats: String(plan.samplingRepeats),
    });
    await page.goto(`${opened.url}bench.html?${query}`);
    await page.waitForFunction(() => {
      const w = window as unknown as { __benchResults?: unknown; __benchError?: string };
      return w.__benchResults !== undefined || w.__benchError !== undefined;
    }, null, { timeout: 3_600_000, polling: 1000 });
    const outcome = await page.evaluate(() => {
      const w = window as unknown as { __benchResults?: BackendResult[]; __benchError?: string };
      return { results: w.__benchResults, error: w.__benchError };
    });
    if (outcome.error !== undefined) return skipped(`the page failed: ${outcome.error}`);
    return outcome.results!;
  } finally {
    await page.close();
  }
}
