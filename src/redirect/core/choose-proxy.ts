import { assertNever } from '../../model/result.js';
import { arcKm, degreesToRadians, haversineKm, haversineTerm, isUsablePoint } from './geo-distance.js';
import type { RegionRoute, RegionUnavailable, RouteProxy, RoutingTable } from './routing-table.js';
import { fnv1a32, rendezvousWeight } from './string-hash.js';

/** What GeoIP said about the client. Coordinates may be missing (country-only databases, private addresses). */
export interface ClientLocation {
  readonly latitude?: number;
  readonly longitude?: number;
  /** ISO 3166-1 alpha-2. */
  readonly countryCode?: string;
  /** AF, AN, AS, EU, NA, OC, SA. */
  readonly continentCode?: string;
}

export interface ChooseInput {
  readonly location?: ClientLocation;
  /** Stable per client (IP or cookie id): the same key keeps the same proxy while it stays eligible. */
  readonly clientKey: string;
  /** From ?region= or the cookie, already checked to be a region name; undefined when absent. */
  readonly regionOverride?: string;
  /** The canary of the client's verified invite; undefined when the client did not opt in. */
  readonly canary?: string;
}

export type DecisionReason =
  /** Opted in to a canary: its ready proxy nearest the client (or nearest the default region). */
  | 'canary'
  | 'override'
  | 'country_pin'
  | 'continent_pin'
  | 'nearest'
  /** A nearer region was saturated; this is the nearest with room. */
  | 'spillover'
  /** Every available region is full; the nearest (or the default) is still better than nothing. */
  | 'all_saturated'
  | 'default_region'
  /** Location unknown and the default region unavailable or saturated: the one nearest to it. */
  | 'default_fallback';

/** A rule that named a region the client could not be sent to. */
export interface RegionSkippedRule {
  readonly rule: 'override' | 'country_pin' | 'continent_pin' | 'default_region';
  readonly region: string;
  readonly why: RegionUnavailable | 'saturated' | 'unknown_region';
}

/** The client opted in to a canary that could not take them: the ordinary rules decided instead. */
export interface CanarySkippedRule {
  readonly rule: 'canary';
  /** The canary's name. */
  readonly region: string;
  /** `no_ready_proxy`: none of its proxies is available. `unknown_canary`: the table has no such canary. */
  readonly why: 'no_ready_proxy' | 'unknown_canary';
}

export type SkippedRule = RegionSkippedRule | CanarySkippedRule;

export interface ProxyDecision {
  readonly kind: 'proxy';
  readonly region: string;
  readonly proxy: string;
  readonly publicUrl: string;
  /** From the client to the chosen region, when the client's coordinates are known. */
  readonly distanceKm?: number;
  readonly reason: DecisionReason;
  /** The chosen proxy is at or above its capacity (an override, pin or all-saturated fleet). */
  readonly saturated: boolean;
  /** Present only when the chosen proxy's load is unknown (no proxy of its region that could take the client had a known load). */
  readonly loadUnknown?: true;
  /** Present only when a canary, an override, a pin or the default region was passed over. */
  readonly skipped?: readonly SkippedRule[];
}

export interface UnavailableDecision {
  readonly kind: 'unavailable';
  readonly reason: string;
}

export type Decision = ProxyDecision | UnavailableDecision;

function isAvailable(r: RegionRoute): boolean {
  return r.state === 'open' || r.state === 'saturated';
}

/** Rendezvous hashing over the region's candidates: same client, same proxy, while it stays a candidate. */
function pickProxy(region: RegionRoute, clientKey: string): RouteProxy | undefined {
  const h = fnv1a32(clientKey);
  let best: RouteProxy | undefined;
  let bestWeight = -1;
  for (const p of region.candidates) {
    const w = rendezvousWeight(h, p.hash);
    if (w > bestWeight) {
      best = p;
      bestWeight = w;
    }
  }
  return best;
}

function unavailable(table: RoutingTable): UnavailableDecision {
  return { kind: 'unavailable', reason: table.unavailableReason };
}

function decide(
  table: RoutingTable,
  region: RegionRoute,
  reason: DecisionReason,
  input: ChooseInput,
  distance: number | undefined,
  skipped: readonly SkippedRule[] | undefined,
): Decision {
  const proxy = pickProxy(region, input.clientKey);
  if (!proxy) return unavailable(table); // cannot happen for an available region; never redirect blind
  const saturated = proxy.state === 'full';
  if (!proxy.loadKnown) return unknownLoad(region, proxy, reason, distance, skipped);
  // Literal per shape rather than spreads: this runs on every request.
  if (skipped === undefined) {
    return distance === undefined
      ? { kind: 'proxy', region: region.name, proxy: proxy.name, publicUrl: proxy.publicUrl, reason, saturated }
      : { kind: 'proxy', region: region.name, proxy: proxy.name, publicUrl: proxy.publicUrl, distanceKm: distance, reason, saturated };
  }
  return distance === undefined
    ? { kind: 'proxy', region: region.name, proxy: proxy.name, publicUrl: proxy.publicUrl, reason, saturated, skipped }
    : { kind: 'proxy', region: region.name, proxy: proxy.name, publicUrl: proxy.publicUrl, distanceKm: distance, reason, saturated, skipped };
}

/** A decision for a proxy of unknown load: rare (its whole region unread), so spreads are fine here. */
function unknownLoad(region: RegionRoute, proxy: RouteProxy, reason: DecisionReason, distance: number | undefined, skipped: readonly SkippedRule[] | undefined): ProxyDecision {
  return {
    kind: 'proxy',
    region: region.name,
    proxy: proxy.name,
    publicUrl: proxy.publicUrl,
    ...(distance === undefined ? {} : { distanceKm: distance }),
    reason,
    saturated: false,
    ...(skipped === undefined ? {} : { skipped }),
    loadUnknown: true,
  };
}

function whyNot(r: RegionRoute | undefined): RegionSkippedRule['why'] {
  if (!r) return 'unknown_region';
  switch (r.state) {
    case 'open':
    case 'saturated':
      return 'saturated'; // only the default region can be passed over for being full
    case 'no_proxies':
    case 'no_ready_proxy':
    case 'out_of_rotation':
      return r.state;
    default:
      return assertNever(r.state, 'region state');
  }
}

/** The named region if a client can go there; otherwise a note of why not. No closure, no array: the common path allocates nothing. */
function ruleTarget(table: RoutingTable, rule: RegionSkippedRule['rule'], name: string): RegionRoute | RegionSkippedRule {
  const r = table.byName[name];
  return r && isAvailable(r) ? r : { rule, region: name, why: whyNot(r) };
}

function withSkip(skipped: readonly SkippedRule[] | undefined, skip: SkippedRule): readonly SkippedRule[] {
  return skipped ? [...skipped, skip] : [skip];
}

/** The client's position in radians, with cos(latitude), computed once per request. */
interface ClientPoint {
  readonly latRad: number;
  readonly lonRad: number;
  readonly cosLat: number;
}

function distanceFrom(client: ClientPoint | undefined, r: RegionRoute): number | undefined {
  return client ? haversineKm(client.latRad, client.lonRad, client.cosLat, r.latRad, r.lonRad, r.cosLat) : undefined;
}

interface NearestRegions {
  /** The nearest available region, and the nearest one with room. */
  readonly nearest: RegionRoute | undefined;
  readonly nearestKm: number;
  readonly open: RegionRoute | undefined;
  readonly openKm: number;
}

/** One pass over the available regions, by great-circle distance from the client (the arc taken for the two winners only). */
function nearestRegions(available: readonly RegionRoute[], client: ClientPoint): NearestRegions {
  let nearest: RegionRoute | undefined;
  let nearestH = Infinity;
  let open: RegionRoute | undefined;
  let openH = Infinity;
  for (const r of available) {
    const h = haversineTerm(client.latRad, client.lonRad, client.cosLat, r.latRad, r.lonRad, r.cosLat);
    if (h < nearestH) {
      nearest = r;
      nearestH = h;
    }
    if (r.state === 'open' && h < openH) {
      open = r;
      openH = h;
    }
  }
  // One literal shape (no spreads): called on every decision-cache miss.
  return { nearest, nearestKm: nearest ? arcKm(nearestH) : Infinity, open, openKm: open ? arcKm(openH) : Infinity };
}

/**
 * An opted-in client's decision from its canary's table: the nearest available region
 * (preferring one with room), else the default order. Off the common path.
 */
function decideCanary(canary: RoutingTable, input: ChooseInput, client: ClientPoint | undefined): Decision {
  let target: RegionRoute | undefined;
  if (client) {
    const n = nearestRegions(canary.available, client);
    target = n.open ?? n.nearest;
  } else {
    target = canary.defaultOrder.find((r) => r.state === 'open') ?? canary.defaultOrder[0] ?? canary.available[0];
  }
  return target ? decide(canary, target, 'canary', input, distanceFrom(client, target), undefined) : unavailable(canary);
}

/**
 * The proxy a client should be sent to. Rules, first match wins: the client's canary (when
 * it opted in and the canary has a ready proxy), an explicit override, a country pin, a
 * continent pin, the nearest region with room (spilling over saturated ones), the default
 * region when the location is unknown. Overrides and pins are honoured even when their
 * region is saturated: they carry intent (residency, a user's choice) that outranks
 * capacity. Pure, deterministic and allocation-light: called on every request.
 */
export function chooseProxy(input: ChooseInput, table: RoutingTable): Decision {
  const loc = input.location;
  let client: ClientPoint | undefined;
  if (loc && isUsablePoint(loc.latitude, loc.longitude)) {
    const latRad = degreesToRadians(loc.latitude ?? 0);
    client = { latRad, lonRad: degreesToRadians(loc.longitude ?? 0), cosLat: Math.cos(latRad) };
  }

  let skipped: readonly SkippedRule[] | undefined;
  if (input.canary !== undefined) {
    const canary = table.canaries[input.canary];
    if (canary && canary.available.length > 0) return decideCanary(canary, input, client);
    skipped = [{ rule: 'canary', region: input.canary, why: canary ? 'no_ready_proxy' : 'unknown_canary' }];
  }
  if (table.available.length === 0) return unavailable(table);
  if (input.regionOverride !== undefined) {
    const t = ruleTarget(table, 'override', input.regionOverride);
    if ('state' in t) return decide(table, t, 'override', input, distanceFrom(client, t), skipped);
    skipped = withSkip(skipped, t);
  }
  const countryPin = loc?.countryCode ? table.countryPins[loc.countryCode.toUpperCase()] : undefined;
  if (countryPin !== undefined) {
    const t = ruleTarget(table, 'country_pin', countryPin);
    if ('state' in t) return decide(table, t, 'country_pin', input, distanceFrom(client, t), skipped);
    skipped = withSkip(skipped, t);
  }
  const continentPin = loc?.continentCode ? table.continentPins[loc.continentCode.toUpperCase()] : undefined;
  if (continentPin !== undefined) {
    const t = ruleTarget(table, 'continent_pin', continentPin);
    if ('state' in t) return decide(table, t, 'continent_pin', input, distanceFrom(client, t), skipped);
    skipped = withSkip(skipped, t);
  }

  if (client) {
    const { nearest, nearestKm, open, openKm } = nearestRegions(table.available, client);
    if (open) return decide(table, open, open === nearest ? 'nearest' : 'spillover', input, openKm, skipped);
    if (nearest) return decide(table, nearest, 'all_saturated', input, nearestKm, skipped);
    return unavailable(table);
  }

  // Location unknown: the default region, else the open region nearest to it.
  const home = table.defaultOrder[0];
  const defaultName = table.defaultRegion;
  if (!home || defaultName === undefined) return unavailable(table);
  let open: RegionRoute | undefined;
  for (const r of table.defaultOrder) if (!open && r.state === 'open') open = r;
  const target = open ?? home;
  if (target.name === defaultName) return decide(table, target, open ? 'default_region' : 'all_saturated', input, undefined, skipped);
  const skips = withSkip(skipped, { rule: 'default_region', region: defaultName, why: whyNot(table.byName[defaultName]) });
  return decide(table, target, open ? 'default_fallback' : 'all_saturated', input, undefined, skips);
}
