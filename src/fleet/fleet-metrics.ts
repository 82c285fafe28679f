import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { SESSION_KINDS, type FleetSnapshot } from '../model/snapshot.js';

export interface FleetMetrics {
  /** Records what one observation cycle learned (counters and histograms; gauges read snapshots at scrape time). */
  recordCycle(snapshot: FleetSnapshot, cycleSeconds: number): void;
}

/** Registers the fleet metrics on the given registry; gauges read `snapshots()` when scraped. */
export function registerFleetMetrics(registry: Registry, snapshots: () => readonly FleetSnapshot[]): FleetMetrics {
  const registers = [registry];
  const each = (fn: (p: FleetSnapshot['proxies'][number]) => void): void => {
    for (const s of snapshots()) for (const p of s.proxies) fn(p);
  };

  new Gauge({
    name: 'meridian_proxy_sessions',
    help: 'Active sessions through a proxy by kind, from its last good metrics page',
    labelNames: ['proxy', 'region', 'kind'] as const,
    registers,
    collect() {
      this.reset();
      each((p) => {
        if (!p.metrics) return;
        for (const kind of SESSION_KINDS) this.set({ proxy: p.name, region: p.region, kind }, p.metrics.sessions[kind]);
      });
    },
  });
  new Gauge({
    name: 'meridian_region_sessions',
    help: 'Active sessions through all proxies of a region',
    labelNames: ['region'] as const,
    registers,
    collect() {
      this.reset();
      const totals = new Map<string, number>();
      each((p) => totals.set(p.region, (totals.get(p.region) ?? 0) + p.sessionsTotal));
      for (const [region, n] of totals) this.set({ region }, n);
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
      }
    },
  };
}
