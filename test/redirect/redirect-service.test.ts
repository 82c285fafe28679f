import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { openGeoDatabase, type GeoDatabase } from '../../src/adapters/geoip/index.js';
import { signInvite } from '../../src/canary/core/invite-token.js';
import type { RoutingTable } from '../../src/redirect/core/routing-table.js';
import { parseTrustedProxies } from '../../src/redirect/core/trusted-proxies.js';
import { registerRedirectMetrics } from '../../src/redirect/redirect-metrics.js';
import { createRedirectService, type RedirectOutcome, type RedirectRequest } from '../../src/redirect/redirect-service.js';
import { Prng } from '../../src/sim/prng.js';
import { regionsDown, table } from './core/redirect-fixture.js';

const KEY = 'service-test-key';
const NOW = 1_900_000_000;
const CANARY = { name: 'debug', proxies: ['tokyo-1', 'london-2'], optInOnly: true };

async function geo(file: string): Promise<GeoDatabase> {
  const r = await openGeoDatabase([`test/fixtures/geoip/${file}`]);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.value;
}

function service(routing: () => RoutingTable, db: () => GeoDatabase, registry = new Registry()) {
  const trusted = parseTrustedProxies(['127.0.0.1/32', '10.1.0.0/16']);
  assert.ok(trusted.ok);
  return createRedirectService({
    routing,
    geo: db,
    trusted: trusted.value,
    metrics: registerRedirectMetrics(registry, () => undefined),
    now: () => performance.now(),
    cacheSize: 64,
    canaryKey: KEY,
    nowSeconds: () => NOW,
  });
}

/** What a request's answer is made of, without object identity. */
const shape = (o: RedirectOutcome) => ({ ...o });

describe('redirect service: remembered answers are the answers', () => {
  it('over random requests, tables and databases, a long-lived service answers as a fresh one does', async () => {
    const main = await geo('geoip2-city-test.mmdb');
    const moved = await geo('geoip2-city-test-moved.mmdb');
    // Load unknown (ready, metrics unread): one proxy of tokyo; every proxy of sydney, whose candidates then keep their names.
    const unread = { up: false, ready: true, readyzStatus: 200, metrics: undefined, sessionsTotal: 0 };
    const tables = [
      table(),
      table({ sessions: 130 }),
      table({ patch: regionsDown('tokyo') }),
      table({ canaries: [CANARY] }),
      table({ outOfRotation: ['london-1', 'london-2'] }),
      table({ patch: { 'tokyo-1': unread } }),
      table({ patch: { 'sydney-1': unread, 'sydney-2': unread } }),
    ];
    let routing = tables[0] as RoutingTable;
    let db = main;
    const registry = new Registry();
    const lived = service(() => routing, () => db, registry);

    const rng = new Prng(2026);
    const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)] as T;
    const clients = ['133.11.0.7', '81.2.69.10', '129.78.5.5', '128.135.1.1', '143.107.2.2', '2001:200::1', '10.0.0.9', 'garbage'];
    // Trusted (loopback, 10.1/16, a mapped loopback) and untrusted peers.
    const peers = ['127.0.0.1', '10.1.2.3', '::ffff:127.0.0.1', '198.51.100.7', '10.2.0.1'];
    const forwarded = (): string | string[] | undefined => {
      switch (rng.int(5)) {
        case 0:
          return undefined;
        case 1:
          return `${pick(clients)}, ${pick(clients)}`;
        case 2:
          return [pick(clients), pick(clients)];
        case 3:
          return rng.chance(0.3) ? `${'x'.repeat(300)}, ${pick(clients)}` : `${pick(clients)}, 10.1.9.9`;
        default:
          return pick(clients);
      }
    };
    const invite = signInvite({ canary: 'debug', expiresAt: NOW + 3600 }, KEY);
    const cookies = [undefined, undefined, 'theme=dark', 'meridian_region=sydney', 'meridian_region=atlantis', `meridian_canary=${invite}`, 'meridian_canary=forged.token'];
    const params: unknown[] = [undefined, undefined, undefined, 'chicago', 'auto', 'atlantis', ['a', 'b']];

    let plainRepeats = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 4000; i++) {
      if (rng.chance(0.02)) routing = pick(tables);
      if (rng.chance(0.005)) db = db === main ? moved : main;
      const xff = forwarded();
      const cookie = pick(cookies);
      const req: RedirectRequest = {
        socketAddress: pick(peers),
        headers: { ...(xff !== undefined ? { 'x-forwarded-for': xff } : {}), ...(cookie !== undefined ? { cookie } : {}) },
        regionParam: pick(params),
      };
      const fresh = service(() => routing, () => db).decide(req);
      assert.deepEqual(shape(lived.decide(req)), shape(fresh), JSON.stringify(req));
      const key = JSON.stringify(req);
      if (seen.has(key) && cookie === undefined && req.regionParam === undefined) plainRepeats++;
      seen.add(key);
    }
    assert.ok(plainRepeats > 150, `${plainRepeats} repeated plain requests: the remembered path must be exercised`);
    // Every answer was counted once, remembered or not.
    const counted = (await registry.getSingleMetric('meridian_redirects_total')?.get())?.values.reduce((a, v) => a + v.value, 0);
    assert.equal(counted, 4000);
  });

  it('a trusted and an untrusted peer sending the same header are told apart', async () => {
    const db = await geo('geoip2-city-test.mmdb');
    const t = table();
    const s = service(() => t, () => db);
    const headers = { 'x-forwarded-for': '133.11.0.7' };
    const trusted = s.decide({ socketAddress: '127.0.0.1', headers, regionParam: undefined });
    const untrusted = s.decide({ socketAddress: '198.51.100.7', headers, regionParam: undefined });
    assert.deepEqual(trusted.client, { ip: '133.11.0.7', source: 'x-forwarded-for' });
    assert.deepEqual(untrusted.client, { ip: '198.51.100.7', source: 'socket' });
    assert.equal(trusted.decision.kind === 'proxy' && trusted.decision.region, 'tokyo');
    // A header whose last hop is no address leaves each trusted peer as its own client.
    const broken = { 'x-forwarded-for': '133.11.0.7, garbage' };
    assert.deepEqual(s.decide({ socketAddress: '127.0.0.1', headers: broken, regionParam: undefined }).client, { ip: '127.0.0.1', source: 'socket' });
    assert.deepEqual(s.decide({ socketAddress: '10.1.2.3', headers: broken, regionParam: undefined }).client, { ip: '10.1.2.3', source: 'socket' });
    // A direct client whose address is the header's text is still the socket's.
    const direct = s.decide({ socketAddress: '133.11.0.7', headers: {}, regionParam: undefined });
    assert.deepEqual(direct.client, { ip: '133.11.0.7', source: 'socket' });
  });

  it('remembers plain answers from a client\'s second request, but not for long headers or headers that gave no address', async () => {
    const db = await geo('geoip2-city-test.mmdb');
    const t = table();
    const registry = new Registry();
    const s = service(() => t, () => db, registry);
    // Decisions worked out are timed; remembered answers are not: the histogram's count tells them apart.
    const worked = async (): Promise<number> => Number(/^meridian_redirect_duration_seconds_count (\d+)$/m.exec(await registry.metrics())?.[1] ?? 0);
    // A key is kept the second time it comes (one-off clients never enter the cache): three requests.
    const thrice = async (socketAddress: string, xff?: string): Promise<number> => {
      const before = await worked();
      for (let i = 0; i < 3; i++) s.decide({ socketAddress, headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, regionParam: undefined });
      return (await worked()) - before;
    };
    assert.equal(await thrice('127.0.0.1', '133.11.0.7'), 2, 'a short header from a trusted peer: remembered from its second request');
    assert.equal(await thrice('198.51.100.7'), 2, 'a direct client: remembered by its address');
    assert.equal(await thrice('127.0.0.1', `${'x'.repeat(300)}, 81.2.69.10`), 3, 'a padded header: walked each time');
    assert.equal(await thrice('127.0.0.1', '81.2.69.10, garbage'), 3, 'a header that gave no address: not remembered under it');
  });
});
