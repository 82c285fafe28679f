import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import type { FleetView } from '../../src/admin/schemas.js';
import { storeRoutes } from '../../src/admin/store-routes.js';
import { runCli } from '../../src/cli/main.js';
import type { ControllerClockReading } from '../../src/model/clock.js';
import { API_VERSION } from '../../src/model/resource.js';
import { capture } from '../helpers/capture-io.js';
import { MemoryStore } from '../helpers/memory-store.js';

/** The text with wrapped lines joined again. */
const flat = (text: string): string => text.replace(/\n {4,}/g, ' ');

/** 2026-11-27 09:00 UTC on the simulator's clock, far from the test machine's wall clock. */
const SIM_NOW = Date.UTC(2026, 10, 27, 9, 0);

/** A controller's admin API: its clock, the demo fleet as observed (Auth at `auth`), and the store's rollouts and canaries. */
async function controller(t: TestContext, clock: ControllerClockReading, auth: string | null, store = new MemoryStore()): Promise<string> {
  const fleet: FleetView = {
    name: 'demo',
    namespace: 'default',
    generation: 1,
    observedAt: new Date(clock.now).toISOString(),
    phase: 'Healthy',
    conditions: [],
    auth: { version: auth, error: auth === null ? { reason: 'connection_refused', message: 'http://127.0.0.1:7320/metrics: connection refused', at: new Date(clock.now).toISOString() } : null, observedAt: new Date(clock.now).toISOString(), servers: [] },
    regions: [],
  };
  const app = await buildAdminApp({ log: pino({ level: 'silent' }), registry: new Registry(), notReadyReason: () => undefined, fleets: async () => ({ fleets: [fleet] }), problems: () => ({ problems: [] }), explain: () => undefined, ...storeRoutes(store), controllerClock: () => clock });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  t.after(() => app.close());
  return url;
}

/** The demo fleet with an Auth Service named (whatever examples/fleet holds today). */
async function manifests(t: TestContext, auth: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meridian-plan-clock-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const text = (await readFile('examples/fleet/fleet.yaml', 'utf8')).replace(/\n {2}auth:\n {4}diagnosticUrls: \[[^\]]*\]\n/, '\n');
  await writeFile(join(dir, 'fleet.yaml'), auth ? text.replace('\n  proxies:\n', '\n  auth:\n    diagnosticUrls: [http://127.0.0.1:7320]\n  proxies:\n') : text);
  return dir;
}

test('rollout plan --server plans on the controller\'s clock, labels its times as simulated, and shows the version skew check against the observed Auth', async (t) => {
  const dir = await manifests(t, true);
  const server = await controller(t, { now: SIM_NOW, simulated: true, timeFactor: 60 }, '17.4.8');
  const io = capture();
  assert.equal(await runCli(['rollout', 'plan', 'examples/rollouts/follow-the-sun.yaml', '--manifests', dir, '--server', server], io), 0, io.stderr);
  assert.match(io.stdout, /^Rollout plan for default\/follow-the-sun: upgrade to 17\.4\.8, as if started 2026-11-27 09:00 UTC \(simulated\)\n {2}Times are on the simulator's clock \(60× real time\), not the wall clock\n/);
  assert.match(io.stdout, /\n {2}Version skew: 17\.4\.8 with Auth 17\.4\.8: ok\n/);
  // --at still wins over the controller's clock.
  const at = capture();
  assert.equal(await runCli(['rollout', 'plan', 'examples/rollouts/follow-the-sun.yaml', '--manifests', dir, '--server', server, '--at', '2026-12-01T00:00:00Z'], at), 0, at.stderr);
  assert.match(at.stdout, /as if started 2026-12-01 00:00 UTC \(simulated\)/);
});

test('rollout plan shows a refusal by the version skew rule, an unknown Auth version, and a fleet without an Auth Service', async (t) => {
  const withAuth = await manifests(t, true);
  const refusing = await controller(t, { now: SIM_NOW, simulated: false }, '16.4.6');
  const refused = capture();
  assert.equal(await runCli(['rollout', 'plan', 'examples/rollouts/follow-the-sun.yaml', '--manifests', withAuth, '--server', refusing], refused), 0, refused.stderr);
  assert.match(flat(refused.stdout), /Version skew: REFUSED: 17\.4\.8 is a newer major version than the Auth Service \(16\.4\.6\): upgrade the Auth Service first/);
  assert.doesNotMatch(refused.stdout, /simulated/, 'the wall clock is not labelled');

  const unknown = capture();
  assert.equal(await runCli(['rollout', 'plan', 'examples/rollouts/follow-the-sun.yaml', '--manifests', withAuth, '--server', await controller(t, { now: SIM_NOW, simulated: false }, null)], unknown), 0, unknown.stderr);
  assert.match(flat(unknown.stdout), /Version skew: not checked yet: the Auth Service version is unknown \(http:\/\/127\.0\.0\.1:7320\/metrics: connection refused\)/);

  const offline = capture();
  assert.equal(await runCli(['rollout', 'plan', 'examples/rollouts/follow-the-sun.yaml', '--manifests', withAuth, '--at', '2026-11-26T09:00:00Z'], offline), 0, offline.stderr);
  assert.match(offline.stdout, /as if started 2026-11-26 09:00 UTC\n/);
  assert.match(flat(offline.stdout), /Version skew: not checked yet: the Auth Service version is unknown \(not read: give --server/);

  const none = capture();
  assert.equal(await runCli(['rollout', 'plan', 'examples/rollouts/follow-the-sun.yaml', '--manifests', await manifests(t, false), '--at', '2026-11-26T09:00:00Z'], none), 0, none.stderr);
  assert.match(flat(none.stdout), /Version skew: not checked: the fleet names no Auth Service \(spec\.auth\)/);
});

test('rollout status and canary status against a controller on the simulator\'s clock say its times are simulated; on the wall clock they do not', async (t) => {
  const store = new MemoryStore();
  store.put({ apiVersion: API_VERSION, kind: 'ProxyRollout', metadata: { name: 'up', namespace: 'default', generation: 1 }, spec: { version: '17.4.8' }, status: { phase: 'Progressing', startedAt: new Date(SIM_NOW).toISOString() } });
  store.put({ apiVersion: API_VERSION, kind: 'ProxyCanary', metadata: { name: 'debug', namespace: 'default', generation: 1 }, spec: { build: { version: '17.4.9-debug.1' }, subset: { perRegion: 1 } }, status: { phase: 'Deploying', startedAt: new Date(SIM_NOW).toISOString(), proxies: ['tokyo-1'] } });
  const sim = await controller(t, { now: SIM_NOW, simulated: true, timeFactor: 60 }, '17.4.8', store);
  const wall = await controller(t, { now: SIM_NOW, simulated: false }, '17.4.8', store);
  for (const args of [['rollout', 'status'], ['rollout', 'status', 'up'], ['canary', 'status', 'debug'], ['canary', 'report', 'debug']]) {
    const simulated = capture();
    assert.equal(await runCli([...args, '--server', sim], simulated), 0, simulated.stderr);
    assert.match(simulated.stdout, /^Times are on the simulator's clock \(60× real time\), not the wall clock\n\n/, args.join(' '));
    const real = capture();
    assert.equal(await runCli([...args, '--server', wall], real), 0, real.stderr);
    assert.doesNotMatch(real.stdout, /simulator/, args.join(' '));
    const json = capture();
    assert.equal(await runCli([...args, '--server', sim, '--json'], json), 0, json.stderr);
    assert.doesNotThrow(() => JSON.parse(json.stdout), 'JSON stays JSON');
  }
});

