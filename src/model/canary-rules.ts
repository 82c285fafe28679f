import type { ProxyCanarySpec } from './canary.js';
import { parseDuration } from './duration.js';
import type { FieldError } from './field-error.js';

/** Rules a ProxyCanary must keep on its own (the schema cannot say them). */
export function canarySemanticErrors(spec: ProxyCanarySpec): FieldError[] {
  const out: FieldError[] = [];
  const s = spec.subset;
  const ways = [s.proxies, s.perRegion, s.matchLabels].filter((x) => x !== undefined).length;
  if (ways !== 1) out.push({ path: ['spec', 'subset'], message: 'give exactly one of proxies, perRegion or matchLabels' });
  if (s.regions && s.perRegion === undefined) out.push({ path: ['spec', 'subset', 'regions'], message: 'regions only goes with perRegion' });
  const seen = new Map<string, number>();
  (spec.analysis?.checks ?? []).forEach((c, i) => {
    const first = seen.get(c.name);
    if (first !== undefined) out.push({ path: ['spec', 'analysis', 'checks', i, 'name'], message: `check "${c.name}" is already set at index ${first}` });
    else seen.set(c.name, i);
  });
  const bake = parseDuration(spec.bakeTime ?? '2h');
  const interval = parseDuration(spec.analysisInterval ?? '5m');
  if (interval.ok && interval.value <= 0) out.push({ path: ['spec', 'analysisInterval'], message: 'must be longer than 0' });
  else if (bake.ok && interval.ok && bake.value < interval.value)
    out.push({ path: ['spec', 'bakeTime'], message: `shorter than one analysis interval (${spec.analysisInterval ?? '5m'}): nothing would be judged` });
  return out;
}
