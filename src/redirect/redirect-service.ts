import type { GeoDatabase } from '../adapters/geoip/index.js';
import { chooseProxy, type ClientLocation, type Decision } from './core/choose-proxy.js';
import { clientAddress, type ClientAddress } from './core/client-address.js';
import { explainChoice, type ExplainedChoice } from './core/explain-choice.js';
import type { RoutingTable } from './core/routing-table.js';
import type { TrustedProxies } from './core/trusted-proxies.js';
import { DecisionCache } from './decision-cache.js';
import type { GeoLookupResult, RedirectMetrics } from './redirect-metrics.js';
import { AUTO_REGION, clearRegionCookie, readRegionCookie, setRegionCookie } from './region-cookie.js';

export interface RedirectRequest {
  readonly socketAddress: string;
  readonly headers: {
    readonly 'x-forwarded-for'?: string | readonly string[];
    readonly forwarded?: string | readonly string[];
    readonly cookie?: string;
  };
  /** `?region=`; anything but one string is ignored. */
  readonly regionParam: unknown;
}

export interface RedirectOutcome {
  readonly decision: Decision;
  readonly client: ClientAddress;
  /** Set-Cookie to send: the user chose or cleared a region. */
  readonly setCookie?: string;
  /** The override in force (from ?region= or the cookie). */
  readonly regionOverride?: string;
}

export interface RedirectServiceDeps {
  readonly routing: () => RoutingTable | undefined;
  readonly geo: () => GeoDatabase | undefined;
  readonly trusted: TrustedProxies;
  readonly metrics: RedirectMetrics;
  /** High-resolution milliseconds (performance.now) for the decision-time histogram. */
  readonly now: () => number;
  readonly cacheSize: number;
}

interface Override {
  readonly region?: string;
  readonly setCookie?: string;
}

const NO_TABLE: Decision = Object.freeze({ kind: 'unavailable', reason: 'no fleet has been observed yet' });
const NO_OVERRIDE: Override = Object.freeze({});

/** The request path of the login redirect: client address, override, GeoIP, decision (cached per table). */
export function createRedirectService(deps: RedirectServiceDeps) {
  const decisions = new DecisionCache<Decision>(deps.cacheSize);

  function locate(ip: string): ClientLocation | undefined {
    const db = deps.geo();
    if (!db) {
      deps.metrics.geoLookup('no_database');
      return undefined;
    }
    const r = db.lookup(ip);
    deps.metrics.geoLookup(r.result satisfies GeoLookupResult);
    return r.result === 'found' ? r.location : undefined;
  }

  function override(req: RedirectRequest, table: RoutingTable): Override {
    const param = typeof req.regionParam === 'string' ? req.regionParam : undefined;
    if (param === AUTO_REGION) return { setCookie: clearRegionCookie() };
    // Unknown names are ignored, never echoed back.
    if (param !== undefined && table.byName[param]) return { region: param, setCookie: setRegionCookie(param) };
    const cookie = readRegionCookie(req.headers.cookie);
    return cookie !== undefined && table.byName[cookie] ? { region: cookie } : NO_OVERRIDE;
  }

  function choose(ip: string, region: string | undefined, table: RoutingTable): Decision {
    const location = locate(ip);
    return chooseProxy(region === undefined ? { location, clientKey: ip } : { location, clientKey: ip, regionOverride: region }, table);
  }

  return {
    decide(req: RedirectRequest): RedirectOutcome {
      const started = deps.now();
      const client = clientAddress({ socketAddress: req.socketAddress, headers: req.headers, trusted: deps.trusted });
      const table = deps.routing();
      if (!table) {
        deps.metrics.unavailable(0);
        return { decision: NO_TABLE, client };
      }
      const o = override(req, table);
      const key = o.region === undefined ? client.ip : `${client.ip}|${o.region}`;
      let decision = decisions.get(table, key);
      if (decision === undefined) decisions.set(key, (decision = choose(client.ip, o.region, table)));
      const seconds = (deps.now() - started) / 1000;
      if (decision.kind === 'proxy') deps.metrics.redirected(decision.region, decision.reason, seconds);
      else deps.metrics.unavailable(seconds);
      // One literal per shape: no spreads on the request path.
      if (o.setCookie === undefined) return o.region === undefined ? { decision, client } : { decision, client, regionOverride: o.region };
      return o.region === undefined ? { decision, client, setCookie: o.setCookie } : { decision, client, setCookie: o.setCookie, regionOverride: o.region };
    },

    /** For `meridian explain-redirect` and the admin API: the decision with every region's verdict. */
    explain(ip: string, regionOverride?: string): ExplainedChoice | undefined {
      const table = deps.routing();
      if (!table) return undefined;
      return explainChoice({ location: locate(ip), clientKey: ip, ...(regionOverride && table.byName[regionOverride] ? { regionOverride } : {}) }, table);
    },
  };
}

export type RedirectService = ReturnType<typeof createRedirectService>;
