import assert from 'node:assert/strict';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** A loopback port nothing listens on now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

/**
 * A copy of examples/fleet in `dir` with every loopback address moved to a port free now (so a
 * test neither meets a running demo nor leaves one behind); returns the new ports.
 */
export async function copyDemoFleet(dir: string): Promise<number[]> {
  await cp('examples/fleet', dir, { recursive: true });
  const files = await readdir(dir);
  const texts = new Map<string, string>();
  for (const file of files) texts.set(file, await readFile(join(dir, file), 'utf8'));
  const moved = new Map<string, number>();
  for (const text of texts.values()) for (const m of text.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)) if (m[1] && !moved.has(m[1])) moved.set(m[1], await freePort());
  for (const [file, text] of texts) await writeFile(join(dir, file), text.replace(/http:\/\/127\.0\.0\.1:(\d+)/g, (_m, port: string) => `http://127.0.0.1:${moved.get(port) ?? port}`));
  return [...moved.values()];
}
