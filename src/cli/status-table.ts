import type { FleetsResponse, ProxyView } from '../admin/schemas.js';

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
  if (!p.up) return 'down';
  if (p.ready) return 'yes';
  return p.processState && p.processState !== 'ok' ? `no (${p.processState})` : `no (${p.readyzStatus ?? '?'})`;
}

/** `meridian status`: one table per region. */
export function renderStatus(res: FleetsResponse): string {
  if (res.fleets.length === 0) return 'No ProxyFleet found. Check the manifest directory (meridian validate DIR).';
  const out: string[] = [];
  for (const f of res.fleets) {
    const ready = f.conditions.find((c) => c.type === 'Ready');
    out.push(`ProxyFleet ${f.namespace}/${f.name}  generation ${f.generation}  ${f.phase}${ready ? ` — ${ready.message}` : ''}`);
    out.push(`observed ${f.observedAt ?? 'never'}`);
    for (const r of f.regions) {
      out.push('', `${r.displayName} (${r.name}, ${r.timeZone})  ${r.readyProxies}/${r.proxies.length} ready, ${r.sessions} sessions`);
      const rows = [['PROXY', 'VERSION', 'READY', 'SESSIONS', 'TUNNELS', 'LAST ERROR']];
      for (const p of r.proxies)
        rows.push([p.name, versionCell(p), readyCell(p), String(p.sessionsTotal), String(p.nodeTunnels), p.error ? `${p.error.reason}: ${p.error.message}` : '-']);
      out.push(table(rows).replace(/^/gm, '  '));
    }
    out.push('');
  }
  return out.join('\n');
}
