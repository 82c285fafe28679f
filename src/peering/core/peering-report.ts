import type { PeeringNodeExample, PeeringReport, PeerLinkStatus } from '../../model/peering.js';
import { reaches } from './coverage.js';
import { linkId, type PeerNode, type PeerProxy } from './peering-input.js';
import { AT_CAP, NO_TARGET, NOT_NEEDED, type PeeringPlan } from './plan-links.js';
import type { TunnelGroup } from './tunnel-groups.js';

/** Nodes named per region in the stored report; the rest are counted. At 50 regions this keeps it to about a thousand rows whatever the inventory. */
export const REPORT_EXAMPLES = 10;
/** Removed links the stored report names at most. */
const REMOVED_LIMIT = 100;

/** What the report is made from: one plan over the inventory, and the links as verified. */
export interface ReportInput {
  readonly proxies: readonly PeerProxy[];
  readonly nodes: readonly PeerNode[];
  readonly groups: readonly TunnelGroup[];
  readonly plan: PeeringPlan;
  readonly links: readonly PeerLinkStatus[];
}

/** What each proxy's page says: teleport_reverse_tunnels_connected{type="node"} and proxy_missing_ssh_tunnels. */
export interface ProxyTunnels {
  readonly proxy: string;
  readonly region: string;
  readonly nodeTunnels: number;
  readonly missingTunnels: number;
}

const names = (proxies: readonly PeerProxy[], holders: readonly number[]): string[] => holders.map((h) => (proxies[h] as PeerProxy).name);
const exampleOf = (n: PeerNode, proxies: string[]): PeeringNodeExample => ({ id: n.id, hostname: n.hostname, ...(n.region ? { region: n.region } : {}), proxies });

/**
 * The report kept in status: per region the nodes it cannot reach now (through links that are
 * Up) and the nodes that need a link, `examples` of each named and the rest counted.
 * `removedBefore`: the last removals, kept while a plan removes nothing (a restart's fresh plan does not forget them).
 */
export function buildReport(r: ReportInput, examples: number, removedBefore: PeeringReport['removed'] = []): PeeringReport {
  const active = new Set(r.links.filter((l) => l.state === 'Up').map(linkId));
  const regions = r.plan.sourceRegions;
  const unreachable = new Map(regions.map((x) => [x, { examples: [] as PeeringNodeExample[], more: 0 }]));
  let offline = 0;
  for (const g of r.groups) {
    if (!g.nodes.length) continue;
    if (!g.holders.some((h) => (r.proxies[h] as PeerProxy).up)) {
      offline += g.nodes.length;
      continue;
    }
    for (const [region, row] of unreachable) {
      if (reaches(r.proxies, g.holders, region, active)) continue;
      const holders = names(r.proxies, g.holders);
      for (const ni of g.nodes) {
        if (row.examples.length >= examples) row.more++;
        else row.examples.push(exampleOf(r.nodes[ni] as PeerNode, holders));
      }
    }
  }
  const needs: PeeringReport['needs'][number][] = [];
  for (const [from, reach] of r.plan.reach) {
    const row = { from, nodes: 0, examples: [] as PeeringReport['needs'][number]['examples'][number][] };
    r.groups.forEach((g, gi) => {
      const t = reach[gi] ?? NOT_NEEDED;
      if (t === NOT_NEEDED || !g.nodes.length) return;
      row.nodes += g.nodes.length;
      const holders = names(r.proxies, g.holders);
      const link = t >= 0 ? linkId({ from, to: (r.proxies[t] as PeerProxy).name }) : undefined;
      const cause = t === AT_CAP ? 'AtCap' : t === NO_TARGET ? 'NoTarget' : 'Linked';
      for (const ni of g.nodes) {
        if (row.examples.length >= examples) break;
        row.examples.push({ ...exampleOf(r.nodes[ni] as PeerNode, holders), ...(link ? { link } : {}), cause });
      }
    });
    if (row.nodes) needs.push(row);
  }
  const removed = r.plan.removed.length ? r.plan.removed.slice(0, REMOVED_LIMIT).map((x) => ({ from: x.from, to: x.to, reason: x.reason })) : removedBefore;
  return {
    unreachable: [...unreachable].filter(([, x]) => x.examples.length).map(([region, x]) => ({ region, examples: x.examples, more: x.more })),
    offline,
    needs,
    removed,
  };
}
