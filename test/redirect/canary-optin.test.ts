import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Registry } from 'prom-client';
import { openGeoDatabase, type GeoDatabase } from '../../src/adapters/geoip/index.js';
import { signInvite } from '../../src/canary/core/invite-token.js';
import type { CanaryRoute, RoutingTable } from '../../src/redirect/core/routing-table.js';
import { parseTrustedProxies } from '../../src/redirect/core/trusted-proxies.js';
import { buildPublicApp } from '../../src/redirect/public-app.js';
import { registerRedirectMetrics } from '../../src/redirect/redirect-metrics.js';
import { createRedirectService, type RedirectOutcome, type RedirectService } from '../../src/redirect/redirect-service.js';
import { table, type TableOptions } from './core/redirect-fixture.js';

const TOKYO_IP = '133.11.0.7';
const LONDON_IP = '81.2.69.10';
const SYDNEY_IP = '129.78.5.5';

const KEY = 'canary-invite-test-key';
const NOW = 1_900_000_000;
const WEEK = 7 * 24 * 3600;
const CANARY = 'debug-17-4-9';
const CANARY_PROXIES: readonly string[] = ['tokyo-1', 'london-2'];
const DEBUG: CanaryRoute = { name: CANARY, proxies: CANARY_PROXIES, optInOnly: true };

const invite = (canary = CANARY, expiresAt = NOW + WEEK, key = KEY): string => signInvite({ canary, expiresAt }, key);
const VALID = invite();
const CLEARED = 'meridian_canary=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax';

/** A token whose signature is someone else's (the payload of one invite, the MAC of another). */
function forged(): string {
  const [, signature] = invite('other-canary').split('.');
  const [payload] = VALID.split('.');
  return `${payload}.${signature}`;
}

let db: GeoDatabase | undefined;
async function geoDb(): Promise<GeoDatabase> {
  if (db) return db;
  const r = await openGeoDatabase(['test/fixtures/geoip/geoip2-city-test.mmdb']);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return (db = r.value);
}

interface Setup {
  /** The routing table in force; undefined before the first observation. */
  routing?: RoutingTable | undefined;
  /** The canary key; null: invites disabled. */
  key?: string | null;
}

async function service(o: Setup = {}): Promise<{ redirects: RedirectService; registry: Registry; setRouting: (t: RoutingTable | undefined) => void }> {
  const registry = new Registry();
  const trusted = parseTrustedProxies(['127.0.0.1/32']);
  assert.ok(trusted.ok);
  const geo = await geoDb();
  let routing = 'routing' in o ? o.routing : table({ canaries: [DEBUG] });
  const key = o.key === undefined ? KEY : o.key;
  const redirects = createRedirectService({
    routing: () => routing,
    geo: () => geo,
    trusted: trusted.value,
    metrics: registerRedirectMetrics(registry, () => geo.info.buildEpochSeconds),
    now: () => performance.now(),
    cacheSize: 10_000,
    canaryKey: key ?? undefined,
    nowSeconds: () => NOW,
  });
  return { redirects, registry, setRouting: (t) => (routing = t) };
}

async function app(t: TestContext, o: Setup = {}) {
  const s = await service(o);
  const a = await buildPublicApp({ log: pino({ level: 'silent' }), redirects: s.redirects });
  t.after(() => a.close());
  return { ...s, app: a };
}

const ask = (ip: string, cookie?: string, region?: string) => ({
  socketAddress: '127.0.0.1',
  headers: cookie === undefined ? { 'x-forwarded-for': ip } : { 'x-forwarded-for': ip, cookie },
  regionParam: region,
});
const proxyOf = (out: RedirectOutcome): string => (out.decision.kind === 'proxy' ? out.decision.proxy : 'unavailable');
const reasonOf = (out: RedirectOutcome): string => (out.decision.kind === 'proxy' ? out.decision.reason : 'unavailable');
const headers = (ip: string, extra: Record<string, string> = {}) => ({ 'x-forwarded-for': ip, ...extra });

describe('redirect service: the canary cookie', () => {
  it('a valid invite cookie sends the user to the nearest ready proxy of its canary', async () => {
    const { redirects } = await service();
    const cases = [
      { ip: TOKYO_IP, proxy: 'tokyo-1' },
      { ip: LONDON_IP, proxy: 'london-2' },
      { ip: SYDNEY_IP, proxy: 'tokyo-1' }, // tokyo (7,800 km) is the nearer canary region; sydney has none
      { ip: '10.1.2.3', proxy: 'london-2' }, // location unknown: the default region's
    ];
    for (const c of cases) {
      const out = redirects.decide(ask(c.ip, `a=1; meridian_canary=${VALID}; b=2`));
      assert.equal(proxyOf(out), c.proxy, c.ip);
      assert.equal(reasonOf(out), 'canary');
      assert.equal(out.canary, CANARY);
      assert.equal(out.canaryCookie, undefined, 'a valid cookie is left alone');
      assert.equal(out.setCookie, undefined);
    }
  });

  it('an invalid cookie is ignored and cleared: expired, forged, another key, an unknown or ended canary, malformed', async () => {
    const { redirects } = await service();
    const cookies: Record<string, string> = {
      expired: invite(CANARY, NOW - 1),
      'expiring this second': invite(CANARY, NOW),
      forged: forged(),
      'signed with another key': invite(CANARY, NOW + WEEK, 'another-key'),
      'unknown canary': invite('not-running'),
      malformed: 'not-a-token',
      'markup, empty': '<b>x</b>',
      empty: '',
    };
    for (const [name, cookie] of Object.entries(cookies)) {
      const out = redirects.decide(ask(TOKYO_IP, `meridian_canary=${cookie}`));
      assert.match(proxyOf(out), /^tokyo-[23]$/, name);
      assert.equal(reasonOf(out), 'nearest', name);
      assert.equal(out.canary, undefined, name);
      assert.equal(out.canaryCookie, CLEARED, name);
    }
  });

  it('a token replayed after its canary ended is cleared', async () => {
    const { redirects, setRouting } = await service();
    assert.equal(proxyOf(redirects.decide(ask(TOKYO_IP, `meridian_canary=${VALID}`))), 'tokyo-1');
    setRouting(table());
    const out = redirects.decide(ask(TOKYO_IP, `meridian_canary=${VALID}`));
    assert.match(proxyOf(out), /^tokyo-\d$/);
    assert.equal(reasonOf(out), 'nearest');
    assert.equal(out.canaryCookie, CLEARED);
  });

  it('invites disabled (no key): the cookie is ignored, not cleared', async () => {
    const { redirects } = await service({ key: null });
    const out = redirects.decide(ask(TOKYO_IP, `meridian_canary=${VALID}`));
    assert.match(proxyOf(out), /^tokyo-[23]$/);
    assert.equal(out.canary, undefined);
    assert.equal(out.canaryCookie, undefined);
  });

  it('the canary has no ready proxy: the ordinary decision, cookie kept', async () => {
    const { redirects } = await service({ routing: table({ canaries: [DEBUG], patch: { 'tokyo-1': { up: false, ready: false }, 'london-2': { ready: false } } }) });
    const out = redirects.decide(ask(TOKYO_IP, `meridian_canary=${VALID}`));
    assert.match(proxyOf(out), /^tokyo-[23]$/);
    assert.equal(reasonOf(out), 'nearest');
    assert.deepEqual(out.decision.kind === 'proxy' && out.decision.skipped, [{ rule: 'canary', region: CANARY, why: 'no_ready_proxy' }]);
    assert.equal(out.canary, CANARY, 'still opted in: the canary may come back');
    assert.equal(out.canaryCookie, undefined);
  });

  it('decisions are cached per canary: the same address with and without the cookie', async () => {
    const { redirects } = await service();
    for (let i = 0; i < 3; i++) {
      assert.match(proxyOf(redirects.decide(ask(TOKYO_IP))), /^tokyo-[23]$/);
      assert.equal(proxyOf(redirects.decide(ask(TOKYO_IP, `meridian_canary=${VALID}`))), 'tokyo-1');
      assert.match(proxyOf(redirects.decide(ask(TOKYO_IP, `meridian_canary=${forged()}`))), /^tokyo-[23]$/);
      assert.equal(proxyOf(redirects.decide(ask(TOKYO_IP, `meridian_region=sydney; meridian_canary=${VALID}`))), 'tokyo-1');
      assert.match(proxyOf(redirects.decide(ask(TOKYO_IP, 'meridian_region=sydney'))), /^sydney-\d$/);
    }
  });

  it('counts redirects the canary rule decided, by canary', async () => {
    const { redirects, registry } = await service();
    redirects.decide(ask(TOKYO_IP, `meridian_canary=${VALID}`));
    redirects.decide(ask(LONDON_IP, `meridian_canary=${VALID}`));
    redirects.decide(ask(TOKYO_IP));
    redirects.decide(ask(TOKYO_IP, `meridian_canary=${forged()}`));
    const text = await registry.metrics();
    assert.match(text, new RegExp(`^meridian_canary_optin_redirects_total\\{canary="${CANARY}"\\} 2$`, 'm'));
    assert.match(text, /^meridian_redirects_total\{region="tokyo",reason="canary"\} 1$/m);
    assert.match(text, /^meridian_redirects_total\{region="tokyo",reason="nearest"\} 2$/m);
  });

  it('explain: as if the client had opted in', async () => {
    const { redirects } = await service();
    const e = redirects.explain(TOKYO_IP, undefined, CANARY);
    assert.equal(e?.decision.kind === 'proxy' && e.decision.proxy, 'tokyo-1');
    assert.deepEqual(e?.explanation.steps[0], { rule: 'canary', outcome: 'chosen', canary: CANARY, region: 'tokyo', why: 'opted in to the canary: its nearest ready proxy' });
    assert.equal(redirects.explain(TOKYO_IP)?.explanation.steps[0]?.rule, 'override');
  });
});

describe('users without a valid canary cookie never reach a canary proxy under optInOnly', () => {
  // The fixture database's networks (test/fixtures/geoip/generate.pl), addresses it does not know,
  // private and IPv6 addresses: every kind of answer GeoIP gives.
  const addresses: string[] = [];
  for (let i = 1; i <= 40; i++) {
    addresses.push(
      `133.11.0.${i}`,
      `81.2.69.${i + 100}`,
      `128.135.${i}.${i * 3}`,
      `143.107.${i}.${i + 7}`,
      `129.78.${i}.${i + 1}`,
      `128.59.${i}.${200 - i}`,
      `141.2.${i}.${i}`,
      `146.141.${i}.${i + 20}`,
      `9.9.9.${i}`,
      `1.${128 + i}.${i}.${i}`,
      `10.${i}.0.${i}`,
      `192.168.${i}.1`,
      `203.0.113.${i}`,
      `8.${i}.${i}.8`,
      `2001:200::${i.toString(16)}`,
      `2001:db8::${i.toString(16)}`,
    );
  }
  const fleets: { name: string; o: TableOptions }[] = [
    { name: 'healthy fleet', o: {} },
    { name: 'ordinary tokyo and london proxies full', o: { patch: { 'tokyo-2': { sessionsTotal: 500 }, 'tokyo-3': { sessionsTotal: 600 }, 'london-1': { sessionsTotal: 500 }, 'london-3': { sessionsTotal: 500 } } } },
    { name: 'pins to the canary regions', o: { pins: { countries: { JP: 'tokyo', GB: 'london', AU: 'london' }, continents: { AS: 'tokyo', EU: 'london' } } } },
  ];
  for (const f of fleets) {
    it(`${addresses.length} addresses × (no cookie, invalid cookies, ?region=), ${f.name}`, async () => {
      const { redirects } = await service({ routing: table({ ...f.o, canaries: [DEBUG] }) });
      const cookies = [undefined, 'session=abc', `meridian_canary=${forged()}`, `meridian_canary=${invite(CANARY, NOW - 60)}`, `meridian_canary=${invite('not-running')}`, `meridian_canary=${invite(CANARY, NOW + WEEK, 'another-key')}`];
      let decided = 0;
      for (const ip of addresses) {
        for (const cookie of cookies) {
          for (const region of [undefined, 'tokyo', 'london']) {
            const out = redirects.decide(ask(ip, cookie, region));
            assert.equal(out.decision.kind, 'proxy', ip);
            assert.ok(!CANARY_PROXIES.includes(proxyOf(out)), `${ip} ${cookie ?? ''} ${region ?? ''} → ${proxyOf(out)}`);
            assert.notEqual(reasonOf(out), 'canary');
            decided++;
          }
        }
      }
      assert.equal(decided, addresses.length * 18);
      // Not vacuous: with the invite, every one of them does reach the canary.
      for (const ip of addresses) assert.ok(CANARY_PROXIES.includes(proxyOf(redirects.decide(ask(ip, `meridian_canary=${VALID}`)))), ip);
    });
  }
});

describe('public app: /canary/join and /canary/leave', () => {
  it('join: sets the cookie with exactly these attributes and redirects to the canary proxy; the login URL then keeps sending the user there', async (t) => {
    const { app: a } = await app(t);
    const r = await a.inject({ url: `/canary/join?t=${VALID}`, headers: headers(TOKYO_IP) });
    assert.equal(r.statusCode, 302);
    assert.equal(r.headers.location, 'https://tokyo-1.proxy.example.com/');
    assert.equal(r.headers['set-cookie'], `meridian_canary=${VALID}; Path=/; Max-Age=${WEEK}; Secure; HttpOnly; SameSite=Lax`);
    assert.equal(r.headers['cache-control'], 'no-store');
    assert.equal(r.body, '');

    const cookie = `meridian_canary=${VALID}`;
    const again = await a.inject({ url: '/web/cluster/main/nodes?sort=name', headers: headers(TOKYO_IP, { cookie }) });
    assert.equal(again.headers.location, 'https://tokyo-1.proxy.example.com/web/cluster/main/nodes?sort=name');
    assert.equal(again.headers['set-cookie'], undefined);
    const nearest = (await a.inject({ url: '/nearest', headers: headers(TOKYO_IP, { cookie }) })).json();
    assert.deepEqual({ proxy: nearest.proxy, region: nearest.region, reason: nearest.reason }, { proxy: 'tokyo-1', region: 'tokyo', reason: 'canary' });
    const london = await a.inject({ url: `/canary/join?t=${VALID}&next=/web`, headers: headers(LONDON_IP) });
    assert.equal(london.headers.location, 'https://london-2.proxy.example.com/', 'the join link\'s query is not passed on');
  });

  it('join while the canary has no ready proxy: the cookie is still set, and the ordinary redirect is taken', async (t) => {
    const { app: a } = await app(t, { routing: table({ canaries: [DEBUG], outOfRotation: [...CANARY_PROXIES] }) });
    const r = await a.inject({ url: `/canary/join?t=${VALID}`, headers: headers(TOKYO_IP) });
    assert.equal(r.statusCode, 302);
    assert.match(String(r.headers.location), /^https:\/\/tokyo-[23]\.proxy\.example\.com\/$/);
    assert.match(String(r.headers['set-cookie']), new RegExp(`^meridian_canary=${VALID.replace('.', '\\.')}; `));
  });

  it('refusals: 403, uncached, saying why in fixed words, never echoing the token, and moving on to "/"', async (t) => {
    const { app: a } = await app(t);
    const { app: disabled } = await app(t, { key: null });
    const hostile = '<script>alert(1)</script>';
    const cases = [
      { name: 'malformed', url: `/canary/join?t=${encodeURIComponent(hostile)}`, token: hostile, message: 'This is not a canary invitation link.' },
      { name: 'forged', url: `/canary/join?t=${forged()}`, token: forged(), message: 'This invitation was not issued by this login service.' },
      { name: 'another key', url: `/canary/join?t=${invite(CANARY, NOW + WEEK, 'other')}`, token: invite(CANARY, NOW + WEEK, 'other'), message: 'This invitation was not issued by this login service.' },
      { name: 'expired', url: `/canary/join?t=${invite(CANARY, NOW - 5)}`, token: invite(CANARY, NOW - 5), message: 'This invitation has expired.' },
      { name: 'unknown canary', url: `/canary/join?t=${invite('not-running')}`, token: invite('not-running'), message: 'The canary this invitation is for is not running (any more).' },
      { name: 'no token', url: '/canary/join', token: 'undefined', message: 'This is not a canary invitation link.' },
      { name: 'overlong token', url: `/canary/join?t=${'A'.repeat(600)}`, token: 'A'.repeat(600), message: 'This is not a canary invitation link.' },
      { name: 'two tokens', url: `/canary/join?t=${VALID}&t=${VALID}`, token: VALID, message: 'This is not a canary invitation link.' },
      { name: 'invites disabled', url: `/canary/join?t=${VALID}`, token: VALID, message: 'Canary invitations are not enabled on this login service.', app: disabled },
    ];
    for (const c of cases) {
      const r = await (c.app ?? a).inject({ url: c.url, headers: headers(TOKYO_IP) });
      assert.equal(r.statusCode, 403, c.name);
      assert.equal(r.headers['cache-control'], 'no-store', c.name);
      assert.match(String(r.headers['content-type']), /^text\/html; charset=utf-8/, c.name);
      assert.ok(r.body.includes(`<p>${c.message}</p>`), `${c.name}: ${r.body}`);
      assert.ok(r.body.includes('<meta http-equiv="refresh" content="5;url=/">'), c.name);
      assert.ok(r.body.includes('<a href="/">'), c.name);
      assert.ok(!r.body.includes(c.token), `${c.name}: token echoed`);
      assert.ok(!r.body.includes(c.token.split('.')[0] ?? c.token), `${c.name}: token payload echoed`);
      assert.ok(!/script|alert/.test(r.body), c.name);
      assert.equal(r.headers['set-cookie'], undefined, c.name);
      assert.equal(r.headers.location, undefined, c.name);
    }
  });

  it('join before any fleet was observed: forged still refused; a good invite gets the retrying 503 page and no cookie yet', async (t) => {
    const { app: a } = await app(t, { routing: undefined });
    assert.equal((await a.inject({ url: `/canary/join?t=${forged()}`, headers: headers(TOKYO_IP) })).statusCode, 403);
    const r = await a.inject({ url: `/canary/join?t=${VALID}`, headers: headers(TOKYO_IP) });
    assert.equal(r.statusCode, 503);
    assert.equal(r.headers['retry-after'], '10');
    assert.equal(r.headers['set-cookie'], undefined);
    assert.equal(r.headers['cache-control'], 'no-store');
  });

  it('leave clears the cookie and goes back through the login redirect', async (t) => {
    const { app: a } = await app(t);
    const r = await a.inject({ url: '/canary/leave', headers: headers(TOKYO_IP, { cookie: `meridian_canary=${VALID}` }) });
    assert.equal(r.statusCode, 302);
    assert.equal(r.headers.location, '/');
    assert.equal(r.headers['set-cookie'], CLEARED);
    assert.equal(r.headers['cache-control'], 'no-store');
  });

  it('the login URL clears an invalid canary cookie beside the region cookie it sets', async (t) => {
    const { app: a } = await app(t);
    const r = await a.inject({ url: '/?region=sydney', headers: headers(TOKYO_IP, { cookie: `meridian_canary=${forged()}` }) });
    assert.equal(r.statusCode, 302);
    assert.match(String(r.headers.location), /^https:\/\/sydney-\d\.proxy\.example\.com\/$/);
    assert.deepEqual(r.headers['set-cookie'], ['meridian_region=sydney; Path=/; Max-Age=31536000; Secure; HttpOnly; SameSite=Lax', CLEARED]);
    const n = await a.inject({ url: '/nearest', headers: headers(TOKYO_IP, { cookie: `meridian_canary=${invite(CANARY, NOW - 1)}` }) });
    assert.equal(n.json().reason, 'nearest');
    assert.equal(n.headers['set-cookie'], CLEARED);
  });
});
