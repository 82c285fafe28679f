import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fleetView } from '../../src/admin/fleet-view.js';
import type { HistoryResponse } from '../../src/admin/routes/history.js';
import { createSessionHistory } from '../../src/dashboard/session-history.js';
import type { FleetSnapshot } from '../../src/model/snapshot.js';
import { fleet } from '../helpers/fleet-fixture.js';
import { metrics, observation, snapshot } from '../helpers/snapshot-fixture.js';
import { dashboardApp } from './dashboard-fixture.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number, s: FleetSnapshot): FleetSnapshot => ({ ...s, observedAt: new Date(T0 + ms).toISOString() });
const withSsh = (n: number) => metrics({ sessions: { ssh: n, kube_exec: 0, kube_portforward: 0, kube_join: 0, db: 0 } });

function cycle(i: number): FleetSnapshot {
  return snapshot([observation('tokyo-1', 'tokyo', { metrics: withSsh(i % 7) }), observation('tokyo-2', 'tokyo', { metrics: withSsh(2 * i) }), observation('london-1', 'london', { metrics: withSsh(i) })]);
}

test('each series holds at most its ring\'s points however many snapshots come, and only the last hour', () => {
  const history = createSessionHistory({ windowMs: 3_600_000, capacity: 120 });
  // A day of 5-second cycles.
  for (let i = 0; i < 17_280; i++) history.record(at(i * 5_000, cycle(i)));
  const v = history.view();
  assert.equal(history.capacity, 120);
  for (const s of [...v.proxies, ...v.regions]) {
    assert.ok(s.points.length <= 120, `${s.name}: ${s.points.length} points`);
    assert.ok(s.points.length >= 119, `${s.name}: the hour is covered (${s.points.length} points)`);
    assert.ok((s.points[0]?.at ?? 0) >= (v.latestAt ?? 0) - 3_600_000, `${s.name}: nothing older than the window`);
  }
  assert.deepEqual(v.proxies.map((p) => p.name), ['london-1', 'tokyo-1', 'tokyo-2']);
});

test('a proxy gone from the fleet for a whole window is forgotten: renamed proxies do not pile up', () => {
  const history = createSessionHistory({ windowMs: 60_000, capacity: 12 });
  for (let i = 0; i < 1_000; i++) history.record(at(i * 10_000, snapshot([observation(`p-${i}`, `r-${i % 3}`)])));
  const v = history.view();
  assert.ok(v.proxies.length <= 7, `${v.proxies.length} proxy series kept`);
  assert.equal(v.regions.length, 3);
});

test('the newest points are the sessions the fleet view shows for each proxy and region; an unreadable page is a gap, not 0', () => {
  const history = createSessionHistory();
  const snaps = [0, 1, 2].map((i) => at(i * 60_000, cycle(i + 3)));
  const unreadable = at(180_000, snapshot([observation('tokyo-1', 'tokyo', { metrics: withSsh(4) }), observation('tokyo-2', 'tokyo', { sessionsTotal: 8, metrics: { ...withSsh(8), sessionKindsSkipped: ['ssh'] } }), observation('london-1', 'london', { metrics: withSsh(6) })]));
  for (const s of [...snaps, unreadable]) history.record(s);
  const v = history.view();
  for (const [i, s] of [...snaps, unreadable].entries()) {
    const shown = fleetView(fleet(), s);
    for (const r of shown.regions) assert.equal(v.regions.find((x) => x.name === r.name)?.points[i]?.sessions, r.sessions, `${r.name} at cycle ${i}`);
    for (const p of shown.regions.flatMap((r) => r.proxies)) assert.equal(v.proxies.find((x) => x.name === p.name)?.points[i]?.sessions, p.sessions ? p.sessionsTotal : null, `${p.name} at cycle ${i}`);
  }
  assert.equal(v.proxies.find((p) => p.name === 'tokyo-2')?.points[3]?.sessions, null);
});

test('two snapshots in one step keep the later; a clock that goes back starts the series again', () => {
  const history = createSessionHistory({ windowMs: 60_000, capacity: 6 });
  history.record(at(0, cycle(1)));
  history.record(at(3_000, cycle(5)));
  assert.deepEqual(history.view().regions.find((r) => r.name === 'london')?.points, [{ at: T0 + 3_000, sessions: 5 }]);
  history.record(at(1_000, cycle(2)));
  assert.deepEqual(history.view().regions.find((r) => r.name === 'london')?.points, [{ at: T0 + 1_000, sessions: 2 }]);
});

test('GET /api/v1/history serves the history given; without one it is not served', async (t) => {
  const history = createSessionHistory();
  history.record(at(0, cycle(3)));
  const { app } = await dashboardApp({ history: history.view });
  t.after(() => app.close());
  const res = await app.inject({ method: 'GET', url: '/api/v1/history' });
  assert.equal(res.statusCode, 200);
  assert.match((await app.inject({ method: 'GET', url: '/' })).body, /&#34;history&#34;:true/, 'the page is told to draw sparklines');
  const body = res.json<HistoryResponse>();
  assert.equal(body.latestAt, '2026-01-01T00:00:00.000Z');
  assert.deepEqual(body.regions, [
    { name: 'london', points: [{ at: '2026-01-01T00:00:00.000Z', sessions: 3 }] },
    { name: 'tokyo', points: [{ at: '2026-01-01T00:00:00.000Z', sessions: 9 }] },
  ]);
  const { app: without } = await dashboardApp();
  t.after(() => without.close());
  assert.equal((await without.inject({ method: 'GET', url: '/api/v1/history' })).statusCode, 404);
});

test('one view per snapshot serves every page that asks; the next snapshot gives a new one', () => {
  const history = createSessionHistory();
  history.record(at(0, cycle(1)));
  const first = history.view();
  assert.equal(history.view(), first);
  history.record(at(60_000, cycle(2)));
  const second = history.view();
  assert.notEqual(second, first);
  assert.deepEqual(second.regions.find((r) => r.name === 'london')?.points.map((p) => p.sessions), [1, 2]);
});
