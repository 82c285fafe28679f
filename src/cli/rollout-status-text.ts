import type { RolloutView } from '../admin/rollout-schemas.js';
import { table } from './text-table.js';


/** `meridian rollout status`: the rollout, its windows, and every proxy's step. */
export function renderRollout(r: RolloutView): string {
  const head = `${r.namespace}/${r.name} → ${r.version}  ${r.phase ?? 'Pending'}${r.paused ? ' (paused)' : ''}${r.aborted ? ' (aborted)' : ''}`;
  const lines = [head, r.message ? `  ${r.message}` : ''];
  if (r.startedAt) lines.push(`  started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}; sessions cut so far: ${r.sessionsCut ?? 0}`);
  if (r.windows.length) lines.push('', table([['REGION', 'WINDOW (UTC)'], ...r.windows.map((w) => [w.region, `${w.startAt} → ${w.endAt}`])]));
  if (r.proxies.length)
    lines.push(
      '',
      table([
        ['PROXY', 'REGION', 'WAVE', 'STEP', 'OUT AT', 'SESSIONS', 'CUT', 'MESSAGE'],
        ...r.proxies.map((p) => [p.name, p.region, String(p.wave + 1), p.step, p.outAt ?? '-', p.sessionsAtOut === undefined ? '-' : String(p.sessionsAtOut), p.sessionsCut === undefined ? '-' : String(p.sessionsCut), p.message ?? '']),
      ]),
    );
  const given = r.notices.filter((n) => n.givenAt).length;
  if (r.notices.length) lines.push('', `Notices: ${given} of ${r.notices.length} given${r.notices.some((n) => n.channels.some((c) => c.result === 'failed')) ? ' (some channels failed: see --json)' : ''}`);
  return lines.filter((l, i) => l !== '' || i > 1).join('\n');
}
