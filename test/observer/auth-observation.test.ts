import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { createDiagnosticClient } from '../../src/adapters/teleport/diagnostic-client.js';
import { EMPTY_SNAPSHOT } from '../../src/model/snapshot.js';
import { authObservation, authServerObservation } from '../../src/observer/core/auth-observation.js';
import type { AuthScrapeFn, ScrapeFn } from '../../src/observer/core/scrape-outcome.js';
import { createObserver } from '../../src/observer/observer.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { fleet, metricsWith, proxy } from './fixtures/metrics.js';

const log = pino({ level: 'silent' });
const AT = '2026-01-01T00:00:00.000Z';
const AUTH_1 = 'http://auth-1.diag.internal:3000';
const AUTH_2 = 'http://auth-2.diag.internal:3000';

describe('Auth Service observation', () => {
  it('the lowest version of its instances; one unreadable instance spoils nothing else', () => {
    const a = authObservation(
      [
        authServerObservation(AUTH_1, { ok: true, version: '17.4.8', readyzStatus: 200, durationMs: 1 }, AT),
        authServerObservation(AUTH_2, { ok: false, error: { reason: 'connection_refused', message: `${AUTH_2}/metrics: connection refused` }, durationMs: 1 }, AT),
        authServerObservation('http://auth-3:3000', { ok: true, version: '17.4.2', readyzStatus: 200, durationMs: 1 }, AT),
      ],
      AT,
    );
    assert.equal(a.version, '17.4.2');
    assert.equal(a.error, undefined);
    assert.deepEqual(a.servers.map((s) => [s.version ?? null, s.ready, s.error?.reason ?? null]), [['17.4.8', true, null], [null, false, 'connection_refused'], ['17.4.2', true, null]]);
  });

  it('no instance readable: no version, the error says why', () => {
    const a = authObservation([authServerObservation(AUTH_1, { ok: false, error: { reason: 'timeout', message: `${AUTH_1}/metrics: no answer` }, readyzStatus: 200, durationMs: 1 }, AT)], AT);
    assert.equal(a.version, undefined);
    assert.equal(a.error?.reason, 'timeout');
    assert.equal(a.servers[0]?.ready, true);
  });

  it('the observer scrapes the Auth Service beside the proxies, and a failing Auth spoils no proxy', async () => {
    const scrape: ScrapeFn = async () => ({ ok: true, metrics: metricsWith(3), readyzStatus: 200, durationMs: 1 });
    const scrapeAuth: AuthScrapeFn = async (url) =>
      url === AUTH_1 ? { ok: true, version: '17.4.8', readyzStatus: 200, durationMs: 1 } : Promise.reject(new Error('socket hang up'));
    const observer = createObserver({ scrape, scrapeAuth, clock: new ManualClock(Date.parse(AT)), concurrency: 2, timeoutMs: 1000, log, random: () => 0 });
    const spec = { ...fleet(proxy('a'), proxy('b')), auth: { diagnosticUrls: [AUTH_1, AUTH_2] } };
    const s = await observer.observe(spec, EMPTY_SNAPSHOT);
    assert.deepEqual(s.proxies.map((p) => [p.name, p.up, p.sessionsTotal]), [['a', true, 6], ['b', true, 6]]);
    assert.equal(s.auth?.version, '17.4.8');
    assert.equal(s.auth?.observedAt, AT);
    assert.match(s.auth?.servers[1]?.error?.message ?? '', /auth-2.*socket hang up/);
    assert.ok(Object.isFrozen(s.auth));
    const without = await observer.observe(fleet(proxy('a')), EMPTY_SNAPSHOT);
    assert.equal(without.auth, undefined, 'no spec.auth: nothing about it in the snapshot');
  });
});

describe('diagnostic client: an Auth Service page', () => {
  const servers: http.Server[] = [];
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });

  it('reads teleport_build_info from a page without any proxy gauges, and /readyz', async () => {
    const page = '# TYPE teleport_build_info gauge\nteleport_build_info{gitref="v17.4.8-0-gabc",goversion="go1.23.6",version="17.4.8"} 1\nprocess_state 0\nbackend_requests_total 17\n';
    const server = http.createServer((req, res) => {
      if (req.url === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(page);
      else res.writeHead(req.url === '/readyz' ? 200 : 404).end('{"status":"ok"}');
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const client = createDiagnosticClient({ timeoutMs: 2000, maxBodyBytes: 64 * 1024, log });
    after(() => client.close());
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const out = await client.scrapeAuth(url);
    assert.ok(out.ok, out.ok ? '' : out.error.message);
    assert.equal(out.version, '17.4.8');
    assert.equal(out.readyzStatus, 200);
    const asProxy = await client.scrape(url);
    assert.equal(!asProxy.ok && asProxy.error.reason, 'missing_metric', 'the proxy parser would refuse it: it has no session gauges');
  });
});
