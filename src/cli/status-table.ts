import type { AuthView, FleetView, ProxyView } from '../admin/schemas.js';

function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, [...c].length)));
  return rows.map((r) => r.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - [...c].length)).join('  ').trimEnd()).join('\n');
}

function versionCell(p: ProxyView): string {
  if (!p.version) return '-';
  return p.version === p.desiredVersion ? p.version : `${p.version} (want ${p.desiredVersion})`;
}

function readyCell(p: ProxyView): string {
  // Ready but its metrics unreadable: still in the login rotation.
  if (!p.up) return p.ready ? 'yes (metrics unread)' : 'down';
  if (p.ready) return 'yes';
  return p.processState && p.processState !== 'ok' ? `no (${p.processState})` : `no (${p.readyzStatus ?? '?'})`;
}

/** Unknown is not 0: a proxy whose metrics page was not read has no session count. */
function sessionsCell(p: ProxyView): string {
  return p.loadKnown ? String(p.sessionsTotal) : 'unknown';
}

function authLine(a: AuthView): string {
  const ready = a.servers.filter((s) => s.ready).length;
  const version = a.version ?? `version unknown${a.error ? ` (${a.error.reason}: ${a.error.message})` : ''}`;
  return `Auth Service ${version}  ${ready}/${a.servers.length} ready`;
}

/** `meridian status`: one table per region (the Auth Service first, when the API reports it). */
export function renderStatus(res: { readonly fleets: readonly FleetView[] }): string {
  if (res.fleets.length === 0) return 'No ProxyFleet found. Check the manifest directory (meridian validate DIR).';
  const out: string[] = [];
  for (const f of res.fleets) {
    const ready = f.conditions.find((c) => c.type === 'Ready');
    out.push(`ProxyFleet ${f.namespace}/${f.name}  generation ${f.generation}  ${f.phase}${ready ? ` — ${ready.message}` : ''}`);
    out.push(`observed ${f.observedAt ?? 'never'}`);
    if (f.auth) out.push(authLine(f.auth));
    for (const r of f.regions) {
      const unknown = r.proxies.filter((p) => !p.loadKnown).map((p) => p.name);
      const load = unknown.length ? `${r.sessions} sessions + unknown on ${unknown.join(', ')} (metrics unread)` : `${r.sessions} sessions`;
      out.push('', `${r.displayName} (${r.name}, ${r.timeZone})  ${r.readyProxies}/${r.proxies.length} ready, ${load}`);
      const rows = [['PROXY', 'VERSION', 'READY', 'SESSIONS', 'TUNNELS', 'LAST ERROR']];
      for (const p of r.proxies)
        rows.push([p.name, versionCell(p), readyCell(p), sessionsCell(p), String(p.nodeTunnels), p.error ? `${p.error.reason}: ${p.error.message}` : '-']);
      out.push(table(rows).replace(/^/gm, '  '));
    }
    out.push('');
  }
  return out.join('\n');
}
