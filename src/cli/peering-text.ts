import type { Static } from '@sinclair/typebox';
import type { CoverageResponse, PeeringView, PlanResponse } from '../admin/peering-schemas.js';

type Coverage = Static<typeof CoverageResponse>;
type Plan = Static<typeof PlanResponse>;

const pct = (r: number): string => `${(r * 100).toFixed(1)}%`;
const pad = (s: string, n: number): string => s.padEnd(n);

/** The phase, the inventory, the coverage table and the links. */
export function renderPeeringStatus(v: PeeringView): string {
  const lines = [`${v.namespace}/${v.name}: ${v.phase ?? 'Pending'}${v.dryRun ? ' (dry run)' : ''}${v.paused ? ' (paused)' : ''}${v.message ? ` — ${v.message}` : ''}`];
  if (v.inventory) lines.push(`inventory: ${v.inventory.nodes} nodes (${v.inventory.unknown} without proxy_ids) read ${v.inventory.readAt}${v.inventory.error ? `; last read failed: ${v.inventory.error}` : ''}`);
  if (v.tunnelStrategy) lines.push(`tunnel_strategy: proxy_peering, agent_connection_count ${v.tunnelStrategy.agentConnectionCount} (since ${v.tunnelStrategy.appliedAt})`);
  if (v.allowList) lines.push(`allow-list: generation ${v.allowList.generation}, ${v.allowList.rules} rules (${v.allowList.appliedAt})`);
  if (v.coverage.length) {
    lines.push('', `${pad('REGION', 16)}${pad('REACHABLE', 11)}${pad('NODES', 8)}RATIO`);
    for (const c of v.coverage) lines.push(`${pad(c.region, 16)}${pad(String(c.reachable), 11)}${pad(String(c.nodes), 8)}${pct(c.ratio)}`);
  }
  lines.push('', v.links.length ? `LINKS (${v.links.length})` : 'No links');
  for (const l of v.links) lines.push(`  ${pad(`${l.from} -> ${l.to}`, 30)}${pad(l.state, 9)}${pad(`${l.nodes} node(s)`, 12)}${l.unneededSince ? `unneeded since ${l.unneededSince}` : ''}${l.reason ? ` ${l.reason}` : ''}`);
  return lines.join('\n');
}

/** Per region, the ratio and the nodes it cannot reach, with why. */
export function renderCoverage(c: Coverage): string {
  const lines = [`${pad('REGION', 16)}${pad('REACHABLE', 11)}${pad('NODES', 8)}RATIO`];
  for (const r of c.regions) lines.push(`${pad(r.region, 16)}${pad(String(r.reachable), 11)}${pad(String(r.nodes), 8)}${pct(r.ratio)}`);
  for (const r of c.regions) {
    if (!r.unreachable.length) continue;
    lines.push('', `Unreachable from ${r.region} (${r.nodes - r.reachable}):`);
    for (const n of r.unreachable) lines.push(`  ${n.hostname} (${n.region ?? 'no region'}; tunnels: ${n.proxies.join(', ')}): ${n.why}`);
    if (r.more) lines.push(`  … and ${r.more} more (--limit)`);
  }
  lines.push('', `${c.unknown} node(s) without proxy_ids (Unknown); ${c.offline} with no live tunnel`);
  if (c.proxies.length) {
    lines.push('', `${pad('PROXY', 16)}${pad('REGION', 14)}${pad('NODE TUNNELS', 14)}MISSING`);
    for (const p of c.proxies) lines.push(`${pad(p.proxy, 16)}${pad(p.region, 14)}${pad(String(p.nodeTunnels), 14)}${p.missingTunnels}`);
  }
  return lines.join('\n');
}

/** The links to add and remove, then per node why. */
export function renderPlan(p: Plan): string {
  const lines = [p.add.length ? `Links to add (${p.add.length}):` : 'No links to add.'];
  for (const l of p.add) lines.push(`  ${pad(`${l.from} -> ${l.to}`, 30)}${pad(`${l.nodes} node(s)`, 12)}${l.state}${l.reason ? `: ${l.reason}` : ''}`);
  lines.push(p.remove.length ? `Links to remove (${p.remove.length}):` : 'No links to remove.');
  for (const l of p.remove) lines.push(`  ${pad(`${l.from} -> ${l.to}`, 30)}${l.reason}`);
  lines.push(`${p.keep} link(s) up and kept.`);
  if (p.nodes.length) {
    lines.push('', 'Nodes that need a link, per region:');
    for (const n of p.nodes) lines.push(`  ${pad(n.hostname, 24)}from ${pad(n.from, 14)}${n.link ? `via ${n.link}` : 'NOT COVERED'}: ${n.why}`);
    if (p.more) lines.push(`  … and ${p.more} more (--limit)`);
  }
  return lines.join('\n');
}
