import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetsResponse } from '../../src/admin/schemas.js';
import { runCli } from '../../src/cli/main.js';
import { stoppable } from '../helpers/capture-io.js';
import { copyDemoFleet, freePort } from '../helpers/demo-fleet-copy.js';
import { waitFor } from '../helpers/wait.js';

/** Whether a GET to the URL is refused (nothing listening), as opposed to answered. */
async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2000) });
    return false;
  } catch (e) {
    return (e as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  }
}

/**
 * The done-when of issue 14: `meridian start --manifests DIR` on a fleet whose proxies cannot be
 * reached starts no simulator (nothing answers on its control port nor on the proxies'
 * diagnostic addresses) and reports every proxy down.
 */
test('meridian start on the demo fleet\'s manifests starts no simulator and reports the unreachable proxies down', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-start-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A copy of examples/fleet on ports free now, so a simulator started by mistake would answer there.
  const manifests = join(dir, 'manifests');
  const ports = await copyDemoFleet(manifests);
  assert.ok(ports.length > 10, `the demo fleet's diagnostic addresses were moved (${ports.length})`);
  const control = await freePort();
  // The simulator's control address, were one started (start has no flag for it any more).
  process.env['MERIDIAN_SIM_CONTROL_ADDR'] = `127.0.0.1:${control}`;
  t.after(() => void delete process.env['MERIDIAN_SIM_CONTROL_ADDR']);

  const io = stoppable();
  const args = ['start', '--manifests', manifests, '--state', join(dir, 'state'), '--admin', '127.0.0.1:0', '--public', '127.0.0.1:0', '--observe-interval', '300ms', '--observe-timeout', '250ms', '--log-level', 'fatal'];
  const exit = runCli(args, io);
  t.after(async () => {
    io.stop();
    await exit;
  });
  const adminUrl = await waitFor('the banner', async () => /Admin API +(http:\/\/\S+)/.exec(io.stdout)?.[1], 20_000);
  assert.doesNotMatch(io.stdout, /Simulator/);

  await waitFor('the first observation', async () => ((await fetch(new URL('/readyz', adminUrl))).status === 200 ? true : undefined), 20_000);
  const { fleets } = (await (await fetch(new URL('/api/v1/fleet', adminUrl))).json()) as FleetsResponse;
  const proxies = fleets[0]?.regions.flatMap((r) => r.proxies) ?? [];
  assert.equal(proxies.length, 14, 'every proxy of the demo fleet is reported');
  assert.deepEqual(proxies.filter((p) => p.up).map((p) => p.name), [], 'no proxy is up');
  assert.ok(proxies.every((p) => p.error !== null), 'each says why');

  assert.equal(await refused(`http://127.0.0.1:${control}/proxies`), true, 'nothing listens on the simulator\'s control port');
  for (const port of ports) assert.equal(await refused(`http://127.0.0.1:${port}/readyz`), true, `nothing listens on ${port}`);
  io.stop();
  assert.equal(await exit, 0, io.stderr);
});
