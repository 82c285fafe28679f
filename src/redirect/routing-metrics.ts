import { Gauge, type Registry } from 'prom-client';
import { PROXY_STATES, REGION_STATES, type RoutingTable } from './core/routing-table.js';

/**
 * Registers what the login redirect makes of the fleet, read from the routing table in force
 * when scraped: each proxy's and region's state (1 for the current one, 0 for the others, as
 * phase gauges are), and each proxy's configured session capacity. Alerts need both: a proxy
 * down while cordoned or held by a rollout is maintenance, not an outage.
 */
export function registerRoutingMetrics(registry: Registry, routing: () => RoutingTable | undefined): void {
  const registers = [registry];
  new Gauge({
    name: 'meridian_proxy_routing_state',
    help: 'Whether the login redirect sends new users to a proxy, and why not: 1 for its state (eligible; full: at capacity; out_of_rotation: cordoned or held by a rollout or canary; down; not_ready; not_observed; canary: an opt-in canary build), 0 for the others',
    labelNames: ['proxy', 'region', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of routing()?.regions ?? []) {
        for (const p of r.proxies) for (const state of PROXY_STATES) this.set({ proxy: p.name, region: r.name, state }, p.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'meridian_region_routing_state',
    help: 'Whether the login redirect sends users near a region there: 1 for its state (open; saturated: every proxy at capacity; no_proxies; no_ready_proxy; out_of_rotation: its ready proxies are all out of rotation), 0 for the others',
    labelNames: ['region', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of routing()?.regions ?? []) for (const state of REGION_STATES) this.set({ region: r.name, state }, r.state === state ? 1 : 0);
    },
  });
  new Gauge({
    name: 'meridian_proxy_capacity_sessions',
    help: 'Sessions a proxy is configured to hold (spec capacity) before the login redirect sends new users elsewhere',
    labelNames: ['proxy', 'region'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of routing()?.regions ?? []) {
        for (const p of r.proxies) if (p.capacity !== undefined) this.set({ proxy: p.name, region: r.name }, p.capacity);
      }
    },
  });
}
