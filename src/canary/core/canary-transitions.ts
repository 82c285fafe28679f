import type { ProxyCanaryStatus } from '../../model/canary.js';
import { setCondition } from '../../model/conditions.js';
import type { ProxyFleetSpec } from '../../model/fleet.js';
import { DEFAULT_NAMESPACE } from '../../model/resource.js';
import type { ProxyRolloutStatus } from '../../model/rollout.js';
import { VERSION_SKEW_CONDITION } from '../../rollout/core/version-skew-gate.js';
import { promotionRollout } from './canary-runs.js';
import type { CanaryContext, CanaryEvent, CanaryStep, RunPart } from './canary-step-types.js';
import { resolveCanarySpec } from './canary-settings.js';

export const iso = (ms: number): string => new Date(ms).toISOString();

/** `namespace/name`. */
export const canaryName = (ctx: CanaryContext): string => `${ctx.canary.metadata.namespace ?? DEFAULT_NAMESPACE}/${ctx.canary.metadata.name}`;

/** Stamps observedGeneration and the Ready condition; drops `inFlight` (the caller writes it with the action). */
export function settle(ctx: CanaryContext, next: ProxyCanaryStatus): ProxyCanaryStatus {
  const g = ctx.canary.metadata.generation ?? 0;
  const invalid = next.phase === 'Invalid';
  const { inFlight: _, ...rest } = next;
  return {
    ...rest,
    observedGeneration: g,
    conditions: setCondition(
      next.conditions ?? [],
      { type: 'Ready', status: invalid ? 'False' : 'True', reason: invalid ? 'InvalidSpec' : 'SpecValid', message: invalid ? (next.message ?? '') : 'The spec is valid for the fleet', observedGeneration: g },
      iso(ctx.now),
    ),
  };
}

/** A step with no outside action. */
export function settled(ctx: CanaryContext, next: ProxyCanaryStatus, events: readonly CanaryEvent[], wakeAt?: number): CanaryStep {
  return { status: settle(ctx, next), ...(wakeAt === undefined ? {} : { wakeAt }), events };
}

/** The interval under way ends with the bake. */
function leavingBake(st: ProxyCanaryStatus): ProxyCanaryStatus {
  const { analysis: _, ...rest } = st;
  return rest;
}

/**
 * Diagnostics first (a debug build's pprof, the configured command), recorded as in flight before
 * they are taken; then the build goes back through the revert run.
 */
export function rollBack(ctx: CanaryContext, fleet: ProxyFleetSpec, st: ProxyCanaryStatus, reason: string, capture: readonly string[], events: readonly CanaryEvent[]): CanaryStep {
  const at = iso(ctx.now);
  const next: ProxyCanaryStatus = { ...leavingBake(st), phase: 'RollingBack', decision: { kind: 'rollback', reason, at }, message: `Rolling back: ${reason}` };
  const said = [...events, { level: 'warn' as const, reason: 'CanaryRollingBack', message: 'Canary rolling back', fields: { cause: reason } }];
  const what = resolveCanarySpec(ctx.canary.spec).diagnostics;
  const proxies = capture.flatMap((p) => fleet.proxies.filter((x) => x.name === p));
  if (!(what.pprof || what.command) || !proxies.length) return settled(ctx, next, said, ctx.now);
  return { status: settle(ctx, next), action: { kind: 'capture', id: `${canaryName(ctx)}@${at}`, proxies, what }, events: said };
}

export function hold(ctx: CanaryContext, st: ProxyCanaryStatus, reason: string, events: readonly CanaryEvent[]): CanaryStep {
  const next: ProxyCanaryStatus = { ...leavingBake(st), phase: 'Held', decision: { kind: 'hold', reason, at: iso(ctx.now) }, message: `Held for the operator: ${reason} (meridian canary promote|rollback)` };
  return settled(ctx, next, [...events, { level: 'info', reason: 'CanaryHeld', message: `Canary held for the operator: ${reason}` }]);
}

/** Promoting, recorded with the create of the ProxyRollout of the build as in flight. */
export function promote(ctx: CanaryContext, st: ProxyCanaryStatus, reason: string, events: readonly CanaryEvent[]): CanaryStep {
  const next: ProxyCanaryStatus = st.phase === 'Promoting' ? st : { ...leavingBake(st), phase: 'Promoting', decision: { kind: 'succeed', reason, at: iso(ctx.now) } };
  return { status: settle(ctx, next), action: { kind: 'promote', rollout: promotionRollout({ ...ctx.canary, status: next }) }, events };
}

/** The promotion rollout exists: the canary's work is done. */
export function promoted(ctx: CanaryContext, st: ProxyCanaryStatus, ref: string): ProxyCanaryStatus {
  const spec = ctx.canary.spec;
  return settle(ctx, { ...st, phase: 'Promoted', promotedRollout: ref, message: `Promoted: ProxyRollout ${ref} takes ${spec.build.version} to the fleet${spec.autoPromote ? '' : ' once started (meridian rollout start)'}` });
}

/**
 * The canary's status with its deploy or revert run's status in it, and what that run's end means
 * for the canary: deployed, it bakes; failed to deploy, it goes back; reverted, it is done.
 */
export function foldRun(ctx: CanaryContext, base: ProxyCanaryStatus, part: RunPart, run: ProxyRolloutStatus): { readonly status: ProxyCanaryStatus; readonly events: readonly CanaryEvent[] } {
  const st = withRunSkew({ ...base, [part]: run }, run);
  const build = ctx.canary.spec.build.version;
  const proxies = (st.proxies ?? []).join(', ');
  if (part === 'deploy') {
    if (run.phase === 'Completed') {
      const now = iso(ctx.now);
      return { status: settle(ctx, { ...st, phase: 'Baking', bakeStartedAt: now, intervalStartedAt: now, analysis: { windows: [] }, message: `Baking ${build} on ${proxies}` }), events: [{ level: 'info', reason: 'CanaryDeployed', message: `Canary of ${build} deployed; baking` }] };
    }
    if (run.phase === 'Failed' || run.phase === 'Aborted') {
      const reason = `deploying the build failed: ${run.message ?? ''}`;
      return { status: settle(ctx, { ...st, phase: 'RollingBack', decision: { kind: 'rollback', reason, at: iso(ctx.now) }, message: `Rolling back: ${reason}` }), events: [{ level: 'warn', reason: 'CanaryRollingBack', message: 'Canary rolling back', fields: { cause: reason } }] };
    }
    return { status: settle(ctx, { ...st, message: `Deploying ${build} to ${proxies}${waitsOf(run)}` }), events: [] };
  }
  const reason = st.decision?.reason;
  if (run.phase === 'Completed' || run.phase === 'Failed') return { status: settle(ctx, { ...st, phase: 'RolledBack', message: `${reason ?? 'rolled back'}; ${run.message ?? ''}` }), events: [{ level: 'info', reason: 'CanaryRolledBack', message: `Canary rolled back: ${run.message ?? ''}` }] };
  return { status: settle(ctx, { ...st, message: `Rolling back: ${reason ?? ''}${waitsOf(run)}` }), events: [] };
}

/** The canary shows the VersionSkewOK condition of the run it is in (deploy or revert), as that run judged it this pass. */
function withRunSkew(st: ProxyCanaryStatus, run: ProxyRolloutStatus): ProxyCanaryStatus {
  const skew = run.conditions?.find((x) => x.type === VERSION_SKEW_CONDITION);
  if (!skew) return st;
  const others = (st.conditions ?? []).filter((x) => x.type !== VERSION_SKEW_CONDITION);
  return { ...st, conditions: [...others, skew] };
}

/** What the run's proxies wait for, for the canary's message (it is not "deploying" while it waits for a window days away). */
function waitsOf(run: ProxyRolloutStatus): string {
  // A run that has not started says why itself (version skew: Auth too old, or its version unknown).
  if (run.phase === 'Pending' && !run.startedAt && run.message) return `: ${run.message}`;
  const waits = (run.proxies ?? []).flatMap((p) => (p.waitingFor ? [`${p.name} waits for ${p.waitingFor.message}`] : []));
  return waits.length ? `: ${waits.join('; ')}` : '';
}
