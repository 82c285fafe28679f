import type { FleetSnapshot, ProxyObservation, TeleportMetrics } from '../../model/snapshot.js';
import { sumSessions } from '../../model/snapshot.js';
import type { ScrapeOutcome } from './scrape-outcome.js';

export interface ObservationInput {
  readonly proxy: { readonly name: string; readonly region: string };
  readonly outcome: ScrapeOutcome;
  /** The proxy's observation in the previous snapshot, if it had one. */
  readonly previous?: ProxyObservation;
  /** ISO time the scrape finished. */
  readonly at: string;
}

/** Reuses already-frozen metrics (kept from a previous snapshot); copies and freezes anything else. */
function frozenMetrics(m: TeleportMetrics): TeleportMetrics {
  if (Object.isFrozen(m) && Object.isFrozen(m.sessions) && Object.isFrozen(m.tunnels)) return m;
  return Object.freeze({ ...m, sessions: Object.freeze({ ...m.sessions }), tunnels: Object.freeze({ ...m.tunnels }) });
}

/**
 * One proxy's observation from this scrape and the last one. A failed scrape keeps the
 * last known metrics (and their session total) so nothing known is lost, but marks the
 * proxy down with the error. `ready` is "/readyz answered 200" on this scrape, except that a
 * first timeout keeps the previous readiness for one cycle.
 */
export function buildObservation({ proxy, outcome, previous, at }: ObservationInput): ProxyObservation {
  const readyz = outcome.readyzStatus === undefined ? {} : { readyzStatus: outcome.readyzStatus };
  if (outcome.ok) {
    const metrics = frozenMetrics(outcome.metrics);
    return Object.freeze({
      name: proxy.name,
      region: proxy.region,
      up: true,
      ready: outcome.readyzStatus === 200,
      consecutiveFailures: 0,
      ...readyz,
      metrics,
      sessionsTotal: sumSessions(metrics.sessions),
      lastScrapeAt: at,
      lastSuccessAt: at,
      scrapeDurationMs: outcome.durationMs,
    });
  }
  const kept = previous?.metrics;
  const failures = (previous && !previous.up ? previous.consecutiveFailures : 0) + 1;
  // Refused connections and bad answers count at once; one timeout keeps the last readiness (see ProxyObservation.ready).
  const graceReady = outcome.error.reason === 'timeout' && failures === 1 && (previous?.ready ?? false);
  return Object.freeze({
    name: proxy.name,
    region: proxy.region,
    up: false,
    ready: outcome.readyzStatus === undefined ? graceReady : outcome.readyzStatus === 200,
    consecutiveFailures: failures,
    ...readyz,
    ...(kept ? { metrics: frozenMetrics(kept) } : {}),
    sessionsTotal: kept ? sumSessions(kept.sessions) : 0,
    lastScrapeAt: at,
    ...(previous?.lastSuccessAt ? { lastSuccessAt: previous.lastSuccessAt } : {}),
    scrapeDurationMs: outcome.durationMs,
    error: Object.freeze({ reason: outcome.error.reason, message: outcome.error.message, at }),
  });
}

function frozenObservation(p: ProxyObservation): ProxyObservation {
  if (Object.isFrozen(p) && (!p.metrics || Object.isFrozen(p.metrics)) && (!p.error || Object.isFrozen(p.error))) return p;
  return Object.freeze({
    ...p,
    ...(p.metrics ? { metrics: frozenMetrics(p.metrics) } : {}),
    ...(p.error ? { error: Object.freeze({ ...p.error }) } : {}),
  });
}

/** A snapshot frozen all the way down, so readers can share it without copying. */
export function buildSnapshot(input: FleetSnapshot): FleetSnapshot {
  return Object.freeze({
    observedAt: input.observedAt,
    ...(input.fleet ? { fleet: Object.freeze({ ...input.fleet }) } : {}),
    proxies: Object.freeze(input.proxies.map(frozenObservation)),
    // Built frozen by authObservation.
    ...(input.auth ? { auth: input.auth } : {}),
  });
}

export function observationsByName(snapshot: FleetSnapshot): ReadonlyMap<string, ProxyObservation> {
  return new Map(snapshot.proxies.map((p) => [p.name, p]));
}

export type ObservationChange = 'down' | 'recovered' | 'error_changed';

/** What is worth a log line between two observations of one proxy (not every failed cycle). */
export function observationChange(previous: ProxyObservation | undefined, next: ProxyObservation): ObservationChange | undefined {
  if (!next.up) {
    if (!previous || previous.up) return 'down';
    return previous.error?.reason !== next.error?.reason ? 'error_changed' : undefined;
  }
  return previous && !previous.up ? 'recovered' : undefined;
}

/** At most this share of a fleet timing out together still reads as the proxies' fault, not the observer's. */
export const ISOLATED_TIMEOUT_SHARE = 0.02;

/**
 * Ends the one-cycle grace of first timeouts that stand alone: when the rest of the fleet
 * answered and only a few proxies (at most max(1, 2%)) timed out, a proxy that stopped answering
 * is hung, not the observer stalled, and it leaves the rotation now rather than a cycle later.
 * Returns the observations that changed.
 */
export function withdrawIsolatedGrace(observations: readonly ProxyObservation[]): ProxyObservation[] {
  const timedOut = observations.filter((o) => o.error?.reason === 'timeout');
  const answered = observations.length - timedOut.length;
  if (answered === 0 || timedOut.length > Math.max(1, Math.floor(ISOLATED_TIMEOUT_SHARE * observations.length))) return [];
  return timedOut.filter((o) => o.ready && o.readyzStatus === undefined).map((o) => Object.freeze({ ...o, ready: false }));
}
