import { Counter, Gauge, type Registry } from 'prom-client';
import { PlainHistogram } from '../runtime/plain-histogram.js';

export type GeoLookupResult = 'found' | 'not_found' | 'private' | 'invalid' | 'no_database';

export interface RedirectMetrics {
  /** `canary`: given only when the canary rule decided (the client's canary), for meridian_canary_optin_redirects_total. */
  redirected(region: string, reason: string, canary?: string): void;
  /**
   * redirected() for one region and reason without a canary, as a function to keep: the
   * request path keeps one with each answer it remembers, and skips the lookups by name.
   */
  redirectCounter(region: string, reason: string): () => void;
  /** A 503: no proxy available. */
  unavailable(): void;
  /** Time spent working out one decision. */
  decided(seconds: number): void;
  geoLookup(result: GeoLookupResult): void;
}

interface RedirectCell {
  n: number;
  readonly count: () => void;
}

/**
 * Registers the login-redirect metrics. The request path only bumps plain numbers (counts and
 * histogram buckets); they are handed to prom-client when scraped, because a labelled inc() or
 * an observe() per redirect cost as much as the whole decision (bench/redirect-hotpath.ts).
 */
export function registerRedirectMetrics(registry: Registry, geoBuildTimestampSeconds: () => number | undefined): RedirectMetrics {
  const registers = [registry];
  // region -> reason -> count
  const redirectCounts = new Map<string, Map<string, RedirectCell>>();
  const lookupCounts: Record<GeoLookupResult, number> = { found: 0, not_found: 0, private: 0, invalid: 0, no_database: 0 };
  // canary -> count
  const canaryCounts = new Map<string, number>();
  new Counter({
    name: 'meridian_redirects_total',
    help: 'Login redirects by chosen region and the rule that chose it (region "none": no proxy available, 503)',
    labelNames: ['region', 'reason'] as const,
    registers,
    collect() {
      this.reset();
      for (const [region, byReason] of redirectCounts) for (const [reason, { n }] of byReason) this.inc({ region, reason }, n);
    },
  });
  new Counter({
    name: 'meridian_canary_optin_redirects_total',
    help: 'Login redirects decided by the canary rule: users with a canary invite sent to a proxy of that canary',
    labelNames: ['canary'] as const,
    registers,
    collect() {
      this.reset();
      for (const [canary, n] of canaryCounts) this.inc({ canary }, n);
    },
  });
  new Counter({
    name: 'meridian_geoip_lookups_total',
    help: 'GeoIP lookups by result',
    labelNames: ['result'] as const,
    registers,
    collect() {
      this.reset();
      for (const [result, n] of Object.entries(lookupCounts)) if (n > 0) this.inc({ result }, n);
    },
  });
  // Answers remembered from an earlier request (most of them, well under a microsecond) are not
  // timed: on a VM two clock reads cost more than such an answer.
  const duration = new PlainHistogram(
    'meridian_redirect_duration_seconds',
    'Time to work out a login redirect decision (answers remembered from an earlier request are not timed; meridian_redirects_total counts every redirect)',
    [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01],
    registry,
  );
  new Gauge({
    name: 'meridian_geoip_database_build_timestamp_seconds',
    help: 'Build time of the GeoIP database in force',
    registers,
    collect() {
      const t = geoBuildTimestampSeconds();
      if (t !== undefined) this.set(t);
    },
  });
  const cellOf = (region: string, reason: string): RedirectCell => {
    let byReason = redirectCounts.get(region);
    if (!byReason) redirectCounts.set(region, (byReason = new Map()));
    let cell = byReason.get(reason);
    if (!cell) {
      const c: RedirectCell = { n: 0, count: () => void c.n++ };
      byReason.set(reason, (cell = c));
    }
    return cell;
  };
  // Exported from 0, so that increase() sees the first 503s (the login-unavailable alert).
  cellOf('none', 'unavailable');
  return {
    redirected(region, reason, canary) {
      cellOf(region, reason).n++;
      if (canary !== undefined) canaryCounts.set(canary, (canaryCounts.get(canary) ?? 0) + 1);
    },
    redirectCounter: (region, reason) => cellOf(region, reason).count,
    unavailable() {
      cellOf('none', 'unavailable').n++;
    },
    decided(seconds) {
      duration.observe(seconds);
    },
    geoLookup(result) {
      lookupCounts[result]++;
    },
  };
}
