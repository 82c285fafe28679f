/**
 * The public login listener over real HTTP: raw requests written to node:net sockets, so that
 * Node's own parser (duplicate header lines, obs-fold, absolute-form targets, pipelining) is in
 * the path, which inject() bypasses. Every answer is checked against the redirect's invariants.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pino from 'pino';
import { Registry } from 'prom-client';
import { openGeoDatabase, type GeoDatabase } from '../../src/adapters/geoip/index.js';
import type { RoutingTable } from '../../src/redirect/core/routing-table.js';
import { parseTrustedProxies, type ForwardingHeader } from '../../src/redirect/core/trusted-proxies.js';
import { buildPublicApp } from '../../src/redirect/public-app.js';
import { registerRedirectMetrics } from '../../src/redirect/redirect-metrics.js';
import { createRedirectService } from '../../src/redirect/redirect-service.js';
import { Prng } from '../../src/sim/prng.js';
import { redirectFleet, regionsDown, table } from './core/redirect-fixture.js';

const TOKYO_IP = '133.11.0.7';
const LONDON_IP = '81.2.69.10';
const SYDNEY_IP = '129.78.5.5';
const TOKYO_V6 = '2001:200::1';

const FLEET_ORIGINS: ReadonlySet<string> = new Set(redirectFleet().proxies.map((p) => new URL(p.publicUrl).origin));
/** Every header line an answer of the public listener may carry. */
const ANSWER_HEADERS: ReadonlySet<string> = new Set(['cache-control', 'vary', 'location', 'content-length', 'content-type', 'date', 'connection', 'keep-alive', 'set-cookie', 'retry-after']);
const proxyRe = (region: string): RegExp => new RegExp(`^https://${region}-\\d\\.proxy\\.example\\.com/`);

// ---------------------------------------------------------------------------------------------
// The app on a real listener

let dbPromise: Promise<GeoDatabase> | undefined;
function geoDb(): Promise<GeoDatabase> {
  dbPromise ??= openGeoDatabase(['test/fixtures/geoip/geoip2-city-test.mmdb']).then((r) => {
    if (!r.ok) throw new Error(r.error);
    return r.value;
  });
  return dbPromise;
}

interface AppOptions {
  readonly trust?: readonly string[];
  readonly header?: ForwardingHeader;
  /** Listen address; `::` is dual-stack, so IPv4 peers arrive IPv4-mapped. */
  readonly host?: string;
  readonly routing?: () => RoutingTable | undefined;
}

/** Starts the public app on an ephemeral port; closed after the test. */
async function listen(t: TestContext, o: AppOptions = {}): Promise<number> {
  const db = await geoDb();
  const trusted = parseTrustedProxies(o.trust ?? ['127.0.0.1/32'], o.header ? { header: o.header } : {});
  assert.ok(trusted.ok, trusted.ok ? '' : trusted.error);
  const fixed = table();
  const redirects = createRedirectService({
    routing: o.routing ?? (() => fixed),
    geo: () => db,
    trusted: trusted.value,
    metrics: registerRedirectMetrics(new Registry(), () => db.info.buildEpochSeconds),
    now: () => performance.now(),
    cacheSize: 1000,
  });
  const app = await buildPublicApp({ log: pino({ level: 'silent' }), redirects });
  t.after(() => app.close());
  await app.listen({ host: o.host ?? '127.0.0.1', port: 0 });
  const addr = app.server.address();
  assert.ok(addr !== null && typeof addr === 'object');
  return addr.port;
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.1 on a socket

interface RawResponse {
  readonly status: number;
  /** Header lines in order, names lower-cased, repeats kept. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
}

const all = (r: RawResponse, name: string): string[] => r.headers.filter(([n]) => n === name).map(([, v]) => v);
function one(r: RawResponse, name: string): string | undefined {
  const v = all(r, name);
  assert.ok(v.length <= 1, `${name} appears ${v.length} times`);
  return v[0];
}

/** Complete responses at the start of `buf`; `heads[i]` says the i-th answered a HEAD (no body). */
function parseResponses(buf: string, heads: readonly boolean[], eof: boolean): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) return out;
    const lines = buf.slice(at, end).split('\r\n');
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0] ?? '');
    assert.ok(status?.[1] !== undefined, `not a status line: ${JSON.stringify(lines[0])}`);
    const headers = lines.slice(1).map((l): readonly [string, string] => {
      const colon = l.indexOf(':');
      assert.ok(colon > 0, `not a header line: ${JSON.stringify(l)}`);
      return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
    });
    const lengths = headers.filter(([n]) => n === 'content-length').map(([, v]) => Number(v));
    assert.ok(!headers.some(([n]) => n === 'transfer-encoding'), 'no chunked answers expected');
    const bodyStart = end + 4;
    let bodyEnd: number;
    if (heads[out.length] === true) bodyEnd = bodyStart;
    else if (lengths[0] !== undefined) bodyEnd = bodyStart + lengths[0];
    else if (eof) bodyEnd = buf.length;
    else return out;
    if (bodyEnd > buf.length) return out;
    out.push({ status: Number(status[1]), headers, body: buf.slice(bodyStart, bodyEnd) });
    at = bodyEnd;
  }
}

interface ExchangeOptions {
  readonly host?: string;
  readonly localAddress?: string;
  /** How many answers to wait for (default 1); fewer when the server closes first. */
  readonly answers?: number;
  readonly heads?: readonly boolean[];
}

/** Writes `data` as is and reads the answers. The socket is always destroyed. */
function exchange(t: TestContext, port: number, data: string, o: ExchangeOptions = {}): Promise<RawResponse[]> {
  const want = o.answers ?? 1;
  const heads = o.heads ?? [];
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: o.host ?? '127.0.0.1', port, ...(o.localAddress ? { localAddress: o.localAddress } : {}) });
    t.after(() => socket.destroy());
    let buf = '';
    let settled = false;
    const finish = (eof: boolean): void => {
      if (settled) return;
      let parsed: RawResponse[];
      try {
        parsed = parseResponses(buf, heads, eof);
      } catch (e) {
        settled = true;
        clearTimeout(guard);
        socket.destroy();
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      if (parsed.length >= want || eof) {
        settled = true;
        clearTimeout(guard);
        socket.destroy();
        resolve(parsed);
      }
    };
    // Not a timing assertion: only keeps a hung exchange from hanging the file.
    const guard = setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new Error(`no complete answer; read ${JSON.stringify(buf.slice(0, 300))}`));
    }, 4000);
    socket.setEncoding('latin1');
    socket.on('connect', () => socket.write(data, 'latin1'));
    socket.on('data', (chunk: string) => {
      buf += chunk;
      finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });
}

type Headers = ReadonlyArray<readonly [string, string]>;

/** One request, as written on the wire. */
function request(target: string, headers: Headers = [], o: { method?: string; close?: boolean } = {}): string {
  const lines = headers.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  return `${o.method ?? 'GET'} ${target} HTTP/1.1\r\nHost: login.example.com\r\n${lines}${o.close === false ? '' : 'Connection: close\r\n'}\r\n`;
}

/** One request on its own connection, one answer. */
async function get(t: TestContext, port: number, target: string, headers: Headers = [], o: Omit<ExchangeOptions, 'answers'> = {}): Promise<RawResponse> {
  const [r] = await exchange(t, port, request(target, headers), o);
  assert.ok(r !== undefined, `no answer to ${target}`);
  return r;
}

const xff = (v: string): readonly [string, string] => ['X-Forwarded-For', v];

// ---------------------------------------------------------------------------------------------
// Invariants

function assertUncached(r: RawResponse, label: string): void {
  assert.equal(one(r, 'cache-control'), 'no-store', `${label}: Cache-Control`);
  const vary = one(r, 'vary') ?? '';
  for (const h of ['Cookie', 'X-Forwarded-For', 'Forwarded']) assert.ok(vary.split(/\s*,\s*/).includes(h), `${label}: Vary ${vary}`);
}

/** Every Set-Cookie is Meridian's region cookie with its attributes, a known region or cleared. */
function assertCookies(r: RawResponse, label: string): void {
  for (const c of all(r, 'set-cookie')) {
    assert.match(c, /^meridian_region=(?:tokyo|sydney|london|chicago|new-york|sao-paulo)?; Path=\/; Max-Age=\d+; Secure; HttpOnly; SameSite=Lax$/, `${label}: ${c}`);
  }
}

/** A 302 to a fleet proxy's origin with a single-slash path, uncached, nothing injected; the Location as a URL. */
function assertRedirect(r: RawResponse, label: string): URL {
  assert.equal(r.status, 302, `${label}: status ${r.status} ${r.body.slice(0, 200)}`);
  const loc = one(r, 'location');
  assert.ok(loc !== undefined, `${label}: no Location`);
  assert.doesNotMatch(loc, /[\s\u0000-\u001f\u007f\\]/, label);
  const u = new URL(loc);
  assert.ok(FLEET_ORIGINS.has(u.origin), `${label}: Location ${loc}`);
  assert.ok(loc.startsWith(`${u.origin}/`) && !loc.startsWith(`${u.origin}//`), `${label}: Location ${loc}`);
  assert.equal(u.username + u.password + u.hash, '', label);
  assertUncached(r, label);
  assertCookies(r, label);
  assert.equal(r.body, '', label);
  return u;
}

/** Any answer: a safe redirect, or an error without a Location; never a crash. */
function assertSafe(r: RawResponse, label: string): void {
  if (r.status === 302) {
    assertRedirect(r, label);
    return;
  }
  assert.ok(r.status >= 400 && r.status < 500, `${label}: status ${r.status}`);
  assert.equal(all(r, 'location').length, 0, label);
  assert.equal(all(r, 'set-cookie').length, 0, label);
}

/** The server still answers an ordinary request correctly. */
async function assertAlive(t: TestContext, port: number): Promise<void> {
  const r = await get(t, port, '/web/alive', [xff(SYDNEY_IP)]);
  assert.match(assertRedirect(r, 'alive').href, /^https:\/\/sydney-\d\.proxy\.example\.com\/web\/alive$/);
}

// ---------------------------------------------------------------------------------------------
// Forwarding headers

test('duplicate X-Forwarded-For lines: Node joins them, the last line (our proxy\'s hop) decides, untrusted peers are ignored', async (t) => {
  const port = await listen(t);
  const cases: [Headers, RegExp][] = [
    [[xff(TOKYO_IP), xff(LONDON_IP)], proxyRe('london')],
    [[xff(LONDON_IP), xff(TOKYO_IP)], proxyRe('tokyo')],
    // A client-written line first, then the proxy's own: the forged hop is to the left of the client.
    [[xff(`${SYDNEY_IP}, 127.0.0.1`), xff(TOKYO_IP)], proxyRe('tokyo')],
    // Trusted hops on the right are walked past, across lines.
    [[xff(SYDNEY_IP), xff('127.0.0.1'), xff('127.0.0.1')], proxyRe('sydney')],
    // An empty or garbage last line: the walk stops, the peer (private: default region) counts.
    [[xff(TOKYO_IP), xff('')], proxyRe('london')],
    [[xff(TOKYO_IP), xff('not-an-ip')], proxyRe('london')],
  ];
  for (const [headers, want] of cases) {
    const label = JSON.stringify(headers);
    // Twice: the second answer may come from the plain cache and must be the same.
    for (let i = 0; i < 2; i++) assert.match(assertRedirect(await get(t, port, '/', headers), label).href, want, label);
  }
  // Only 10.0.0.0/8 trusted: the loopback peer's header is ignored, whatever its lines.
  const untrustedPort = await listen(t, { trust: ['10.0.0.0/8'] });
  assert.match(assertRedirect(await get(t, untrustedPort, '/', [xff(LONDON_IP), xff(TOKYO_IP)]), 'untrusted').href, proxyRe('london'));
  assert.match(assertRedirect(await get(t, untrustedPort, '/', [xff(SYDNEY_IP)]), 'untrusted').href, proxyRe('london'));
});

test("header 'forwarded': quoted IPv6 with ports, repeated lines, X-Forwarded-For ignored, from IPv4 and IPv6 peers", async (t) => {
  const port = await listen(t, { trust: ['127.0.0.1/32', '::1/128'], header: 'forwarded', host: '::' });
  const cases: [string, Headers, RegExp][] = [
    ['quoted v6 with port', [['Forwarded', `for="[${TOKYO_V6}]:4711";proto=https;by="[::1]:443"`]], proxyRe('tokyo')],
    ['unquoted bracketed v6', [['Forwarded', `for=[${TOKYO_V6}]`]], proxyRe('tokyo')],
    ['quoted v4 with port', [['Forwarded', `for="${TOKYO_IP}:8443"`]], proxyRe('tokyo')],
    ['upper-case parameter, spaces', [['Forwarded', `proto=https; FOR = ${SYDNEY_IP}`]], proxyRe('sydney')],
    ['two lines, the last decides', [['Forwarded', `for=${TOKYO_IP}`], ['Forwarded', `for=${LONDON_IP}`]], proxyRe('london')],
    ['two lines, the other way', [['Forwarded', `for=${LONDON_IP}`], ['Forwarded', `for=${TOKYO_IP}`]], proxyRe('tokyo')],
    ['trusted hops walked past', [['Forwarded', `for=${SYDNEY_IP}, for="[::1]:80"`], ['Forwarded', 'for=127.0.0.1']], proxyRe('sydney')],
    ['X-Forwarded-For is not the header', [xff(TOKYO_IP)], proxyRe('london')],
    ['obfuscated', [['Forwarded', `for=${TOKYO_IP}, for=_hidden`]], proxyRe('london')],
    ['two for in one element', [['Forwarded', `for=${TOKYO_IP};for=${SYDNEY_IP}`]], proxyRe('london')],
    ['a comma inside quotes', [['Forwarded', `for="${TOKYO_IP},x"`]], proxyRe('london')],
    ['unterminated quote', [['Forwarded', `for="[${TOKYO_V6}]:4711`]], proxyRe('london')],
    ['bad port', [['Forwarded', `for="[${TOKYO_V6}]:99999999"`]], proxyRe('london')],
  ];
  for (const host of ['127.0.0.1', '::1']) {
    for (const [label, headers, want] of cases) {
      for (let i = 0; i < 2; i++) assert.match(assertRedirect(await get(t, port, '/', headers, { host }), `${host} ${label}`).href, want, `${host} ${label}`);
    }
  }
  // Only ::1 trusted: an IPv4 peer's Forwarded is ignored.
  const v6only = await listen(t, { trust: ['::1/128'], header: 'forwarded', host: '::' });
  const fwd: Headers = [['Forwarded', `for="[${TOKYO_V6}]:4711"`]];
  assert.match(assertRedirect(await get(t, v6only, '/', fwd, { host: '127.0.0.1' }), 'v4 peer').href, proxyRe('london'));
  assert.match(assertRedirect(await get(t, v6only, '/', fwd, { host: '::1' }), 'v6 peer').href, proxyRe('tokyo'));
  assert.match(assertRedirect(await get(t, v6only, '/', fwd, { host: '127.0.0.1' }), 'v4 peer again').href, proxyRe('london'));
});

test('obs-fold is refused by Node with a fixed 400, tabs around values are whitespace, huge headers get 431; the process lives', async (t) => {
  const port = await listen(t);
  const folded = await get(t, port, '/', [xff(`${LONDON_IP},\r\n ${TOKYO_IP}`)]);
  assertSafe(folded, 'obs-fold');
  assert.equal(folded.status, 400);
  assert.doesNotMatch(folded.body, /133\.11|81\.2/);
  const leadingFold = await get(t, port, '/', [xff(`\r\n\t${TOKYO_IP}`)]);
  assertSafe(leadingFold, 'leading obs-fold');
  assert.equal(leadingFold.status, 400);

  assert.match(assertRedirect(await get(t, port, '/', [xff(`\t${TOKYO_IP}\t`)]), 'tabs').href, proxyRe('tokyo'));
  assert.match(assertRedirect(await get(t, port, '/', [xff(`${LONDON_IP},\t${TOKYO_IP} \t`)]), 'tab after comma').href, proxyRe('tokyo'));

  const huge = await get(t, port, '/', [xff(`${'1.2.3.4, '.repeat(2500)}${TOKYO_IP}`)]);
  assertSafe(huge, 'huge header');
  assert.equal(huge.status, 431);
  await assertAlive(t, port);
});

test('headers over the 200-character plain-cache bound: each walked anew, two clients sharing a long prefix get their own answers', async (t) => {
  const port = await listen(t);
  const pad = 'x'.repeat(250);
  // The padding is client-written (left of the real client): the walk stops at the client.
  const tokyo: Headers = [xff(`${pad}, ${TOKYO_IP}`)];
  const sydney: Headers = [xff(`${pad}, ${SYDNEY_IP}`)];
  const london: Headers = [xff(`${pad}, ${LONDON_IP}, 127.0.0.1`)];
  for (let i = 0; i < 2; i++) {
    assert.match(assertRedirect(await get(t, port, '/web/a', tokyo), 'tokyo').href, /^https:\/\/tokyo-\d\.proxy\.example\.com\/web\/a$/);
    assert.match(assertRedirect(await get(t, port, '/web/a', sydney), 'sydney').href, /^https:\/\/sydney-\d\.proxy\.example\.com\/web\/a$/);
    assert.match(assertRedirect(await get(t, port, '/web/a', london), 'london').href, /^https:\/\/london-\d\.proxy\.example\.com\/web\/a$/);
  }
  // 40 hops of trusted loopback (over 32, and over 200 characters) in front of a client: stops, never throws.
  const long = await get(t, port, '/', [xff(`${TOKYO_IP}, ${Array.from({ length: 40 }, () => '127.0.0.1').join(', ')}`)]);
  assertRedirect(long, 'many hops');
  // The same, short enough to be remembered: `::1` is not trusted here, so the walk stops at it.
  assert.match(assertRedirect(await get(t, port, '/', [xff(`${TOKYO_IP}, ::1`)]), 'v6 hop').href, proxyRe('london'));
  await assertAlive(t, port);
});

test('IPv4-mapped IPv6 peers on a dual-stack listener are trusted by their IPv4 (or mapped) CIDR; ::1 only when listed', async (t) => {
  for (const trust of [['127.0.0.1/32'], ['::ffff:127.0.0.1/128'], ['::ffff:127.0.0.0/104']]) {
    const port = await listen(t, { trust, host: '::' });
    const label = trust.join(',');
    // The peer arrives as ::ffff:127.0.0.1.
    assert.match(assertRedirect(await get(t, port, '/', [xff(TOKYO_IP)], { host: '127.0.0.1' }), label).href, proxyRe('tokyo'), label);
    assert.match(assertRedirect(await get(t, port, '/', [xff(`[${TOKYO_V6}]:443`)], { host: '127.0.0.1' }), label).href, proxyRe('tokyo'), label);
    assert.match(assertRedirect(await get(t, port, '/', [xff('::ffff:850b:7')], { host: '127.0.0.1' }), label).href, proxyRe('tokyo'), `${label}: mapped hex hop`);
    assert.match(assertRedirect(await get(t, port, '/', [xff(`::FFFF:${SYDNEY_IP}`)], { host: '127.0.0.1' }), label).href, proxyRe('sydney'), `${label}: mapped dotted hop`);
    // ::1 is not trusted: its header is ignored (loopback: default region).
    assert.match(assertRedirect(await get(t, port, '/', [xff(TOKYO_IP)], { host: '::1' }), label).href, proxyRe('london'), `${label}: ::1`);
  }
  const both = await listen(t, { trust: ['127.0.0.1/32', '::1/128'], host: '::' });
  assert.match(assertRedirect(await get(t, both, '/', [xff(TOKYO_IP)], { host: '::1' }), '::1 trusted').href, proxyRe('tokyo'));
});

test('plain-cache keys: the same header from a trusted and from an untrusted peer, interleaved, each gets its own answer', async (t) => {
  // 127.0.0.1 trusted, 127.0.0.2 not (Linux routes all of 127/8 to loopback).
  const port = await listen(t);
  const asTrusted = { localAddress: '127.0.0.1' };
  const asUntrusted = { localAddress: '127.0.0.2' };
  for (let i = 0; i < 3; i++) {
    assert.match(assertRedirect(await get(t, port, '/', [xff(TOKYO_IP)], asTrusted), 'trusted').href, proxyRe('tokyo'));
    assert.match(assertRedirect(await get(t, port, '/', [xff(TOKYO_IP)], asUntrusted), 'untrusted').href, proxyRe('london'));
    // A header naming the untrusted peer's address, from the trusted one: not the peer's cached answer either way.
    assert.match(assertRedirect(await get(t, port, '/', [xff(SYDNEY_IP)], asTrusted), 'trusted sydney').href, proxyRe('sydney'));
    assert.match(assertRedirect(await get(t, port, '/', [], asUntrusted), 'untrusted bare').href, proxyRe('london'));
    // A header that gives no address from the trusted peer: the peer decides, and it is not remembered under the header.
    assert.match(assertRedirect(await get(t, port, '/', [xff('garbage')], asTrusted), 'garbage').href, proxyRe('london'));
  }
});

// ---------------------------------------------------------------------------------------------
// Request targets

test('hostile request targets over the wire never move the Location off a fleet origin nor inject a header', async (t) => {
  const port = await listen(t);
  const targets = [
    '//evil.example/',
    '//evil.example/web',
    '/web//evil.example',
    '/web/..%2f..%2f',
    '/web/..%2F..%2Fevil.example',
    '/web/%2e%2e/%2e%2e//evil.example',
    '/%5cevil.example',
    '/web/%5c%5cevil.example',
    '/web/\\\\evil.example',
    '/web/%0d%0aSet-Cookie:x=y',
    '/web/%0d%0aLocation:%20https://evil.example',
    '/web?x=%0d%0aSet-Cookie:x=y',
    '/web?next=//evil.example&region=%0d%0aSet-Cookie:x=y',
    '/web/http:%2f%2fevil.example',
    '/web/../http:evil.example',
    '/web/@evil.example',
    '/web/%40evil.example',
    '/web/%00evil',
    '/web/%ff%fe',
    '/web/%',
    '/web?%',
    '/web#@evil.example',
    '/web/a?b#//evil.example',
    'http://evil.example/',
    'http://evil.example/web/cluster',
    'https://evil.example//evil2.example/',
    'http://evil.example',
    '/web/café',
    `/web/${'a/'.repeat(2500)}`,
    `/web/x?${'q=1&'.repeat(1200)}`,
  ];
  let redirected = 0;
  for (const ip of [SYDNEY_IP, LONDON_IP]) {
    for (const target of targets) {
      const label = `${ip} ${JSON.stringify(target.slice(0, 60))}`;
      const r = await get(t, port, target, [xff(ip)]);
      assertSafe(r, label);
      // Only the headers the listener writes: nothing split off the target became a header line.
      for (const [name, value] of r.headers) {
        assert.ok(ANSWER_HEADERS.has(name), `${label}: header ${name}`);
        if (name !== 'location') assert.doesNotMatch(value, /evil/i, label);
      }
      if (r.status === 302) {
        redirected++;
        const u = new URL(one(r, 'location') ?? '');
        assert.match(u.href, ip === SYDNEY_IP ? proxyRe('sydney') : proxyRe('london'), label);
        assert.equal(all(r, 'set-cookie').length, 0, label);
      }
    }
  }
  assert.ok(redirected >= 30, `only ${redirected} of ${2 * targets.length} redirected`);
  await assertAlive(t, port);
});

test('ordinary deep links keep their normalised path; controls and region params are dropped from the query', async (t) => {
  const port = await listen(t);
  const cases: [string, string][] = [
    ['/web/cluster/main/nodes?sort=name', '/web/cluster/main/nodes?sort=name'],
    ['/web/./a/../b/?x=1&REGION=tokyo&Region=sydney', '/web/b/?x=1'],
    ['/web?a=%0d%0a&b=2', '/web?b=2'],
    ['/?region=tokyo&region=sydney&keep=1', '/?keep=1'],
    ['/web/%7Euser', '/web/%7Euser'],
  ];
  for (const [target, suffix] of cases) {
    const u = assertRedirect(await get(t, port, target, [xff(LONDON_IP)]), target);
    assert.equal(u.href.slice(u.origin.length), suffix, target);
  }
});

// RFC 9112 3.2.2: a server must accept an absolute-form target (`GET http://host/web/x?y=1
// HTTP/1.1`); its host never counts, its path and query do.
test('absolute-form request targets keep their deep link, like origin-form ones', async (t) => {
  const port = await listen(t);
  const abs = assertRedirect(await get(t, port, 'http://evil.example/web/cluster?x=1', [xff(LONDON_IP)]), 'absolute-form');
  // The invariant that matters holds: the host in the target is not the Location's.
  assert.match(abs.href, proxyRe('london'));
  const origin = assertRedirect(await get(t, port, '/web/cluster?x=1', [xff(LONDON_IP)]), 'origin-form');
  assert.equal(abs.href, origin.href, 'absolute-form lost its path and query');
});

// ---------------------------------------------------------------------------------------------
// Reflection and cache headers on every answer

// fastify's default 404 ("Route GET:<target> not found") and bad-URL 400 ("'<path>' is not a
// valid url component") quote the request target; the public listener answers fixed texts.
test('nothing from the request target is reflected in any answer (404, bad escapes on /web/*)', async (t) => {
  const port = await listen(t);
  const marker = 'zq<script>alert(1)</script>';
  const targets = [
    `/nope?x=${marker}`,
    `/${marker}`,
    `//evil.example/${marker}`,
    `/web/%ZZ${marker}`,
    `/nearest/${marker}`,
  ];
  const reflected: string[] = [];
  for (const target of targets) {
    const r = await get(t, port, target, [xff(TOKYO_IP)]);
    assertSafe(r, target);
    if (r.body.includes('zq<script>') || r.body.includes('evil.example')) reflected.push(`${r.status} ${target} -> ${r.body}`);
  }
  assert.deepEqual(reflected, [], 'request targets echoed into answers');
});

test('every answer of the public listener carries Cache-Control: no-store and Vary', async (t) => {
  const port = await listen(t);
  const missing: string[] = [];
  for (const target of ['/nearest?format=xml', '/web/%ZZ', '/nope', '/favicon.ico']) {
    const r = await get(t, port, target, [xff(TOKYO_IP)]);
    assertSafe(r, target);
    if (one(r, 'cache-control') !== 'no-store' || one(r, 'vary') === undefined) missing.push(`${r.status} ${target}`);
  }
  assert.deepEqual(missing, [], 'answers without no-store / Vary');
});

// ---------------------------------------------------------------------------------------------
// ?region= and the cookie

test('?region= arrays, odd names and case variants are ignored: no override, no cookie, nothing reflected', async (t) => {
  const port = await listen(t);
  for (const target of [
    '/?region=a&region=b',
    '/?region=sydney&region=sydney',
    '/?region=sydney&region=auto',
    '/?region=constructor',
    '/?region=__proto__',
    '/?region=toString',
    '/?REGION=sydney',
    '/?region=%3Cb%3Eevil%3C%2Fb%3E',
    '/?region=sydney%0d%0aSet-Cookie:%20x=y',
    '/?region=SYDNEY',
    '/?region=%20sydney',
    '/?region=sydney%00',
    '/?region=sydney#',
  ]) {
    for (const target2 of [target, target.replace('/?', '/nearest?format=host&')]) {
      const r = await get(t, port, target2, [xff(TOKYO_IP)]);
      assert.equal(all(r, 'set-cookie').length, 0, target2);
      assert.doesNotMatch(r.headers.map(([n, v]) => `${n}: ${v}`).join('\n') + r.body, /evil|sydney|constructor|proto|toString|\bx=y/i, target2);
      if (target2.startsWith('/nearest')) {
        assert.equal(r.status, 200, target2);
        assertUncached(r, target2);
        assert.match(r.body, /^tokyo-\d\.proxy\.example\.com\n$/, target2);
      } else {
        const u = assertRedirect(r, target2);
        assert.match(u.href, proxyRe('tokyo'), target2);
        assert.equal(u.search, '', target2);
      }
    }
  }
});

test('the region cookie is Secure, HttpOnly, SameSite=Lax; repeated cookies and Cookie lines are read, never reflected', async (t) => {
  const port = await listen(t);
  const set = await get(t, port, '/web/x?region=sydney', [xff(TOKYO_IP)]);
  assert.match(assertRedirect(set, 'set').href, /^https:\/\/sydney-\d\.proxy\.example\.com\/web\/x$/);
  assert.deepEqual(all(set, 'set-cookie'), ['meridian_region=sydney; Path=/; Max-Age=31536000; Secure; HttpOnly; SameSite=Lax']);

  const clear = await get(t, port, '/?region=auto', [xff(TOKYO_IP), ['Cookie', 'meridian_region=sydney']]);
  assert.match(assertRedirect(clear, 'auto').href, proxyRe('tokyo'));
  assert.deepEqual(all(clear, 'set-cookie'), ['meridian_region=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Lax']);

  const cookieCases: [Headers, RegExp][] = [
    [[['Cookie', 'a=1; meridian_region=sydney; b=2']], proxyRe('sydney')],
    // Two Cookie lines: Node joins them with "; ".
    [[['Cookie', 'a=1'], ['Cookie', 'meridian_region=sydney']], proxyRe('sydney')],
    // Several meridian cookies: one known region wins, the rest are not echoed.
    [[['Cookie', 'meridian_region=sydney; meridian_region=london']], /^https:\/\/(?:sydney|london)-\d\./],
    [[['Cookie', 'meridian_region=<b>evil</b>; meridian_region=sydney']], /^https:\/\/(?:tokyo|sydney)-\d\./],
    [[['Cookie', 'meridian_region=evil%0d%0aSet-Cookie:x=y']], proxyRe('tokyo')],
    [[['Cookie', 'meridian_region=constructor']], proxyRe('tokyo')],
    [[['Cookie', 'meridian_region=']], proxyRe('tokyo')],
    [[['Cookie', 'xmeridian_region=sydney']], proxyRe('tokyo')],
  ];
  for (const [headers, want] of cookieCases) {
    const label = JSON.stringify(headers);
    for (let i = 0; i < 2; i++) {
      const r = await get(t, port, '/', [xff(TOKYO_IP), ...headers]);
      assert.match(assertRedirect(r, label).href, want, label);
      assert.equal(all(r, 'set-cookie').length, 0, label);
      assert.doesNotMatch(r.headers.map(([n, v]) => `${n}: ${v}`).join('\n'), /evil|x=y/, label);
    }
  }
});

test('plain cache vs the region cookie: a client that chose a region keeps it with its cookie and gets its own answer without', async (t) => {
  const port = await listen(t);
  const plain: Headers = [xff(TOKYO_IP)];
  const withCookie: Headers = [xff(TOKYO_IP), ['Cookie', 'meridian_region=sydney']];
  // Plain first (remembered as Tokyo), then the override, then the cookie, then plain again.
  assert.match(assertRedirect(await get(t, port, '/', plain), 'plain 1').href, proxyRe('tokyo'));
  assert.match(assertRedirect(await get(t, port, '/', plain), 'plain 2').href, proxyRe('tokyo'));
  const chose = await get(t, port, '/?region=sydney', plain);
  assert.match(assertRedirect(chose, 'choose').href, proxyRe('sydney'));
  assert.equal(all(chose, 'set-cookie').length, 1);
  for (let i = 0; i < 2; i++) {
    const r = await get(t, port, '/web', withCookie);
    assert.match(assertRedirect(r, 'with cookie').href, /^https:\/\/sydney-\d\.proxy\.example\.com\/web$/);
    assert.equal(all(r, 'set-cookie').length, 0);
    assert.match(assertRedirect(await get(t, port, '/web', plain), 'plain again').href, /^https:\/\/tokyo-\d\.proxy\.example\.com\/web$/);
  }
  // /nearest shares the service and its caches.
  const nearest = await get(t, port, '/nearest', withCookie);
  assert.equal(nearest.status, 200);
  assertUncached(nearest, '/nearest');
  assert.equal((JSON.parse(nearest.body) as { region: string }).region, 'sydney');

  // The other way round, for a client nobody has asked about yet: override and cookie first.
  const sydneyClient: Headers = [xff('129.78.9.9')];
  assert.match(assertRedirect(await get(t, port, '/?region=tokyo', sydneyClient), 'choose tokyo').href, proxyRe('tokyo'));
  assert.match(assertRedirect(await get(t, port, '/', [...sydneyClient, ['Cookie', 'meridian_region=tokyo']]), 'cookie tokyo').href, proxyRe('tokyo'));
  for (let i = 0; i < 2; i++) assert.match(assertRedirect(await get(t, port, '/', sydneyClient), 'plain sydney').href, proxyRe('sydney'));
  assert.match(assertRedirect(await get(t, port, '/', [...sydneyClient, ['Cookie', 'meridian_region=tokyo']]), 'cookie tokyo again').href, proxyRe('tokyo'));
  // ?region=auto with the cookie: forgotten, the plain answer, and the clearing cookie.
  const auto = await get(t, port, '/?region=auto', [...sydneyClient, ['Cookie', 'meridian_region=tokyo']]);
  assert.match(assertRedirect(auto, 'auto').href, proxyRe('sydney'));
  assert.match(one(auto, 'set-cookie') ?? '', /^meridian_region=; /);
});

test('pipelined requests from different clients on one keep-alive connection each get their own answer', async (t) => {
  const port = await listen(t);
  const steps: { target: string; headers: Headers; want: RegExp; cookie: boolean; head?: boolean }[] = [
    { target: '/web/a', headers: [xff(TOKYO_IP)], want: /^https:\/\/tokyo-\d\.proxy\.example\.com\/web\/a$/, cookie: false },
    { target: '/web/b', headers: [xff(LONDON_IP)], want: /^https:\/\/london-\d\.proxy\.example\.com\/web\/b$/, cookie: false },
    { target: '/web/c?region=tokyo', headers: [xff(SYDNEY_IP)], want: /^https:\/\/tokyo-\d\.proxy\.example\.com\/web\/c$/, cookie: true },
    { target: '/web/d', headers: [xff(SYDNEY_IP)], want: /^https:\/\/sydney-\d\.proxy\.example\.com\/web\/d$/, cookie: false },
    { target: '/', headers: [xff(SYDNEY_IP), ['Cookie', 'meridian_region=tokyo']], want: proxyRe('tokyo'), cookie: false },
    { target: '/', headers: [xff(TOKYO_IP)], want: proxyRe('tokyo'), cookie: false, head: true },
    { target: '/', headers: [xff(`${TOKYO_IP}, ${LONDON_IP}`)], want: proxyRe('london'), cookie: false },
    { target: '/web/e', headers: [], want: /^https:\/\/london-\d\.proxy\.example\.com\/web\/e$/, cookie: false },
    { target: '/web/f', headers: [xff(TOKYO_IP)], want: /^https:\/\/tokyo-\d\.proxy\.example\.com\/web\/f$/, cookie: false },
  ];
  // Twice over, each batch on one connection, as a load balancer would reuse it.
  for (let round = 0; round < 2; round++) {
    const wire = steps.map((s, i) => request(s.target, s.headers, { close: i === steps.length - 1, method: s.head ? 'HEAD' : 'GET' })).join('');
    const answers = await exchange(t, port, wire, { answers: steps.length, heads: steps.map((s) => s.head === true) });
    assert.equal(answers.length, steps.length);
    steps.forEach((s, i) => {
      const r = answers[i];
      assert.ok(r !== undefined);
      const label = `round ${round} #${i} ${s.target}`;
      assert.match(assertRedirect(r, label).href, s.want, label);
      assert.equal(all(r, 'set-cookie').length, s.cookie ? 1 : 0, label);
    });
  }
  // A GET whose body is a whole request (another client, Tokyo): the body is skipped, never answered.
  const inner = request('/web/smuggled', [xff(TOKYO_IP)], { close: false });
  const smuggle = request('/web/outer', [xff(LONDON_IP), ['Content-Length', String(inner.length)]], { close: false }) + inner + request('/web/next', [xff(SYDNEY_IP)]);
  const [outer, next, extra] = await exchange(t, port, smuggle, { answers: 3 });
  assert.ok(outer !== undefined && next !== undefined);
  assert.match(assertRedirect(outer, 'outer').href, /^https:\/\/london-\d\.proxy\.example\.com\/web\/outer$/);
  assert.match(assertRedirect(next, 'next').href, /^https:\/\/sydney-\d\.proxy\.example\.com\/web\/next$/);
  assert.equal(extra, undefined, 'the body was answered as a request');

  // A refused request in the middle of a pipeline neither answers for its neighbours nor crashes.
  const mixed = [request('/web/a', [xff(TOKYO_IP)], { close: false }), request('/nope', [xff(LONDON_IP)], { close: false }), request('/web/c', [xff(LONDON_IP)])].join('');
  const [a, b, c] = await exchange(t, port, mixed, { answers: 3 });
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  assert.match(assertRedirect(a, 'before').href, proxyRe('tokyo'));
  assert.equal(b.status, 404);
  assert.match(assertRedirect(c, 'after').href, /^https:\/\/london-\d\.proxy\.example\.com\/web\/c$/);
});

test('answers do not depend on what the caches saw first: the same mixed requests in opposite orders get the same answers', async (t) => {
  // Trusted: 127.0.0.1 (arriving IPv4-mapped) and ::1; 127.0.0.2 is an untrusted peer.
  const opts: AppOptions = { trust: ['127.0.0.1/32', '::1/128'], host: '::' };
  const [portA, portB] = [await listen(t, opts), await listen(t, opts)];
  const peers = [{ host: '127.0.0.1' }, { host: '127.0.0.1', localAddress: '127.0.0.2' }, { host: '::1' }] as const;
  const clients = [TOKYO_IP, LONDON_IP, SYDNEY_IP, '128.135.1.1', '143.107.2.2', TOKYO_V6, `[${TOKYO_V6}]:443`, '10.0.0.9', 'garbage', '::ffff:850b:7'];
  const rng = new Prng(7239);
  const pick = <T>(xs: readonly T[]): T => {
    const x = rng.pick(xs);
    assert.ok(x !== undefined);
    return x;
  };
  interface Req {
    readonly peer: number;
    readonly target: string;
    readonly headers: Headers;
  }
  const reqs: Req[] = Array.from({ length: 90 }, (): Req => {
    const headers: [string, string][] = [];
    const lines = rng.int(3);
    for (let i = 0; i < lines; i++) headers.push(['X-Forwarded-For', rng.chance(0.3) ? `${pick(clients)}, ${pick(clients)}` : pick(clients)]);
    if (rng.chance(0.3)) headers.push(['Cookie', pick(['meridian_region=sydney', 'a=1; meridian_region=tokyo', 'meridian_region=mars', 'meridian_region=auto', 'other=1'])]);
    const query = rng.chance(0.3) ? `?region=${pick(['sydney', 'tokyo', 'auto', 'mars', 'london&region=tokyo'])}` : '';
    return { peer: rng.int(peers.length), target: `${pick(['/', '/web', '/web/a/b'])}${query}`, headers };
  });
  /** Each peer's requests pipelined on one connection, in the given order; answers by request index. */
  async function run(port: number, order: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    await Promise.all(
      peers.map(async (peer, p) => {
        const mine = order.filter((i) => reqs[i]?.peer === p);
        if (mine.length === 0) return;
        const wire = mine.map((i, k) => request(reqs[i]?.target ?? '/', reqs[i]?.headers ?? [], { close: k === mine.length - 1 })).join('');
        const answers = await exchange(t, port, wire, { ...peer, answers: mine.length });
        assert.equal(answers.length, mine.length);
        answers.forEach((r, k) => {
          const i = mine[k] ?? -1;
          assertRedirect(r, `request ${i}`);
          out.set(i, `${one(r, 'location') ?? ''} ${all(r, 'set-cookie').join(' ')}`);
        });
      }),
    );
    return out;
  }
  const forward = reqs.map((_, i) => i);
  const a = await run(portA, forward);
  const b = await run(portB, [...forward].reverse());
  // And A again: every cache now warm.
  const again = await run(portA, forward);
  // The mix is varied enough to mean something: several regions, overrides and cookies among the answers.
  const regions = new Set([...a.values()].map((v) => new URL(v.split(' ')[0] ?? '').hostname.replace(/-\d\..*$/, '')));
  assert.ok(regions.size >= 3, `regions: ${[...regions].join(', ')}`);
  assert.ok([...a.values()].some((v) => v.includes('meridian_region=sydney')), 'no cookie set');
  for (const i of forward) {
    const label = `request ${i}: ${JSON.stringify(reqs[i])}`;
    assert.equal(b.get(i), a.get(i), label);
    assert.equal(again.get(i), a.get(i), label);
  }
});

// ---------------------------------------------------------------------------------------------
// Readiness and rotation, through the caches

test('only ready proxies in rotation: one taken out of rotation or unready stops getting remembered clients at once', async (t) => {
  let routing: RoutingTable | undefined = table();
  const port = await listen(t, { routing: () => routing });
  const first = assertRedirect(await get(t, port, '/', [xff(TOKYO_IP)]), 'first');
  assert.match(first.href, proxyRe('tokyo'));
  const chosen = first.hostname.split('.')[0] ?? '';
  // Remembered.
  assert.equal(assertRedirect(await get(t, port, '/', [xff(TOKYO_IP)]), 'again').hostname.split('.')[0], chosen);

  routing = table({ outOfRotation: [chosen] });
  for (const target of ['/', '/?region=tokyo', '/web/x']) {
    const u = assertRedirect(await get(t, port, target, [xff(TOKYO_IP)]), `out of rotation ${target}`);
    assert.match(u.href, proxyRe('tokyo'), target);
    assert.notEqual(u.hostname.split('.')[0], chosen, `${chosen} out of rotation, still chosen for ${target}`);
  }
  routing = table({ patch: { [chosen]: { ready: false } } });
  assert.notEqual(assertRedirect(await get(t, port, '/', [xff(TOKYO_IP)]), 'unready').hostname.split('.')[0], chosen);

  // The whole region out of rotation: neither the plain answer nor ?region=tokyo nor the cookie go there.
  routing = table({ outOfRotation: ['tokyo-1', 'tokyo-2', 'tokyo-3'] });
  for (const [target, headers] of [['/', [xff(TOKYO_IP)]], ['/?region=tokyo', [xff(TOKYO_IP)]], ['/', [xff(TOKYO_IP), ['Cookie', 'meridian_region=tokyo']]]] as const) {
    assert.doesNotMatch(assertRedirect(await get(t, port, target, headers), `region out of rotation ${target}`).href, /tokyo/, target);
  }
  // Back: Tokyo again.
  routing = table();
  assert.match(assertRedirect(await get(t, port, '/', [xff(TOKYO_IP)]), 'back').href, proxyRe('tokyo'));

  // Nothing ready anywhere, or no fleet observed yet: a 503 that is uncached and carries no Location.
  for (const r of [table({ patch: regionsDown('tokyo', 'sydney', 'london', 'chicago', 'new-york', 'sao-paulo') }), undefined]) {
    routing = r;
    for (const target of ['/', '/web/x?region=tokyo', '/nearest']) {
      const a = await get(t, port, target, [xff(TOKYO_IP)]);
      assert.equal(a.status, 503, target);
      assert.equal(all(a, 'location').length, 0, target);
      assertUncached(a, `503 ${target}`);
      assertCookies(a, `503 ${target}`);
    }
  }
  routing = table();
  await assertAlive(t, port);
});
