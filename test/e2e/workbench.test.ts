// The built workbench in real headless Chromium on the real WebGPU backend (SwiftShader here, chosen):
// start training, watch steps, discards and curves arrive, change the entropy bonus coefficient
// live, pause, and step back to step 1. Sizes are tiny: software WebGPU is slow.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, closeServer, launchChromium, ROOT, servePage, stepCount } from './servePage';
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

/** The charts draw on animation frames after a step arrives; on two busy cores that can take seconds. */
const CHART_WAIT_MS = 30_000;

describe.skipIf(!fs.existsSync(CHROMIUM))('the workbench in Chromium (skipped without Debian chromium: apt-get install -y chromium)', () => {
  let server: PreviewServer;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await servePage());
    browser = await launchChromium(['--enable-unsafe-webgpu']);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await closeServer(server);
  });

  it('trains on WebGPU, shows discards and curves, takes a live coefficient change, steps back', { timeout: 900_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // Chosen: 'auto' ranks SwiftShader's WebGPU, a software renderer, below wasm (backendChoice.ts).
    await page.goto(`${url}?backend=webgpu`);
    const status = page.getByRole('status');
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/ready|paused/);
    expect(await page.locator('header').first().textContent()).toContain('WebGPU');
    expect(await page.getByRole('note').first().textContent()).toMatch(/^Training on WebGPU, as chosen: WebGPU here is a software renderer \(SwiftShader\)/);
    // The fused WGSL kernels passed their self-check on this adapter and sample.
    await expect.poll(() => page.locator('header').first().textContent(), { timeout: 60_000 }).toContain('fused WGSL kernels');

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
    expect(await page.locator('header').first().textContent()).toMatch(/\d+(\.\d)? dispatches\/tok/);

    await expect.poll(() => page.getByRole('article').count(), { timeout: CHART_WAIT_MS }).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('curves').locator('svg').count(), { timeout: CHART_WAIT_MS }).toBeGreaterThan(0);
    // A chart redraws only while on screen (Curves.tsx, QueuedChart), and the open explainer and
    // the rollouts push the curves below this viewport: scroll to them, as a person would, and
    // they catch up with the steps run while they were off screen.
    await page.getByTestId('curves').scrollIntoViewIfNeeded();
    // The curves are drawn with data: the reward chart has a line, and its name gives the latest step.
    const reward = page.getByRole('figure', { name: 'Reward and accuracy' });
    await expect.poll(() => reward.locator('path.curve-line[d]').count(), { timeout: CHART_WAIT_MS }).toBeGreaterThan(0);
    await expect.poll(() => reward.getByRole('img').getAttribute('aria-label'), { timeout: CHART_WAIT_MS }).toMatch(/^Latest, step \d+: training reward \(accuracy\) \d+%/);
    await expect.poll(() => page.getByTestId('curves').textContent(), { timeout: CHART_WAIT_MS }).toContain('0.01 → 0.5');

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
    const tokenChart = page.getByRole('region', { name: /^Token view/ }).getByRole('img');
    await expect.poll(() => tokenChart.locator('circle').count()).toBeGreaterThan(0); // an entropy dot per policy token
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'workbench.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('saves the run as it trains: after a reload it is there and resumes; it travels to another profile; two runs overlay in Compare; a link reproduces a setup', { timeout: 600_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    // wasm: the fastest backend here; what is tested is saving, not the backend.
    await page.goto(`${url}?backend=wasm`);
    const status = page.getByRole('status');
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/ready|paused/);
    await page.getByLabel('Group size', { exact: true }).fill('2');
    await page.getByLabel('Prompts per batch', { exact: true }).fill('1');
    await page.getByRole('button', { name: 'Apply now' }).click();
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/ready|paused/);
    for (let n = 1; n <= 2; n++) {
      await page.getByRole('button', { name: 'Step', exact: true }).click();
      await expect.poll(() => stepCount(page), { timeout: 120_000 }).toBe(n);
    }
    const saved = page.getByRole('list', { name: 'Saved runs' });
    await expect.poll(() => saved.textContent(), { timeout: 20_000 }).toContain('2 steps · weights of step 2');

    await page.reload();
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/paused/);
    expect(await stepCount(page)).toBe(2);
    expect(await page.getByLabel('Group size', { exact: true }).inputValue()).toBe('2');
    await page.getByRole('heading', { name: 'Rollouts (step 2)' }).waitFor();
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await expect.poll(() => stepCount(page), { timeout: 120_000 }).toBe(3);
    await expect.poll(() => saved.textContent(), { timeout: 20_000 }).toContain('3 steps · weights of step 3');

    // Exported with its weights, imported in another browser profile, it opens where it was.
    const row = saved.getByRole('listitem').first();
    const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: /as JSON$/ }).click()]);
    const exported = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tao-export-')), download.suggestedFilename());
    await download.saveAs(exported);
    const otherProfile = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
    const other = await otherProfile.newPage();
    await other.goto(`${url}?backend=wasm`);
    await expect.poll(() => other.getByRole('status').textContent(), { timeout: 180_000 }).toMatch(/ready|paused/);
    await other.getByLabel('Import runs').setInputFiles(exported);
    const otherList = other.getByRole('list', { name: 'Saved runs' });
    await expect.poll(() => otherList.textContent(), { timeout: 30_000 }).toContain('imported · 3 steps · weights of step 3');
    await otherList.getByRole('listitem').filter({ hasText: 'imported' }).getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => other.getByRole('status').textContent(), { timeout: 180_000 }).toMatch(/paused/);
    expect(await stepCount(other)).toBe(3);
    await otherProfile.close();

    // A second run, then both in Compare.
    await page.getByRole('button', { name: 'Reset' }).click();
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/ready/);
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await expect.poll(() => stepCount(page), { timeout: 120_000 }).toBe(1);
    await expect.poll(() => saved.getByRole('listitem').count()).toBeGreaterThanOrEqual(2);
    for (const box of (await saved.getByRole('checkbox').all()).slice(0, 2)) await box.check();
    await page.getByRole('button', { name: /^Compare 2 runs/ }).click();
    const chart = page.getByRole('figure', { name: 'Training reward (accuracy)' });
    await expect.poll(() => chart.locator('path.curve-line').count(), { timeout: 30_000 }).toBe(2);
    await page.screenshot({ path: path.join(ARTIFACTS, 'runs-compare.png'), fullPage: true });

    // A shared link reproduces its setup in a fresh profile; a wrong field is named and defaulted.
    const linkProfile = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
    const linked = await linkProfile.newPage();
    await linked.goto(`${url}?preset=grpo&seed=7&groupSize=4&learningRate=5&backend=wasm`);
    await expect.poll(() => linked.getByRole('status').textContent(), { timeout: 180_000 }).toMatch(/ready/);
    expect(await linked.getByLabel('Preset', { exact: true }).inputValue()).toBe('grpo');
    expect(await linked.getByLabel('Seed', { exact: true }).inputValue()).toBe('7');
    expect(await linked.getByLabel('Group size', { exact: true }).inputValue()).toBe('4');
    expect(await linked.getByRole('complementary', { name: 'Link problems' }).textContent()).toContain('learningRate');
    await linkProfile.close();
    expect(errors).toEqual([]);
  });
});
