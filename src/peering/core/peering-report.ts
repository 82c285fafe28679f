import type { PeerLinkStatus } from '../../model/peering.js';
import { reaches } from './coverage.js';
import { linkId, type PeerNode, type PeerProxy } from './peering-input.js';
import { AT_CAP, NO_TARGET, NOT_NEEDED, type PeeringPlan } from './plan-links.js';
import type { TunnelGroup } from './tunnel-groups.js';

/** What the reports read: the reconciler's last inventory and plan. */
export interface ReportInput {
  readonly proxies: readonly PeerProxy[];
  readonly nodes: readonly PeerNode[];
  readonly groups: readonly TunnelGroup[];
  readonly plan: PeeringPlan;
  readonly links: readonly PeerLinkStatus[];
  /** Nodes of the current inventory without proxy_ids. */
  readonly unknown: number;
  /** What each proxy's page says: teleport_reverse_tunnels_connected{type="node"} and proxy_missing_ssh_tunnels. */
  readonly tunnels: readonly ProxyTunnels[];
}

export interface ProxyTunnels {
  readonly proxy: string;
  readonly region: string;
  readonly nodeTunnels: number;
  readonly missingTunnels: number;
}

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

const names = (proxies: readonly PeerProxy[], holders: readonly number[]): string[] => holders.map((h) => (proxies[h] as PeerProxy).name);
const rowOf = (n: PeerNode, proxies: string[], why: string): NodeRow => ({ id: n.id, hostname: n.hostname, ...(n.region ? { region: n.region } : {}), proxies, why });

/** Per region users are served from: the nodes it cannot reach now (through links that are Up), at most `limit` listed. */
export function coverageReport(r: ReportInput, limit: number): CoverageReport {
  const active = new Set(r.links.filter((l) => l.state === 'Up').map(linkId));
  const regions = r.plan.sourceRegions;
  const rows = new Map(regions.map((x) => [x, { nodes: 0, reachable: 0, unreachable: [] as NodeRow[], more: 0 }]));
  let offline = 0;
  for (const g of r.groups) {
    if (!g.nodes.length) continue;
    const live = g.holders.some((h) => (r.proxies[h] as PeerProxy).up);
    if (!live) {
      offline += g.nodes.length;
      continue;
    }
    for (const [region, row] of rows) {
      row.nodes += g.nodes.length;
      if (reaches(r.proxies, g.holders, region, active)) {
        row.reachable += g.nodes.length;
        continue;
      }
      const holders = names(r.proxies, g.holders);
      for (const ni of g.nodes) {
        if (row.unreachable.length >= limit) row.more++;
        else row.unreachable.push(rowOf(r.nodes[ni] as PeerNode, holders, `no tunnel to a ${region} proxy and no link up from ${region} to ${holders.join(' or ')}`));
      }
    }
  }
  return {
    regions: [...rows].map(([region, x]) => ({ region, nodes: x.nodes, reachable: x.reachable, ratio: x.nodes ? x.reachable / x.nodes : 1, unreachable: x.unreachable, more: x.more })),
    unknown: r.unknown,
    offline,
    proxies: [...r.tunnels],
  };
}

export interface PlanReport {
  /** Links the plan has that are not up yet. */
  readonly add: PeerLinkStatus[];
  /** Links no longer needed, held until their hold time passes; and the ones this plan removed. */
  readonly remove: { readonly from: string; readonly to: string; readonly reason: string }[];
  readonly keep: number;
  /** Per region and node needing a link: the link, or why there is none. */
  readonly nodes: (NodeRow & { readonly from: string; readonly link?: string })[];
  readonly more: number;
}

export function planReport(r: ReportInput, limit: number, holdTime: string): PlanReport {
  const add = r.links.filter((l) => l.state !== 'Up' && !l.unneededSince);
  const remove = [
    ...r.links.filter((l) => l.unneededSince).map((l) => ({ from: l.from, to: l.to, reason: `unneeded since ${l.unneededSince}; goes ${holdTime} after that` })),
    ...r.plan.removed.map((x) => ({ from: x.from, to: x.to, reason: x.reason })),
  ];
  const nodes: (NodeRow & { from: string; link?: string })[] = [];
  let more = 0;
  for (const [from, reach] of r.plan.reach) {
    r.groups.forEach((g, gi) => {
      const t = reach[gi] ?? NOT_NEEDED;
      if (t === NOT_NEEDED || !g.nodes.length) return;
      const holders = names(r.proxies, g.holders);
      const link = t >= 0 ? linkId({ from, to: (r.proxies[t] as PeerProxy).name }) : undefined;
      const why =
        t === AT_CAP
          ? `every eligible proxy holding its tunnel (${holders.join(', ')}) is at maxLinksPerProxy`
          : t === NO_TARGET
            ? `its tunnels are only on draining, unready or down proxies (${holders.join(', ')})`
            : `no tunnel to a ${from} proxy; ${link} reaches its tunnel`;
      for (const ni of g.nodes) {
        if (nodes.length >= limit) more++;
        else nodes.push({ ...rowOf(r.nodes[ni] as PeerNode, holders, why), from, ...(link ? { link } : {}) });
      }
    });
  }
  return { add, remove, keep: r.links.length - add.length - r.links.filter((l) => l.unneededSince).length, nodes, more };
}
