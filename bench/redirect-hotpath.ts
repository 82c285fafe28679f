/**
 * What each step of the login redirect costs per request, in-process (no HTTP, no fastify),
 * on the client pool and demo fleet of redirect-load.ts; and what the changes to src/ proposed
 * with that bench would save, prototyped here (marked "proposed": they are not in src/).
 * `node --import tsx bench/redirect-hotpath.ts`
 */
import pino from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { defaultGeoIpPaths, openGeoDatabase, type GeoDatabase, type GeoLookup } from '../src/adapters/geoip/index.js';
import { chooseProxy } from '../src/redirect/core/choose-proxy.js';
import { clientAddress } from '../src/redirect/core/client-address.js';
import { buildLocation, filterQuery, MAX_REDIRECT_TARGET_LENGTH, normalisePath, REDIRECT_CONTROL_PARAMS } from '../src/redirect/core/redirect-location.js';
import type { RedirectMetrics } from '../src/redirect/redirect-metrics.js';
import type { RedirectRequest } from '../src/redirect/redirect-service.js';
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

// --- Prototypes of the proposed src/ changes ------------------------------------------------

const CONTROL = /[\u0000-\u001f\u007f]/;
// Characters the WHATWG URL serialiser leaves as they are in a path and in a query (special
// schemes: it encodes ' in queries). "%" only comes as valid escapes here (normalisePath and
// filterQuery drop anything that does not decode).
const SAFE_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const SAFE_QUERY = /^[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*$/;

/**
 * Proposed buildLocation: the origin comes precomputed (RouteProxy/ProxyDecision would carry it,
 * computed once per routing table in buildRoutingTable, where the http(s) check also moves), and
 * the bare login URL "/" (most requests) returns at once. A deep link whose normalised path and
 * filtered query hold only characters URL serialisation keeps is concatenated (it is then what
 * the URL object would give); anything else is built with URL as today.
 */
function buildLocationProposed(origin: string, raw: string): string {
  const root = `${origin}/`;
  if (raw === '/') return root;
  if (raw.length > MAX_REDIRECT_TARGET_LENGTH || CONTROL.test(raw)) return root;
  const hash = raw.indexOf('#');
  const target = hash < 0 ? raw : raw.slice(0, hash);
  const q = target.indexOf('?');
  const path = normalisePath(q < 0 ? target : target.slice(0, q));
  if (path === undefined) return root;
  const query = q < 0 ? '' : filterQuery(target.slice(q + 1), REDIRECT_CONTROL_PARAMS);
  if (path === '/' && query === '') return root;
  if (SAFE_PATH.test(path) && SAFE_QUERY.test(query)) return query === '' ? `${origin}${path}` : `${origin}${path}?${query}`;
  const url = new URL(origin);
  url.pathname = path;
  if (query !== '') url.search = `?${query}`;
  const href = url.href;
  if (url.origin !== origin || !href.startsWith(root) || CONTROL.test(href)) return root;
  return href;
}

/**
 * Proposed metrics: plain counters on the request path, folded into prom-client when scraped
 * (collect()), instead of prom-client's inc/observe per request (each hashes its label object).
 * The histogram keeps its buckets; a cache hit is timed like any other decision.
 */
function proposedMetrics(registry: Registry): RedirectMetrics {
  const BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01];
  const counts = new Map<string, Map<string, number>>();
  const bucketCounts = new Float64Array(BUCKETS.length + 1);
  let sum = 0;
  let observed = 0;
  new Counter({
    name: 'proposed_redirects_total',
    help: 'as meridian_redirects_total',
    labelNames: ['region', 'reason'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [region, byReason] of counts) for (const [reason, n] of byReason) this.inc({ region, reason }, n);
    },
  });
  // The histogram's own collect would need its internals; this prototype only keeps the numbers.
  void Histogram;
  const count = (region: string, reason: string): void => {
    let byReason = counts.get(region);
    if (byReason === undefined) counts.set(region, (byReason = new Map()));
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  };
  const observe = (seconds: number): void => {
    let b = 0;
    while (b < BUCKETS.length && seconds > (BUCKETS[b] ?? Infinity)) b++;
    bucketCounts[b] = (bucketCounts[b] ?? 0) + 1;
    sum += seconds;
    observed++;
  };
  return {
    redirected(region, reason, seconds) {
      count(region, reason);
      observe(seconds);
    },
    unavailable(seconds) {
      count('none', 'unavailable');
      observe(seconds);
    },
    geoLookup() {
      // a third counter as above
    },
  };
}

/**
 * Proposed: GeoIP answers cached per client address across routing tables (a location does not
 * change when the fleet does), dropped with the database: after each rebuild a returning
 * client costs chooseProxy only, not a GeoIP lookup. Bounded like the decision cache.
 */
function withLocationCache(db: GeoDatabase, maxEntries: number): GeoDatabase {
  const cache = new Map<string, GeoLookup>();
  return {
    info: db.info,
    lookup(ip) {
      let r = cache.get(ip);
      if (r === undefined) {
        r = db.lookup(ip);
        if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
        cache.set(ip, r);
      }
      return r;
    },
  };
}

// --- Measurements ---------------------------------------------------------------------------

const log = pino({ level: 'warn' });
const current = await meridianRedirects(log, 0);
const proposedM = proposedMetrics(new Registry());
const withProposedMetrics = await meridianRedirects(log, 0, { metrics: proposedM });
const noMetrics = await meridianRedirects(log, 0, { metrics: { redirected: () => undefined, unavailable: () => undefined, geoLookup: () => undefined } });
const locationCached = await meridianRedirects(log, 0, { geo: (db) => withLocationCache(db, 100_000) });
const paths = defaultGeoIpPaths();
const db = await openGeoDatabase(paths);
if (!db.ok) throw new Error(db.error);
const pool = drawClientPool(db.value, { size: 4000, v6File: paths[1] ?? '' });
const reqs: RedirectRequest[] = pool.map((c) => ({ socketAddress: '127.0.0.1', headers: { 'x-forwarded-for': c.ip }, regionParam: undefined }));
const targets = pool.map((_c, i) => (i % 4 === 3 ? DEEP_LINK : '/'));
const decisions = reqs.map((r) => {
  const d = current.redirects.decide(r).decision;
  if (d.kind !== 'proxy') throw new Error('no proxy');
  return d;
});
const origins = decisions.map((d) => new URL(d.publicUrl).origin);
const n = reqs.length;

// The proposed buildLocation must give what the current one gives.
const TARGETS = [
  '/', '/web', '/web/', '/web/login', DEEP_LINK, '/web/cluster/main/nodes?region=tokyo&x=1', '/web?REGION=a&b=c', '/web/%2e%2e/x', '/web/./a/../b/',
  '/web/a%20b?q=a+b', "/web/it's?q=it's", '/web/caf%C3%A9?q=%C3%A9', '/web/%FF', '/web?q=%FF', '/web/a"b<c>?x="y"', '/web/{a}|^`?x={y}', '/web/a#frag',
  '//evil.example/', '/\\evil', '/http:evil', '/web/%2F%2Fevil', '/web?x=%0d%0aSet-Cookie:a', '/web/ä?ü=1', '/web/a;b=c/d:e@f', '/web/~user/!$&()*+,;=',
];
for (const publicUrl of ['https://tokyo-1.proxy.example.com', 'https://p.example.com:8443/ignored?x#y']) {
  const origin = new URL(publicUrl).origin;
  for (const t of TARGETS) {
    const a = buildLocation(publicUrl, t);
    const b = buildLocationProposed(origin, t);
    if (a !== b) throw new Error(`proposed buildLocation differs for ${t}: ${a} vs ${b}`);
  }
}

const rows: [string, number][] = [];
const row = (label: string, ns: number): void => void rows.push([label, ns]);
row('decide, cache hit (current: prom-client metrics)', nsPerOp(n, (i) => current.redirects.decide(reqs[i] as RedirectRequest)));
row('decide, cache hit, proposed metrics', nsPerOp(n, (i) => withProposedMetrics.redirects.decide(reqs[i] as RedirectRequest)));
row('decide, cache hit, no metrics at all', nsPerOp(n, (i) => noMetrics.redirects.decide(reqs[i] as RedirectRequest)));
row('  clientAddress (X-Forwarded-For from a trusted peer)', nsPerOp(n, (i) => clientAddress({ socketAddress: '127.0.0.1', headers: (reqs[i] as RedirectRequest).headers, trusted: current.trusted })));
row('  metrics.redirected (current: prom-client inc + observe)', nsPerOp(n, (i) => current.metrics.redirected(decisions[i]?.region ?? '', decisions[i]?.reason ?? '', 1e-6)));
row('  metrics.redirected (proposed)', nsPerOp(n, (i) => proposedM.redirected(decisions[i]?.region ?? '', decisions[i]?.reason ?? '', 1e-6)));
row('  2x performance.now()', nsPerOp(n, () => performance.now() - performance.now()));
// A miss: every decide after a rebuild (GeoIP lookup, chooseProxy); one rebuild per pass of the pool.
row('decide, cache miss (GeoIP lookup + chooseProxy; table rebuilt each pass)', nsPerOp(n, (i) => (i === 0 && current.rebuild(), current.redirects.decide(reqs[i] as RedirectRequest))));
row('decide, cache miss, proposed location cache', nsPerOp(n, (i) => (i === 0 && locationCached.rebuild(), locationCached.redirects.decide(reqs[i] as RedirectRequest))));
const geoDb = current.geo.current();
const locations = pool.map((c) => {
  const r = geoDb.lookup(c.ip);
  return r.result === 'found' ? r.location : undefined;
});
row('  GeoIP lookup alone (database decoder cache warm)', nsPerOp(n, (i) => geoDb.lookup(pool[i]?.ip ?? '')));
row('  chooseProxy alone', nsPerOp(n, (i) => chooseProxy({ location: locations[i], clientKey: pool[i]?.ip ?? '' }, current.routing())));
row('buildLocation "/" (current)', nsPerOp(n, (i) => buildLocation(decisions[i]?.publicUrl ?? '', '/')));
row('buildLocation "/" (proposed: origin precomputed, "/" at once)', nsPerOp(n, (i) => buildLocationProposed(origins[i] ?? '', '/')));
row('buildLocation deep link (current)', nsPerOp(n, (i) => buildLocation(decisions[i]?.publicUrl ?? '', DEEP_LINK)));
row('buildLocation deep link (proposed: origin precomputed, safe characters concatenated)', nsPerOp(n, (i) => buildLocationProposed(origins[i] ?? '', DEEP_LINK)));
const mixCurrent = nsPerOp(n, (i) => {
  const d = current.redirects.decide(reqs[i] as RedirectRequest).decision;
  return d.kind === 'proxy' ? buildLocation(d.publicUrl, targets[i] ?? '/') : d;
});
const mixProposed = nsPerOp(n, (i) => {
  const d = withProposedMetrics.redirects.decide(reqs[i] as RedirectRequest).decision;
  return d.kind === 'proxy' ? buildLocationProposed(origins[i] ?? '', targets[i] ?? '/') : d;
});
row('decide + buildLocation, the request mix of redirect-load (current)', mixCurrent);
row('decide + buildLocation, the request mix of redirect-load (proposed)', mixProposed);

console.log(`login redirect hot path, in-process, ${n} clients (3/4 "/", 1/4 deep links), median of 5 runs of ${BUDGET_MS} ms`);
console.log(`  (the proposed buildLocation gave the current one's answer for all ${TARGETS.length} test targets on 2 public URLs)`);
for (const [label, ns] of rows) console.log(`  ${label.padEnd(76)} ${(ns / 1000).toFixed(2).padStart(6)} us`);
console.log(`  saving per request on the mix: ${((mixCurrent - mixProposed) / 1000).toFixed(2)} us (${(100 * (1 - mixProposed / mixCurrent)).toFixed(0)}%)`);
for (const m of [current, withProposedMetrics, noMetrics, locationCached]) m.geo.close();
