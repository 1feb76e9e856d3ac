// The backend 'auto' picks in a real browser: headless Chromium without --enable-unsafe-webgpu has
// no WebGPU, and its WebGL is SwiftShader, a software renderer many times slower than wasm
// (src/worker/backendChoice.ts). By default the page trains on wasm and says why in plain words;
// `?backend=webgl` still trains on WebGL, with a note that it is software.

import * as fs from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, closeServer, launchChromium, servePage, stepCount } from './servePage';

describe.skipIf(!fs.existsSync(CHROMIUM))('the backend auto picks in Chromium (skipped without Debian chromium: apt-get install -y chromium)', () => {
  let server: PreviewServer;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await servePage());
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await closeServer(server);
  });

  /** A fresh profile (no saved run to reopen), the guide already seen; the page's and worker's console kept. */
  async function open(search: string): Promise<{ page: Page; errors: string[]; console: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    const console: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => console.push(message.text()));
    await page.addInitScript(() => localStorage.setItem('tao-rl-workbench:guide-seen', 'yes'));
    await page.goto(`${url}${search}`);
    await expect.poll(() => page.getByRole('status').textContent(), { timeout: 180_000 }).toMatch(/ready/);
    return { page, errors, console };
  }

  it("'auto' trains on wasm over SwiftShader's WebGL and says why; ?backend=webgl still trains on WebGL", { timeout: 600_000 }, async () => {
    // A small batch (1 prompt x group 2): a step on software WebGL takes tens of seconds at the default size.
    const small = 'groupSize=2&promptsPerStep=1';

    const auto = await open(`?${small}`);
    expect(await auto.page.locator('.wb-backend').textContent()).toBe('WASM');
    expect(await auto.page.getByRole('note').textContent()).toBe(
      'Training on WebAssembly (wasm): WebGPU is not available in this browser and WebGL here is a software renderer (SwiftShader) that draws on the CPU, many times slower.',
    );
    // The details went to the console, not to the page.
    const renderers = auto.console.find((line) => line.startsWith('Renderers'));
    expect(renderers).toMatch(/^Renderers \(read in \d+ ms\): webgl: ANGLE \(.*SwiftShader/);
    console.log(renderers);
    expect(await auto.page.locator('header').textContent()).not.toMatch(/src\/|\.ts\b|navigator\.gpu/);
    await auto.page.getByRole('button', { name: 'Step', exact: true }).click();
    await expect.poll(() => stepCount(auto.page), { timeout: 120_000 }).toBe(1);
    expect(auto.errors).toEqual([]);
    await auto.page.context().close();

    const webgl = await open(`?${small}&backend=webgl`);
    expect(await webgl.page.locator('.wb-backend').textContent()).toBe('WebGL');
    expect(await webgl.page.getByRole('note').textContent()).toBe(
      'Training on WebGL, as chosen: WebGL here is a software renderer (SwiftShader) that draws on the CPU, many times slower than WebAssembly (wasm). ' +
        'Backend auto would train on WebAssembly (wasm).',
    );
    const started = Date.now();
    await webgl.page.getByRole('button', { name: 'Step', exact: true }).click();
    await expect.poll(() => stepCount(webgl.page), { timeout: 300_000, interval: 1000 }).toBe(1);
    console.log(`one small step on SwiftShader WebGL: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(await webgl.page.locator('.wb-backend').textContent()).toBe('WebGL');
    expect(webgl.errors).toEqual([]);
    await webgl.page.context().close();
  });
});
