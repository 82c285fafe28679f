import { Counter, Gauge, type Registry } from 'prom-client';
import { DRIFT_KINDS, LINK_STATES, type DriftKind, type ProxyPeering } from '../model/peering.js';
import { DEFAULT_NAMESPACE } from '../model/resource.js';

export interface PeeringMetrics {
  /** One inventory read that failed (the last good one stays). */
  onInventoryError(peering: string): void;
  /** An observation found `what` no longer as Meridian applied it. */
  onDrift(peering: string, what: DriftKind): void;
}

/** Peering gauges, read from the stored ProxyPeerings at scrape time; the chart's alerts use them. */
export function registerPeeringMetrics(registry: Registry, peerings: () => readonly ProxyPeering[]): PeeringMetrics {
  const registers = [registry];
  const nameOf = (p: ProxyPeering): string => `${p.metadata.namespace ?? DEFAULT_NAMESPACE}/${p.metadata.name}`;
  new Gauge({
    name: 'meridian_peering_links',
    help: 'Region-to-proxy peer links by state (Planned in a dry run, Pending until Teleport shows the peer connection READY, Up, Failed)',
    labelNames: ['peering', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const p of peerings()) for (const state of LINK_STATES) this.set({ peering: nameOf(p), state }, (p.status?.links ?? []).filter((l) => l.state === state).length);
    },
  });
  new Gauge({
    name: 'meridian_nodes_unreachable',
    help: "Nodes with a live tunnel that users of the region cannot reach (no tunnel in the region, no link up to a proxy holding one)",
    labelNames: ['peering', 'region'] as const,
    registers,
    collect() {
      this.reset();
      for (const p of peerings()) for (const c of p.status?.coverage ?? []) this.set({ peering: nameOf(p), region: c.region }, c.nodes - c.reachable);
    },
  });
  new Gauge({
    name: 'meridian_tunnel_coverage_ratio',
    help: 'Share of nodes with a live tunnel that users of the region can reach (1 when there are none)',
    labelNames: ['peering', 'region'] as const,
    registers,
    collect() {
      this.reset();
      for (const p of peerings()) for (const c of p.status?.coverage ?? []) this.set({ peering: nameOf(p), region: c.region }, c.ratio);
    },
  });
  const errors = new Counter({
    name: 'meridian_peering_inventory_errors_total',
    help: 'Node or proxy inventory reads that failed (malformed, unknown proxy ids, command failed or timed out); the last good inventory stays',
    labelNames: ['peering'] as const,
    registers,
    collect() {
      // Each peering's series from 0, so that increase() sees its first errors.
      for (const p of peerings()) this.inc({ peering: nameOf(p) }, 0);
    },
  });
  const drift = new Counter({
    name: 'meridian_peering_drift_total',
    help: 'Observations that found what Meridian applied changed behind its back (cluster_networking, peer_listener, allow_list); each is re-applied',
    labelNames: ['peering', 'what'] as const,
    registers,
    collect() {
      for (const p of peerings()) for (const what of DRIFT_KINDS) this.inc({ peering: nameOf(p), what }, 0);
    },
  });
  return { onInventoryError: (peering) => errors.inc({ peering }), onDrift: (peering, what) => drift.inc({ peering, what }) };
}
