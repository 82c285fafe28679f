import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import { fleetView, problemsView } from '../../src/admin/fleet-view.js';
import { registerFleetMetrics } from '../../src/fleet/fleet-metrics.js';
import { fleet } from '../helpers/fleet-fixture.js';
import { metrics, observation, snapshot } from '../helpers/snapshot-fixture.js';
import { NO_ROLLOUTS } from '../helpers/admin-deps.js';
import type { ControllerClockReading } from '../../src/model/clock.js';
import { fetchControllerClock } from '../../src/cli/controller-clock.js';

const log = pino({ level: 'silent' });
const snap = snapshot([
  observation('tokyo-1', 'tokyo'),
  observation('tokyo-2', 'tokyo', { metrics: metrics({ version: '17.5.0', sessions: { ssh: 1, kube_exec: 0, kube_portforward: 0, kube_join: 0, db: 0 } }) }),
  observation('london-1', 'london', { up: false, ready: false, error: { reason: 'connection_refused', message: 'http://127.0.0.1:3/metrics: connection refused', at: '2026-01-01T00:00:00.000Z' } }),
]);

async function app(opts: { ready?: string; clock?: ControllerClockReading } = {}) {
  const registry = new Registry();
  const fm = registerFleetMetrics(registry, () => [snap]);
  const clock = opts.clock;
  fm.recordCycle(snap, 0.2);
  const a = await buildAdminApp({
    log,
    registry,
    ...NO_ROLLOUTS,
    notReadyReason: () => opts.ready,
    ...(clock ? { controllerClock: () => clock } : {}),
    fleets: async () => ({ fleets: [fleetView(fleet(), snap)] }),
    explain: () => undefined,
    problems: () => problemsView([{ source: 'fleet.yaml', line: 3, column: 5, error: { path: ['spec', 'regions', 0, 'timeZone'], message: 'unknown IANA time zone "X"' } }]),
  });
  return a;
}

test('healthz is ok; readyz says why it is not ready', async (t) => {
  const a = await app({ ready: 'waiting for the first observation' });
  t.after(() => a.close());
  assert.equal((await a.inject('/healthz')).statusCode, 200);
  const r = await a.inject('/readyz');
  assert.equal(r.statusCode, 503);
  assert.deepEqual(r.json(), { status: 'not ready', reason: 'waiting for the first observation' });
  const b = await app();
  t.after(() => b.close());
  assert.equal((await b.inject('/readyz')).statusCode, 200);
});

test('/metrics serves the private registry in Prometheus text format', async (t) => {
  const a = await app();
  t.after(() => a.close());
  const r = await a.inject('/metrics');
  assert.equal(r.statusCode, 200);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0.0.4/);
  assert.match(r.body, /^meridian_proxy_sessions\{proxy="tokyo-1",region="tokyo",kind="ssh"\} 10$/m);
  assert.match(r.body, /^meridian_region_sessions\{region="tokyo"\} 17$/m);
  assert.match(r.body, /^meridian_proxy_up\{proxy="london-1",region="london"\} 0$/m);
  assert.match(r.body, /^meridian_proxy_ready\{proxy="tokyo-1",region="tokyo"\} 1$/m);
  assert.match(r.body, /^meridian_proxy_info\{proxy="tokyo-2",region="tokyo",version="17.5.0"\} 1$/m);
  assert.match(r.body, /^meridian_scrape_errors_total\{proxy="london-1",reason="connection_refused"\} 1$/m);
  assert.match(r.body, /^meridian_scrape_duration_seconds_count\{region="tokyo"\} 2$/m);
});

test('/api/v1/fleet joins spec and snapshot per region', async (t) => {
  const a = await app();
  t.after(() => a.close());
  const r = await a.inject('/api/v1/fleet');
  assert.equal(r.statusCode, 200);
  const [f] = r.json().fleets;
  assert.equal(f.name, 'demo');
  assert.deepEqual(f.regions.map((x: { name: string; readyProxies: number; sessions: number }) => [x.name, x.readyProxies, x.sessions]), [['tokyo', 2, 17], ['london', 0, 16]]);
  const london = f.regions[1].proxies[0];
  assert.equal(london.up, false);
  assert.equal(london.error.reason, 'connection_refused');
  assert.equal(f.regions[0].proxies[1].version, '17.5.0');
  assert.equal(f.regions[0].proxies[1].desiredVersion, '17.4.2');
});

test('/api/v1/fleet/:namespace/:name answers 404 for an unknown fleet', async (t) => {
  const a = await app();
  t.after(() => a.close());
  assert.equal((await a.inject('/api/v1/fleet/default/demo')).statusCode, 200);
  const r = await a.inject('/api/v1/fleet/default/nope');
  assert.equal(r.statusCode, 404);
  assert.match(r.json().message, /no ProxyFleet default\/nope/);
});

test('/api/v1/problems names file, line and field', async (t) => {
  const a = await app();
  t.after(() => a.close());
  assert.deepEqual((await a.inject('/api/v1/problems')).json(), {
    problems: [{ source: 'fleet.yaml', line: 3, column: 5, field: 'spec.regions[0].timeZone', message: 'unknown IANA time zone "X"' }],
  });
});

test('a failing handler answers a generic 500 without internals', async (t) => {
  const registry = new Registry();
  const a = await buildAdminApp({
    log,
    registry,
    ...NO_ROLLOUTS,
    notReadyReason: () => undefined,
    fleets: async () => {
      throw new Error('secret internal detail');
    },
    problems: () => ({ problems: [] }),
    explain: () => undefined,
  });
  t.after(() => a.close());
  const r = await a.inject('/api/v1/fleet');
  assert.equal(r.statusCode, 500);
  assert.deepEqual(r.json(), { statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' });
  assert.doesNotMatch(r.body, /secret/);
});

test('/api/v1/clock says which clock the controller runs on, and the CLI helper reads and labels it', async (t) => {
  const simulated = await app({ clock: { now: Date.UTC(2031, 5, 1, 12), simulated: true, timeFactor: 60 } });
  t.after(() => simulated.close());
  const r = await simulated.inject('/api/v1/clock');
  assert.equal(r.statusCode, 200);
  assert.deepEqual(r.json(), { now: '2031-06-01T12:00:00.000Z', simulated: true, timeFactor: 60 });
  const url = await simulated.listen({ host: '127.0.0.1', port: 0 });
  assert.deepEqual(await fetchControllerClock(url), { now: Date.UTC(2031, 5, 1, 12), simulated: true, timeFactor: 60, label: ' (simulated)' });

  const wall = await app({ clock: { now: Date.UTC(2026, 0, 5), simulated: false } });
  t.after(() => wall.close());
  assert.deepEqual((await wall.inject('/api/v1/clock')).json(), { now: '2026-01-05T00:00:00.000Z', simulated: false });
  const wallUrl = await wall.listen({ host: '127.0.0.1', port: 0 });
  assert.equal((await fetchControllerClock(wallUrl)).label, '');
  // An app without a controller behind it answers the wall clock, never a simulated one.
  const bare = await app();
  t.after(() => bare.close());
  assert.equal((await bare.inject('/api/v1/clock')).json().simulated, false);
});
