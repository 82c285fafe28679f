import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { pino, type Logger } from 'pino';
import { FileStore, type FileStoreDeps } from '../../src/adapters/file-store/file-store.js';
import { ManualClock } from '../helpers/manual-clock.js';
import type { ResourceKey } from '../../src/model/resource.js';

/**
 * A valid fleet. Line numbers the tests rely on:
 *  4 metadata.name · 7/11 regions[0]/[1] · 8 regions[0].latitude · 10 regions[0].timeZone ·
 * 12 regions[1].latitude · 16/21 proxies[0]/[1] · 20 proxies[0].version · 22 proxies[1].region
 */
export const VALID_FLEET = `apiVersion: meridian.dev/v1alpha1
kind: ProxyFleet
metadata:
  name: main
spec:
  regions:
    - name: tokyo
      latitude: 35.68
      longitude: 139.65
      timeZone: Asia/Tokyo
    - name: london
      latitude: 51.51
      longitude: -0.13
      timeZone: Europe/London
  proxies:
    - name: tokyo-1
      region: tokyo
      publicUrl: https://tokyo-1.example.com
      diagnosticUrl: http://10.0.0.1:3000
      version: 17.4.2
    - name: london-1
      region: london
      publicUrl: https://london-1.example.com
      diagnosticUrl: http://10.0.1.1:3000
      version: 17.4.2
`;

/** A second, smaller fleet named `name`. */
export function smallFleet(name: string, version = '17.4.2'): string {
  return `apiVersion: meridian.dev/v1alpha1
kind: ProxyFleet
metadata:
  name: ${name}
spec:
  regions:
    - name: paris
      latitude: 48.86
      longitude: 2.35
      timeZone: Europe/Paris
  proxies:
    - name: paris-1
      region: paris
      publicUrl: https://paris-1.${name}.example.com
      diagnosticUrl: http://10.0.2.1:3000
      version: "${version}"
`;
}

/** Replaces exactly one occurrence, so a fixture edit cannot silently miss. */
export function edit(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`"${from}" must occur exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

const cleanups = new WeakMap<TestContext, (() => unknown)[]>();

/** Runs `fn` in the test's t.after, last registered first (a store closes before its directory goes). */
export function defer(t: TestContext, fn: () => unknown): void {
  let stack = cleanups.get(t);
  if (!stack) {
    const fresh: (() => unknown)[] = [];
    cleanups.set(t, fresh);
    t.after(async () => {
      for (let i = fresh.length - 1; i >= 0; i--) await fresh[i]?.();
    });
    stack = fresh;
  }
  stack.push(fn);
}

export async function tempDir(t: TestContext, prefix = 'meridian-fs-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  defer(t, () => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function put(dir: string, file: string, text: string): Promise<string> {
  const path = join(dir, file);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return path;
}

export interface CapturedLog {
  readonly log: Logger;
  readonly lines: Record<string, unknown>[];
}

/** A real pino logger whose JSON lines land in an array. */
export function captureLog(): CapturedLog {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}

export interface Dirs {
  readonly manifestDir: string;
  readonly stateDir: string;
}

export async function tempDirs(t: TestContext): Promise<Dirs> {
  const root = await tempDir(t);
  const manifestDir = join(root, 'manifests');
  await mkdir(manifestDir);
  return { manifestDir, stateDir: join(root, 'state') };
}

/** A started store; by default it neither watches nor rescans on its own, so tests drive `rescan()`. */
export async function startStore(
  t: TestContext,
  dirs: Dirs,
  over: Partial<FileStoreDeps> = {},
): Promise<{ store: FileStore; clock: ManualClock; logged: CapturedLog }> {
  const clock = new ManualClock();
  const logged = captureLog();
  const store = new FileStore({ ...dirs, log: logged.log, clock, watchFiles: false, rescanIntervalMs: 3_600_000, ...over });
  defer(t, () => store.close());
  await store.start();
  return { store, clock, logged };
}

/** Resolves with the first key the store announces that matches, or rejects after `timeoutMs`. */
export function nextKey(store: FileStore, match: (k: ResourceKey) => boolean, timeoutMs = 5_000): Promise<ResourceKey> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching key within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = store.watch((k) => {
      if (!match(k)) return;
      clearTimeout(timer);
      stop();
      resolve(k);
    });
  });
}
