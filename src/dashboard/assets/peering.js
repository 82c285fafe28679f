import { badge, h, table, utc } from './dom.js';

function share(c) {
  const pct = c.nodes ? Math.round(c.ratio * 1000) / 10 : 100;
  return h('td', {}, h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { style: { width: `${pct}%` } })), `${pct} % (${c.reachable} of ${c.nodes} nodes reachable)`);
}

export function peeringView(peerings) {
  if (!peerings.length) return [h('p', {}, 'No ProxyPeering is defined.')];
  return peerings.map((p) =>
    h(
      'div',
      { class: 'card peering', 'data-peering': `${p.namespace}/${p.name}` },
      h('h3', {}, `${p.namespace}/${p.name} `, badge(p.phase ?? 'Pending'), p.dryRun ? ' (dry run)' : '', p.paused ? ' (paused)' : ''),
      h('p', {}, p.message ?? ''),
      p.inventory ? h('p', { class: p.inventory.error ? 'error' : 'muted' }, `Inventory: ${p.inventory.nodes} nodes, ${p.inventory.unknown} in no known region, read ${utc(p.inventory.readAt)}${p.inventory.error ? `: ${p.inventory.error}` : ''}`) : '',
      table(['Region', 'Reachable nodes'], p.coverage.map((c) => h('tr', { 'data-region': c.region }, h('th', { scope: 'row' }, c.region), share(c)))),
      p.links.length
        ? table(['Link', 'State', 'Nodes', 'Since', 'Reason'], p.links.map((l) => h('tr', {}, h('th', { scope: 'row' }, `${l.from} → ${l.to}`), h('td', {}, badge(l.state)), h('td', {}, String(l.nodes)), h('td', {}, utc(l.since)), h('td', {}, l.reason ?? ''))))
        : h('p', { class: 'muted' }, 'No links.'),
    ),
  );
}
