import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { loadKnown, SESSION_KINDS, type FleetSnapshot } from '../model/snapshot.js';
import { SESSION_METRICS } from '../observer/core/parse-metrics.js';

export interface FleetMetrics {
  /** Records what one observation cycle learned (counters and histograms; gauges read snapshots at scrape time). */
  recordCycle(snapshot: FleetSnapshot, cycleSeconds: number): void;
}

const SESSION_METRIC_NAMES = SESSION_KINDS.map((k) => SESSION_METRICS[k]);

/** Registers the fleet metrics on the given registry; gauges read `snapshots()` when scraped. */
export function registerFleetMetrics(registry: Registry, snapshots: () => readonly FleetSnapshot[]): FleetMetrics {
  const registers = [registry];
  const each = (fn: (p: FleetSnapshot['proxies'][number]) => void): void => {
    for (const s of snapshots()) for (const p of s.proxies) fn(p);
  };

  new Gauge({
    name: 'meridian_proxy_sessions',
    help: 'Active sessions through a proxy by kind, from its last scrape; absent while unknown (page unreadable, or that sample not a count)',
    labelNames: ['proxy', 'region', 'kind'] as const,
    registers,
    collect() {
      this.reset();
      each((p) => {
        // Unknown is not 0: like a failed Prometheus target, a proxy whose page was not read exports nothing.
        if (!p.up || !p.metrics) return;
        const skipped = p.metrics.sessionKindsSkipped ?? [];
        for (const kind of SESSION_KINDS) if (!skipped.includes(kind)) this.set({ proxy: p.name, region: p.region, kind }, p.metrics.sessions[kind]);
      });
    },
  });
  new Gauge({
    name: 'meridian_region_sessions',
    help: 'Active sessions through the proxies of a region; absent while a ready proxy of it has an unknown load',
    labelNames: ['region'] as const,
    registers,
    collect() {
      this.reset();
      const totals = new Map<string, number>();
      const unknown = new Set<string>();
      each((p) => {
        if (loadKnown(p)) totals.set(p.region, (totals.get(p.region) ?? 0) + p.sessionsTotal);
        // A part of the sum would read as a fall in sessions; a proxy that is down serves none.
        else if (p.ready) unknown.add(p.region);
      });
      for (const [region, n] of totals) if (!unknown.has(region)) this.set({ region }, n);
    },
  });
  new Gauge({
    name: 'meridian_proxy_load_known',
    help: '1 when the last scrape read every session count of the proxy; 0 when its load is unknown (the redirect then prefers proxies with a known load)',
    labelNames: ['proxy', 'region'] as const,
    registers,
    collect() {
      this.reset();
      each((p) => this.set({ proxy: p.name, region: p.region }, loadKnown(p) ? 1 : 0));
    },
  });
  new Gauge({
    name: 'meridian_proxy_up',
    help: '1 when the last scrape of the proxy diagnostic address succeeded',
    labelNames: ['proxy', 'region'] as const,
    registers,
    collect() {
      this.reset();
      each((p) => this.set({ proxy: p.name, region: p.region }, p.up ? 1 : 0));
    },
  });
  new Gauge({
    name: 'meridian_proxy_ready',
    help: '1 when the proxy /readyz answered 200',
    labelNames: ['proxy', 'region'] as const,
    registers,
    collect() {
      this.reset();
      each((p) => this.set({ proxy: p.name, region: p.region }, p.ready ? 1 : 0));
    },
  });
  new Gauge({
    name: 'meridian_proxy_info',
    help: 'The Teleport version a proxy runs (teleport_build_info), value 1',
    labelNames: ['proxy', 'region', 'version'] as const,
    registers,
    collect() {
      this.reset();
      each((p) => {
        if (p.metrics) this.set({ proxy: p.name, region: p.region, version: p.metrics.version }, 1);
      });
    },
  });
  new Gauge({
    name: 'meridian_proxy_last_success_timestamp_seconds',
    help: 'When the proxy was last scraped successfully',
    labelNames: ['proxy', 'region'] as const,
    registers,
    collect() {
      this.reset();
      each((p) => {
        if (p.lastSuccessAt) this.set({ proxy: p.name, region: p.region }, Date.parse(p.lastSuccessAt) / 1000);
      });
    },
  });

  const scrapeDuration = new Histogram({
    name: 'meridian_scrape_duration_seconds',
    help: 'Time to scrape one proxy (metrics and readyz)',
    labelNames: ['region'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const scrapeErrors = new Counter({
    name: 'meridian_scrape_errors_total',
    help: 'Failed scrapes of a proxy, by reason',
    labelNames: ['proxy', 'reason'] as const,
    registers,
  });
  const skippedSamples = new Counter({
    name: 'meridian_scrape_samples_skipped_total',
    help: 'Samples of a proxy metrics page left out because their value was not usable (NaN, +Inf, negative, a fraction where a count is due)',
    labelNames: ['region', 'metric'] as const,
    registers,
  });
  const cycle = new Histogram({
    name: 'meridian_observation_cycle_seconds',
    help: 'Time to observe the whole fleet once',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers,
  });

  return {
    recordCycle(snapshot, cycleSeconds) {
      cycle.observe(cycleSeconds);
      for (const p of snapshot.proxies) {
        scrapeDuration.observe({ region: p.region }, p.scrapeDurationMs / 1000);
        if (p.error) scrapeErrors.inc({ proxy: p.name, reason: p.error.reason });
        // From 0 for the session gauges, whose odd samples leave a proxy's load unknown.
        for (const name of SESSION_METRIC_NAMES) skippedSamples.inc({ region: p.region, metric: name }, 0);
        // Counted per page read: a failed scrape keeps the last page, which was counted already.
        if (p.up) for (const s of p.metrics?.skippedSamples ?? []) skippedSamples.inc({ region: p.region, metric: s.metric });
      }
    },
  };
}
