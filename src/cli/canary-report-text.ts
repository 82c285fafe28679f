import type { CanaryView } from '../admin/canary-schemas.js';
import { queryLabel } from '../canary/core/prometheus-analysis.js';
import { formatValue } from '../canary/core/judge-canary.js';
import { table } from './text-table.js';


const num = (v: number | undefined): string => (v === undefined ? '-' : formatValue(v));

/** `meridian canary report`: canary against baseline, check by check, interval by interval, with the verdict and why. */
export function renderCanaryReport(st: CanaryView): string {
  const lines = [
    `${st.namespace}/${st.name}: build ${st.build} on ${st.proxies.join(', ') || '(not chosen yet)'}`,
    `  ${st.phase ?? 'Pending'}${st.paused ? ' (paused)' : ''}${st.message ? `: ${st.message}` : ''}`,
  ];
  if (st.decision) lines.push(`  decision: ${st.decision.kind} at ${st.decision.at}: ${st.decision.reason}`);
  for (const d of st.diagnostics ?? []) lines.push(`  diagnostics of ${d.proxy}: ${d.files.join(', ') || '(none)'}${d.error ? ` (${d.error})` : ''}`);
  for (const [i, iv] of st.intervals.entries()) {
    lines.push('', `Interval ${i + 1}: ${iv.from} → ${iv.to}: ${iv.verdict}`);
    lines.push(table([['CHECK', 'PROXY', 'CANARY', 'BASELINE', 'LIMIT', 'RESULT', 'WHY'], ...iv.outcomes.map((o) => [o.check, o.proxy, num(o.value), num(o.baseline), num(o.limit), o.result, o.reason]), ...(iv.queries ?? []).map((o) => [queryLabel(o.query), o.proxy, num(o.value), num(o.baseline), num(o.limit), o.result, o.reason])]));
  }
  if (!st.intervals.length) lines.push('', 'No analysis interval has ended yet.');
  return lines.join('\n');
}
