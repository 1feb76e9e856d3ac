// bench:page --soak N: a long run of the page in headless Chromium, to see that it stays flat.
// Every 100 steps (or every N when N < 100) it reads, through the DevTools protocol, the page's
// and the training worker's JavaScript heap after a garbage collection; the worker's tensor count
// from the last saved step (the 'memory/tensors' metric the worker adds); and IndexedDB's usage
// from navigator.storage.estimate(). Training goes on while it reads.

import type { CDPSession, Page } from 'playwright-core';

/** One reading of the soak. */
export interface SoakSample {
  step: number;
  /** Seconds since Start. */
  seconds: number;
  pageHeapBytes: number;
  workerHeapBytes: number | null;
  tensors: number | null;
  indexedDbBytes: number | null;
}

type Reply = { result?: Record<string, unknown>; error?: { message: string } };

/**
 * A DevTools session on the page that also reaches its training worker: dedicated workers are
 * attached as they start (not flattened, so that the session's own messages carry theirs).
 */
class PageProbe {
  private worker: string | null = null;
  private readonly replies = new Map<number, (reply: Reply) => void>();
  private nextId = 1;

  private constructor(private readonly cdp: CDPSession) {}

  static async attach(page: Page): Promise<PageProbe> {
    const probe = new PageProbe(await page.context().newCDPSession(page));
    probe.cdp.on('Target.attachedToTarget', (event) => {
      if (event.targetInfo.type === 'worker' && event.targetInfo.url.includes('trainingWorker')) probe.worker = event.sessionId;
    });
    probe.cdp.on('Target.detachedFromTarget', (event) => {
      if (event.sessionId === probe.worker) probe.worker = null;
    });
    probe.cdp.on('Target.receivedMessageFromTarget', (event) => {
      const message = JSON.parse(event.message) as Reply & { id?: number };
      if (message.id !== undefined) probe.replies.get(message.id)?.(message);
    });
    await probe.cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    return probe;
  }

  /** The page's used JS heap after a full garbage collection, in bytes. */
  async pageHeap(): Promise<number> {
    await this.cdp.send('HeapProfiler.collectGarbage');
    return (await this.cdp.send('Runtime.getHeapUsage')).usedSize;
  }

  /** The training worker's used JS heap after a full garbage collection; null without a worker. */
  async workerHeap(): Promise<number | null> {
    if (this.worker === null) return null;
    await this.inWorker('HeapProfiler.collectGarbage');
    const usage = await this.inWorker('Runtime.getHeapUsage');
    return typeof usage?.usedSize === 'number' ? usage.usedSize : null;
  }

  private inWorker(method: string): Promise<Record<string, unknown> | null> {
    const id = this.nextId++;
    const sessionId = this.worker!;
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), 30_000);
      this.replies.set(id, (reply) => {
        clearTimeout(timer);
        this.replies.delete(id);
        resolve(reply.result ?? null);
      });
      void this.cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) }).catch(() => resolve(null));
    });
  }
}

/** What the page's own storage says: the worker's tensors at the last saved step, and IndexedDB's usage. */
function storageReadings(page: Page): Promise<{ tensors: number | null; indexedDbBytes: number | null }> {
  return page.evaluate(async () => {
    const estimate = await navigator.storage.estimate();
    const details = (estimate as StorageEstimate & { usageDetails?: { indexedDB?: number } }).usageDetails;
    const runId = sessionStorage.getItem('tao-rl-workbench:tab-run');
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('tao-rl-workbench');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const last = await new Promise<{ report: { metrics: Record<string, number> } } | undefined>((resolve) => {
      const range = IDBKeyRange.bound([runId, -Infinity], [runId, Infinity]);
      const cursor = db.transaction('steps').objectStore('steps').openCursor(range, 'prev');
      cursor.onsuccess = () => resolve(cursor.result?.value);
      cursor.onerror = () => resolve(undefined);
    });
    db.close();
    return { tensors: last?.report.metrics['memory/tensors'] ?? null, indexedDbBytes: details?.indexedDB ?? estimate.usage ?? null };
  });
}

const MB = 1024 * 1024;
const megabytes = (bytes: number | null) => (bytes === null ? '-' : (bytes / MB).toFixed(1));

/** The line a sample prints as, under SOAK_HEADER. */
export function soakLine(sample: SoakSample, previous: SoakSample | null): string {
  const perStep = previous ? (sample.seconds - previous.seconds) / Math.max(1, sample.step - previous.step) : sample.seconds / Math.max(1, sample.step);
  return [
    String(sample.step).padStart(5),
    (sample.seconds / 60).toFixed(1).padStart(7),
    perStep.toFixed(2).padStart(7),
    megabytes(sample.pageHeapBytes).padStart(13),
    megabytes(sample.workerHeapBytes).padStart(15),
    String(sample.tensors ?? '-').padStart(8),
    megabytes(sample.indexedDbBytes).padStart(13),
  ].join(' ');
}

export const SOAK_HEADER = ' step     min  s/step  page heap MB  worker heap MB  tensors  IndexedDB MB';

/**
 * Presses Start on a loaded page and trains `steps` steps, printing a reading every `every`
 * steps (and at the last); pauses at the end. Returns the readings.
 */
export async function runSoak(page: Page, steps: number, every: number, print: (line: string) => void): Promise<SoakSample[]> {
  const probe = await PageProbe.attach(page);
  const stepCounter = () => page.evaluate(() => Number(document.querySelector('[aria-label="Step"]')?.textContent ?? 0));
  const first = await stepCounter();
  const samples: SoakSample[] = [];
  print(SOAK_HEADER);
  const started = Date.now();
  await page.getByRole('button', { name: 'Start', exact: true }).click();
  const marks = Array.from({ length: Math.ceil(steps / every) }, (_, i) => Math.min(steps, (i + 1) * every));
  for (const mark of marks) {
    await page.waitForFunction((n) => Number(document.querySelector('[aria-label="Step"]')?.textContent ?? 0) >= n, first + mark, {
      timeout: 0,
      polling: 1000,
    });
    const seconds = (Date.now() - started) / 1000;
    const [pageHeapBytes, workerHeapBytes, stored] = [await probe.pageHeap(), await probe.workerHeap(), await storageReadings(page)];
    const sample: SoakSample = { step: (await stepCounter()) - first, seconds, pageHeapBytes, workerHeapBytes, ...stored };
    print(soakLine(sample, samples.at(-1) ?? null));
    samples.push(sample);
  }
  await page.getByRole('button', { name: 'Pause', exact: true }).click();
  return samples;
}

/**
 * Growth per 100 steps over the second half of the readings, per figure: the figures that say
 * "flat". The first half is left out: the page fills its 200 steps of rollouts in memory there.
 */
export function soakGrowth(samples: SoakSample[]): string {
  if (samples.length < 2) return 'one reading: no growth to report';
  const [a, b] = [samples[Math.floor((samples.length - 1) / 2)], samples.at(-1)!];
  const per100 = (x: number | null, y: number | null, unit: number) =>
    x === null || y === null ? '-' : (((y - x) / unit) * (100 / (b.step - a.step))).toFixed(unit === 1 ? 1 : 2);
  return (
    `growth per 100 steps, step ${a.step} to ${b.step}: page heap ${per100(a.pageHeapBytes, b.pageHeapBytes, MB)} MB, ` +
    `worker heap ${per100(a.workerHeapBytes, b.workerHeapBytes, MB)} MB, tensors ${per100(a.tensors, b.tensors, 1)}, ` +
    `IndexedDB ${per100(a.indexedDbBytes, b.indexedDbBytes, MB)} MB`
  );
}
