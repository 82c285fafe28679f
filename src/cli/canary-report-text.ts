import type { CanaryView } from '../admin/canary-schemas.js';

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n');
}

const num = (v: number | undefined): string => (v === undefined ? '-' : Number.isInteger(v) ? String(v) : v < 1 ? v.toFixed(4) : v.toFixed(1));

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
    lines.push(table([['CHECK', 'PROXY', 'CANARY', 'BASELINE', 'LIMIT', 'RESULT', 'WHY'], ...iv.outcomes.map((o) => [o.check, o.proxy, num(o.value), num(o.baseline), num(o.limit), o.result, o.reason]), ...(iv.queries ?? []).map((o) => [`prometheus:${o.query}`, o.proxy, num(o.value), num(o.baseline), num(o.limit), o.result, o.reason])]));
  }
  if (!st.intervals.length) lines.push('', 'No analysis interval has ended yet.');
  return lines.join('\n');
}
