import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ManifestProblem } from '../model/store.js';

/** Metrics of the controller machinery itself: reconcile passes and refused inputs. */
export function registerControllerMetrics(registry: Registry, problems: () => readonly ManifestProblem[]) {
  const registers = [registry];
  const passes = new Counter({ name: 'meridian_reconcile_total', help: 'Reconcile passes by kind and result', labelNames: ['kind', 'result'] as const, registers });
  const duration = new Histogram({
    name: 'meridian_reconcile_duration_seconds',
    help: 'Time of one reconcile pass',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers,
  });
  new Gauge({
    name: 'meridian_manifest_problems',
    help: 'Manifest problems currently refused (the last valid version stays in force)',
    registers,
    collect() {
      this.set(problems().length);
    },
  });
  return {
    onPass(kind: string, result: 'success' | 'error', seconds: number): void {
      passes.inc({ kind, result });
      duration.observe({ kind }, seconds);
    },
  };
}
