// The page's side of opening a verl rollout dump: which picked files are dump files (their first
// line is a {"input", "output", "score"} record), and reading them as one run, streamed from the
// files with progress (src/runs/verlDump.ts does the reading; docs/scale-out.md).

import { readDump, type DumpSummary } from '../runs/verlDump';
import type { ExportedRun } from '../runs/format';

/** A picked file: the browser's File, or what a test hands over. */
export interface PickedFile {
  name: string;
  size: number;
  text: () => Promise<string>;
  stream?: () => ReadableStream<Uint8Array>;
  /** Set by a folder picker: "rollouts/12.jsonl". */
  webkitRelativePath?: string;
}

/** The file's text in chunks: streamed where the browser can, whole otherwise. */
async function* chunksOf(file: PickedFile): AsyncGenerator<string> {
  if (!file.stream) {
    yield await file.text();
    return;
  }
  const reader = file.stream().getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    yield decoder.decode(value, { stream: true });
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** The first line of a file, reading no more than needed. */
async function firstLine(file: PickedFile): Promise<string> {
  let head = '';
  for await (const chunk of chunksOf(file)) {
    head += chunk;
    const end = head.indexOf('\n');
    if (end >= 0) return head.slice(0, end);
    if (head.length > 16 * 2 ** 20) break;
  }
  return head;
}

/** A verl rollout dump file: JSON lines whose first record has input, output and score and no workbench type. */
export async function isVerlDumpFile(file: PickedFile): Promise<boolean> {
  if (!/\.jsonl$/i.test(file.name)) return false;
  try {
    const record = JSON.parse((await firstLine(file)).replace(/^\uFEFF/, '')) as Record<string, unknown>;
    return typeof record === 'object' && record !== null && 'output' in record && 'score' in record && !('type' in record);
  } catch {
    return false;
  }
}

/** The dump's files (a folder's, or picked ones) as one run, named after the folder. */
export async function importVerlDump(files: PickedFile[], onProgress: (bytes: number, total: number) => void): Promise<{ run: ExportedRun; summary: DumpSummary }> {
  const folder = files[0].webkitRelativePath?.split('/')[0];
  const name = `verl: ${folder || (files.length === 1 ? files[0].name.replace(/\.jsonl$/i, '') : `${files.length} dump files`)}`;
  return readDump(
    files.map((file) => ({ name: file.webkitRelativePath || file.name, size: file.size, chunks: () => chunksOf(file) })),
    { name, onProgress },
  );
}
