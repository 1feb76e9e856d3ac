// Nothing lost in a real browser, in headless Chromium on the wasm backend with a profile on disk
// as a person's is: the origin's quota set small through the DevTools protocol while 40 steps of
// the default batch train (on disk, Chromium gives back the space of a deleted inline record only
// when the database compacts; a fake IndexedDB frees it at once and has no quota), a reload that
// reopens the last step with every step's metrics, a paused preview then a reload, an uncaught
// error in the worker, and a worker that closes without a word.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Page, type Worker } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_ARGS, closeServer, ROOT, servePage, stepCount } from './servePage';
const ARTIFACTS = path.join(ROOT, 'test-artifacts');
/**
 * The origin's quota: the weights of the tiny model (0.43 MB) twice and little more. At 1.5 MB
 * the metrics alone filled it from step 45 on, which a run reaches when steps are fast (the test
 * trains STEPS, pauses, and trains a few more); at 1.7 MB old rollouts still give way before
 * step STEPS.
 */
const QUOTA_BYTES = 1_700_000;
const STEPS = 36;

/** Steps whose metrics the run shown has saved in IndexedDB. */
function savedSteps(page: Page): Promise<number[]> {
  return page.evaluate(async () => {
    const runId = sessionStorage.getItem('tao-rl-workbench:tab-run')!;
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('tao-rl-workbench');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const range = IDBKeyRange.bound([runId, -Infinity], [runId, Infinity]);
    const keys = await new Promise<IDBValidKey[]>((resolve) => {
      const req = db.transaction('steps').objectStore('steps').getAllKeys(range);
      req.onsuccess = () => resolve(req.result);
    });
    db.close();
    return keys.map((key) => (key as [string, number])[1]);
  });
}

function trainingWorker(page: Page): Worker {
  const worker = page.workers().find((w) => w.url().includes('trainingWorker'));
  if (!worker) throw new Error('no training worker');
  return worker;
}

describe.skipIf(!fs.existsSync(CHROMIUM))('nothing lost in Chromium (skipped without Debian chromium: apt-get install -y chromium)', () => {
  let server: PreviewServer;
  let url: string;

  beforeAll(async () => {
    ({ server, url } = await servePage());
  }, 300_000);

  afterAll(async () => {
    await closeServer(server);
  });

  it('short storage, a reload, a paused preview, an uncaught error and a silent worker: each step kept, each failure said once', { timeout: 900_000 }, async () => {
    const context = await chromium.launchPersistentContext(fs.mkdtempSync(path.join(os.tmpdir(), 'tao-profile-')), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1100 },
      args: CHROMIUM_ARGS,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.addInitScript(() => localStorage.setItem('tao-rl-workbench:guide-seen', 'yes'));
    // The quota a browser gives a site on a nearly full disk. Chromium enforces it but does not
    // report it in navigator.storage.estimate(): the page learns it from the first refused write.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(url).origin, quotaSize: QUOTA_BYTES });
    await page.goto(`${url}?backend=wasm`);
    const status = page.getByRole('status');
    const alert = page.getByRole('alert');
    const saved = page.getByRole('list', { name: 'Saved runs' });
    const notice = page.locator('.runs-notice');
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/ready/);

    // 1. Storage runs short: old rollouts give way, every step's metrics and weights are saved.
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(() => stepCount(page), { timeout: 600_000, interval: 1000 }).toBeGreaterThanOrEqual(STEPS);
    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/paused/);
    const trained = await stepCount(page);
    await expect.poll(() => saved.textContent(), { timeout: 30_000 }).toContain(`${trained} steps · weights of step ${trained}`);
    expect(await notice.textContent()).toMatch(/^Browser storage ran short: to keep saving, the rollouts of \d+ older steps were removed/);
    expect(await savedSteps(page)).toEqual(Array.from({ length: trained }, (_, i) => i + 1));

    // 2. A reload reopens the last step with every step's metrics.
    await page.reload();
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/paused/);
    expect(await stepCount(page)).toBe(trained);
    expect(await page.getByRole('slider', { name: 'Step timeline' }).getAttribute('max')).toBe(String(trained - 1));

    // 3. A paused preview, then a reload at once: the same run at the same step, the change kept.
    const runName = await saved.getByRole('listitem', { name: /\(shown\)$/ }).getAttribute('aria-label');
    await page.getByLabel('Entropy bonus coefficient', { exact: true }).fill('0.5');
    await page.reload();
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/paused/);
    expect(await stepCount(page)).toBe(trained);
    expect(await saved.getByRole('listitem', { name: /\(shown\)$/ }).getAttribute('aria-label')).toBe(runName);
    expect(await page.getByLabel('Entropy bonus coefficient', { exact: true }).inputValue()).toBe('0.5');

    // 4. An uncaught error in the worker: one message, each fact once; Resume continues.
    await trainingWorker(page).evaluate(() => {
      setTimeout(() => {
        throw new Error('a test error');
      }, 0);
    });
    await alert.waitFor({ timeout: 30_000 });
    const crashed = (await alert.textContent()) ?? '';
    expect(crashed).toMatch(
      new RegExp(`^Training crashed: an uncaught error in the training worker: (Uncaught )?(Error: )?a test error\\. Resume continues from the weights of step ${trained}\\.Resume$`),
    );
    await alert.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/ready|paused/);
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await expect.poll(() => stepCount(page), { timeout: 120_000 }).toBe(trained + 1);

    // 5. A worker that closes without a word while training: the watchdog says so, Resume continues in a new worker.
    await expect.poll(() => status.textContent(), { timeout: 60_000 }).toMatch(/paused/);
    await page.getByRole('button', { name: 'Start', exact: true }).click();
    await expect.poll(() => stepCount(page), { timeout: 120_000 }).toBeGreaterThanOrEqual(trained + 2);
    await trainingWorker(page).evaluate(() => self.close());
    await alert.waitFor({ timeout: 120_000 });
    const lastStep = await stepCount(page);
    expect(await alert.textContent()).toMatch(
      new RegExp(
        '^The training worker stopped responding: no word from it for \\d+ s while training \\(its steps took at most [\\d.]+ s\\), so it was stopped\\. ' +
          `Resume continues from the weights of step ${lastStep} in a new worker\\.Resume$`,
      ),
    );
    await alert.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => status.textContent(), { timeout: 180_000 }).toMatch(/paused/);
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await expect.poll(() => stepCount(page), { timeout: 120_000 }).toBe(lastStep + 1);
    await expect.poll(() => saved.textContent(), { timeout: 30_000 }).toContain(`${lastStep + 1} steps · weights of step ${lastStep + 1}`);
    expect(await page.locator('body').textContent()).not.toMatch(/not saved yet|no longer being saved|Saving failed/);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'resilience.png'), fullPage: true });
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(url).origin });
    expect(errors).toEqual([]);
    await context.close();
  });
});
