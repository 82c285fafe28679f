import type { ProxyFleetSpec } from '../../model/fleet.js';
import type { ProxyPeeringSpec, ProxyPeeringStatus } from '../../model/peering.js';
import { err, ok, type Result } from '../../model/result.js';
import { coverage } from './coverage.js';
import { linksFromPlan } from './link-status.js';
import { parseNodes, parseProxies } from './parse-inventory.js';
import { PeeringPlanner } from './peering-planner.js';
import { buildReport } from './peering-report.js';
import { PEERING_DEFAULTS, resolvePeeringSpec } from './peering-settings.js';

type Body = { readonly body: string; readonly from: string };

/**
 * The status a first pass of the controller would reach from inventory files, every proxy taken
 * as up and ready (the cordoned ones out of rotation), nothing applied; `examples` node rows per region.
 */
export function offlinePeeringStatus(fleet: ProxyFleetSpec, spec: ProxyPeeringSpec | undefined, nodesBody: Body, proxiesBody: Body, examples: number, now: number): Result<ProxyPeeringStatus, string> {
  const s = spec ? resolvePeeringSpec(spec) : undefined;
  const proxyMap = parseProxies(proxiesBody.body, proxiesBody.from, fleet.proxies);
  if (!proxyMap.ok) return err(proxyMap.error);
  const inv = parseNodes(nodesBody.body, nodesBody.from, proxyMap.value, s?.regionLabel ?? PEERING_DEFAULTS.regionLabel);
  if (!inv.ok) return err(inv.error);
  const proxies = fleet.proxies.map((p) => ({ name: p.name, region: p.region, up: true, eligible: !p.cordoned }));
  const planner = new PeeringPlanner({ proxies, regions: fleet.regions, holdMs: 0, maxLinksPerProxy: s?.maxLinksPerProxy ?? PEERING_DEFAULTS.maxLinksPerProxy });
  const plan = planner.plan(inv.value.nodes, [], now);
  const links = linksFromPlan(plan.links, [], now, true);
  return ok({
    inventory: { nodes: inv.value.nodes.length, unknown: inv.value.nodes.filter((n) => !n.proxies).length, readAt: new Date(now).toISOString() },
    links,
    coverage: coverage(proxies, planner.tunnelGroups, []),
    report: buildReport({ proxies, nodes: planner.nodeList, groups: planner.tunnelGroups, plan, links }, examples),
  });
}
