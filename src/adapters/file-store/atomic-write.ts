import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Seams inside a write; the crash test kills the process in one of them. */
export interface AtomicWriteHooks {
  /** Runs once the temp file is written and fsynced, before it is renamed over the target. */
  readonly afterTempSynced?: (tempPath: string) => void | Promise<void>;
}

const TEMP_NAME = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.tmp$/;

/** `.<name>.<uuid>.tmp` beside the target: same directory, so the rename cannot cross file systems. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomUUID()}.tmp`);
}

export function isTempFileName(name: string): boolean {
  return TEMP_NAME.test(name);
}

/** fsync on a directory makes the entries created or renamed in it durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p; every directory it creates is made durable in its parent. */
export async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  const created: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    created.push(d);
    if (d === first || dirname(d) === d) break;
  }
  for (const d of created) await fsyncDir(dirname(d));
}

/**
 * Replaces `target` so that a crash at any point leaves either the old or the new content:
 * write a temp file in the same directory, fsync it, rename it over the target, fsync the directory.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array, hooks: AtomicWriteHooks = {}): Promise<void> {
  const dir = dirname(target);
  await ensureDir(dir);
  const temp = tempPathFor(target);
  try {
    const fh = await open(temp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await hooks.afterTempSynced?.(temp);
    await rename(temp, target);
  } catch (e) {
    // The temp file is garbage whatever went wrong; the original error is what matters.
    await unlink(temp).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dir);
}

/** Deletes temp files a crash left behind under `root`; returns their paths. A missing root has none. */
export async function removeStaleTempFiles(root: string): Promise<string[]> {
  const removed: string[] = [];
  let entries;
  try {
    entries = await readdir(root, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw e;
  }
  for (const entry of entries) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) removed.push(...(await removeStaleTempFiles(path)));
    else if (entry.isFile() && isTempFileName(entry.name)) {
      await unlink(path);
      removed.push(path);
    }
  }
  if (removed.length) await fsyncDir(root);
  return removed;
}
