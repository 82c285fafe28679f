import type { CanaryView } from '../admin/canary-schemas.js';
import { queryLabel } from '../canary/core/prometheus-analysis.js';
import { formatValue } from '../canary/core/judge-canary.js';
import { table } from './text-table.js';


const num = (v: number | undefined): string => (v === undefined ? '-' : formatValue(v));

/** `meridian canary status`: the phase, proxies off the build, and each proxy's step in the deploy (or revert) and what it waits for. */
export function renderCanaryStatus(st: CanaryView): string {
  const lines = [
    `${st.namespace}/${st.name}: build ${st.build} on ${st.proxies.join(', ') || '(not chosen yet)'}`,
    `  ${st.phase ?? 'Pending'}${st.paused ? ' (paused)' : ''}${st.message ? `: ${st.message}` : ''}`,
  ];
  if (st.decision) lines.push(`  decision: ${st.decision.kind} at ${st.decision.at}: ${st.decision.reason}`);
  if (st.versionSkew) lines.push(`  ${st.versionSkew.status === 'False' ? 'REFUSED: ' : ''}${st.versionSkew.message}`);
  for (const o of st.offBuild ?? []) lines.push(`  OFF BUILD: ${o.proxy} runs ${o.version} since ${o.since}; no invitee is sent there`);
  const rows = [...st.deploy.map((p) => ['deploy', p] as const), ...st.revert.map((p) => ['revert', p] as const)];
  if (rows.length)
    lines.push(
      '',
      table([
        ['RUN', 'PROXY', 'REGION', 'STEP', 'WAITING FOR / RESULT'],
        ...rows.map(([run, p]) => [run, p.name, p.region, p.step, p.waitingFor ? `waits for ${p.waitingFor.message}` : (p.message ?? '')]),
      ]),
    );
  const last = st.intervals.at(-1);
  if (last) lines.push('', `Last interval: ${last.from} → ${last.to}: ${last.verdict} (meridian canary report for the checks)`);
  return lines.join('\n');
}

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
