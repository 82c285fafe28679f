import type { GeoDatabase } from '../adapters/geoip/index.js';
import { verifyInvite, type InviteRefusal } from '../canary/core/invite-token.js';
import { clearCanaryCookie, readCanaryCookie, setCanaryCookie } from './canary-cookie.js';
import { chooseProxy, type ClientLocation, type Decision } from './core/choose-proxy.js';
import { clientAddress, isTrustedPeer, type ClientAddress } from './core/client-address.js';
import { explainChoice, type ExplainedChoice } from './core/explain-choice.js';
import type { RoutingTable } from './core/routing-table.js';
import type { TrustedProxies } from './core/trusted-proxies.js';
import { DecisionCache } from './decision-cache.js';
import type { InvitationCounter } from './invitation-count.js';
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
  /** The canary of the client's invite cookie, verified on this request. */
  readonly canary?: string;
  /** Set-Cookie for the canary cookie (clearing one that failed verification), sent beside `setCookie`. */
  readonly canaryCookie?: string;
}

/** `GET /canary/join?t=`: who asks, and the invite token. */
export interface JoinCanaryRequest {
  readonly socketAddress: string;
  readonly headers: RedirectRequest['headers'];
  readonly token: string;
}

export const INVITES_DISABLED_MESSAGE = 'Canary invitations are not enabled on this login service.';

export type JoinCanaryOutcome =
  /** Set `canaryCookie`, then redirect as `redirect` says (to the canary's proxy, or the ordinary one when it has none ready). */
  | { readonly kind: 'joined'; readonly canary: string; readonly canaryCookie: string; readonly redirect: RedirectOutcome }
  /** The invite was refused; `message` is fixed text for the page, nothing from the token. */
  | { readonly kind: 'refused'; readonly why: InviteRefusal | 'disabled'; readonly message: string }
  /** A well-signed, unexpired invite, but no fleet has been observed yet: nothing set, the 503 page retries. */
  | { readonly kind: 'unavailable'; readonly redirect: RedirectOutcome };

interface RedirectServiceBaseDeps {
  readonly routing: () => RoutingTable | undefined;
  readonly geo: () => GeoDatabase | undefined;
  readonly trusted: TrustedProxies;
  readonly metrics: RedirectMetrics;
  /** High-resolution milliseconds (performance.now) for the decision-time histogram. */
  readonly now: () => number;
  readonly cacheSize: number;
}

/** Canary invitations: off without a key; with one, the clock their expiry is checked against. */
export type CanaryInviteDeps =
  | { readonly canaryKey?: undefined; readonly nowSeconds?: () => number }
  | {
      /** HMAC key invites are signed with. */
      readonly canaryKey: string;
      /** Epoch seconds. */
      readonly nowSeconds: () => number;
      /** Counts the invitations used (joined, or a cookie with a login); absent: not counted. */
      readonly invitations?: InvitationCounter;
    };

export type RedirectServiceDeps = RedirectServiceBaseDeps & CanaryInviteDeps;

/** The canary cookie as one request saw it: none, a verified canary, or one to clear. */
interface CanaryCookie {
  readonly canary?: string;
  readonly clear?: string;
}

interface Override {
  readonly region?: string;
  readonly setCookie?: string;
}

/** A whole answer, remembered for requests that carry nothing but an address; `count` counts one more. */
interface PlainAnswer {
  readonly outcome: RedirectOutcome;
  readonly count: () => void;
}

/** Room for a few hops of IPv6: a load balancer chain's header, not one padded by a client. */
const MAX_PLAIN_KEY = 200;
/** Starts the keys of answers decided by the peer: no header value holds a newline. */
const PEER_KEY = '\n';

const NO_TABLE: Decision = Object.freeze({ kind: 'unavailable', reason: 'no fleet has been observed yet' });
const NO_OVERRIDE: Override = Object.freeze({});
const NO_CANARY: CanaryCookie = Object.freeze({});

/** The request path of the login redirect: client address, override, GeoIP, decision (cached per table). */
export function createRedirectService(deps: RedirectServiceDeps) {
  const decisions = new DecisionCache<Decision>(deps.cacheSize);
  const plain = new DecisionCache<PlainAnswer>(deps.cacheSize);
  const countUnavailable = (): void => deps.metrics.unavailable();
  const invites = deps.canaryKey !== undefined ? { key: deps.canaryKey, nowSeconds: deps.nowSeconds, counter: deps.invitations } : undefined;

  function locate(ip: string, db: GeoDatabase | undefined): ClientLocation | undefined {
    if (!db) {
      deps.metrics.geoLookup('no_database');
      return undefined;
    }
    const r = db.lookup(ip);
    deps.metrics.geoLookup(r.result satisfies GeoLookupResult);
    return r.result === 'found' ? r.location : undefined;
  }

  function override(param: unknown, cookieHeader: string | undefined, table: RoutingTable): Override {
    const p = typeof param === 'string' ? param : undefined;
    if (p === AUTO_REGION) return { setCookie: clearRegionCookie() };
    // Unknown names are ignored, never echoed back.
    if (p !== undefined && table.byName[p]) return { region: p, setCookie: setRegionCookie(p) };
    const cookie = readRegionCookie(cookieHeader);
    return cookie !== undefined && table.byName[cookie] ? { region: cookie } : NO_OVERRIDE;
  }

  /** The invite in the canary cookie, checked on every request (it may have expired, or its canary ended). */
  function canaryCookie(cookieHeader: string | undefined, table: RoutingTable): CanaryCookie {
    // Invites off: the cookie is ignored, not cleared (a key may come back).
    if (invites === undefined) return NO_CANARY;
    const token = readCanaryCookie(cookieHeader);
    if (token === undefined) return NO_CANARY;
    const now = invites.nowSeconds();
    const v = verifyInvite(token, invites.key, now, (c) => table.canaries[c] !== undefined);
    if (!v.ok) return { clear: clearCanaryCookie() };
    // A user who joined before this instance started (or through another) still counts.
    invites.counter?.seen(v.value.canary, token, v.value.expiresAt, now);
    return { canary: v.value.canary };
  }

  function choose(ip: string, region: string | undefined, canary: string | undefined, table: RoutingTable, db: GeoDatabase | undefined): Decision {
    const location = locate(ip, db);
    if (canary !== undefined) return chooseProxy({ location, clientKey: ip, regionOverride: region, canary }, table);
    return chooseProxy(region === undefined ? { location, clientKey: ip } : { location, clientKey: ip, regionOverride: region }, table);
  }

  /** The decision for a client, from the cache when this table already decided for the same key. */
  function resolve(ip: string, o: Override, canary: string | undefined, table: RoutingTable): Decision {
    // "|" and "#" appear in no address, region or canary name.
    const key = canary === undefined ? (o.region === undefined ? ip : `${ip}|${o.region}`) : `${ip}|${o.region ?? ''}#${canary}`;
    const db = deps.geo();
    let decision = decisions.get(table, db, key);
    if (decision === undefined) decisions.set(key, (decision = choose(ip, o.region, canary, table, db)));
    return decision;
  }

  function count(decision: Decision, canary: string | undefined): void {
    if (decision.kind === 'unavailable') deps.metrics.unavailable();
    else if (decision.reason === 'canary') deps.metrics.redirected(decision.region, decision.reason, canary);
    else deps.metrics.redirected(decision.region, decision.reason);
  }

  const decidedSince = (started: number): void => deps.metrics.decided((deps.now() - started) / 1000);

  /**
   * What a request with no ?region= and no Meridian cookie is decided on, as one string: the
   * raw forwarding header when the peer is trusted (its hops are walked once, on a miss), else
   * the peer (after PEER_KEY). Undefined for any other request.
   */
  function plainKey(req: RedirectRequest): string | undefined {
    const cookie = req.headers.cookie;
    if (req.regionParam !== undefined || readRegionCookie(cookie) !== undefined || (invites !== undefined && readCanaryCookie(cookie) !== undefined)) return undefined;
    const forwarded = req.headers[deps.trusted.header];
    if (forwarded === undefined || !isTrustedPeer(req.socketAddress, deps.trusted)) return `${PEER_KEY}${req.socketAddress}`;
    // Long values (client-written hops to the left) are walked each time: kept, they could fill memory.
    return typeof forwarded === 'string' && forwarded.length <= MAX_PLAIN_KEY ? forwarded : undefined;
  }

  /** Any request: override, canary cookie, then the decision (cached by client, override and canary). */
  function decideFully(req: RedirectRequest, table: RoutingTable): RedirectOutcome {
    const started = deps.now();
    const client = clientAddress({ socketAddress: req.socketAddress, headers: req.headers, trusted: deps.trusted });
    const o = override(req.regionParam, req.headers.cookie, table);
    const c = canaryCookie(req.headers.cookie, table);
    const decision = resolve(client.ip, o, c.canary, table);
    decidedSince(started);
    count(decision, c.canary);
    if (c !== NO_CANARY) return withCanary({ decision, client }, o, c);
    // One literal per shape: no spreads on the request path.
    if (o.setCookie === undefined) return o.region === undefined ? { decision, client } : { decision, client, regionOverride: o.region };
    return o.region === undefined ? { decision, client, setCookie: o.setCookie } : { decision, client, setCookie: o.setCookie, regionOverride: o.region };
  }

  return {
    decide(req: RedirectRequest): RedirectOutcome {
      const table = deps.routing();
      if (!table) {
        deps.metrics.unavailable();
        return { decision: NO_TABLE, client: clientAddress({ socketAddress: req.socketAddress, headers: req.headers, trusted: deps.trusted }) };
      }
      const key = plainKey(req);
      if (key === undefined) return decideFully(req, table);
      // Most requests: the whole answer remembered, as long as the table's key and the GeoIP database hold.
      let answer = plain.get(table, deps.geo(), key);
      if (answer === undefined) {
        const started = deps.now();
        const client = clientAddress({ socketAddress: req.socketAddress, headers: req.headers, trusted: deps.trusted });
        // Not through the per-client decision cache: this answer is remembered whole, by header, just below.
        const decision = choose(client.ip, undefined, undefined, table, deps.geo());
        decidedSince(started);
        answer = { outcome: { decision, client }, count: decision.kind === 'unavailable' ? countUnavailable : deps.metrics.redirectCounter(decision.region, decision.reason) };
        // A header that gave no address leaves the peer as the client: that answer is not the header's alone.
        if (client.source !== 'socket' || key.startsWith(PEER_KEY)) plain.set(key, answer);
      }
      answer.count();
      return answer.outcome;
    },

    /**
     * `GET /canary/join?t=`: checks the invite and, when it holds, the cookie to set and where
     * to send the user now (the canary's nearest ready proxy, else the ordinary decision).
     */
    joinCanary(req: JoinCanaryRequest): JoinCanaryOutcome {
      if (invites === undefined) return { kind: 'refused', why: 'disabled', message: INVITES_DISABLED_MESSAGE };
      const table = deps.routing();
      const now = invites.nowSeconds();
      // Before the first observation no canary can be checked; signature and expiry still can.
      const v = verifyInvite(req.token, invites.key, now, (c) => table === undefined || table.canaries[c] !== undefined);
      if (!v.ok) return { kind: 'refused', why: v.error.why, message: v.error.message };
      const client = clientAddress({ socketAddress: req.socketAddress, headers: req.headers, trusted: deps.trusted });
      if (!table) {
        deps.metrics.unavailable();
        return { kind: 'unavailable', redirect: { decision: NO_TABLE, client } };
      }
      const { canary, expiresAt } = v.value;
      invites.counter?.seen(canary, req.token, expiresAt, now);
      const started = deps.now();
      const o = override(undefined, req.headers.cookie, table);
      const decision = resolve(client.ip, o, canary, table);
      decidedSince(started);
      count(decision, canary);
      // At least a second: Max-Age=0 would delete the cookie just set.
      const canaryCookie = setCanaryCookie(req.token, Math.max(1, Math.floor(expiresAt - now)));
      return { kind: 'joined', canary, canaryCookie, redirect: withCanary({ decision, client }, o, { canary }) };
    },

    /** For `meridian explain-redirect` and the admin API: the decision with every region's verdict; `canary` as if the client had opted in. */
    explain(ip: string, regionOverride?: string, canary?: string): ExplainedChoice | undefined {
      const table = deps.routing();
      if (!table) return undefined;
      return explainChoice(
        {
          location: locate(ip, deps.geo()),
          clientKey: ip,
          ...(regionOverride && table.byName[regionOverride] ? { regionOverride } : {}),
          ...(canary !== undefined ? { canary } : {}),
        },
        table,
      );
    },
  };
}

/** An outcome of a request that carried a canary cookie (off the common path). */
function withCanary(base: { readonly decision: Decision; readonly client: ClientAddress }, o: Override, c: CanaryCookie): RedirectOutcome {
  return {
    ...base,
    ...(o.setCookie !== undefined ? { setCookie: o.setCookie } : {}),
    ...(o.region !== undefined ? { regionOverride: o.region } : {}),
    ...(c.canary !== undefined ? { canary: c.canary } : {}),
    ...(c.clear !== undefined ? { canaryCookie: c.clear } : {}),
  };
}

export type RedirectService = ReturnType<typeof createRedirectService>;
