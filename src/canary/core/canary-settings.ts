import { CANARY_DEFAULTS, type ProxyCanarySpec } from '../../model/canary.js';
import { durationOr } from '../../model/duration.js';
import type { NoticeChannel } from '../../model/rollout.js';
import { resolveChecks, type ResolvedCheck } from './canary-checks.js';
import { resolvePrometheus, type ResolvedPrometheus } from './prometheus-analysis.js';

/** A canary spec with every default filled in (CANARY_DEFAULTS) and every duration in ms. */
export interface CanarySettings {
  readonly bakeMs: number;
  readonly intervalMs: number;
  /** As written (the deploy run's notice schedule reads them as text). */
  readonly leadTimes: readonly string[];
  readonly rollbackLeadTime: string;
  readonly drainDeadline: string;
  readonly channels: readonly NoticeChannel[];
  readonly optInOnly: boolean;
  readonly onSuccess: 'promote' | 'revert';
  readonly checks: readonly ResolvedCheck[];
  readonly prometheus?: ResolvedPrometheus;
  /** What to capture from a failing proxy before it is taken back. */
  readonly diagnostics: { readonly pprof: boolean; readonly command?: readonly string[] };
}

/** The spec's defaults, resolved once: every reader of a canary spec goes through this. */
export function resolveCanarySpec(spec: ProxyCanarySpec): CanarySettings {
  const prometheus = spec.analysis?.prometheus;
  return {
    bakeMs: durationOr(spec.bakeTime, CANARY_DEFAULTS.bakeTime),
    intervalMs: durationOr(spec.analysisInterval, CANARY_DEFAULTS.analysisInterval),
    leadTimes: spec.notice?.leadTimes ?? CANARY_DEFAULTS.leadTimes,
    rollbackLeadTime: spec.notice?.rollbackLeadTime ?? CANARY_DEFAULTS.rollbackLeadTime,
    drainDeadline: spec.drain?.deadline ?? CANARY_DEFAULTS.drainDeadline,
    channels: spec.notice?.channels ?? [],
    optInOnly: (spec.traffic ?? CANARY_DEFAULTS.traffic) === 'optInOnly',
    onSuccess: spec.onSuccess ?? CANARY_DEFAULTS.onSuccess,
    checks: resolveChecks(spec.analysis?.checks),
    ...(prometheus ? { prometheus: resolvePrometheus(prometheus) } : {}),
    diagnostics: { pprof: spec.build.debug ?? false, ...(spec.diagnostics?.command ? { command: spec.diagnostics.command } : {}) },
  };
}
