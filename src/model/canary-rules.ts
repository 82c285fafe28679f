import { CANARY_CHECKS, CANARY_DEFAULTS, type PrometheusProvider, type ProxyCanarySpec } from './canary.js';
import { parseDuration } from './duration.js';
import type { FieldError } from './field-error.js';
import { DEFAULT_PROMETHEUS_TIMEOUT, PROMQL_PLACEHOLDERS, unknownPlaceholders } from './prometheus.js';

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
  if (spec.analysis?.prometheus) out.push(...prometheusErrors(spec.analysis.prometheus));
  const bake = parseDuration(spec.bakeTime ?? CANARY_DEFAULTS.bakeTime);
  const interval = parseDuration(spec.analysisInterval ?? CANARY_DEFAULTS.analysisInterval);
  if (interval.ok && interval.value <= 0) out.push({ path: ['spec', 'analysisInterval'], message: 'must be longer than 0' });
  else if (bake.ok && interval.ok && bake.value < interval.value)
    out.push({ path: ['spec', 'bakeTime'], message: `shorter than one analysis interval (${spec.analysisInterval ?? CANARY_DEFAULTS.analysisInterval}): nothing would be judged` });
  return out;
}

const KNOWN_PLACEHOLDERS = PROMQL_PLACEHOLDERS.map((p) => `{{${p}}}`).join(' ');

function prometheusErrors(prom: PrometheusProvider): FieldError[] {
  const out: FieldError[] = [];
  const at = ['spec', 'analysis', 'prometheus'] as const;
  const timeout = parseDuration(prom.timeout ?? DEFAULT_PROMETHEUS_TIMEOUT);
  if (timeout.ok && timeout.value <= 0) out.push({ path: [...at, 'timeout'], message: 'must be longer than 0' });
  const builtIn: ReadonlySet<string> = new Set(CANARY_CHECKS);
  const seen = new Map<string, number>();
  prom.queries.forEach((q, i) => {
    const path = [...at, 'queries', i];
    const first = seen.get(q.name);
    if (first !== undefined) out.push({ path: [...path, 'name'], message: `query "${q.name}" is already set at index ${first}` });
    else seen.set(q.name, i);
    if (builtIn.has(q.name)) out.push({ path: [...path, 'name'], message: `"${q.name}" is a built-in check; give the query another name` });
    for (const field of ['query', 'baselineQuery', 'sampleQuery'] as const) {
      const unknown = unknownPlaceholders(q[field] ?? '');
      if (unknown.length) out.push({ path: [...path, field], message: `unknown placeholder ${unknown.join(' ')} (known: ${KNOWN_PLACEHOLDERS})` });
    }
    if (q.max === undefined && q.maxRelative === undefined) out.push({ path, message: 'give max, maxRelative or both: a query with no limit cannot fail' });
    if (q.maxRelative !== undefined && q.baselineQuery === undefined) out.push({ path: [...path, 'maxRelative'], message: 'needs a baselineQuery to be relative to' });
    if ((q.minSample ?? 1) > 1 && q.sampleQuery === undefined)
      out.push({ path: [...path, 'minSample'], message: 'above 1 needs a sampleQuery: without one the sample is 1 when a value came back' });
  });
  return out;
}
