import { Gauge, type Registry } from 'prom-client';
import { CANARY_CHECKS, CANARY_PHASES, CHECK_RESULTS, type CheckResult, type ProxyCanary } from '../model/canary.js';
import { DEFAULT_NAMESPACE } from '../model/resource.js';
import { overallResult } from './core/judge-canary.js';
import { queryLabel } from './core/prometheus-analysis.js';

/** Canary gauges, read from the stored canaries at scrape time. */
export function registerCanaryMetrics(registry: Registry, canaries: () => readonly ProxyCanary[]): void {
  const registers = [registry];
  const nameOf = (c: ProxyCanary): string => `${c.metadata.namespace ?? DEFAULT_NAMESPACE}/${c.metadata.name}`;
  new Gauge({
    name: 'meridian_canary_phase',
    help: 'Phase of each ProxyCanary: 1 for the current phase, 0 for the others',
    labelNames: ['canary', 'phase'] as const,
    registers,
    collect() {
      this.reset();
      for (const c of canaries()) for (const phase of CANARY_PHASES) this.set({ canary: nameOf(c), phase }, c.status?.phase === phase ? 1 : 0);
    },
  });
  new Gauge({
    name: 'meridian_canary_check',
    help: 'Result of each check (prometheus:NAME for a Prometheus query) in the latest analysis interval: 1 for the result it had (Fail if any canary proxy failed it), 0 for the others',
    labelNames: ['canary', 'check', 'result'] as const,
    registers,
    collect() {
      this.reset();
      for (const c of canaries()) {
        const latest = c.status?.intervals?.at(-1);
        if (!latest) continue;
        const byCheck = new Map<string, readonly { readonly result: CheckResult }[]>();
        for (const check of CANARY_CHECKS) byCheck.set(check, latest.outcomes.filter((o) => o.check === check));
        for (const q of new Set((latest.queries ?? []).map((o) => o.query))) byCheck.set(queryLabel(q), (latest.queries ?? []).filter((o) => o.query === q));
        for (const [check, outcomes] of byCheck) {
          if (!outcomes.length) continue;
          const result = overallResult(outcomes);
          for (const r of CHECK_RESULTS) this.set({ canary: nameOf(c), check, result: r }, r === result ? 1 : 0);
        }
      }
    },
  });
}
