import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { buildConfig } from '../../src/config.js';
import { compressedTimers, startMeridian, type MeridianHandle } from '../../src/main.js';
import type { DemoWorld, Manifest } from './demo-world.js';
import { OBSERVE, TIME_FACTOR } from './demo-world.js';

/** One controller with the file store (the default mode) on the same manifests: what Kubernetes mode must end as. */
export interface Standalone {
  readonly handle: MeridianHandle;
  /** The object's status as the state directory holds it ({} before the first write). */
  status<T>(kind: string, name: string): Promise<T>;
  /** The object's manifest as the state directory holds it, or undefined. */
  manifest(kind: string, name: string): Promise<Manifest | undefined>;
}

export async function startStandalone(world: DemoWorld, manifests: readonly Manifest[]): Promise<Standalone> {
  const dir = join(world.dir, 'manifests');
  await mkdir(dir);
  await writeFile(join(dir, 'demo.yaml'), manifests.map((m) => stringify(m)).join('---\n'));
  const stateDir = join(world.dir, 'state');
  const config = buildConfig([{ source: 'test', values: { manifestDir: dir, stateDir, admin: '127.0.0.1:0', public: '127.0.0.1:0', ...OBSERVE } }]);
  assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
  const handle = await startMeridian(config.value, pino({ level: 'silent' }), { runtime: { clock: world.sim.clock, timers: compressedTimers(TIME_FACTOR) } });
  const record = async (kind: string, name: string): Promise<{ status?: unknown; manifest?: Manifest }> =>
    JSON.parse(await readFile(join(stateDir, kind, 'default', `${name}.json`), 'utf8').catch(() => '{}')) as { status?: unknown; manifest?: Manifest };
  return {
    handle,
    status: async <T>(kind: string, name: string): Promise<T> => ((await record(kind, name)).status ?? {}) as T,
    manifest: async (kind, name) => (await record(kind, name)).manifest,
  };
}
