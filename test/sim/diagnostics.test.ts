import assert from 'node:assert/strict';
import { test } from 'node:test';
import { act, control, diagUrl, metric, parseExposition, readyz, scrape, startSim, view } from './sim-helpers.js';

const GAUGES = [
  'proxy_ssh_sessions_total',
  'teleport_kubernetes_server_exec_in_flight_sessions',
  'teleport_kubernetes_server_portforward_in_flight_sessions',
  'teleport_kubernetes_server_join_in_flight_sessions',
  'teleport_reverse_tunnels_connected',
  'proxy_missing_ssh_tunnels',
  'process_state',
  'teleport_build_info',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'go_goroutines',
];
const COUNTERS = [
  'teleport_connect_to_node_attempts_total',
  'failed_connect_to_node_attempts_total',
  'proxy_connection_limit_exceeded_total',
];

test('the metrics page is exposition text 0.0.4 with HELP, TYPE and every Teleport name', async (t) => {
  const sim = await startSim(t);
  const res = await fetch(`${diagUrl(sim, 'fra-1')}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const page = parseExposition(await res.text());
  for (const name of [...GAUGES, ...COUNTERS]) {
    const f = page.get(name);
    assert.ok(f, `${name} is on the page`);
    assert.ok(f.help && f.help.length > 10, `${name} has HELP`);
    assert.equal(f.type, GAUGES.includes(name) ? 'gauge' : 'counter', `${name} TYPE`);
    assert.ok(f.samples.length > 0, `${name} has a sample`);
  }
  assert.equal(page.get('proxy_ssh_sessions_total')?.help, 'Number of active sessions through this proxy');
  const build = page.get('teleport_build_info')?.samples[0];
  assert.deepEqual(build?.labels, { gitref: build?.labels['gitref'], goversion: 'go1.22.5', version: '17.4.2' });
  assert.match(build?.labels['gitref'] ?? '', /^v17\.4\.2-0-g[0-9a-f]{7}$/);
  assert.equal(build?.value, 1);
  assert.equal(metric(page, 'process_state'), 0);
  assert.ok(metric(page, 'teleport_reverse_tunnels_connected', { type: 'node' }) >= 0);
  for (const type of ['app', 'kube']) assert.equal(page.get('teleport_reverse_tunnels_connected')?.samples.filter((s) => s.labels['type'] === type).length, 1);
  // Started at steady state: sessions are already there, and the process has been up for a while.
  const sessions = metric(page, 'proxy_ssh_sessions_total') + metric(page, 'teleport_proxy_db_active_connections_total', { component: 'db:proxy' });
  assert.ok(sessions > 10, `steady-state sessions, got ${sessions}`);
  assert.ok(metric(page, 'process_start_time_seconds') < sim.clock.now() / 1000 - 86_400);
  assert.ok(metric(page, 'teleport_connect_to_node_attempts_total') > metric(page, 'failed_connect_to_node_attempts_total'));
  assert.ok(metric(page, 'process_resident_memory_bytes') > 50e6);
});

test('vector families have no series before their first observation: the DB gauge carries its labels, dial errors start with the first', async (t) => {
  const sim = await startSim(t, { sessionsPerProxy: 0 });
  const fresh = await scrape(sim, 'fra-1');
  assert.equal(fresh.has('teleport_proxy_db_active_connections_total'), false, 'no DB connection yet: no series');
  assert.equal(fresh.has('proxy_peer_client_dial_error_total'), false, 'no peer client, no dial error: no series');
  await act(sim, 'fra-1', 'sessions', { kind: 'db', count: 2, durationMs: 60_000 });
  const db = (await scrape(sim, 'fra-1')).get('teleport_proxy_db_active_connections_total');
  assert.deepEqual(db?.samples, [{ labels: { component: 'db:proxy', db_protocol: 'postgres', db_type: 'self-hosted' }, value: 2 }]);
  sim.advance(60_000);
  // A GaugeVec keeps its series at 0 once the connections close.
  assert.deepEqual((await scrape(sim, 'fra-1')).get('teleport_proxy_db_active_connections_total')?.samples.map((s) => s.value), [0]);
});

test('healthz answers 200 ok; unknown paths 404 like Go', async (t) => {
  const sim = await startSim(t);
  const res = await fetch(`${diagUrl(sim, 'fra-1')}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
  const missing = await fetch(`${diagUrl(sim, 'fra-1')}/nope`);
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), '404 page not found\n');
});

test('readyz: 200 when ok, 400 when starting or recovering, 503 when degraded', async (t) => {
  const sim = await startSim(t, { startupMs: 20_000 });
  const ok = await readyz(sim, 'fra-1');
  assert.equal(ok.status, 200);
  assert.equal(ok.body.status, 'ok');

  await control(sim, 'POST', '/proxies/fra-1/fault', { mode: 'degraded' });
  const degraded = await readyz(sim, 'fra-1');
  assert.equal(degraded.status, 503);
  assert.match(degraded.body.status ?? '', /degraded/);
  assert.equal(metric(await scrape(sim, 'fra-1'), 'process_state'), 2);
  assert.equal((await fetch(`${diagUrl(sim, 'fra-1')}/healthz`)).status, 200, 'a degraded process still runs');

  await control(sim, 'POST', '/proxies/fra-1/fault', { mode: 'recovering' });
  const recovering = await readyz(sim, 'fra-1');
  assert.equal(recovering.status, 400);
  assert.match(recovering.body.status ?? '', /recovering/);
  assert.equal(metric(await scrape(sim, 'fra-1'), 'process_state'), 1);

  await control(sim, 'POST', '/proxies/fra-1/fault', { mode: 'none' });
  await control(sim, 'POST', '/proxies/fra-2/restart', {});
  const starting = await readyz(sim, 'fra-2');
  assert.equal(starting.status, 400);
  assert.match(starting.body.status ?? '', /starting/);
  assert.equal(metric(await scrape(sim, 'fra-2'), 'process_state'), 3);
  assert.equal((await readyz(sim, 'fra-1')).status, 200, 'fault none restores readiness');
});

test('faults: slow, garbage, oversized, wrong content type, http 500, and none to clear', async (t) => {
  const sim = await startSim(t);
  const url = `${diagUrl(sim, 'fra-1')}/metrics`;
  const setFault = async (body: unknown): Promise<void> => {
    const r = await control(sim, 'POST', '/proxies/fra-1/fault', body);
    assert.equal(r.status, 200, JSON.stringify(r.json));
  };

  await setFault({ mode: 'slow', delayMs: 300 });
  let t0 = performance.now();
  assert.equal((await fetch(url)).status, 200);
  assert.ok(performance.now() - t0 >= 280, 'metrics waited');
  t0 = performance.now();
  assert.equal((await fetch(`${diagUrl(sim, 'fra-1')}/readyz`)).status, 200);
  assert.ok(performance.now() - t0 >= 280, 'readyz waited too');

  await setFault({ mode: 'garbage' });
  const garbage = await fetch(url);
  assert.equal(garbage.status, 200);
  const text = await garbage.text();
  assert.throws(() => parseExposition(text), /line \d+/);

  await setFault({ mode: 'oversized' });
  const big = await fetch(url);
  const body = await big.text();
  assert.ok(body.length > 4 * 1024 * 1024, `several MB, got ${body.length}`);
  assert.equal(Number(big.headers.get('content-length')), Buffer.byteLength(body));
  assert.equal(metric(parseExposition(body), 'process_state'), 0, 'still valid text, only too large');

  await setFault({ mode: 'wrong_content_type' });
  const html = await fetch(url);
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(await html.text(), /<html>/);

  await setFault({ mode: 'http_500' });
  assert.equal((await fetch(url)).status, 500);
  assert.equal((await readyz(sim, 'fra-1')).status, 200, 'only /metrics fails');

  await setFault({ mode: 'none' });
  const fine = await fetch(url);
  assert.equal(fine.status, 200);
  assert.equal(metric(parseExposition(await fine.text()), 'process_state'), 0);
  assert.deepEqual((await view(sim, 'fra-1')).fault, { mode: 'none' });
});

test('a restart clears process faults (degraded) but keeps network faults (garbage)', async (t) => {
  const sim = await startSim(t, { startupMs: 0 });
  await control(sim, 'POST', '/proxies/fra-1/fault', { mode: 'degraded' });
  await control(sim, 'POST', '/proxies/fra-2/fault', { mode: 'garbage' });
  await control(sim, 'POST', '/proxies/fra-1/restart', {});
  await control(sim, 'POST', '/proxies/fra-2/restart', {});
  assert.equal((await readyz(sim, 'fra-1')).status, 200);
  assert.equal(metric(await scrape(sim, 'fra-1'), 'process_state'), 0);
  assert.equal((await view(sim, 'fra-2')).fault.mode, 'garbage');
  const text = await (await fetch(`${diagUrl(sim, 'fra-2')}/metrics`)).text();
  assert.throws(() => parseExposition(text));
});

test('a slow response in flight is dropped when the proxy stops', async (t) => {
  const sim = await startSim(t);
  await control(sim, 'POST', '/proxies/fra-1/fault', { mode: 'slow', delayMs: 5_000 });
  const pending = fetch(`${diagUrl(sim, 'fra-1')}/metrics`).then(
    (r) => r.status,
    (e: unknown) => e,
  );
  await new Promise((r) => setTimeout(r, 50));
  await control(sim, 'POST', '/proxies/fra-1/shutdown', { mode: 'immediate' });
  const outcome = await pending;
  assert.ok(outcome instanceof Error, `request failed instead of answering: ${String(outcome)}`);
});
