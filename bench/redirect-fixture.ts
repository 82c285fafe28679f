/**
 * Meridian's redirect service wired as src/main.ts wires it, for the redirect benchmarks: the
 * bundled GeoLite2 database through the GeoIP service, prom-client metrics on a registry with
 * the default process metrics, trusted proxies 127.0.0.1/32, a decision cache of 100,000, and
 * the demo fleet of examples/fleet/fleet.yaml (14 proxies, 6 regions) with every proxy up and
 * ready. The routing table is rebuilt every `rebuildMs`, as each observation cycle rebuilds it
 * (which empties the decision cache).
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse } from 'yaml';
import { createGeoIpService, defaultGeoIpPaths, type GeoDatabase, type GeoIpService } from '../src/adapters/geoip/index.js';
import type { ProxyFleetSpec } from '../src/model/fleet.js';
import { validateManifest } from '../src/model/validate.js';
import { buildRoutingTable, type RoutingTable } from '../src/redirect/core/routing-table.js';
import { parseTrustedProxies, type TrustedProxies } from '../src/redirect/core/trusted-proxies.js';
import { registerRedirectMetrics, type RedirectMetrics } from '../src/redirect/redirect-metrics.js';
import { createRedirectService, type RedirectService } from '../src/redirect/redirect-service.js';
import { observation, snapshot } from '../test/helpers/snapshot-fixture.js';

export const FLEET_FILE = 'examples/fleet/fleet.yaml';

export function demoFleetSpec(): ProxyFleetSpec {
  const doc = validateManifest(parse(readFileSync(FLEET_FILE, 'utf8')));
  if (!doc.ok || doc.value.kind !== 'ProxyFleet') throw new Error(`${FLEET_FILE} is not a valid ProxyFleet`);
  return doc.value.spec;
}

export interface MeridianRedirects {
  readonly redirects: RedirectService;
  readonly geo: GeoIpService;
  readonly registry: Registry;
  readonly trusted: TrustedProxies;
  readonly metrics: RedirectMetrics;
  /** The table in force; a new one every rebuild. */
  readonly routing: () => RoutingTable;
  /** A new table now, as an observation cycle would (empties the decision cache). */
  /** `changed`: the new table changes a candidate, so cached decisions go. */
  rebuild(changed?: boolean): void;
}

/** rebuildMs 0: never rebuilt by a timer (call rebuild()). */
export interface FixtureOptions {
  /** Instead of registerRedirectMetrics (to measure alternatives). */
  readonly metrics?: RedirectMetrics;
  /** Wraps the GeoIP database the service sees (to measure alternatives). */
  readonly geo?: (db: GeoDatabase) => GeoDatabase;
  /** An opt-in canary on these proxies, and invitations on: the canary rule active. */
  readonly canaryProxies?: readonly string[];
}

export async function meridianRedirects(log: Logger, rebuildMs: number, options: FixtureOptions = {}): Promise<MeridianRedirects> {
  const spec = demoFleetSpec();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // Quiet at startup ("Loaded GeoIP database"); nothing it logs is on the request path.
  const geo = createGeoIpService({ paths: defaultGeoIpPaths(), log: log.child({ component: 'geoip' }, { level: 'warn' }) });
  const started = await geo.start();
  if (!started.ok) throw new Error(`GeoIP database: ${started.error}`);
  const trusted = parseTrustedProxies(['127.0.0.1/32']);
  if (!trusted.ok) throw new Error(trusted.error);
  // Every proxy up and ready, as an observation cycle would report them; a new snapshot each "cycle".
  // `flip` cordons (or uncordons) the last proxy: a rebuild that changes what decisions rest on.
  let cordoned = false;
  const lastProxy = spec.proxies[spec.proxies.length - 1]?.name ?? '';
  const observe = (flip = false): RoutingTable => {
    if (flip) cordoned = !cordoned;
    return buildRoutingTable(spec, { ...snapshot(spec.proxies.map((p) => observation(p.name, p.region))), observedAt: new Date().toISOString() }, {
      outOfRotation: new Set(cordoned ? [lastProxy] : []),
      ...(options.canaryProxies ? { canaries: [{ name: 'debug', proxies: options.canaryProxies, optInOnly: true }] } : {}),
    });
  };
  let routing = observe();
  if (rebuildMs > 0) setInterval(() => (routing = observe()), rebuildMs).unref();
  const metrics = options.metrics ?? registerRedirectMetrics(registry, () => geo.buildTimestampSeconds());
  const wrap = options.geo;
  let wrapped: { of: GeoDatabase; db: GeoDatabase } | undefined;
  const database = (): GeoDatabase => {
    const db = geo.current();
    if (!wrap) return db;
    if (wrapped?.of !== db) wrapped = { of: db, db: wrap(db) };
    return wrapped.db;
  };
  const redirects = createRedirectService({
    routing: () => routing,
    geo: database,
    trusted: trusted.value,
    metrics,
    now: () => performance.now(),
    cacheSize: 100_000,
    nowSeconds: () => Math.floor(Date.now() / 1000),
    ...(options.canaryProxies ? { canaryKey: 'bench-canary-key' } : {}),
  });
  return {
    redirects,
    geo,
    registry,
    trusted: trusted.value,
    metrics,
    routing: () => routing,
    rebuild: (changed = false) => {
      routing = observe(changed);
    },
  };
}
