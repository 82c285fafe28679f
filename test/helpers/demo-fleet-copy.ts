import assert from 'node:assert/strict';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Loopback ports nothing listens on now, all different: each probe stays open until all are chosen. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  try {
    return await Promise.all(
      servers.map(async (server) => {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const address = server.address();
        assert.ok(address && typeof address === 'object');
        return address.port;
      }),
    );
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

/** A loopback port nothing listens on now. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  assert.ok(port);
  return port;
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
  const old = new Set([...texts.values()].flatMap((text) => [...text.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => m[1] ?? '')));
  const ports = await freePorts(old.size);
  const moved = new Map([...old].map((port, i) => [port, ports[i] ?? 0]));
  for (const [file, text] of texts) await writeFile(join(dir, file), text.replace(/http:\/\/127\.0\.0\.1:(\d+)/g, (_m, port: string) => `http://127.0.0.1:${moved.get(port) ?? port}`));
  return [...moved.values()];
}
