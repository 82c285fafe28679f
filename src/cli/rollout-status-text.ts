import type { RolloutProxyView, RolloutView } from '../admin/rollout-schemas.js';
import { table } from './text-table.js';

/** What an unfinished proxy waits for; how a finished one ended. */
function proxyNote(p: RolloutProxyView): string {
  if (p.waitingFor) return `waits for ${p.waitingFor.message}`;
  return `${p.message ?? ''}${p.driftedTo ? ` (now runs ${p.driftedTo})` : ''}`;
}

/** A time as the region reads it and in UTC, when the region's zone is known. */
function when(local: string | undefined, utc: string): string {
  return local ? `${local} (${utc})` : utc;
}

/** `meridian rollout status`: the rollout, drift, its windows, every proxy's step and what it waits for, the notices given and to come. */
export function renderRollout(r: RolloutView): string {
  const head = `${r.namespace}/${r.name} → ${r.version}  ${r.phase ?? 'Pending'}${r.paused ? ' (paused)' : ''}${r.aborted ? ' (aborted)' : ''}`;
  const lines = [head, r.message ? `  ${r.message}` : ''];
  if (r.startedAt) lines.push(`  started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}; sessions cut so far: ${r.sessionsCut ?? 0}`);
  // Teleport's version skew rule: ok, refused, waiting for the Auth Service's version, or not checked (no spec.auth).
  const skew = r.conditions.find((c) => c.type === 'VersionSkewOK');
  if (skew) lines.push(`  ${skew.status === 'False' ? 'REFUSED: ' : ''}${skew.message}`);
  const drift = r.conditions.find((c) => c.type === 'Drifted' && c.status === 'True');
  if (drift) lines.push(`  DRIFTED since ${drift.lastTransitionTime}: ${drift.message}`);
  if (r.windows.length) lines.push('', table([['REGION', 'WINDOW'], ...r.windows.map((w) => [w.region, w.startLocal && w.endLocal ? `${w.startLocal} → ${w.endLocal} (${w.startAt} → ${w.endAt})` : `${w.startAt} → ${w.endAt}`])]));
  if (r.proxies.length)
    lines.push(
      '',
      table([
        ['PROXY', 'REGION', 'WAVE', 'STEP', 'OUT AT', 'SESSIONS', 'CUT', 'WAITING FOR / RESULT'],
        ...r.proxies.map((p) => [p.name, p.region, String(p.wave + 1), p.step, p.outAt ?? '-', p.sessionsAtOut === undefined ? '-' : String(p.sessionsAtOut), p.sessionsCut === undefined ? '-' : String(p.sessionsCut), proxyNote(p)]),
      ]),
    );
  if (r.notices.length) {
    const given = r.notices.filter((n) => n.givenAt).length;
    lines.push('', `Notices: ${given} given, ${r.notices.length - given} to come${r.notices.some((n) => n.channels.some((c) => c.result === 'failed')) ? ' (some channels failed: see --json)' : ''}`);
    const sorted = [...r.notices].sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt));
    lines.push(
      table([
        ['REGION', 'LEAD', 'DUE', 'STATE'],
        ...sorted.map((n) => [
          n.region,
          n.leadTime,
          when(n.dueLocal, n.dueAt),
          n.givenAt ? `given ${n.givenAt}` : n.channels.some((c) => c.result === 'failed') ? `to come (failed on ${n.channels.filter((c) => c.result === 'failed').map((c) => c.name).join(', ')})` : 'to come',
        ]),
      ]),
    );
  }
  return lines.filter((l, i) => l !== '' || i > 1).join('\n');
}
