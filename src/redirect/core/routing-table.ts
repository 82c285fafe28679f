import { deepFreeze } from '../../model/deep-freeze.js';
import type { ProxyFleetSpec, Region, RedirectPins } from '../../model/fleet.js';
import { loadKnown, type FleetSnapshot, type ProxyObservation } from '../../model/snapshot.js';
import { degreesToRadians, haversineKm } from './geo-distance.js';

import { fnv1a32 } from './string-hash.js';

/**
 * Why a proxy can or cannot take a new client. `out_of_rotation`: cordoned, or held by a rollout
 * or canary. `canary`: it runs an opt-in-only canary build, so only users with that canary's
 * invite are sent there (through the canary's own table).
 */
export const PROXY_STATES = ['eligible', 'full', 'out_of_rotation', 'down', 'not_ready', 'not_observed', 'canary'] as const;
export type ProxyState = (typeof PROXY_STATES)[number];

/**
 * `open`: has an eligible proxy below capacity. `saturated`: every eligible proxy is full. The rest
 * have none; `out_of_rotation`: its ready proxies are all out of rotation.
 */
export const REGION_STATES = ['open', 'saturated', 'no_proxies', 'no_ready_proxy', 'out_of_rotation'] as const;
export type RegionState = (typeof REGION_STATES)[number];
export type RegionUnavailable = Exclude<RegionState, 'open' | 'saturated'>;

export interface RouteProxy {
  readonly name: string;
  readonly region: string;
  readonly publicUrl: string;
  readonly state: ProxyState;
  /** Active sessions (observed sessionsTotal); 0 when never observed or the load is unknown. */
  readonly sessions: number;
  /**
   * The last scrape read the proxy's session counts. A ready proxy whose metrics page could not
   * be read has an unknown load, not 0: it is a candidate only when no proxy of its region that
   * can take a client has a known load.
   */
  readonly loadKnown: boolean;
  readonly capacity?: number;
  /** FNV-1a of the name, for rendezvous hashing without re-hashing per request. */
  readonly hash: number;
}

export interface RegionRoute {
  readonly name: string;
  readonly latitude: number;
  readonly longitude: number;
  readonly isDefault: boolean;
  /** From the proxies ordinary clients may reach (not those reserved for opt-in-only canaries). */
  readonly state: RegionState;
  /** Every proxy of the region, in spec order (reserved canary proxies too, in state `canary`). */
  readonly proxies: readonly RouteProxy[];
  /**
   * Where clients of this region may go: the least-loaded eligible proxies (within the load
   * tolerance), taken from the non-full ones, or from all eligible ones when saturated. Proxies
   * of unknown load only when none of that pool has a known load (then all of them).
   */
  readonly candidates: readonly RouteProxy[];
  // Precomputed for haversine: radians and cos(latitude).
  readonly latRad: number;
  readonly lonRad: number;
  readonly cosLat: number;
}

/** Proxies whose load is within max(sessions, ratio × least load) of the least loaded share clients. */
export interface LoadTolerance {
  readonly ratio: number;
  readonly sessions: number;
}

export const DEFAULT_LOAD_TOLERANCE: LoadTolerance = Object.freeze({ ratio: 0.1, sessions: 20 });

/** A running canary as the redirect sees it: its proxies and who may be sent there. */
export interface CanaryRoute {
  readonly name: string;
  readonly proxies: readonly string[];
  /** traffic `optInOnly`: only users with an invite reach these proxies. False (`normal`): they also take their usual share. */
  readonly optInOnly: boolean;
}

export interface RoutingOptions {
  /** Proxies out of rotation: cordoned, or held by a rollout or canary. */
  readonly outOfRotation: ReadonlySet<string>;
  readonly pins?: RedirectPins;
  readonly loadTolerance?: LoadTolerance;
  /** Running canaries. Names are unique (resource names); a repeated name keeps the last. */
  readonly canaries?: readonly CanaryRoute[];
}

export interface RoutingTable {
  readonly observedAt: string;
  /** Every region, in spec order. */
  readonly regions: readonly RegionRoute[];
  /** Regions with at least one eligible proxy (open or saturated), in spec order. */
  readonly available: readonly RegionRoute[];
  readonly byName: Readonly<Record<string, RegionRoute | undefined>>;
  /** The region for clients whose location is unknown: the one marked default, else the first. */
  readonly defaultRegion: string | undefined;
  /** Available regions, nearest to the default region first (the default itself first when available). */
  readonly defaultOrder: readonly RegionRoute[];
  /** Upper-cased code → region name. */
  readonly countryPins: Readonly<Record<string, string | undefined>>;
  readonly continentPins: Readonly<Record<string, string | undefined>>;
  /** Returned as is when nothing is eligible anywhere, so that path allocates nothing. */
  readonly unavailableReason: string;
  /**
   * Canary name → a table of the same fleet holding only that canary's proxies (same
   * observations and out-of-rotation set, no pins, no canaries of its own): where opted-in users go.
   */
  readonly canaries: Readonly<Record<string, RoutingTable | undefined>>;
  /** The load tolerance the candidates were chosen with (for explanations). */
  readonly loadTolerance: LoadTolerance;
  /**
   * Everything a decision depends on (regions' states and candidates, pins, canaries), not the
   * loads behind them: two tables with the same key decide every client alike, so cached
   * decisions outlive a rebuild that changed only session counts.
   */
  readonly decisionKey: string;
}

function proxyState(obs: ProxyObservation | undefined, outOfRotation: boolean, sessions: number | undefined, capacity: number | undefined): ProxyState {
  // Out of rotation is the operator's (or a run's) word and wins over what the observer saw, so explain output says why.
  if (outOfRotation) return 'out_of_rotation';
  if (!obs) return 'not_observed';
  // Down but still ready: a first scrape timeout, given one cycle's grace (see ProxyObservation.ready).
  if (!obs.ready) return obs.up ? 'not_ready' : 'down';
  // An unknown load is never taken for a full proxy (nor for an empty one: see candidatesOf).
  return capacity !== undefined && sessions !== undefined && sessions >= capacity ? 'full' : 'eligible';
}

function regionState(proxies: readonly RouteProxy[], outOfRotation: ReadonlySet<string>, observed: ReadonlyMap<string, ProxyObservation>): RegionState {
  if (proxies.length === 0) return 'no_proxies';
  if (proxies.some((p) => p.state === 'eligible')) return 'open';
  if (proxies.some((p) => p.state === 'full')) return 'saturated';
  const readyButOut = proxies.some((p) => {
    const o = observed.get(p.name);
    return outOfRotation.has(p.name) && o !== undefined && o.up && o.ready;
  });
  return readyButOut ? 'out_of_rotation' : 'no_ready_proxy';
}

/** The most sessions a proxy may hold and still share clients with the least loaded one (`least` sessions). */
export function toleranceLimit(least: number, tolerance: LoadTolerance): number {
  return least + Math.max(tolerance.sessions, tolerance.ratio * least);
}

function candidatesOf(proxies: readonly RouteProxy[], tolerance: LoadTolerance): RouteProxy[] {
  const open = proxies.filter((p) => p.state === 'eligible');
  const pool = open.length ? open : proxies.filter((p) => p.state === 'full');
  const known = pool.filter((p) => p.loadKnown);
  // Unknown load is not zero load: such a proxy would otherwise win every client as the least loaded.
  if (!known.length) return pool;
  const least = Math.min(...known.map((p) => p.sessions));
  const limit = toleranceLimit(least, tolerance);
  return known.filter((p) => p.sessions <= limit);
}

function regionRoute(region: Region, isDefault: boolean, proxies: readonly RouteProxy[], state: RegionState, tolerance: LoadTolerance): RegionRoute {
  const latRad = degreesToRadians(region.latitude);
  return {
    name: region.name,
    latitude: region.latitude,
    longitude: region.longitude,
    isDefault,
    state,
    proxies,
    candidates: candidatesOf(proxies, tolerance),
    latRad,
    lonRad: degreesToRadians(region.longitude),
    cosLat: Math.cos(latRad),
  };
}

/** A record with no prototype, so a client-supplied key such as "__proto__" finds nothing. */
function lookup<V>(entries: Iterable<readonly [string, V]>): Record<string, V | undefined> {
  const out = Object.create(null) as Record<string, V | undefined>;
  for (const [k, v] of entries) out[k] = v;
  return out;
}

function upperKeys(pins: Readonly<Record<string, string | undefined>> | undefined): [string, string][] {
  return Object.entries(pins ?? {}).flatMap(([code, region]) => (region === undefined ? [] : [[code.toUpperCase(), region] as [string, string]]));
}

/** The observed load; undefined when it is unknown (never observed, or the page not read). */
function sessionsOf(obs: ProxyObservation | undefined): number | undefined {
  if (!obs || !loadKnown(obs)) return undefined;
  const n = obs.sessionsTotal;
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/**
 * Everything the chooser needs, computed once per snapshot so a request only hashes its
 * client key and measures a handful of distances. Frozen all the way down.
 */
export function buildRoutingTable(spec: ProxyFleetSpec, snapshot: FleetSnapshot, options: RoutingOptions): RoutingTable {
  const canaries = options.canaries ?? [];
  // Kept out of the ordinary table: proxies of opt-in-only canaries.
  const reserved = new Set(canaries.flatMap((c) => (c.optInOnly ? c.proxies : [])));
  const subOptions: RoutingOptions = options.loadTolerance ? { outOfRotation: options.outOfRotation, loadTolerance: options.loadTolerance } : { outOfRotation: options.outOfRotation };
  const canaryTables = canaries.map((c) => {
    const members = new Set(c.proxies);
    return [c.name, buildRoutingTable({ ...spec, proxies: spec.proxies.filter((p) => members.has(p.name)) }, snapshot, subOptions)] as const;
  });
  const tolerance = options.loadTolerance ?? DEFAULT_LOAD_TOLERANCE;
  const observed = new Map(snapshot.proxies.map((o) => [o.name, o]));
  const defaultName = (spec.regions.find((r) => r.default) ?? spec.regions[0])?.name;
  const regions = spec.regions.map((region) => {
    const proxies: RouteProxy[] = spec.proxies
      .filter((p) => p.region === region.name)
      .map((p) => {
        const obs = observed.get(p.name);
        const sessions = sessionsOf(obs);
        // Always the same keys (capacity may be undefined), so the per-request loop stays monomorphic.
        return {
          name: p.name,
          region: p.region,
          publicUrl: p.publicUrl,
          // A reserved canary proxy is never a candidate here, whatever its health (its own table shows that).
          state: reserved.has(p.name) ? 'canary' : proxyState(obs, options.outOfRotation.has(p.name), sessions, p.capacity),
          sessions: sessions ?? 0,
          loadKnown: sessions !== undefined,
          capacity: p.capacity,
          hash: fnv1a32(p.name),
        };
      });
    const ordinary = reserved.size === 0 ? proxies : proxies.filter((p) => p.state !== 'canary');
    return regionRoute(region, region.name === defaultName, proxies, regionState(ordinary, options.outOfRotation, observed), tolerance);
  });

  const available = regions.filter((r) => r.state === 'open' || r.state === 'saturated');
  const home = regions.find((r) => r.isDefault);
  const defaultOrder = home
    ? available
        .map((r) => ({ r, d: haversineKm(home.latRad, home.lonRad, home.cosLat, r.latRad, r.lonRad, r.cosLat) }))
        .sort((a, b) => a.d - b.d) // stable: ties keep spec order
        .map((x) => x.r)
    : [];

  const reservedCount = reserved.size === 0 ? 0 : spec.proxies.filter((p) => reserved.has(p.name)).length;
  const countryPins = lookup(upperKeys(options.pins?.countries));
  const continentPins = lookup(upperKeys(options.pins?.continents));
  const unavailableReason = `no ready proxy in rotation in any region (${regions.length} regions, ${spec.proxies.length - reservedCount} proxies${reservedCount ? `, ${reservedCount} more reserved for canaries` : ''})`;
  const decisionKey = [
    regions.map((r) => `${r.name}@${r.latitude},${r.longitude}${r.isDefault ? '*' : ''}=${r.state}[${r.candidates.map((c) => `${c.name} ${c.state}${c.loadKnown ? '' : '?'} ${c.publicUrl}`).join('|')}]`).join(';'),
    JSON.stringify(countryPins),
    JSON.stringify(continentPins),
    unavailableReason,
    canaryTables.map(([name, t]) => `${name}{${t.decisionKey}}`).join(''),
  ].join('\n');
  return deepFreeze({
    observedAt: snapshot.observedAt,
    regions,
    available,
    byName: lookup(regions.map((r) => [r.name, r] as const)),
    defaultRegion: home?.name,
    defaultOrder,
    countryPins,
    continentPins,
    unavailableReason,
    canaries: lookup(canaryTables),
    loadTolerance: tolerance,
    decisionKey,
  });
}
