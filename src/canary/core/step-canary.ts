import type { CanaryIntent, CanaryPhase, ProxyCanaryStatus } from '../../model/canary.js';
import { setCondition } from '../../model/conditions.js';
import { formatPath } from '../../model/field-error.js';
import type { ProxyFleetSpec } from '../../model/fleet.js';
import { stepRollout } from '../../rollout/core/step-rollout.js';
import { blocks, judgeSkew, skewCondition } from '../../rollout/core/version-skew-gate.js';
import { bake, queryAction } from './bake-canary.js';
import { deploySpec, previousVersion, promotionRollout, revertSpec, trackOffBuild } from './canary-runs.js';
import { resolveCanarySpec } from './canary-settings.js';
import type { CanaryContext, CanaryEvent, CanaryStep, RunPart } from './canary-step-types.js';
import { canaryName, foldRun, iso, promote, rollBack, settle, settled } from './canary-transitions.js';
import { selectCanaryProxies } from './select-subset.js';

const TERMINAL: ReadonlySet<CanaryPhase | undefined> = new Set(['Promoted', 'RolledBack']);
/** Phases in which the canary's proxies should run the build: those seen off it are marked. */
const ON_BUILD: ReadonlySet<CanaryPhase | undefined> = new Set(['Deploying', 'Baking', 'Held']);

/**
 * One pass of a ProxyCanary: choose the subset, deploy the build through the rollout steps, bake
 * with an analysis every interval against same-region baselines, then promote, hold for the
 * operator, or take the build back through the same steps. Pure: it returns the next status, at
 * most one outside action (its own, or its run's step in `run`), and when to look again; the
 * analysis interval under way is in the status, so any instance goes on with it.
 */
export function stepCanary(ctx: CanaryContext): CanaryStep {
  const st = ctx.canary.status ?? {};
  if (TERMINAL.has(st.phase)) return { status: st, events: [] };
  if (!ctx.fleet.ok) return settled(ctx, { ...st, phase: 'Invalid', message: ctx.fleet.error }, []);
  const fleet = ctx.fleet.value;
  if (!st.startedAt) return start(ctx, fleet, st);
  if (st.inFlight) return resume(ctx, fleet, st, st.inFlight);
  const [marked, events] = ON_BUILD.has(st.phase) ? markOffBuild(ctx, st) : [st, []];
  const decision = ctx.canary.spec.decision;
  switch (st.phase) {
    case 'Deploying':
      return runPass(ctx, fleet, marked, 'deploy', events);
    case 'Baking':
      return bake(ctx, fleet, marked, events);
    case 'Held':
      if (decision === 'promote') return promote(ctx, marked, 'the operator promoted it', events);
      if (decision === 'rollback') return rollBack(ctx, fleet, marked, 'the operator rolled it back', [], events);
      return settled(ctx, marked, events);
    case 'RollingBack':
      return runPass(ctx, fleet, marked, 'revert', events);
    case 'Promoting':
      return promote(ctx, marked, st.decision?.reason ?? 'the analysis passed', events);
    default:
      // Invalid or Pending after a start: the spec changed under a running canary; say so and wait.
      return { status: st, events: [] };
  }
}

function start(ctx: CanaryContext, fleet: ProxyFleetSpec, st: ProxyCanaryStatus): CanaryStep {
  const spec = ctx.canary.spec;
  if (spec.paused) return settled(ctx, { ...st, phase: 'Pending', message: 'Not started: run `meridian canary start`' }, []);
  const chosen = selectCanaryProxies(spec, fleet, (p) => ctx.observations.get(p)?.ready === true);
  if (!chosen.ok) return settled(ctx, { ...st, phase: 'Invalid', message: chosen.error.map((e) => `${formatPath(e.path)}: ${e.message}`).join('; ') }, []);
  // Teleport's version skew rule before anything starts; level-triggered: judged again every pass until it allows the build.
  const skew = judgeSkew(spec.build.version, ctx.auth, chosen.value.flatMap((p) => ctx.observations.get(p)?.metrics?.version ?? []));
  const conditions = setCondition(st.conditions ?? [], skewCondition(skew, ctx.canary.metadata.generation ?? 0), iso(ctx.now));
  if (blocks(skew)) {
    const message = `Not started: version skew: ${skew.message}`;
    // Said once when it begins to hold (or its reason changes), not every pass.
    const events: CanaryEvent[] = st.message === message ? [] : [{ level: 'warn', reason: 'VersionSkew', message: `Canary not started: version skew: ${skew.message}`, fields: { build: spec.build.version } }];
    return settled(ctx, { ...st, phase: 'Pending', message, conditions }, events);
  }
  const events: CanaryEvent[] = [{ level: 'info', reason: 'CanaryStarted', message: `Canary of ${spec.build.version} starts on ${chosen.value.length} proxies`, fields: { proxies: chosen.value } }];
  return settled(ctx, { ...st, startedAt: iso(ctx.now), proxies: chosen.value, phase: 'Deploying', message: `Deploying ${spec.build.version} to ${chosen.value.join(', ')}`, conditions }, events, ctx.now);
}

/** An action recorded as in flight and not folded in: made again (with the same id), never skipped. */
function resume(ctx: CanaryContext, fleet: ProxyFleetSpec, st: ProxyCanaryStatus, intent: CanaryIntent): CanaryStep {
  const events: CanaryEvent[] = [{ level: 'info', reason: 'IntentResumed', message: `The pass that made the canary's ${intent.kind} was interrupted; it is made again`, fields: { intent } }];
  const status = settle(ctx, st);
  switch (intent.kind) {
    case 'capture': {
      const proxies = intent.proxies.flatMap((p) => fleet.proxies.filter((x) => x.name === p));
      return { status, action: { kind: 'capture', id: intent.id, proxies, what: resolveCanarySpec(ctx.canary.spec).diagnostics }, events };
    }
    case 'query': {
      const action = queryAction(ctx, fleet, st, Date.parse(intent.at));
      // The queries left the spec meanwhile: the interval is judged without them.
      return action ? { status, action, events } : settled(ctx, st, events, ctx.now);
    }
    case 'promote':
      return { status, action: { kind: 'promote', rollout: promotionRollout(ctx.canary) }, events };
  }
}

/** Marks the canary proxies seen off the build (and unmarks those back on it): routing and analysis leave them out. */
function markOffBuild(ctx: CanaryContext, st: ProxyCanaryStatus): [ProxyCanaryStatus, CanaryEvent[]] {
  const offBuild = trackOffBuild({ ...ctx.canary, status: st }, ctx.observations, iso(ctx.now));
  const before = st.offBuild ?? [];
  const build = ctx.canary.spec.build.version;
  const events: CanaryEvent[] = [
    ...offBuild
      .filter((o) => !before.some((x) => x.proxy === o.proxy && x.version === o.version))
      .map((o): CanaryEvent => ({ level: 'warn', reason: 'CanaryProxyOffBuild', message: `Canary proxy ${o.proxy} left build ${build}: it runs ${o.version}; no invitee is sent there and the analysis leaves it out`, fields: { proxy: o.proxy, version: o.version } })),
    ...before.filter((o) => !offBuild.some((x) => x.proxy === o.proxy)).map((o): CanaryEvent => ({ level: 'info', reason: 'CanaryProxyOnBuild', message: `Canary proxy ${o.proxy} runs build ${build} again`, fields: { proxy: o.proxy } })),
  ];
  const { offBuild: _, ...rest } = st;
  return [offBuild.length ? { ...rest, offBuild } : rest, events];
}

/** A pass of the deploy or revert run: the run's own step (stepRollout), folded into the canary's status. */
function runPass(ctx: CanaryContext, fleet: ProxyFleetSpec, base: ProxyCanaryStatus, part: RunPart, events: readonly CanaryEvent[]): CanaryStep {
  const spec = ctx.canary.spec;
  const proxies = base.proxies ?? [];
  const name = `${canaryName(ctx)}/${part}`;
  const runSpec = part === 'deploy' ? deploySpec(spec, fleet, proxies) : revertSpec(spec, fleet, proxies, previousVersion(base.deploy, fleet, proxies));
  const runStatus = base[part] ?? {};
  // A revert puts proxies back on the version they ran before, which the Auth Service already
  // served: a rollback never waits on the skew rule (nor on an Auth address that cannot be read).
  const auth = part === 'deploy' ? ctx.auth : undefined;
  const step = stepRollout({
    rollout: name,
    generation: ctx.canary.metadata.generation ?? 0,
    spec: runSpec,
    status: runStatus,
    fleet,
    observations: ctx.observations,
    ...(ctx.outOfRotation ? { outOfRotation: ctx.outOfRotation } : {}),
    ...(auth ? { auth } : {}),
    now: ctx.now,
  });
  const folded = foldRun(ctx, base, part, step.status);
  const moved = folded.status.phase !== base.phase;
  return {
    status: folded.status,
    run: { part, name, spec: runSpec, status: runStatus, ...(auth ? { auth } : {}), base, ...(step.action ? { action: step.action } : {}) },
    ...(moved ? { wakeAt: ctx.now } : step.wakeAt === undefined ? {} : { wakeAt: step.wakeAt }),
    // What the run's end means for the canary is said where each of the run's writes is folded (foldRun).
    events,
  };
}
