import assert from 'node:assert/strict';
import { test } from 'node:test';
import { act, control, diagUrl, metric, readyz, scrape, startSim, tcpConnect, vectorSum, view } from './sim-helpers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const SESSION_GAUGES = [
  'proxy_ssh_sessions_total',
  'teleport_kubernetes_server_exec_in_flight_sessions',
  'teleport_kubernetes_server_portforward_in_flight_sessions',
  'teleport_kubernetes_server_join_in_flight_sessions',
  'teleport_proxy_db_active_connections_total',
];

async function sessionsOf(sim: Parameters<typeof scrape>[0], name: string): Promise<number[]> {
  const page = await scrape(sim, name);
  return SESSION_GAUGES.map((g) => vectorSum(page, g));
}
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

test('sessions hold the configured steady-state mean while they start and end over time', async (t) => {
  const proxies = Array.from({ length: 30 }, (_, i) => ({ name: `p${i}`, region: `r${i % 3}`, version: '17.4.2' }));
  const sim = await startSim(t, { proxies, sessionsPerProxy: 40 });
  const before = await Promise.all(proxies.map((p) => sessionsOf(sim, p.name)));
  const meanBefore = sum(before.map(sum)) / proxies.length;
  assert.ok(meanBefore > 35 && meanBefore < 45, `mean at start ${meanBefore}`);
  assert.ok(before.every((s) => (s[0] ?? 0) > 0), 'SSH is on every proxy');
  assert.ok(sum(before.map((s) => (s[1] ?? 0) + (s[4] ?? 0))) > 0, 'kube and db sessions are in the mix');
  const attemptsBefore = metric(await scrape(sim, 'p0'), 'teleport_connect_to_node_attempts_total');

  for (let i = 0; i < 12; i++) sim.advance(15 * MIN);
  const after = await Promise.all(proxies.map((p) => sessionsOf(sim, p.name)));
  const meanAfter = sum(after.map(sum)) / proxies.length;
  assert.ok(meanAfter > 35 && meanAfter < 45, `mean after 3 h ${meanAfter}`);
  const changed = after.filter((s, i) => sum(s) !== sum(before[i] ?? [])).length;
  assert.ok(changed >= 20, `counts moved on ${changed}/30 proxies`);
  const page = await scrape(sim, 'p0');
  const attempts = metric(page, 'teleport_connect_to_node_attempts_total');
  assert.ok(attempts > attemptsBefore + 50, `ssh attempts grow: ${attemptsBefore} -> ${attempts}`);
  assert.ok(metric(page, 'failed_connect_to_node_attempts_total') < attempts * 0.05);
});

test('added sessions count by kind and end when their time is up', async (t) => {
  const sim = await startSim(t, { sessionsPerProxy: 0 });
  assert.deepEqual(await sessionsOf(sim, 'fra-1'), [0, 0, 0, 0, 0]);
  await act(sim, 'fra-1', 'sessions', { kind: 'ssh', count: 5, durationMs: MIN });
  await act(sim, 'fra-1', 'sessions', { kind: 'kube_portforward', count: 2, durationMs: 2 * MIN });
  const v = await act(sim, 'fra-1', 'sessions', { kind: 'db', count: 3, durationMs: 2 * MIN });
  assert.equal(v.sessionsTotal, 10);
  assert.deepEqual(await sessionsOf(sim, 'fra-1'), [5, 0, 2, 0, 3]);
  sim.advance(MIN - 1);
  assert.deepEqual(await sessionsOf(sim, 'fra-1'), [5, 0, 2, 0, 3]);
  sim.advance(1);
  assert.deepEqual(await sessionsOf(sim, 'fra-1'), [0, 0, 2, 0, 3]);
  sim.advance(MIN);
  assert.deepEqual(await sessionsOf(sim, 'fra-1'), [0, 0, 0, 0, 0]);
});

test('graceful shutdown (SIGQUIT) closes every listener at once, the diagnostic one included, takes no new sessions and waits for the last one', async (t) => {
  const sim = await startSim(t);
  await act(sim, 'fra-1', 'sessions', { kind: 'ssh', count: 1, durationMs: 26 * HOUR });
  const started = await view(sim, 'fra-1');
  assert.ok(started.sessionsTotal > 1);
  const draining = await act(sim, 'fra-1', 'shutdown', { mode: 'graceful' });
  assert.equal(draining.state, 'draining');
  // Teleport's StartShutdown stops its listeners first: a scraper sees the proxy gone, not ok.
  assert.equal(await tcpConnect(diagUrl(sim, 'fra-1')), 'ECONNREFUSED');
  assert.equal((await control(sim, 'POST', '/proxies/fra-1/sessions', { kind: 'ssh', count: 1, durationMs: MIN })).status, 409);

  let last = started.sessionsTotal;
  for (let h = 0; h < 25; h++) {
    sim.advance(HOUR);
    const now = (await view(sim, 'fra-1')).sessionsTotal;
    assert.ok(now <= last, `hour ${h}: sessions only end while draining (${last} -> ${now})`);
    last = now;
  }
  assert.equal(last, 1, 'only the 26 h session is left');
  assert.equal((await view(sim, 'fra-1')).state, 'draining', 'the process waits while sessions remain');
  assert.equal(await tcpConnect(diagUrl(sim, 'fra-1')), 'ECONNREFUSED');

  sim.advance(HOUR);
  const stopped = await view(sim, 'fra-1');
  assert.equal(stopped.state, 'stopped');
  assert.equal(stopped.sessionsCut, 0);
  assert.equal(await tcpConnect(diagUrl(sim, 'fra-1')), 'ECONNREFUSED');
  assert.equal((await readyz(sim, 'fra-2')).status, 200, 'the other proxy is untouched');
});

test('graceful shutdown gives up at Teleport\'s 30 h limit and counts what it cut', async (t) => {
  const sim = await startSim(t, { sessionsPerProxy: 0 });
  await act(sim, 'fra-1', 'sessions', { kind: 'kube_exec', count: 4, durationMs: 40 * HOUR });
  await act(sim, 'fra-1', 'shutdown', { mode: 'graceful' });
  sim.advance(30 * HOUR - 1);
  assert.equal((await view(sim, 'fra-1')).state, 'draining');
  sim.advance(1);
  const v = await view(sim, 'fra-1');
  assert.equal(v.state, 'stopped');
  assert.equal(v.sessionsCut, 4);
});

test('immediate shutdown cuts every session at once and counts them', async (t) => {
  const sim = await startSim(t);
  const live = sum(await sessionsOf(sim, 'fra-2'));
  assert.ok(live > 0);
  const v = await act(sim, 'fra-2', 'shutdown', { mode: 'immediate' });
  assert.equal(v.state, 'stopped');
  assert.equal(v.sessionsCut, live);
  assert.equal(v.sessionsTotal, 0);
  assert.equal(await tcpConnect(diagUrl(sim, 'fra-2')), 'ECONNREFUSED');
  assert.equal((await control(sim, 'POST', '/proxies/fra-2/shutdown', { mode: 'immediate' })).status, 409, 'already stopped');
});

test('restart comes back starting, then ok with the new version, a new start time and new sessions', async (t) => {
  const sim = await startSim(t, { startupMs: 20_000 });
  const oldPage = await scrape(sim, 'fra-1');
  const oldStart = metric(oldPage, 'process_start_time_seconds');
  await act(sim, 'fra-1', 'shutdown', { mode: 'immediate' });
  sim.advance(5 * MIN);

  const restarted = await act(sim, 'fra-1', 'restart', { version: '17.5.0-debug.1' });
  assert.equal(restarted.state, 'starting');
  assert.equal((await readyz(sim, 'fra-1')).status, 400);
  const page = await scrape(sim, 'fra-1');
  assert.equal(metric(page, 'process_state'), 3);
  const build = page.get('teleport_build_info')?.samples[0]?.labels;
  assert.equal(build?.['version'], '17.5.0-debug.1');
  assert.match(build?.['gitref'] ?? '', /^v17\.5\.0-debug\.1-0-g[0-9a-f]{7}$/);
  const newStart = metric(page, 'process_start_time_seconds');
  assert.equal(newStart, sim.clock.now() / 1000);
  assert.ok(newStart > oldStart);
  assert.equal(sum(await sessionsOf(sim, 'fra-1')), 0);

  sim.advance(20_000 - 1);
  assert.equal((await readyz(sim, 'fra-1')).status, 400);
  sim.advance(1);
  assert.equal((await readyz(sim, 'fra-1')).status, 200);
  sim.advance(30 * MIN);
  const later = await scrape(sim, 'fra-1');
  assert.equal(metric(later, 'process_state'), 0);
  assert.ok(sum(SESSION_GAUGES.map((g) => metric(later, g))) > 0, 'sessions start again');
  assert.equal((await view(sim, 'fra-1')).version, '17.5.0-debug.1');

  // From running: an immediate stop first (sessions cut), then a start with an explicit gitref.
  const live = (await view(sim, 'fra-2')).sessionsTotal;
  const r2 = await act(sim, 'fra-2', 'restart', { gitref: 'v17.4.2-1-gdeadbee' });
  assert.equal(r2.sessionsCut, live);
  assert.equal(r2.version, '17.4.2');
  assert.equal((await scrape(sim, 'fra-2')).get('teleport_build_info')?.samples[0]?.labels['gitref'], 'v17.4.2-1-gdeadbee');
});
