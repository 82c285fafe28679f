import type { PeeringNodeExample, PeerLinkStatus, ProxyPeeringStatus } from '../model/peering.js';
import type { FleetSnapshot } from '../model/snapshot.js';
import type { ProxyTunnels } from './core/peering-report.js';

export interface NodeRow {
  readonly id: string;
  readonly hostname: string;
  readonly region?: string;
  readonly proxies: string[];
  readonly why: string;
}

export interface CoverageReport {
  readonly regions: { readonly region: string; readonly nodes: number; readonly reachable: number; readonly ratio: number; readonly unreachable: NodeRow[]; readonly more: number }[];
  /** Nodes without proxy_ids. */
  readonly unknown: number;
  /** Nodes whose every tunnel is on a proxy that is down. */
  readonly offline: number;
  readonly proxies: ProxyTunnels[];
}

export interface PlanReport {
  /** Links the plan has that are not up yet. */
  readonly add: PeerLinkStatus[];
  /** Links no longer needed, held until their hold time passes; and the ones the last plan removed. */
  readonly remove: { readonly from: string; readonly to: string; readonly reason: string }[];
  readonly keep: number;
  /** Per region and node needing a link: the link, or why there is none. */
  readonly nodes: (NodeRow & { readonly from: string; readonly link?: string })[];
  readonly more: number;
}

const rowOf = (n: PeeringNodeExample, why: string): NodeRow => ({ id: n.id, hostname: n.hostname, ...(n.region ? { region: n.region } : {}), proxies: [...n.proxies], why });

/** What each observed proxy's page says of its node tunnels (the coverage report's proxy table). */
export function proxyTunnels(snapshot: FleetSnapshot | undefined): ProxyTunnels[] {
  return (snapshot?.proxies ?? []).flatMap((o) => (o.metrics ? [{ proxy: o.name, region: o.region, nodeTunnels: o.metrics.tunnels['node'] ?? 0, missingTunnels: o.metrics.missingTunnels }] : []));
}

/**
 * The coverage and plan reports of one ProxyPeering, from its status alone (the admin API, and
 * the CLI offline), at most `limit` node rows per region (coverage) and in all (plan); undefined
 * before its first plan. `holdTime` as the spec says it.
 */
export function peeringReports(status: ProxyPeeringStatus, holdTime: string, tunnels: readonly ProxyTunnels[], limit: number): { readonly coverage: CoverageReport; readonly plan: PlanReport } | undefined {
  const report = status.report;
  if (!report) return undefined;
  const unreachable = new Map(report.unreachable.map((u) => [u.region, u]));
  const regions = (status.coverage ?? []).map((c) => {
    const u = unreachable.get(c.region);
    const rows = (u?.examples ?? []).slice(0, limit).map((n) => rowOf(n, `no tunnel to a ${c.region} proxy and no link up from ${c.region} to ${n.proxies.join(' or ')}`));
    return { region: c.region, nodes: c.nodes, reachable: c.reachable, ratio: c.ratio, unreachable: rows, more: c.nodes - c.reachable - rows.length };
  });
  const links = status.links ?? [];
  const add = links.filter((l) => l.state !== 'Up' && !l.unneededSince);
  const held = links.filter((l) => l.unneededSince);
  const remove = [...held.map((l) => ({ from: l.from, to: l.to, reason: `unneeded since ${l.unneededSince}; goes ${holdTime} after that` })), ...report.removed.map((x) => ({ ...x }))];
  const nodes: PlanReport['nodes'] = [];
  let needing = 0;
  for (const need of report.needs) {
    needing += need.nodes;
    for (const n of need.examples) {
      if (nodes.length >= limit) break;
      const holders = n.proxies.join(', ');
      const why =
        n.cause === 'AtCap'
          ? `every eligible proxy holding its tunnel (${holders}) is at maxLinksPerProxy`
          : n.cause === 'NoTarget'
            ? `its tunnels are only on proxies out of rotation, unready or down (${holders})`
            : `no tunnel to a ${need.from} proxy; ${n.link} reaches its tunnel`;
      nodes.push({ ...rowOf(n, why), from: need.from, ...(n.link ? { link: n.link } : {}) });
    }
  }
  return {
    coverage: { regions, unknown: status.inventory?.unknown ?? 0, offline: report.offline, proxies: [...tunnels] },
    plan: { add, remove, keep: links.length - add.length - held.length, nodes, more: needing - nodes.length },
  };
}
