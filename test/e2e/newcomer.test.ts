// The page as a newcomer meets it, in headless Chromium on the wasm backend (the fastest here):
// the guide on a first visit, one step, a trajectory forked at its first post-tool token
// (distribution, continuations, a scan), a chart added from the picker that survives a reload,
// and dark mode following the system and the toggle. Screenshots go to test-artifacts/.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, closeServer, launchChromium, ROOT, servePage, stepCount } from './servePage';
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

/** Loaded, two prompts x 4 samples, one step taken, its first trajectory with a tool call open. */
async function oneStepOpen(page: Page): Promise<void> {
  const status = page.getByRole('status');
  await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/ready|paused/);
  await page.getByLabel('Group size', { exact: true }).fill('4');
  await page.getByLabel('Prompts per batch', { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Apply now' }).click();
  await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/ready/);
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await expect.poll(() => stepCount(page), { timeout: 120_000 }).toBe(1);
  await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/paused/);
  const withCall = page.getByRole('article').filter({ has: page.getByRole('list', { name: 'tool calls' }) });
  await expect.poll(() => withCall.count(), { timeout: 30_000 }).toBeGreaterThan(0);
  await withCall.first().click();
}

/** Relative luminance of a computed "rgb(r, g, b)". */
function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+/g) ?? []).slice(0, 3).map((c) => {
    const s = Number(c) / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

describe.skipIf(!fs.existsSync(CHROMIUM))('the page for a newcomer, in Chromium (skipped without Debian chromium: apt-get install -y chromium)', () => {
  let server: PreviewServer;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await servePage());
    browser = await launchChromium();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await closeServer(server);
  });

  it('explains itself on a first visit; forks a trajectory at a post-tool token; adds a chart that survives a reload', { timeout: 900_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 }, colorScheme: 'light' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${url}?backend=wasm`);

    // The guide opens by itself the first time, with the paper and every metric.
    const guide = page.getByRole('dialog', { name: 'What am I looking at?' });
    await guide.waitFor();
    expect(await guide.getByRole('link', { name: /arXiv 2606\.03762/ }).getAttribute('href')).toBe('https://arxiv.org/abs/2606.03762');
    expect(await guide.getByRole('term').count()).toBeGreaterThan(40);
    await guide.getByRole('button', { name: 'Close (Esc)' }).click();
    await expect.poll(() => guide.count()).toBe(0);

    await oneStepOpen(page);
    const tokenView = page.getByRole('region', { name: /^Token view/ });
    const fork = tokenView.getByRole('region', { name: 'Fork at a token' });
    await expect.poll(() => fork.getByRole('heading', { level: 3 }).textContent()).toMatch(/^Fork at token \d+/);
    // The distribution at the first token after the tool result, from the weights step 1 sampled with.
    const probabilities = fork.getByRole('list', { name: 'Next-token probabilities' });
    await expect.poll(() => probabilities.getByRole('listitem').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(5);
    expect(await fork.textContent()).toContain('Weights: those step 1 sampled with (the starting checkpoint).');

    await fork.getByRole('button', { name: 'Resample from here' }).click();
    const continuations = fork.getByRole('region', { name: 'Continuations' });
    await expect.poll(() => continuations.getByRole('article').count(), { timeout: 120_000 }).toBe(16);
    expect(await continuations.textContent()).toMatch(/pass rate from here: \d+% \(\d+ of 16\)/);
    expect(await continuations.textContent()).toMatch(/this trajectory: reward [01]/);

    // The scan of the whole trajectory, 8 continuations per token: its time goes to docs/page.md.
    await fork.getByRole('button', { name: 'Scan this trajectory' }).click();
    const progress = fork.locator('.fork-progress');
    await expect.poll(() => progress.textContent(), { timeout: 300_000 }).toMatch(/(\d+) of \1 tokens in [\d.]+ s/);
    console.log(`scan on wasm: ${(await progress.textContent())?.trim()}`);
    expect(await fork.getByRole('table').getByRole('row').count()).toBeGreaterThan(2);
    await tokenView.screenshot({ path: path.join(ARTIFACTS, 'fork.png') });

    // Add a chart; it is in the address and comes back after a reload.
    await page.getByLabel('Add a chart').selectOption('grad_norm');
    const chart = page.getByRole('figure', { name: 'Gradient norm' });
    await chart.waitFor();
    await chart.getByLabel('Smoothing of gradient norm').focus();
    await page.keyboard.press('End'); // the most smoothing, 0.99
    await expect.poll(() => page.url()).toContain('charts=grad_norm~ema0.99');
    await page.reload();
    await expect.poll(() => page.getByRole('status').textContent(), { timeout: 180_000 }).toMatch(/paused/);
    await page.getByRole('figure', { name: 'Gradient norm' }).waitFor();
    expect(await page.getByRole('dialog', { name: 'What am I looking at?' }).count()).toBe(0); // once only
    await page.getByRole('button', { name: 'What am I looking at?' }).click();
    await page.getByRole('dialog', { name: 'What am I looking at?' }).waitFor();
    expect(errors).toEqual([]);
    await context.close();
  });

  it('follows the system into dark mode, and the toggle back to light', { timeout: 600_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 }, colorScheme: 'dark' });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${url}?backend=wasm`);
    await page.getByRole('button', { name: 'Close (Esc)' }).click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    const ink = () => page.evaluate(() => getComputedStyle(document.body).color);
    expect(luminance(await background())).toBeLessThan(0.05);
    // Text on the page's background: at least 7:1.
    expect((luminance(await ink()) + 0.05) / (luminance(await background()) + 0.05)).toBeGreaterThanOrEqual(7);
    await oneStepOpen(page);
    await page.getByRole('region', { name: 'Fork at a token' }).getByRole('list', { name: 'Next-token probabilities' }).waitFor({ timeout: 60_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dark.png'), fullPage: false });

    await page.getByLabel('Colour theme').selectOption('light');
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
    expect(luminance(await background())).toBeGreaterThan(0.8);
    expect(errors).toEqual([]);
    await context.close();
  });
});
