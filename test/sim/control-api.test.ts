import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import type { ProxyFleetSpec } from '../../src/model/fleet.js';
import { simOptionsFromFleet, startFleetSim, type ProxyView } from '../../src/sim/index.js';
import { act, control, metric, scrape, startSim } from './sim-helpers.js';

interface ErrorBody {
  error: string;
  field?: string;
}

test('control API: 404 for unknown proxies, actions and routes; 405 for wrong methods', async (t) => {
  const sim = await startSim(t);
  const cases: [string, string, number, RegExp][] = [
    ['GET', '/proxies/nope', 404, /no proxy named "nope"/],
    ['POST', '/proxies/nope/shutdown', 404, /no proxy named "nope"/],
    ['POST', '/proxies/fra-1/explode', 404, /no action "explode"/],
    ['GET', '/nothing/here', 404, /no route for GET \/nothing\/here/],
    ['DELETE', '/proxies', 405, /DELETE is not allowed on \/proxies/],
    ['GET', '/proxies/fra-1/shutdown', 405, /use POST/],
    ['GET', '/proxies/%E0%A4%A', 400, /percent-encoding/],
  ];
  for (const [method, path, status, message] of cases) {
    const r = await control(sim, method, path);
    assert.equal(r.status, status, `${method} ${path}`);
    assert.match((r.json as ErrorBody).error, message, `${method} ${path}`);
  }
});

test('control API: 400 names the bad field', async (t) => {
  const sim = await startSim(t);
  const cases: [string, unknown, string, RegExp][] = [
    ['shutdown', {}, 'mode', /mode: is required/],
    ['shutdown', { mode: 'soft' }, 'mode', /must be one of "graceful", "immediate", got "soft"/],
    ['shutdown', 'not json', 'body', /not valid JSON/],
    ['shutdown', [], 'body', /must be a JSON object/],
    ['shutdown', { mode: 'graceful', force: true }, 'force', /unknown field/],
    ['restart', { version: 'banana' }, 'version', /release version/],
    ['restart', { gitref: 'has space' }, 'gitref', /git describe/],
    ['fault', { mode: 'broken' }, 'mode', /one of "none", "slow"/],
    ['fault', { mode: 'slow', delayMs: -1 }, 'delayMs', /whole number from 1/],
    ['fault', { mode: 'garbage', delayMs: 5 }, 'delayMs', /only to mode "slow"/],
    ['sessions', { kind: 'telnet', count: 1, durationMs: 1 }, 'kind', /"ssh", "kube_exec"/],
    ['sessions', { kind: 'ssh', count: 0, durationMs: 1 }, 'count', /whole number from 1/],
    ['sessions', { kind: 'ssh', count: 1, durationMs: '1m' }, 'durationMs', /got "1m"/],
    ['sessions', { kind: 'ssh', count: 1 }, 'durationMs', /is required/],
  ];
  for (const [action, body, field, message] of cases) {
    const r = await control(sim, 'POST', `/proxies/fra-1/${action}`, body);
    assert.equal(r.status, 400, `${action} ${JSON.stringify(body)}`);
    const e = r.json as ErrorBody;
    assert.equal(e.field, field, `${action} ${JSON.stringify(body)}`);
    assert.match(e.error, message);
    assert.ok(e.error.startsWith(`${field}:`), e.error);
  }
  const v = (await control(sim, 'GET', '/proxies/fra-1')).json as ProxyView;
  assert.equal(v.state, 'running', 'bad requests changed nothing');
  assert.equal(v.fault.mode, 'none');
});

test('control API: 409 when the proxy state forbids the action', async (t) => {
  const sim = await startSim(t);
  await act(sim, 'fra-1', 'shutdown', { mode: 'immediate' });
  const again = await control(sim, 'POST', '/proxies/fra-1/shutdown', { mode: 'graceful' });
  assert.equal(again.status, 409);
  assert.match((again.json as ErrorBody).error, /already stopped/);
  const add = await control(sim, 'POST', '/proxies/fra-1/sessions', { kind: 'db', count: 1, durationMs: 1000 });
  assert.equal(add.status, 409);
  assert.match((add.json as ErrorBody).error, /stopped and accepts no new sessions/);
});

test('GET /proxies lists every proxy with state, sessions by kind, cut count and fault', async (t) => {
  const sim = await startSim(t);
  const r = await control(sim, 'GET', '/proxies');
  assert.equal(r.status, 200);
  const list = r.json as ProxyView[];
  assert.deepEqual(list.map((p) => p.name), ['fra-1', 'fra-2']);
  for (const p of list) {
    assert.equal(p.region, 'eu-central');
    assert.equal(p.state, 'running');
    assert.equal(p.version, '17.4.2');
    assert.deepEqual(Object.keys(p.sessions).sort(), ['db', 'kube_exec', 'kube_join', 'kube_portforward', 'ssh']);
    assert.equal(p.sessionsCut, 0);
    assert.deepEqual(p.fault, { mode: 'none' });
    assert.equal(p.hostId, sim.proxies.find((x) => x.name === p.name)?.hostId);
  }
});

test('startFleetSim rejects bad options naming the field', async () => {
  const proxies = [{ name: 'a', region: 'r', version: '1.0.0' }];
  await assert.rejects(startFleetSim({ proxies: [...proxies, ...proxies], tickMs: 0 }), /proxies\[1\]\.name must be unique/);
  await assert.rejects(startFleetSim({ proxies, timeFactor: 0, tickMs: 0 }), /timeFactor must be a number > 0/);
  await assert.rejects(startFleetSim({ proxies, agentConnectionCount: 0, tickMs: 0 }), /agentConnectionCount/);
  await assert.rejects(startFleetSim({ proxies: [{ name: 'a', region: 'r', version: '1', port: 70000 }], tickMs: 0 }), /proxies\[0\]\.port/);
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const addr = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  assert.ok(addr && typeof addr === 'object');
  return addr.port;
}

test('simOptionsFromFleet serves each proxy at its diagnosticUrl with its spec version', async (t) => {
  const port = await freePort();
  const spec: ProxyFleetSpec = {
    regions: [{ name: 'ap-northeast', latitude: 35.7, longitude: 139.7, timeZone: 'Asia/Tokyo' }],
    proxies: [
      {
        name: 'tyo-1',
        region: 'ap-northeast',
        publicUrl: 'https://tyo-1.teleport.example.com',
        diagnosticUrl: `http://127.0.0.1:${port}`,
        version: '17.4.2',
      },
    ],
  };
  const opts = simOptionsFromFleet(spec, { tickMs: 0, seed: 9 });
  assert.deepEqual(opts.proxies, [
    { name: 'tyo-1', region: 'ap-northeast', version: '17.4.2', host: '127.0.0.1', port, publicAddr: 'tyo-1.teleport.example.com:443' },
  ]);
  assert.equal(opts.seed, 9);
  const sim = await startFleetSim(opts);
  t.after(() => sim.close());
  assert.equal(sim.proxies[0]?.diagnosticUrl, `http://127.0.0.1:${port}`);
  const page = await scrape(sim, 'tyo-1');
  assert.equal(page.get('teleport_build_info')?.samples[0]?.labels['version'], '17.4.2');
  // A restart re-listens on the same configured port.
  await act(sim, 'tyo-1', 'shutdown', { mode: 'immediate' });
  await act(sim, 'tyo-1', 'restart', {});
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
});

test('the same seed replays the same fleet', async (t) => {
  const a = await startSim(t, { seed: 5 });
  const b = await startSim(t, { seed: 5 });
  const c = await startSim(t, { seed: 6 });
  for (const sim of [a, b, c]) sim.advance(3_600_000);
  const state = async (sim: typeof a): Promise<unknown> => {
    const list = (await control(sim, 'GET', '/proxies')).json as ProxyView[];
    return { proxies: list.map(({ diagnosticUrl: _, ...rest }) => rest), nodes: (await control(sim, 'GET', '/inventory/nodes')).json };
  };
  assert.deepEqual(await state(a), await state(b));
  assert.notDeepEqual(await state(a), await state(c));
});

test('with tickMs the clock follows real time times timeFactor', async (t) => {
  const sim = await startSim(t, { tickMs: 10, timeFactor: 60_000, sessionsPerProxy: 5 });
  const start = sim.clock.now();
  const attempts = metric(await scrape(sim, 'fra-1'), 'teleport_connect_to_node_attempts_total');
  await new Promise((r) => setTimeout(r, 120));
  const moved = sim.clock.now() - start;
  assert.ok(moved >= 60 * 60_000, `at least an hour of sim time passed, got ${moved} ms`);
  const later = metric(await scrape(sim, 'fra-1'), 'teleport_connect_to_node_attempts_total');
  assert.ok(later > attempts, `sessions arrived on their own: ${attempts} -> ${later}`);
});
