import assert from 'node:assert/strict';
import { test } from 'node:test';
import { proxyHostId } from '../../src/sim/host-id.js';
import { formatGoFloat, renderMetricsPage } from '../../src/sim/metrics-page.js';
import { MinHeap } from '../../src/sim/min-heap.js';
import { Prng } from '../../src/sim/prng.js';
import { MEAN_SESSION_MS, SessionModel } from '../../src/sim/session-model.js';
import { SessionPool } from '../../src/sim/session-pool.js';
import { parseExposition } from './sim-helpers.js';

test('Prng: same seed, same stream; draws stay in range', () => {
  const a = new Prng(1);
  const b = new Prng(1);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(xs.slice(0, 5), Array.from({ length: 5 }, () => new Prng(2).next()));
  const r = new Prng(3);
  const n = 20_000;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += r.poisson(40);
  assert.ok(Math.abs(sum / n - 40) < 0.5, `poisson mean ${sum / n}`);
});

test('MinHeap pops in ascending order', () => {
  const h = new MinHeap();
  const r = new Prng(4);
  const values = Array.from({ length: 500 }, () => Math.floor(r.next() * 1000));
  for (const v of values) h.push(v);
  const out: number[] = [];
  for (let v = h.pop(); v !== undefined; v = h.pop()) out.push(v);
  assert.deepEqual(out, [...values].sort((x, y) => x - y));
  assert.equal(h.size, 0);
});

test('SessionPool expires by end time and reports the latest end; cutAll counts', () => {
  const pool = new SessionPool();
  pool.add('ssh', 10);
  pool.add('ssh', 30);
  pool.add('db', 20);
  pool.add('kube_join', 50);
  assert.equal(pool.expireUntil(25), 20);
  assert.deepEqual(pool.counts(), { ssh: 1, kube_exec: 0, kube_portforward: 0, kube_join: 1, db: 0 });
  assert.equal(pool.expireUntil(26), -Infinity);
  assert.equal(pool.cutAll(), 2);
  assert.equal(pool.total(), 0);
});

test('SessionModel: durations are long-tailed around a 15 min median; steady state holds the target', () => {
  const model = new SessionModel(40);
  const r = new Prng(11);
  const d = Array.from({ length: 20_000 }, () => model.duration(r)).sort((x, y) => x - y);
  const median = d[d.length / 2] ?? 0;
  assert.ok(median > 13 * 60_000 && median < 17 * 60_000, `median ${median / 60_000} min`);
  const over4h = d.filter((x) => x > 4 * 3_600_000).length / d.length;
  assert.ok(over4h > 0.003 && over4h < 0.03, `share over 4 h ${over4h}`);
  assert.ok(MEAN_SESSION_MS > 25 * 60_000 && MEAN_SESSION_MS < 40 * 60_000);
  let n = 0;
  for (let i = 0; i < 200; i++) model.steadyState(r, 0, () => n++);
  assert.ok(Math.abs(n / 200 - 40) < 2, `steady-state mean ${n / 200}`);
});

test('formatGoFloat writes values as Go client_golang does', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [42, '42'],
    [999999, '999999'],
    [1e6, '1e+06'],
    [123456789, '1.23456789e+08'],
    [1766112305.27, '1.76611230527e+09'],
    [0.5, '0.5'],
    [0.00001, '1e-05'],
    [Infinity, '+Inf'],
    [NaN, 'NaN'],
  ];
  for (const [v, s] of cases) assert.equal(formatGoFloat(v), s, String(v));
});

test('renderMetricsPage escapes label values and stays valid exposition text', () => {
  const page = renderMetricsPage({
    processState: 'starting',
    version: '17.4.2',
    gitref: 'weird"ref\\with\nnewline',
    sessions: { ssh: 1, kube_exec: 2, kube_portforward: 3, kube_join: 4, db: 5 },
    tunnels: { node: 6, app: 0, kube: 1 },
    missingTunnels: 7,
    connectAttempts: 2_000_000,
    connectFailures: 8,
    connectionLimitExceeded: 0,
    peerDialErrors: { PROXIES_UNREACHABLE: 0, TUNNEL_NOT_FOUND: 0 },
    dbSeen: true,
    peerConnections: [],
    startTimeSeconds: 1_766_000_000.5,
    residentMemoryBytes: 1.5e8,
    goroutines: 300,
  });
  const parsed = parseExposition(page);
  assert.equal(parsed.get('teleport_build_info')?.samples[0]?.labels['gitref'], 'weird"ref\\with\nnewline');
  assert.equal(parsed.get('process_state')?.samples[0]?.value, 3);
  assert.equal(parsed.get('teleport_connect_to_node_attempts_total')?.samples[0]?.value, 2_000_000);
  assert.match(page, /^teleport_connect_to_node_attempts_total 2e\+06$/m);
});

test('proxy host ids are stable UUIDs', () => {
  assert.equal(proxyHostId('fra-1'), proxyHostId('fra-1'));
  assert.notEqual(proxyHostId('fra-1'), proxyHostId('fra-2'));
  assert.match(proxyHostId('fra-1'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
