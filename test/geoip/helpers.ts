import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';

export const FIXTURES = fileURLToPath(new URL('../fixtures/geoip/', import.meta.url));
export const fixture = (name: string): string => join(FIXTURES, name);

export const GEOIP2_DB = fixture('geoip2-city-test.mmdb');
export const GEOIP2_MOVED_DB = fixture('geoip2-city-test-moved.mmdb');
export const FLAT_DBS = [fixture('flat-city-ipv4.mmdb'), fixture('flat-city-ipv6.mmdb')] as const;
export const CORRUPT_GARBLED_DB = fixture('corrupt-garbled.mmdb');
export const CORRUPT_TRUNCATED_DB = fixture('corrupt-truncated.mmdb');
/** build_epoch of the two GeoIP2 fixtures (see generate.pl). */
export const EPOCH_MAIN = 1767225600;
export const EPOCH_MOVED = 1767830400;

export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-geoip-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Replaces `target` the way an updater should: a full copy beside it, then one rename. */
export async function replaceFile(source: string, target: string): Promise<void> {
  const temp = `${target}.tmp-${process.pid}`;
  await copyFile(source, temp);
  await rename(temp, target);
}

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** A pino logger that keeps its lines for the test to read. */
export function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

/** Great-circle distance in km. */
export function distanceKm(a: { latitude: number; longitude: number }, b: { latitude: number; longitude: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.latitude - a.latitude) * rad;
  const dLon = (b.longitude - a.longitude) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * rad) * Math.cos(b.latitude * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}
