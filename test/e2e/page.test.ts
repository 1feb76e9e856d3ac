// The built page in real headless Chromium: it loads the bundled tiny policy and runs an RL step.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '../..');

describe.skipIf(!fs.existsSync(CHROMIUM))('the page (skipped without Debian chromium: apt-get install -y chromium)', () => {
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
    await new Promise<void>((resolve) => server?.httpServer.close(() => resolve()));
  });

  it('loads the bundled policy and runs one RL step', { timeout: 300_000 }, async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${url}?backend=wasm`);
    await expect.poll(() => page.getByRole('status').textContent(), { timeout: 120_000 }).toBe('ready');
    await page.getByRole('button', { name: 'Step' }).click();
    await expect.poll(() => page.getByLabel('Step').textContent(), { timeout: 240_000 }).toBe('1');
    expect(await page.locator('li').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
  });
});
