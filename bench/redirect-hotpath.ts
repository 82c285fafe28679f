/**
 * What each step of the login redirect costs per request, in-process (no HTTP, no fastify),
 * on the client pool and demo fleet of redirect-load.ts. Rows marked "before" measure how the
 * step was done before issue #3's tuning (kept here to show the saving).
 * `node --import tsx bench/redirect-hotpath.ts`
 */
import pino from 'pino';
import { defaultGeoIpPaths, openGeoDatabase } from '../src/adapters/geoip/index.js';
import { chooseProxy } from '../src/redirect/core/choose-proxy.js';
import { clientAddress } from '../src/redirect/core/client-address.js';
import { loginLocations } from '../src/redirect/login-locations.js';
import { filterQuery, locationAt, MAX_REDIRECT_TARGET_LENGTH, normalisePath, proxyOrigin, REDIRECT_CONTROL_PARAMS } from '../src/redirect/core/redirect-location.js';
import type { RedirectMetrics } from '../src/redirect/redirect-metrics.js';
import { createRedirectService, type RedirectRequest } from '../src/redirect/redirect-service.js';
import { drawClientPool } from './client-pool.js';
import { meridianRedirects } from './redirect-fixture.js';

const DEEP_LINK = '/web/cluster/main/nodes?sort=hostname%3Aasc&query=labels.env%3D%3D%22prod%22';
const BUDGET_MS = 250;

/** ns per call of fn(i), i cycling over n inputs: median of 5 timed runs after a warm-up. */
function nsPerOp(n: number, fn: (i: number) => unknown): number {
  let sink: unknown;
  const run = (): number => {
    const t0 = performance.now();
    let ops = 0;
    while (performance.now() - t0 < BUDGET_MS) {
      for (let i = 0; i < n; i++) sink = fn(i);
      ops += n;
    }
    return ((performance.now() - t0) * 1e6) / ops;
  };
  run();
  const xs = [run(), run(), run(), run(), run()].sort((a, b) => a - b);
  if (sink === Symbol.for('never')) console.log(sink);
  return xs[2] ?? NaN;
}

// --- How steps were done before, and prototypes ----------------------------------------------

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Before: every deep link built on a URL object, the configured public URL parsed each time. */
function buildLocationBefore(publicUrl: string, raw: string): string {
  const origin = new URL(publicUrl).origin;
  const root = `${origin}/`;
  if (raw.length > MAX_REDIRECT_TARGET_LENGTH || CONTROL.test(raw)) return root;
  const hash = raw.indexOf('#');
  const target = hash < 0 ? raw : raw.slice(0, hash);
  const q = target.indexOf('?');
  const path = normalisePath(q < 0 ? target : target.slice(0, q));
  if (path === undefined) return root;
  const query = q < 0 ? '' : filterQuery(target.slice(q + 1), REDIRECT_CONTROL_PARAMS);
  if (path === '/' && query === '') return root;
  const url = new URL(origin);
  url.pathname = path;
  if (query !== '') url.search = `?${query}`;
  const href = url.href;
  if (url.origin !== origin || !href.startsWith(root) || CONTROL.test(href)) return root;
  return href;
}


// --- Measurements ---------------------------------------------------------------------------

const log = pino({ level: 'warn' });
const current = await meridianRedirects(log, 0);
const noMetrics = await meridianRedirects(log, 0, { metrics: { redirected: () => undefined, redirectCounter: () => () => undefined, unavailable: () => undefined, decided: () => undefined, geoLookup: () => undefined } });
const paths = defaultGeoIpPaths();
const db = await openGeoDatabase(paths);
if (!db.ok) throw new Error(db.error);
// Before: no answers kept by the database, only its decoded records (the smallest answer cache allowed).
const recordsOnly = await openGeoDatabase(paths, { answerCacheSize: 2 });
if (!recordsOnly.ok) throw new Error(recordsOnly.error);
const recordsOnlyDb = recordsOnly.value;
const before = createRedirectService({ routing: current.routing, geo: () => recordsOnlyDb, trusted: current.trusted, metrics: current.metrics, now: () => performance.now(), cacheSize: 100_000 });
const pool = drawClientPool(db.value, { size: 4000, v6File: paths[1] ?? '' });
const reqs: RedirectRequest[] = pool.map((c) => ({ socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': c.ip }, regionParam: undefined }));
const targets = pool.map((_c, i) => (i % 4 === 3 ? DEEP_LINK : '/'));
const decisions = reqs.map((r) => {
  const d = current.redirects.decide(r).decision;
  if (d.kind !== 'proxy') throw new Error('no proxy');
  return d;
});
const n = reqs.length;
// As routes/login.ts.
const locationFor = loginLocations();
const origins = new Map(decisions.map((d) => [d.publicUrl, proxyOrigin(d.publicUrl)]));
const checkedAnew = (publicUrl: string, target: string): string => locationAt(origins.get(publicUrl) ?? '', target);

// The Location must be what it was before.
const TARGETS = [
  '/', '/web', '/web/', '/web/login', DEEP_LINK, '/web/cluster/main/nodes?region=tokyo&x=1', '/web?REGION=a&b=c', '/web/%2e%2e/x', '/web/./a/../b/',
  '/web/a%20b?q=a+b', "/web/it's?q=it's", '/web/caf%C3%A9?q=%C3%A9', '/web/%FF', '/web?q=%FF', '/web/a"b<c>?x="y"', '/web/{a}|^`?x={y}', '/web/a#frag',
  '//evil.example/', '/\\evil', '/http:evil', '/web/%2F%2Fevil', '/web?x=%0d%0aSet-Cookie:a', '/web/ä?ü=1', '/web/a;b=c/d:e@f', '/web/~user/!$&()*+,;=',
];
for (const publicUrl of ['https://tokyo-1.proxy.example.com', 'https://p.example.com:8443/ignored?x#y']) {
  for (const t of TARGETS) {
    const a = buildLocationBefore(publicUrl, t);
    const b = locationAt(proxyOrigin(publicUrl), t);
    if (a !== b) throw new Error(`locationAt differs from before for ${t}: ${a} vs ${b}`);
  }
}

const rows: [string, number][] = [];
const row = (label: string, ns: number): void => void rows.push([label, ns]);
row('decide, cache hit', nsPerOp(n, (i) => current.redirects.decide(reqs[i] as RedirectRequest)));
row('decide, cache hit, no metrics at all', nsPerOp(n, (i) => noMetrics.redirects.decide(reqs[i] as RedirectRequest)));
row('  clientAddress (X-Forwarded-For from a trusted peer; remembered answers skip it)', nsPerOp(n, (i) => clientAddress({ socketAddress: '127.0.0.1', headers: (reqs[i] as RedirectRequest).headers, trusted: current.trusted })));
row('  metrics.redirected by name (remembered answers keep their counter)', nsPerOp(n, (i) => current.metrics.redirected(decisions[i]?.region ?? '', decisions[i]?.reason ?? '')));
row('  2x performance.now() (decisions worked out are timed; remembered answers are not)', nsPerOp(n, () => performance.now() - performance.now()));
// Misses: every decide after a rebuild that changed a candidate; one rebuild per pass of the pool.
row('decide after a rebuild that changed a candidate (GeoIP answer kept)', nsPerOp(n, (i) => (i === 0 && current.rebuild(true), current.redirects.decide(reqs[i] as RedirectRequest))));
row('decide after a rebuild that changed a candidate (before: GeoIP looked up again)', nsPerOp(n, (i) => (i === 0 && current.rebuild(true), before.decide(reqs[i] as RedirectRequest))));
row('decide after a rebuild that changed only loads (decisions kept)', nsPerOp(n, (i) => (i === 0 && current.rebuild(), current.redirects.decide(reqs[i] as RedirectRequest))));
const geoDb = current.geo.current();
const locations = pool.map((c) => {
  const r = geoDb.lookup(c.ip);
  return r.result === 'found' ? r.location : undefined;
});
row('  GeoIP lookup, answer kept per record (tree walked each time)', nsPerOp(n, (i) => geoDb.lookup(pool[i]?.ip ?? '')));
row('  GeoIP lookup (before: decoded records cached, no answers kept)', nsPerOp(n, (i) => recordsOnlyDb.lookup(pool[i]?.ip ?? '')));
row('  chooseProxy alone', nsPerOp(n, (i) => chooseProxy({ location: locations[i], clientKey: pool[i]?.ip ?? '' }, current.routing())));
row('Location "/" (before: buildLocation)', nsPerOp(n, (i) => buildLocationBefore(decisions[i]?.publicUrl ?? '', '/')));
row('Location "/" (now: root per proxy)', nsPerOp(n, (i) => locationFor(decisions[i]?.publicUrl ?? '', '/')));
row('Location deep link (before: buildLocation through URL)', nsPerOp(n, (i) => buildLocationBefore(decisions[i]?.publicUrl ?? '', DEEP_LINK)));
row('Location deep link (before: origin per proxy, checked anew)', nsPerOp(n, (i) => checkedAnew(decisions[i]?.publicUrl ?? '', DEEP_LINK)));
row('Location deep link (now: suffix remembered per target)', nsPerOp(n, (i) => locationFor(decisions[i]?.publicUrl ?? '', DEEP_LINK)));
// Before, the route already kept each proxy's root Location; deep links were checked anew.
const mixBefore = nsPerOp(n, (i) => {
  const d = current.redirects.decide(reqs[i] as RedirectRequest).decision;
  const target = targets[i] ?? '/';
  return d.kind !== 'proxy' ? d : target === '/' ? locationFor(d.publicUrl, '/') : checkedAnew(d.publicUrl, target);
});
const mixNow = nsPerOp(n, (i) => {
  const d = current.redirects.decide(reqs[i] as RedirectRequest).decision;
  return d.kind === 'proxy' ? locationFor(d.publicUrl, targets[i] ?? '/') : d;
});
row('decide + Location, the request mix of redirect-load (Location as before)', mixBefore);
row('decide + Location, the request mix of redirect-load (now)', mixNow);

console.log(`login redirect hot path, in-process, ${n} clients (3/4 "/", 1/4 deep links), median of 5 runs of ${BUDGET_MS} ms`);
console.log(`  (locationAt gave the URL-built answer of before for all ${TARGETS.length} test targets on 2 public URLs)`);
for (const [label, ns] of rows) console.log(`  ${label.padEnd(76)} ${(ns / 1000).toFixed(2).padStart(6)} us`);
console.log(`  saving of the Location change on the mix: ${((mixBefore - mixNow) / 1000).toFixed(2)} us (${(100 * (1 - mixNow / mixBefore)).toFixed(0)}%)`);
for (const m of [current, noMetrics]) m.geo.close();
