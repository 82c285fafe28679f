import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface UnreadablePath {
  /** Relative to the manifest directory; '' is the directory itself. */
  readonly file: string;
  readonly message: string;
}

export interface ManifestFileList {
  /** Relative to the manifest directory, sorted. */
  readonly files: readonly string[];
  readonly unreadable: readonly UnreadablePath[];
}

const MANIFEST_FILE = /\.ya?ml$/;

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Every `*.yaml` / `*.yml` under `dir` (or `dir` itself, when it is a file), recursively, skipping dotfiles and dot-directories (`.git`).
 * Symbolic links are followed (a git-sync checkout is one), each real directory once; a dangling
 * one is unreadable, so the store keeps what was under it.
 */
export async function listManifestFiles(dir: string): Promise<ManifestFileList> {
  // A file named on its own is read whatever its name: `meridian validate fleet.yaml`.
  if ((await stat(dir).catch(() => undefined))?.isFile()) return { files: [''], unreadable: [] };
  const files: string[] = [];
  const unreadable: UnreadablePath[] = [];
  const visited = new Set<string>();

  async function walk(rel: string): Promise<void> {
    const abs = rel ? join(dir, rel) : dir;
    let entries;
    try {
      const real = await realpath(abs);
      if (visited.has(real)) return;
      visited.add(real);
      entries = await readdir(abs, { withFileTypes: true });
    } catch (e) {
      unreadable.push({ file: rel, message: messageOf(e) });
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const child = rel ? join(rel, entry.name) : entry.name;
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const s = await stat(join(dir, child));
          isDir = s.isDirectory();
          isFile = s.isFile();
        } catch (e) {
          // Whatever its name, it may stand for a folder of manifests (a git-sync checkout) that is gone for now.
          unreadable.push({ file: child, message: messageOf(e) });
          continue;
        }
      }
      if (isDir) await walk(child);
      else if (isFile && MANIFEST_FILE.test(entry.name)) files.push(child);
    }
  }

  await walk('');
  files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { files, unreadable };
}
