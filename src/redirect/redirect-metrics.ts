import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type GeoLookupResult = 'found' | 'not_found' | 'private' | 'invalid' | 'no_database';

export interface RedirectMetrics {
  redirected(region: string, reason: string, seconds: number): void;
  unavailable(seconds: number): void;
  geoLookup(result: GeoLookupResult): void;
}

/** Registers the login-redirect metrics; the build time gauge reads the database in force when scraped. */
export function registerRedirectMetrics(registry: Registry, geoBuildTimestampSeconds: () => number | undefined): RedirectMetrics {
  const registers = [registry];
  const redirects = new Counter({ name: 'meridian_redirects_total', help: 'Login redirects by chosen region and the rule that chose it (region "none": no proxy available, 503)', labelNames: ['region', 'reason'] as const, registers });
  const duration = new Histogram({
    name: 'meridian_redirect_duration_seconds',
    help: 'Time to decide a login redirect',
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01],
    registers,
  });
  const lookups = new Counter({ name: 'meridian_geoip_lookups_total', help: 'GeoIP lookups by result', labelNames: ['result'] as const, registers });
  new Gauge({
    name: 'meridian_geoip_database_build_timestamp_seconds',
    help: 'Build time of the GeoIP database in force',
    registers,
    collect() {
      const t = geoBuildTimestampSeconds();
      if (t !== undefined) this.set(t);
    },
  });
  return {
    redirected(region, reason, seconds) {
      redirects.inc({ region, reason });
      duration.observe(seconds);
    },
    unavailable(seconds) {
      redirects.inc({ region: 'none', reason: 'unavailable' });
      duration.observe(seconds);
    },
    geoLookup(result) {
      lookups.inc({ result });
    },
  };
}
