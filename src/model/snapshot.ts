/** What the observer learned about the fleet at one moment; immutable once built. */

/** Teleport's process_state gauge: 0 ok, 1 recovering, 2 degraded, 3 starting. */
export const PROCESS_STATES = ['ok', 'recovering', 'degraded', 'starting'] as const;
export type ProcessState = (typeof PROCESS_STATES)[number];

export const SESSION_KINDS = ['ssh', 'kube_exec', 'kube_portforward', 'kube_join', 'db'] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];
export type SessionCounts = Readonly<Record<SessionKind, number>>;

export const SCRAPE_ERROR_REASONS = [
  'timeout',
  'connection_refused',
  'network',
  'http_status',
  'content_type',
  'too_large',
  'parse_error',
  'missing_metric',
] as const;
export type ScrapeErrorReason = (typeof SCRAPE_ERROR_REASONS)[number];

export interface ScrapeError {
  readonly reason: ScrapeErrorReason;
  /** Human-readable, names the URL or metric at fault. */
  readonly message: string;
  readonly at: string;
}

/**
 * A sample of a metric Meridian reads whose value it cannot use (NaN, ±Inf, negative, or a
 * fraction where a count is due): left out of the sums, the rest of the page kept.
 */
export interface SkippedSample {
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  /** As the exposition format spells it: NaN, +Inf, -Inf, -1, 2.5. */
  readonly value: string;
  readonly why: string;
}

/** What one /metrics page says, parsed (pure data). */
export interface TeleportMetrics {
  readonly processState: ProcessState;
  readonly version: string;
  readonly gitref?: string;
  readonly sessions: SessionCounts;
  /** teleport_reverse_tunnels_connected by its `type` label. */
  readonly tunnels: Readonly<Record<string, number>>;
  readonly missingTunnels: number;
  readonly connectAttempts: number;
  readonly connectFailures: number;
  readonly connectionLimitExceeded: number;
  readonly startTimeSeconds?: number;
  /** proxy_peer_client_dial_error_total over every error_type; absent when peering never ran. */
  readonly peerDialErrors?: number;
  /**
   * proxy_peer_client_connections by remote proxy host id: the gRPC connectivity states with a
   * series > 0 (READY, CONNECTING, TRANSIENT_FAILURE, ...); absent when peering is off.
   */
  readonly peerConnections?: Readonly<Record<string, readonly string[]>>;
  /** process_resident_memory_bytes and go_goroutines, when the page has them. */
  readonly residentMemoryBytes?: number;
  readonly goroutines?: number;
  /** Samples left out (see SkippedSample); absent when every sample was usable. */
  readonly skippedSamples?: readonly SkippedSample[];
  /** Session kinds with a skipped sample: their count (and the total) is a lower bound, not the load. */
  readonly sessionKindsSkipped?: readonly SessionKind[];
}

export interface ProxyObservation {
  readonly name: string;
  readonly region: string;
  /** The last scrape succeeded. */
  readonly up: boolean;
  /**
   * /readyz answered 200 on the last scrape. After a first scrape timeout the last readiness
   * is kept for one cycle when many proxies timed out together (the observer's own stall, more
   * often than dead proxies); a timeout that stands alone while the fleet answered ends it at once.
   */
  readonly ready: boolean;
  /** Failed scrapes in a row; 0 while up. */
  readonly consecutiveFailures: number;
  /** /readyz status code of the last scrape, when one came back. */
  readonly readyzStatus?: number;
  /** From the last good metrics page; kept through later failures so nothing already known is lost. */
  readonly metrics?: TeleportMetrics;
  readonly sessionsTotal: number;
  readonly lastScrapeAt: string;
  readonly lastSuccessAt?: string;
  readonly scrapeDurationMs: number;
  readonly error?: ScrapeError;
}

/** One Auth Service instance, scraped like a proxy (teleport_build_info and /readyz). */
export interface AuthServerObservation {
  readonly diagnosticUrl: string;
  readonly version?: string;
  /** /readyz answered 200. */
  readonly ready: boolean;
  readonly readyzStatus?: number;
  readonly error?: ScrapeError;
}

/** The Auth Service as the observer last saw it. */
export interface AuthObservation {
  /** The lowest version its instances report (the one proxies must not pass); absent when none could be read. */
  readonly version?: string;
  /** Why no version is known: the first instance's error. */
  readonly error?: ScrapeError;
  readonly observedAt: string;
  readonly servers: readonly AuthServerObservation[];
}

export interface FleetSnapshot {
  readonly observedAt: string;
  /** Generation of the ProxyFleet the snapshot was taken for. */
  readonly fleet?: { readonly name: string; readonly namespace: string; readonly generation: number };
  readonly proxies: readonly ProxyObservation[];
  /** Present when the ProxyFleet names its Auth Service (spec.auth). */
  readonly auth?: AuthObservation;
}

/**
 * The proxy's load is known: its last scrape read the metrics page, every session sample
 * included. A proxy whose /readyz says 200 but whose page could not be read (an HTML error
 * page, a body over the limit, a parse error) has an unknown load, never 0; `sessionsTotal`
 * then holds the last known count (or 0) and must not be taken for the load.
 */
export function loadKnown(p: ProxyObservation): boolean {
  return p.up && p.metrics !== undefined && !p.metrics.sessionKindsSkipped?.length;
}

export function sumSessions(s: SessionCounts): number {
  let n = 0;
  for (const k of Object.keys(s) as SessionKind[]) n += s[k];
  return n;
}

export const EMPTY_SNAPSHOT: FleetSnapshot = { observedAt: new Date(0).toISOString(), proxies: [] };
