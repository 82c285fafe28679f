import { ago, badge, h, plural, s, table, utc, words } from './dom.js';
import { sparkline } from './sparkline.js';
import { WORLD_PATH } from './world.js';

const SESSION_KINDS = [['ssh', 'SSH'], ['kube_exec', 'kube exec'], ['kube_portforward', 'kube port-forward'], ['kube_join', 'kube join'], ['db', 'database']];

/** Routing states by region and proxy name, from GET /api/v1/routing (undefined before the first observation). */
function routingIndex(routing) {
  const regions = new Map();
  const proxies = new Map();
  for (const r of routing?.regions ?? []) {
    regions.set(r.name, r.state);
    for (const p of r.proxies) proxies.set(p.name, p.state);
  }
  return { regions, proxies };
}

function sessionsCell(p) {
  if (!p.sessions) return h('td', {}, p.ready ? 'unknown (metrics not read)' : '—');
  const parts = SESSION_KINDS.filter(([k]) => p.sessions[k]).map(([k, label]) => `${label} ${p.sessions[k]}`);
  return h('td', { title: parts.join(', ') || 'none' }, String(p.sessionsTotal), parts.length ? h('span', { class: 'kinds muted' }, parts.join(', ')) : '');
}

function readiness(p) {
  if (!p.up) return badge('down', 'down');
  if (!p.ready) return badge('not_ready', `not ready${p.readyzStatus ? ` (readyz ${p.readyzStatus})` : ''}`);
  return badge('open', 'ready');
}

function proxyRow(p, state, nowMs, history) {
  const version = p.version ?? 'unknown';
  return h(
    'tr',
    { 'data-proxy': p.name },
    h('th', { scope: 'row' }, p.name),
    h('td', {}, version, p.version !== p.desiredVersion ? h('span', { class: 'muted' }, ` (manifest: ${p.desiredVersion})`) : ''),
    h('td', {}, readiness(p)),
    h('td', {}, state ? badge(state) : badge('unknown', 'not routed yet')),
    sessionsCell(p),
    h('td', {}, sparkline(history?.proxies.find((x) => x.name === p.name), history)),
    h('td', {}, String(p.nodeTunnels), p.missingTunnels ? h('span', { class: 'error' }, ` (${p.missingTunnels} missing)`) : ''),
    h('td', { title: utc(p.lastScrapeAt) }, ago(p.lastScrapeAt, nowMs)),
    h('td', { class: p.error ? 'error' : 'muted' }, p.error ? `${words(p.error.reason)}: ${p.error.message}` : 'none'),
  );
}

/** The regions on Natural Earth's land outline (equirectangular: longitude, latitude as x, -y), sized by sessions, coloured and named by state. */
function map(regions, states) {
  const grid = [s('path', { class: 'land', d: WORLD_PATH })];
  for (let lon = -150; lon <= 150; lon += 30) grid.push(s('line', { class: 'grid', x1: lon + 180, y1: 0, x2: lon + 180, y2: 180 }));
  for (let lat = -60; lat <= 60; lat += 30) grid.push(s('line', { class: 'grid', x1: 0, y1: 90 - lat, x2: 360, y2: 90 - lat }));
  // Labels of nearby regions (Chicago and New York) would overlap: each moves down below those placed.
  const placed = [];
  const dots = regions.map((r) => {
    const state = states.get(r.name) ?? 'unknown';
    const x = r.longitude + 180;
    const y = 90 - r.latitude;
    const radius = 2 + Math.min(10, Math.sqrt(r.sessions) / 3);
    const label = `${r.displayName} · ${words(state)} · ${r.sessions}`;
    const box = { x1: x + radius + 1, x2: x + radius + 1 + label.length * 2.1, y: y + 1.5 };
    while (placed.some((p) => Math.abs(p.y - box.y) < 4.5 && p.x1 < box.x2 && box.x1 < p.x2)) box.y += 4.5;
    placed.push(box);
    return s(
      'g',
      { 'data-region': r.name },
      s('circle', { cx: x, cy: y, r: radius, class: `s-${state}` }, s('title', {}, `${r.displayName}: ${words(state)}, ${r.sessions} sessions`)),
      s('text', { x: box.x1, y: box.y }, label),
    );
  });
  return s('svg', { class: 'map', viewBox: '0 20 360 130', role: 'img', 'aria-label': 'Regions on a world map, sized by sessions' }, grid, dots);
}

export function fleetView({ fleets, routing, history, nowMs }) {
  if (!fleets.length) return [h('p', {}, 'No ProxyFleet is defined.')];
  const { regions: regionStates, proxies: proxyStates } = routingIndex(routing);
  return fleets.map((f) =>
    h(
      'div',
      { class: 'fleet' },
      h('h3', {}, `${f.namespace}/${f.name} `, badge(f.phase), h('span', { class: 'muted' }, f.observedAt ? ` observed ${ago(f.observedAt, nowMs)}` : ' not observed yet')),
      f.auth ? h('p', {}, `Auth Service: ${f.auth.version ?? 'version unknown'}`, f.auth.error ? h('span', { class: 'error' }, ` (${f.auth.error.message})`) : '') : '',
      map(f.regions, regionStates),
      h(
        'div',
        { class: 'regions' },
        f.regions.map((r) =>
          h(
            'div',
            { class: 'card region', 'data-region': r.name },
            h('h3', {}, `${r.displayName} `, h('span', { class: 'muted' }, `(${r.name}, ${r.timeZone}) `), regionStates.has(r.name) ? badge(regionStates.get(r.name)) : badge('unknown', 'not routed yet')),
            h('p', {}, h('span', { class: 'sessions' }, plural(r.sessions, 'session')), `, ${r.readyProxies} of ${plural(r.proxies.length, 'proxy', 'proxies')} ready `, sparkline(history?.regions.find((x) => x.name === r.name), history)),
            table(['Proxy', 'Version', 'Readiness', 'Routing', 'Sessions', 'Last hour', 'Node tunnels', 'Last scrape', 'Error'], r.proxies.map((p) => proxyRow(p, proxyStates.get(p.name), nowMs, history))),
          ),
        ),
      ),
    ),
  );
}
