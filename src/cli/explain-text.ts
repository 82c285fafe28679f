import type { ExplainedChoice } from '../redirect/core/explain-choice.js';

/** `meridian explain-redirect`: the decision first, then the rules in order, then every region. */
export function renderExplanation(ip: string, { decision, explanation: e }: ExplainedChoice): string {
  const out: string[] = [];
  const loc = e.location;
  const where = loc
    ? [loc.countryCode, loc.continentCode].filter(Boolean).join(', ') + (loc.latitude !== undefined && loc.longitude !== undefined ? ` at ${loc.latitude.toFixed(2)}, ${loc.longitude.toFixed(2)}` : ', no coordinates')
    : 'not found (private, unknown or invalid address)';
  out.push(`Client ${ip}: ${where}`);
  out.push(
    decision.kind === 'proxy'
      ? `Decision: ${decision.proxy} in ${decision.region} (${decision.reason}${decision.distanceKm !== undefined ? `, ${Math.round(decision.distanceKm)} km` : ''}) -> ${decision.publicUrl}`
      : `Decision: no proxy available (${decision.reason}); the login URL answers 503`,
  );
  if (e.proxyChoice) out.push(`Proxy: ${e.proxyChoice.proxy}, ${e.proxyChoice.why}`);
  out.push('', 'Rules:');
  for (const s of e.steps) out.push(`  ${s.rule.padEnd(14)} ${s.outcome.padEnd(15)} ${s.region ?? s.canary ?? ''}${s.why ? `  ${s.why}` : ''}`.trimEnd());
  if (e.canary && e.canaryRegions) {
    out.push('', `Canary ${e.canary} (its proxies, nearest region first):`);
    regionLines(e.canaryRegions, out);
  }
  out.push('', `Regions (observed ${e.observedAt}):`);
  regionLines(e.regions, out);
  return out.join('\n');
}

function regionLines(regions: ExplainedChoice['explanation']['regions'], out: string[]): void {
  for (const r of regions) {
    const km = r.distanceKm !== undefined ? `${Math.round(r.distanceKm)} km` : '-';
    out.push(`  ${r.region.padEnd(12)} ${km.padStart(9)}  ${r.verdict.padEnd(16)} ${r.state}${r.isDefault ? ' (default)' : ''}`);
    for (const p of r.proxies) {
      const load = p.sessions === null ? 'load unknown' : `${p.sessions} sessions`;
      out.push(`      ${p.name.padEnd(16)} ${p.state.padEnd(12)} ${load}${p.capacity !== undefined ? ` / ${p.capacity}` : ''}${p.candidate ? '  candidate' : ''}`);
    }
  }
}
