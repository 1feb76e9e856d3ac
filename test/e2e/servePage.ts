// What the browser tests share: the page built and served on a free local port, and the flags
// Debian's chromium runs with here (no sandbox as root; no background traffic on a closed network).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = path.resolve(__dirname, '../..');

export const CHROMIUM_ARGS = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic'];

/** Debian's chromium, headless, with CHROMIUM_ARGS and any extra flags (e.g. --enable-unsafe-webgpu). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Builds the page into a fresh folder and serves it; close the server when done. */
export async function servePage(): Promise<{ server: PreviewServer; url: string }> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tao-page-'));
  await build({ root: ROOT, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  const server = await preview({ root: ROOT, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0 } });
  return { server, url: server.resolvedUrls!.local[0] };
}

/** Stops a server from servePage (a no-op when it never started). */
export function closeServer(server: PreviewServer | undefined): Promise<void> {
  return new Promise<void>((resolve) => (server ? server.httpServer.close(() => resolve()) : resolve()));
}

/** The step the page's header shows. */
export async function stepCount(page: Page): Promise<number> {
  return Number(await page.getByLabel('Step', { exact: true }).textContent());
}
