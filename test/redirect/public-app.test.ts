import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import { openGeoDatabase, type GeoDatabase } from '../../src/adapters/geoip/index.js';
import type { RoutingTable } from '../../src/redirect/core/routing-table.js';
import { parseTrustedProxies } from '../../src/redirect/core/trusted-proxies.js';
import { buildPublicApp } from '../../src/redirect/public-app.js';
import { registerRedirectMetrics } from '../../src/redirect/redirect-metrics.js';
import { createRedirectService } from '../../src/redirect/redirect-service.js';
import { regionsDown, table } from './core/redirect-fixture.js';

const TOKYO_IP = '133.11.0.7';
const LONDON_IP = '81.2.69.10';
const SYDNEY_IP = '129.78.5.5';
// Placed by the test database in Australia (and Oceania), with no coordinates.
const AU_COUNTRY_ONLY_IP = '1.130.4.5';

async function geoDb(): Promise<GeoDatabase> {
  const r = await openGeoDatabase(['test/fixtures/geoip/geoip2-city-test.mmdb']);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.value;
}

/** The public app on the MaxMind-writer test database; inject()'s peer is 127.0.0.1, trusted unless `trust` says otherwise. */
async function app(t: { after: (fn: () => unknown) => void }, opts: { routing?: RoutingTable; trust?: string[]; geo?: () => GeoDatabase } = {}) {
  const registry = new Registry();
  const trusted = parseTrustedProxies(opts.trust ?? ['127.0.0.1/32']);
  assert.ok(trusted.ok);
  const db = await geoDb();
  const routing = opts.routing ?? table();
  const redirects = createRedirectService({
    routing: () => routing,
    geo: opts.geo ?? (() => db),
    trusted: trusted.value,
    metrics: registerRedirectMetrics(registry, () => db.info.buildEpochSeconds),
    now: () => performance.now(),
    cacheSize: 1000,
  });
  const a = await buildPublicApp({ log: pino({ level: 'silent' }), redirects });
  t.after(() => a.close());
  return { app: a, registry };
}

const from = (ip: string, extra: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...extra });

test('a Tokyo client is sent to a Tokyo proxy with the deep link kept, uncached and varying per user', async (t) => {
  const { app: a } = await app(t);
  const r = await a.inject({ url: '/web/cluster/main/nodes?sort=name', headers: from(TOKYO_IP) });
  assert.equal(r.statusCode, 302);
  assert.match(String(r.headers.location), /^https:\/\/tokyo-\d\.proxy\.example\.com\/web\/cluster\/main\/nodes\?sort=name$/);
  assert.equal(r.headers['cache-control'], 'no-store');
  assert.match(String(r.headers.vary), /Cookie/);
  assert.match(String(r.headers.vary), /X-Forwarded-For/);
  const london = await a.inject({ url: '/', headers: from(LONDON_IP) });
  assert.match(String(london.headers.location), /^https:\/\/london-\d\.proxy\.example\.com\/$/);
});

test('forwarding headers from an untrusted peer are ignored: the socket address decides', async (t) => {
  const { app: a } = await app(t, { trust: ['10.0.0.0/8'] });
  const r = await a.inject({ url: '/', headers: from(TOKYO_IP) });
  // 127.0.0.1 is private: the default region (london), not Tokyo.
  assert.match(String(r.headers.location), /^https:\/\/london-\d\./);
});

test('?region= overrides and is remembered in a Secure, HttpOnly, SameSite=Lax cookie; auto forgets it', async (t) => {
  const { app: a } = await app(t);
  const r = await a.inject({ url: '/web?region=sydney', headers: from(TOKYO_IP) });
  assert.match(String(r.headers.location), /^https:\/\/sydney-\d\.proxy\.example\.com\/web$/, 'region is not passed on');
  const cookie = String(r.headers['set-cookie']);
  assert.match(cookie, /^meridian_region=sydney;/);
  for (const attr of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/']) assert.ok(cookie.includes(attr), attr);
  const again = await a.inject({ url: '/', headers: from(TOKYO_IP, { cookie: 'other=1; meridian_region=sydney' }) });
  assert.match(String(again.headers.location), /^https:\/\/sydney-/);
  assert.equal(again.headers['set-cookie'], undefined);
  const auto = await a.inject({ url: '/?region=auto', headers: from(TOKYO_IP, { cookie: 'meridian_region=sydney' }) });
  assert.match(String(auto.headers.location), /^https:\/\/tokyo-/);
  assert.match(String(auto.headers['set-cookie']), /^meridian_region=; .*Max-Age=0/);
});

test('unknown region names in the query or cookie are ignored and never reflected', async (t) => {
  const { app: a } = await app(t);
  for (const url of ['/?region=mars', '/?region=%3Cscript%3E', '/?region=sydney&region=tokyo', '/?region=']) {
    const r = await a.inject({ url, headers: from(TOKYO_IP, { cookie: 'meridian_region=<b>evil</b>' }) });
    assert.equal(r.statusCode, 302, url);
    assert.match(String(r.headers.location), /^https:\/\/tokyo-\d\.proxy\.example\.com\//, url);
    assert.equal(r.headers['set-cookie'], undefined, url);
    assert.doesNotMatch(String(r.headers.location), /mars|script|evil/, url);
  }
});

test('hostile paths never change the host of the Location', async (t) => {
  const { app: a } = await app(t);
  const hostile = [
    '//evil.example/',
    '/%2F%2Fevil.example',
    '/web//evil.example',
    '/web/%2F%2Fevil.example',
    '/web/\\\\evil.example',
    '/web/%5C%5Cevil.example',
    '/web/%0d%0aSet-Cookie:x=1',
    '/web?x=%0d%0aLocation:%20https://evil.example',
    '/web/@evil.example',
    '/web/http://evil.example',
    '/web/../../evil',
    '/?next=https://evil.example',
    '/web/%2e%2e/%2e%2e//evil.example',
  ];
  let redirected = 0;
  // Twice, from two regions: the second time each target's suffix is remembered, and it must
  // follow the other region's origin.
  for (const [ip, origin] of [[SYDNEY_IP, /^https:\/\/sydney-\d\.proxy\.example\.com$/], [LONDON_IP, /^https:\/\/london-\d\.proxy\.example\.com$/]] as const) {
    for (const url of hostile) {
      const r = await a.inject({ url, headers: from(ip) });
      if (r.statusCode === 404) continue; // not a login path at all: nothing is redirected
      assert.equal(r.statusCode, 302, url);
      redirected++;
      const loc = new URL(String(r.headers.location));
      assert.match(loc.origin, origin, url);
      assert.doesNotMatch(String(r.headers.location), /[\r\n]/, url);
    }
  }
  assert.ok(redirected >= 10, `only ${redirected} of ${2 * hostile.length} reached the redirect`);
});

test('a deep link asked again from elsewhere keeps its path on the other proxy; long ones too', async (t) => {
  const { app: a } = await app(t);
  const long = `/web/cluster/main/nodes?q=${'x'.repeat(600)}`;
  for (const url of ['/web/cluster/main/nodes?sort=name', long]) {
    for (const [ip, host] of [[TOKYO_IP, 'tokyo'], [LONDON_IP, 'london'], [TOKYO_IP, 'tokyo']] as const) {
      const r = await a.inject({ url, headers: from(ip) });
      assert.match(String(r.headers.location), new RegExp(`^https://${host}-\\d\\.proxy\\.example\\.com${url.replace(/[?.]/g, '\\$&')}$`), `${host}: ${url.slice(0, 40)}`);
    }
  }
});

test('with no ready proxy anywhere: a 503 page that says so, never a redirect', async (t) => {
  const down = regionsDown('tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo');
  const { app: a } = await app(t, { routing: table({ patch: down }) });
  const r = await a.inject({ url: '/', headers: from(TOKYO_IP) });
  assert.equal(r.statusCode, 503);
  assert.equal(r.headers.location, undefined);
  assert.equal(r.headers['retry-after'], '10');
  assert.match(String(r.headers['content-type']), /^text\/html/);
  assert.match(r.body, /No access proxy is available right now/);
  const n = await a.inject({ url: '/nearest', headers: from(TOKYO_IP) });
  assert.equal(n.statusCode, 503);
  assert.equal(n.json().error, 'no proxy available');
});

test('a region without ready proxies is skipped for the next nearest', async (t) => {
  const { app: a } = await app(t, { routing: table({ patch: regionsDown('tokyo') }) });
  const n = (await a.inject({ url: '/nearest', headers: from(TOKYO_IP) })).json();
  assert.notEqual(n.region, 'tokyo');
  assert.equal(n.region, 'sydney', 'Sydney (7,800 km) is nearer Tokyo than London, Chicago or New York');
});

test('/nearest says when the proxy chosen has an unknown load (metrics unread in its whole region), and when not', async (t) => {
  const unread = { up: false, ready: true, readyzStatus: 200, metrics: undefined, sessionsTotal: 0 };
  const { app: known } = await app(t, { routing: table({ patch: { 'tokyo-1': unread } }) });
  const k = (await known.inject({ url: '/nearest', headers: from(TOKYO_IP) })).json();
  assert.equal(k.loadKnown, true);
  assert.notEqual(k.proxy, 'tokyo-1', 'a proxy of unknown load is not taken for the least loaded');
  const { app: unknown } = await app(t, { routing: table({ patch: { 'tokyo-1': unread, 'tokyo-2': unread, 'tokyo-3': unread } }) });
  const u = (await unknown.inject({ url: '/nearest', headers: from(TOKYO_IP) })).json();
  assert.equal(u.region, 'tokyo');
  assert.equal(u.loadKnown, false);
});

test('/nearest answers JSON for people and the bare host for scripts', async (t) => {
  const { app: a } = await app(t);
  const j = await a.inject({ url: '/nearest', headers: from(TOKYO_IP) });
  assert.equal(j.statusCode, 200);
  const body = j.json();
  assert.equal(body.region, 'tokyo');
  assert.equal(body.reason, 'nearest');
  assert.ok(body.distanceKm >= 0 && body.distanceKm < 50, `distance ${body.distanceKm}`);
  assert.equal(body.url, `https://${body.proxy}.proxy.example.com`);
  const h = await a.inject({ url: '/nearest?format=host', headers: from(TOKYO_IP) });
  assert.equal(h.body, `${body.proxy}.proxy.example.com\n`);
  assert.match(String(h.headers['content-type']), /^text\/plain/);
  assert.equal((await a.inject({ url: '/nearest?format=xml' })).statusCode, 400);
});

test('a reloaded GeoIP database decides at once, though the routing table did not change', async (t) => {
  let db = await geoDb();
  const { app: a } = await app(t, { geo: () => db });
  const before = (await a.inject({ url: '/nearest', headers: from(TOKYO_IP) })).json();
  assert.ok(before.distanceKm < 50, `Tokyo: ${before.distanceKm} km`);
  // The new file places the same /24 in Osaka, about 400 km from the Tokyo region.
  const moved = await openGeoDatabase(['test/fixtures/geoip/geoip2-city-test-moved.mmdb']);
  assert.ok(moved.ok, moved.ok ? '' : moved.error);
  db = moved.value;
  const after = (await a.inject({ url: '/nearest', headers: from(TOKYO_IP) })).json();
  assert.equal(after.region, 'tokyo');
  assert.ok(after.distanceKm > 350 && after.distanceKm < 450, `Osaka: ${after.distanceKm} km`);
});

/** What /nearest says about where and why. */
const pick = (body: { region: string; reason: string; distanceKm: number | null }) => ({ region: body.region, reason: body.reason, distanceKm: body.distanceKm });

test('a client GeoIP places only in a country follows its pin, else goes to the default region', async (t) => {
  const { app: pinned } = await app(t, { routing: table({ pins: { countries: { AU: 'sydney' } } }) });
  const r = await pinned.inject({ url: '/web/login', headers: from(AU_COUNTRY_ONLY_IP) });
  assert.match(String(r.headers.location), /^https:\/\/sydney-\d\.proxy\.example\.com\/web\/login$/);
  assert.deepEqual(pick((await pinned.inject({ url: '/nearest', headers: from(AU_COUNTRY_ONLY_IP) })).json()), { region: 'sydney', reason: 'country_pin', distanceKm: null });

  const { app: unpinned } = await app(t);
  assert.deepEqual(pick((await unpinned.inject({ url: '/nearest', headers: from(AU_COUNTRY_ONLY_IP) })).json()), { region: 'london', reason: 'default_region', distanceKm: null });
});

test('redirects and GeoIP lookups are counted by region, reason and result', async (t) => {
  const { app: a, registry } = await app(t);
  // Remembered from a client's second request on: the third comes from the decision cache.
  for (let i = 0; i < 3; i++) await a.inject({ url: '/', headers: from(TOKYO_IP) });
  await a.inject({ url: '/', headers: from('10.1.2.3') });
  const text = await registry.metrics();
  assert.match(text, /^meridian_redirects_total\{region="tokyo",reason="nearest"\} 3$/m);
  assert.match(text, /^meridian_redirects_total\{region="london",reason="default_region"\} 1$/m);
  assert.match(text, /^meridian_geoip_lookups_total\{result="found"\} 2$/m, 'the third Tokyo request came from the decision cache');
  assert.match(text, /^meridian_geoip_lookups_total\{result="private"\} 1$/m);
  assert.match(text, /^meridian_redirect_duration_seconds_count 3$/m, 'decisions worked out: the third Tokyo request was remembered');
  assert.match(text, /^meridian_geoip_database_build_timestamp_seconds \d+$/m);
});

test('a failing request answers a fixed 500 and logs one error line naming the listener, request id and URL', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  const broken = { decide: () => { throw new Error('decision failed'); } } as unknown as Parameters<typeof buildPublicApp>[0]['redirects'];
  const a = await buildPublicApp({ log, redirects: broken });
  t.after(() => a.close());
  const first = await a.inject({ url: '/web/cluster?x=1' });
  const second = await a.inject({ url: '/' });
  assert.equal(first.statusCode, 500);
  assert.equal(first.body, 'Internal Server Error\n');
  const errors = lines.filter((l) => l['msg'] === 'Public request failed');
  assert.equal(errors.length, 2, JSON.stringify(lines));
  assert.deepEqual(errors.map((l) => [l['listener'], l['url'], l['level']]), [['public', '/web/cluster?x=1', 50], ['public', '/', 50]]);
  // Each line names its own request, though no child logger is made per request.
  assert.equal(typeof errors[0]?.['reqId'], 'string');
  assert.notEqual(errors[0]?.['reqId'], errors[1]?.['reqId']);
  assert.match(String((errors[0]?.['err'] as { message?: string } | undefined)?.message), /decision failed/);
  assert.equal(second.statusCode, 500);
  // At warn, the listener logs nothing per request but failures.
  assert.equal(lines.length, 2);
});
