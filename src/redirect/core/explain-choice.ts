import { assertNever } from '../../model/result.js';
import { distanceKm, isUsablePoint, type GeoPoint } from './geo-distance.js';
import { chooseProxy, type CanarySkippedRule, type ChooseInput, type ClientLocation, type Decision, type DecisionReason, type ProxyDecision, type RegionSkippedRule } from './choose-proxy.js';
import { toleranceLimit, type ProxyState, type RegionRoute, type RegionState, type RouteProxy, type RoutingTable } from './routing-table.js';

export interface ExplainedProxy {
  readonly name: string;
  readonly state: ProxyState;
  /** Null when the load is unknown (never observed, or its metrics page not read): unknown is not 0. */
  readonly sessions: number | null;
  readonly capacity?: number;
  /** Among the least-loaded proxies this region's clients are hashed over. */
  readonly candidate: boolean;
}

/** Why a region was or was not used for this client. */
export type RegionVerdict =
  | 'chosen'
  | 'no_proxies'
  | 'no_ready_proxy'
  | 'out_of_rotation'
  | 'saturated'
  | 'overridden'
  | 'pinned_elsewhere'
  /** The client's canary decided, in another region. */
  | 'canary_elsewhere'
  /** Farther from the client (or from the default region when the location is unknown) than the chosen one. */
  | 'farther';

export interface ExplainedRegion {
  readonly region: string;
  readonly state: RegionState;
  readonly isDefault: boolean;
  /** From the client, when its coordinates are known. */
  readonly distanceKm?: number;
  readonly verdict: RegionVerdict;
  readonly proxies: readonly ExplainedProxy[];
}

export type ExplainedRule = 'canary' | 'override' | 'country_pin' | 'continent_pin' | 'nearest' | 'default_region';

export interface ExplainedStep {
  readonly rule: ExplainedRule;
  readonly outcome: 'chosen' | 'skipped' | 'not_applicable' | 'not_reached';
  /** The region the rule named (override, pin, default) or chose. */
  readonly region?: string;
  /** The canary rule's canary. */
  readonly canary?: string;
  readonly why?: string;
}

export interface Explanation {
  readonly observedAt: string;
  /** What GeoIP said, as given. */
  readonly location?: ClientLocation;
  /** Coordinates were usable for distances. */
  readonly coordinatesUsed: boolean;
  readonly regionOverride?: string;
  readonly defaultRegion?: string;
  /** The canary the client opted in to; present only then, and the steps then start with the canary rule. */
  readonly canary?: string;
  readonly steps: readonly ExplainedStep[];
  /** Nearest first: to the client, or to the default region when the location is unknown. */
  readonly regions: readonly ExplainedRegion[];
  /** The canary's own table (regions holding its proxies, nearest first), when the client opted in to a running canary. */
  readonly canaryRegions?: readonly ExplainedRegion[];
  /** How the proxy was picked within its region, when one was. */
  readonly proxyChoice?: ExplainedProxyChoice;
}

/** How the proxy was picked inside the chosen region. */
export interface ExplainedProxyChoice {
  readonly region: string;
  readonly proxy: string;
  /** The proxies the client was hashed over (rendezvous hashing on the client key). */
  readonly candidates: readonly string[];
  /** The least-loaded candidate and its sessions; absent when no candidate's load is known. */
  readonly leastLoaded?: { readonly proxy: string; readonly sessions: number };
  /** Sessions up to which a proxy shares clients with the least loaded one (the load tolerance). */
  readonly toleranceLimit?: number;
  /** Proxies that could take the client but were passed over because their load is unknown. */
  readonly loadUnknown: readonly string[];
  readonly why: string;
}

export interface ExplainedChoice {
  readonly decision: Decision;
  readonly explanation: Explanation;
}

/** The rule that produced a decision: the reason names it, except that distance-based reasons depend on whether coordinates were known. */
function chosenRule(reason: DecisionReason, coordinatesUsed: boolean): ExplainedRule {
  switch (reason) {
    case 'canary':
    case 'override':
    case 'country_pin':
    case 'continent_pin':
      return reason;
    case 'nearest':
    case 'spillover':
    case 'all_saturated':
    case 'default_region':
    case 'default_fallback':
      return coordinatesUsed ? 'nearest' : 'default_region';
    default:
      return assertNever(reason, 'decision reason');
  }
}

/** `inCanaryTable`: r is a region of the client's canary table, chosen only when the canary rule decided. */
function verdictOf(r: RegionRoute, decision: Decision, inCanaryTable: boolean): RegionVerdict {
  if (decision.kind === 'proxy' && r.name === decision.region && (!inCanaryTable || decision.reason === 'canary')) return 'chosen';
  switch (r.state) {
    case 'no_proxies':
    case 'no_ready_proxy':
    case 'out_of_rotation':
      return r.state;
    case 'open':
    case 'saturated':
      break;
    default:
      return assertNever(r.state, 'region state');
  }
  if (decision.kind === 'unavailable' || inCanaryTable) return r.state === 'saturated' ? 'saturated' : 'farther';
  if (decision.reason === 'canary') return 'canary_elsewhere';
  if (decision.reason === 'override') return 'overridden';
  if (decision.reason === 'country_pin' || decision.reason === 'continent_pin') return 'pinned_elsewhere';
  return r.state === 'saturated' ? 'saturated' : 'farther';
}

const SKIP_WHY: Readonly<Record<RegionSkippedRule['why'], string>> = Object.freeze({
  unknown_region: 'no such region',
  no_proxies: 'region has no proxies',
  no_ready_proxy: 'no ready proxy in the region',
  out_of_rotation: 'every ready proxy in the region is out of rotation',
  saturated: 'every proxy in the region is at capacity',
});

const CANARY_SKIP_WHY: Readonly<Record<CanarySkippedRule['why'], string>> = Object.freeze({
  no_ready_proxy: 'no ready proxy of the canary; the ordinary rules decide',
  unknown_canary: 'no such canary is running; the ordinary rules decide',
});

const REASON_WHY: Readonly<Record<DecisionReason, string>> = Object.freeze({
  canary: 'opted in to the canary: its nearest ready proxy',
  override: 'region asked for explicitly',
  country_pin: 'country pinned to this region',
  continent_pin: 'continent pinned to this region',
  nearest: 'nearest region with a ready proxy',
  spillover: 'nearer regions are at capacity',
  all_saturated: 'every region is at capacity; the nearest is used anyway',
  default_region: 'location unknown',
  default_fallback: 'location unknown and the default region unavailable; nearest to it',
});

/** What was known of a client sent to the default region: nothing, or a place too coarse for distances. */
function unknownWhere(loc: ClientLocation | undefined): string | undefined {
  const known = [loc?.countryCode && `country ${loc.countryCode}`, loc?.continentCode && `continent ${loc.continentCode}`].filter(Boolean);
  return known.length ? `no coordinates, only ${known.join(' and ')}` : undefined;
}

function reasonWhy(reason: DecisionReason, loc: ClientLocation | undefined): string {
  const coarse = unknownWhere(loc);
  if (coarse !== undefined && reason === 'default_region') return coarse;
  if (coarse !== undefined && reason === 'default_fallback') return `${coarse}, and the default region unavailable; nearest to it`;
  return REASON_WHY[reason];
}

/** The rules in the order chooseProxy applies them; the canary rule only for a client that opted in. */
function steps(input: ChooseInput, table: RoutingTable, decision: Decision, coordinatesUsed: boolean): ExplainedStep[] {
  const skipped = decision.kind === 'proxy' ? (decision.skipped ?? []) : [];
  const chosen = decision.kind === 'proxy' ? chosenRule(decision.reason, coordinatesUsed) : undefined;
  let decided = false;
  const step = (rule: ExplainedRule, region: string | undefined, applicable: boolean, notApplicableWhy: string): ExplainedStep => {
    if (!applicable) return { rule, outcome: 'not_applicable', why: notApplicableWhy };
    if (decided) return region === undefined ? { rule, outcome: 'not_reached' } : { rule, outcome: 'not_reached', region };
    if (decision.kind === 'proxy' && chosen === rule) {
      decided = true;
      return { rule, outcome: 'chosen', region: decision.region, why: reasonWhy(decision.reason, input.location) };
    }
    const skip = skipped.find((s): s is RegionSkippedRule => s.rule === rule);
    const why = skip ? SKIP_WHY[skip.why] : decision.kind === 'unavailable' ? table.unavailableReason : 'not used';
    return region === undefined ? { rule, outcome: 'skipped', why } : { rule, outcome: 'skipped', region, why };
  };
  const loc = input.location;
  const country = loc?.countryCode?.toUpperCase();
  const continent = loc?.continentCode?.toUpperCase();
  const countryPin = country ? table.countryPins[country] : undefined;
  const continentPin = continent ? table.continentPins[continent] : undefined;
  const first: ExplainedStep[] = [];
  if (input.canary !== undefined) {
    const canary = input.canary;
    if (decision.kind === 'proxy' && decision.reason === 'canary') {
      decided = true;
      first.push({ rule: 'canary', outcome: 'chosen', canary, region: decision.region, why: reasonWhy(decision.reason, loc) });
    } else {
      const skip = skipped.find((s): s is CanarySkippedRule => s.rule === 'canary');
      const why = skip ? CANARY_SKIP_WHY[skip.why] : decision.kind === 'unavailable' ? table.unavailableReason : 'not used';
      first.push({ rule: 'canary', outcome: 'skipped', canary, why });
    }
  }
  return [
    ...first,
    step('override', input.regionOverride, input.regionOverride !== undefined, 'no region asked for'),
    step('country_pin', countryPin, countryPin !== undefined, country ? `no pin for country ${country}` : 'country unknown'),
    step('continent_pin', continentPin, continentPin !== undefined, continent ? `no pin for continent ${continent}` : 'continent unknown'),
    step('nearest', undefined, coordinatesUsed, 'coordinates unknown'),
    step('default_region', table.defaultRegion, !coordinatesUsed, 'coordinates known'),
  ];
}

/** The decision chooseProxy makes, and why: for `meridian explain-redirect` and `/nearest`. Not for the hot path. */
export function explainChoice(input: ChooseInput, table: RoutingTable): ExplainedChoice {
  const decision = chooseProxy(input, table);
  const loc = input.location;
  const coordinatesUsed = loc !== undefined && isUsablePoint(loc.latitude, loc.longitude);
  const from: GeoPoint | undefined = coordinatesUsed
    ? { latitude: loc?.latitude ?? 0, longitude: loc?.longitude ?? 0 }
    : table.defaultRegion !== undefined
      ? table.byName[table.defaultRegion]
      : undefined;
  const explainRegions = (list: readonly RegionRoute[], inCanaryTable: boolean): ExplainedRegion[] =>
    list
      .map((r) => ({ r, d: from ? distanceKm(from, r) : 0 }))
      .sort((a, b) => a.d - b.d)
      .map(({ r, d }): ExplainedRegion => {
        const base = {
          region: r.name,
          state: r.state,
          isDefault: r.isDefault,
          verdict: verdictOf(r, decision, inCanaryTable),
          proxies: r.proxies.map((p): ExplainedProxy => {
            const candidate = r.candidates.includes(p);
            const sessions = p.loadKnown ? p.sessions : null;
            return p.capacity === undefined
              ? { name: p.name, state: p.state, sessions, candidate }
              : { name: p.name, state: p.state, sessions, capacity: p.capacity, candidate };
          }),
        };
        return coordinatesUsed ? { ...base, distanceKm: d } : base;
      });
  const regions = explainRegions(table.regions, false);
  const canaryTable = input.canary !== undefined ? table.canaries[input.canary] : undefined;
  const choice = decision.kind === 'proxy' ? proxyChoice(decision, decision.reason === 'canary' ? canaryTable : table) : undefined;
  const explanation: Explanation = {
    observedAt: table.observedAt,
    ...(loc ? { location: loc } : {}),
    coordinatesUsed,
    ...(input.regionOverride !== undefined ? { regionOverride: input.regionOverride } : {}),
    ...(table.defaultRegion !== undefined ? { defaultRegion: table.defaultRegion } : {}),
    ...(input.canary !== undefined ? { canary: input.canary } : {}),
    steps: steps(input, table, decision, coordinatesUsed),
    regions,
    ...(canaryTable ? { canaryRegions: explainRegions(canaryTable.regions.filter((r) => r.proxies.length > 0), true) } : {}),
    ...(choice ? { proxyChoice: choice } : {}),
  };
  return { decision, explanation };
}

const names = (ps: readonly RouteProxy[]): string => ps.map((p) => p.name).join(', ');

/** Why this proxy of the region: the least loaded, within the load tolerance of it, or one of unknown load when no load was known. */
function proxyChoice(decision: ProxyDecision, table: RoutingTable | undefined): ExplainedProxyChoice | undefined {
  const region = table?.byName[decision.region];
  const chosen = region?.candidates.find((p) => p.name === decision.proxy);
  if (!table || !region || !chosen) return undefined;
  const candidates = region.candidates;
  const hashed = candidates.length > 1 ? `; ${candidates.length} candidates (${names(candidates)}) share clients by a hash of the client address` : '';
  const passedOver = region.proxies.filter((p) => p.state === 'eligible' && !p.loadKnown && !candidates.includes(p));
  const base = { region: region.name, proxy: chosen.name, candidates: candidates.map((p) => p.name), loadUnknown: passedOver.map((p) => p.name) };
  if (!chosen.loadKnown) {
    return { ...base, why: `load unknown (metrics page not read): no proxy of ${region.name} that can take the client has a known load${hashed}` };
  }
  let least = chosen;
  for (const p of candidates) if (p.sessions < least.sessions) least = p;
  const tolerance = table.loadTolerance;
  const limit = toleranceLimit(least.sessions, tolerance);
  const unknownNote = passedOver.length ? `; passed over for an unknown load: ${names(passedOver)}` : '';
  const why =
    least === chosen || least.sessions === chosen.sessions
      ? `least loaded in ${region.name} (${chosen.sessions} sessions)${hashed}`
      : `not the least loaded: ${least.name} has ${least.sessions} sessions, ${chosen.name} ${chosen.sessions}; the load tolerance lets proxies with up to ` +
        `${least.sessions} + max(${tolerance.sessions}, ${Math.round(tolerance.ratio * 100)}% of ${least.sessions}) = ${Math.floor(limit)} sessions share clients, by a hash of the client address`;
  return { ...base, leastLoaded: { proxy: least.name, sessions: least.sessions }, toleranceLimit: limit, why: why + unknownNote };
}
