import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
});

export interface DashboardAsset {
  readonly body: Buffer;
  readonly type: string;
}

/** The page's files, read once at start, under one content hash of them all. */
export interface DashboardAssets {
  /** Changes with any file: assets are served under /dashboard/<version>/, cached for good. */
  readonly version: string;
  /** index.html with its asset URLs filled in; never cached. */
  readonly index: string;
  /** By file name (the page's modules import each other relatively, within the versioned path). */
  readonly files: ReadonlyMap<string, DashboardAsset>;
}

/**
 * Where the assets are: next to this module (src/ under tsx, or dist/ when the build copied them),
 * else src/dashboard/assets from a compiled build in a checkout (tsc copies no .js/.css files).
 */
export function assetsDir(): string | undefined {
  const candidates = [new URL('./assets/', import.meta.url), new URL('../../src/dashboard/assets/', import.meta.url)];
  return candidates.map((u) => fileURLToPath(u)).find((d) => existsSync(join(d, 'index.html')));
}

export async function loadDashboardAssets(dir: string): Promise<DashboardAssets> {
  const names = (await readdir(dir)).filter((n) => n !== 'index.html' && TYPES[extname(n)]).sort();
  const files = new Map<string, DashboardAsset>();
  const hash = createHash('sha256');
  for (const name of names) {
    const body = await readFile(join(dir, name));
    hash.update(name).update('\0').update(body).update('\0');
    files.set(name, { body, type: TYPES[extname(name)] ?? 'application/octet-stream' });
  }
  const version = hash.digest('hex').slice(0, 12);
  const index = (await readFile(join(dir, 'index.html'), 'utf8')).replaceAll('%BASE%', `/dashboard/${version}/`);
  return { version, index, files };
}
