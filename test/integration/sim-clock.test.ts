import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import pino from 'pino';
import { stringify } from 'yaml';
import type { ClockResponse } from '../../src/admin/schemas.js';
import { fetchControllerClock } from '../../src/cli/controller-clock.js';
import { buildConfig, type ConfigInput } from '../../src/config.js';
import { startMeridian, type MeridianHandle } from '../../src/main.js';
import { startFleetSim } from '../../src/sim/index.js';
import { waitFor } from '../helpers/wait.js';

const DAY_MS = 86_400_000;
/** Years from the real time, so a controller on the wall clock shows at once. */
const START = Date.UTC(2031, 5, 1, 12);
const REGIONS = [{ name: 'tokyo', latitude: 35.68, longitude: 139.69, timeZone: 'Asia/Tokyo', default: true }];

/** Runs cleanups newest first, after the test (node:test runs its after-hooks oldest first). */
function cleanups(t: TestContext): (fn: () => Promise<unknown>) => void {
  const stack: (() => Promise<unknown>)[] = [];
  t.after(async () => {
    for (const fn of stack.reverse()) await fn().catch(() => undefined);
  });
  return (fn) => void stack.push(fn);
}

/** A manifest directory with one fleet of these proxies (diagnostic URL per proxy). */
async function manifests(later: (fn: () => Promise<unknown>) => void, proxies: readonly { name: string; diagnosticUrl: string }[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-clock-it-'));
  later(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'manifests'));
  const spec = { regions: REGIONS, proxies: proxies.map((p) => ({ ...p, region: 'tokyo', publicUrl: `https://${p.name}.example.com`, version: '17.4.2' })) };
  await writeFile(join(dir, 'manifests', 'fleet.yaml'), stringify({ apiVersion: 'meridian.dev/v1alpha1', kind: 'ProxyFleet', metadata: { name: 'clock' }, spec }));
  return dir;
}

/** The controller on the manifests; `simulator`: with the bundled simulator, as the demo starts it. */
async function start(dir: string, extra: ConfigInput, simulator = false): Promise<MeridianHandle> {
  const config = buildConfig([
    {
      source: 'test',
      values: { manifestDir: join(dir, 'manifests'), stateDir: join(dir, 'state'), admin: '127.0.0.1:0', public: '127.0.0.1:0', simControl: '127.0.0.1:0', ...extra },
    },
  ]);
  assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
  return startMeridian(config.value, pino({ level: 'silent' }), { simulator });
}

async function clockOf(m: MeridianHandle): Promise<{ now: number; simulated: boolean; timeFactor?: number }> {
  const body = (await (await fetch(new URL('/api/v1/clock', m.adminUrl))).json()) as ClockResponse;
  return { ...body, now: Date.parse(body.now) };
}

test('the demo restarted on the same state directory resumes the simulated clock: it never goes back', async (t) => {
  const later = cleanups(t);
  const dir = await manifests(later, [{ name: 'tokyo-1', diagnosticUrl: 'http://127.0.0.1:0' }]);
  // A simulated day per real second: the simulated clock runs days ahead of the real one, far
  // more than the second start, which begins at the real time unless it resumes, can catch up.
  const first = await start(dir, { simTimeFactor: '86400' }, true);
  let closed = false;
  later(async () => (closed ? undefined : first.close()));
  const before = await waitFor('the simulated clock to run five days ahead of the real one', async () => {
    const c = await clockOf(first);
    return c.now > Date.now() + 5 * DAY_MS ? c : undefined;
  });
  assert.equal(before.simulated, true);
  assert.equal(before.timeFactor, 86400);
  await first.close();
  closed = true;

  const second = await start(dir, { simTimeFactor: '86400' }, true);
  later(() => second.close());
  const after = await clockOf(second);
  assert.ok(after.now >= before.now, `restarted at ${new Date(after.now).toISOString()}, before ${new Date(before.now).toISOString()} shown by the first run`);
});

test('a controller started with --sim-clock runs on the separate simulator\'s clock, through its control API', async (t) => {
  const sim = await startFleetSim({ proxies: [{ name: 'tokyo-1', region: 'tokyo', version: '17.4.2' }], tickMs: 50, timeFactor: 3600, startAt: START, controlPort: 0 });
  const later = cleanups(t);
  later(() => sim.close());
  const dir = await manifests(later, sim.proxies);
  const meridian = await start(dir, { simClock: sim.controlUrl });
  later(() => meridian.close());

  const shared = await clockOf(meridian);
  assert.equal(shared.simulated, true);
  assert.equal(shared.timeFactor, 3600);
  assert.ok(shared.now >= START && shared.now <= sim.clock.now() + 60_000, `the controller shows ${new Date(shared.now).toISOString()}, the simulator ${new Date(sim.clock.now()).toISOString()}`);

  // The simulator jumps a week ahead; the controller follows at its next reading.
  sim.advance(7 * DAY_MS);
  const target = sim.clock.now();
  await waitFor('the controller to follow the simulator a week ahead', async () => ((await clockOf(meridian)).now >= target ? true : undefined));

  // The CLI reads the same clock, and labels its times as simulated.
  const cli = await fetchControllerClock(meridian.adminUrl);
  assert.equal(cli.simulated, true);
  assert.equal(cli.label, ' (simulated)');
  assert.ok(cli.now >= target);
});

test('a controller cannot start on a simulator clock it cannot read, and says where it looked', async (t) => {
  const dir = await manifests(cleanups(t), [{ name: 'tokyo-1', diagnosticUrl: 'http://127.0.0.1:9' }]);
  await assert.rejects(start(dir, { simClock: 'http://127.0.0.1:9' }), /cannot read the simulator's clock at http:\/\/127\.0\.0\.1:9\/clock: .*is meridian sim running there\?/);
});
