// The built workbench in real headless Chromium on the real WebGPU backend (SwiftShader here):
// start training, watch steps, discards and curves arrive, change the entropy bonus coefficient
// live, pause, and step back to step 1. Sizes are tiny: software WebGPU is slow.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

async function stepCount(page: Page): Promise<number> {
  return Number(await page.getByLabel('Step', { exact: true }).textContent());
}

describe.skipIf(!fs.existsSync(CHROMIUM))('the workbench in Chromium (skipped without Debian chromium: apt-get install -y chromium)', () => {
  let server: PreviewServer;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tao-page-'));
    await build({ root: ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    server = await preview({ root: ROOT, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
    url = server.resolvedUrls!.local[0];
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--enable-unsafe-webgpu'],
    });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
  });

  it('trains on WebGPU, shows discards and curves, takes a live coefficient change, steps back', { timeout: 900_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(url);
    const status = page.getByRole('status');
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/ready|paused/);
    expect(await page.locator('header').first().textContent()).toContain('WebGPU');

    // Tiny batches for software WebGPU: 1 prompt (2 generated with over-sampling) x group 2.
    await page.getByLabel('Group size', { exact: true }).fill('2');
    await page.getByLabel('Prompts per batch', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Apply now' }).click();
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/ready|paused/);

    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(() => stepCount(page), { timeout: 600_000, interval: 2000 }).toBeGreaterThanOrEqual(2);

    // A live change: the first step after it must report the new coefficient.
    await page.getByLabel('Entropy bonus coefficient', { exact: true }).fill('0.5');
    const changedAt = await stepCount(page);
    await expect.poll(() => stepCount(page), { timeout: 600_000, interval: 2000 }).toBeGreaterThanOrEqual(Math.max(3, changedAt + 2));
    await expect.poll(() => page.getByLabel('step settings').textContent()).toContain('coef 0.5');

    await expect.poll(() => page.getByRole('article').count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('curves').locator('svg').count()).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('curves').textContent()).toContain('0.01 → 0.5');

    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(() => status.textContent(), { timeout: 600_000 }).toMatch(/paused|ready/);
    const steps = await stepCount(page);

    // At least one discard mark somewhere in the run's rollouts, found by walking the timeline.
    let discards = 0;
    await page.getByRole('button', { name: 'First step' }).click();
    for (let step = 1; step <= steps; step++) {
      await page.getByRole('heading', { name: `Rollouts (step ${step})` }).waitFor();
      discards += await page.getByRole('article', { name: /discarded/ }).count();
      if (step < steps) await page.getByRole('button', { name: 'Next step' }).click();
    }
    expect(discards).toBeGreaterThan(0);

    // Back to step 1, its first trajectory open in the token view.
    await page.getByRole('button', { name: 'First step' }).click();
    await page.getByRole('heading', { name: 'Rollouts (step 1)' }).waitFor();
    await page.getByRole('article').first().click();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'workbench.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
