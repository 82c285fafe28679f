import { createHash } from 'node:crypto';
import { setCondition, type ConditionInput } from '../../model/conditions.js';
import type { ProxyFleetSpec } from '../../model/fleet.js';
import type { ProxyRolloutProxyStatus, ProxyRolloutSpec, ProxyRolloutStatus, RolloutAction, RolloutPhase } from '../../model/rollout.js';
import type { ProxyObservation } from '../../model/snapshot.js';
import { advanceProxy, returnToRotation, finish } from './proxy-progress.js';
import { iso, newDraft, type RolloutDraft, type RolloutEvent } from './rollout-draft.js';
import { settingsFor, type RolloutSettings } from './rollout-settings.js';
import { completedMessage, driftCondition, trackDrift } from './drift.js';
import { currentWave, END_STEPS, giveDueNotices, initialProxies, regionsByWave, scheduleWindows, skipUntargeted } from './schedule.js';
import { isOutOfRotation, takeOut } from './take-out.js';
import { describeWaits } from './waiting-for.js';
import { blocks, judgeSkew, skewCondition, type AuthVersion, type SkewVerdict } from './version-skew-gate.js';

export interface RolloutContext {
  /** `namespace/name`. */
  readonly rollout: string;
  readonly generation: number;
  readonly spec: ProxyRolloutSpec;
  readonly status: ProxyRolloutStatus;
  /** Already checked against the rollout (rolloutFleetErrors). */
  readonly fleet: ProxyFleetSpec;
  readonly observations: ReadonlyMap<string, ProxyObservation>;
  /** Proxies out of rotation for any run (a canary, another rollout, this one): another run's are unavailable here too. */
  readonly outOfRotation?: ReadonlySet<string>;
  /** Proxies live canaries hold (deployed or being deployed), with who holds them: skipped, never moved off the canary's build. */
  readonly claimedByCanaries?: ReadonlyMap<string, string>;
  /** The fleet's Auth Service, for Teleport's version skew rule; absent when the fleet names none (not checked). */
  readonly auth?: AuthVersion;
  readonly now: number;
}

export interface RolloutStep {
  /** The next status, without `inFlight`: the caller writes the action there before making it. */
  readonly status: ProxyRolloutStatus;
  readonly action?: RolloutAction;
  /** When to look again if nothing else happens (epoch ms). */
  readonly wakeAt?: number;
  readonly events: readonly RolloutEvent[];
}

const TERMINAL: ReadonlySet<RolloutPhase | undefined> = new Set(['Completed', 'Failed', 'Aborted']);

/** What, if edited after the start, would make the proxies already done and those planned disagree. */
export function planHash(spec: ProxyRolloutSpec): string {
  // The artifact joins only when set, so rollouts started before it existed keep their hash.
  const plan = JSON.stringify([spec.version, spec.image ?? null, spec.selector ?? null, spec.waves ?? null, ...(spec.artifact ? [spec.artifact] : [])]);
  return createHash('sha256').update(plan).digest('hex').slice(0, 16);
}

/**
 * One pass of a rollout: reads the spec, status and what is observed, and returns the next status,
 * at most one outside action, and when to look again. Pure: the same input gives the same output.
 */
export function stepRollout(ctx: RolloutContext): RolloutStep {
  const st = ctx.status;
  const settings = settingsFor(ctx.spec, ctx.fleet, st);
  if (!st.startedAt) {
    if (ctx.spec.aborted) return settle(ctx, { ...st, finishedAt: st.finishedAt ?? iso(ctx.now) }, 'Aborted', 'Aborted before it started');
    if (ctx.spec.paused) return settle(ctx, st, 'Pending', 'Not started: run `meridian rollout start`');
    // Level-triggered: refused or unknown, it stays Pending and is judged again every pass (an Auth upgrade lets it start).
    const skew = startSkew(ctx, settings);
    if (blocks(skew)) {
      const message = `Not started: version skew: ${skew.message}`;
      const step = settle(ctx, withSkew(ctx, st, skew), 'Pending', message);
      // Said once when it begins to hold (or its reason changes), not every pass.
      return st.message === message ? step : { ...step, events: [{ reason: skew.kind === 'refused' ? 'VersionSkew' : 'AuthVersionUnknown', message }] };
    }
  }
  if (st.phase === 'Completed' && st.startedAt) return watchCompleted(ctx, st, settings.version);
  if (TERMINAL.has(st.phase)) return settle(ctx, st, st.phase ?? 'Completed', st.message ?? '');

  const started = st.startedAt ? { ...st, startedAt: st.startedAt } : start(ctx, settings);
  const d = newDraft({ rollout: ctx.rollout, now: ctx.now, settings, fleet: ctx.fleet, observations: ctx.observations, outOfRotation: ctx.outOfRotation, claimed: ctx.claimedByCanaries, auth: ctx.auth }, started);
  if (!st.startedAt) d.events.push({ reason: 'RolloutStarted', message: `Upgrading ${d.proxies.length} proxies to ${settings.version}` });
  // An action written as in flight is not replayed as such: the steps still call for it (with the
  // same id) unless what is observed shows it took effect, as for any other pass.
  if (st.inFlight) d.events.push({ reason: 'ActionInterrupted', message: `The pass that made ${describeAction(st.inFlight)} was interrupted; the steps decide again` });

  const planChanged = started.planHash !== planHash(ctx.spec);
  // Worked out again every pass: what each proxy waits for now.
  for (const p of d.proxies) delete p.waitingFor;
  if (ctx.spec.aborted) abort(d);
  else {
    for (const p of d.proxies) if (isOutOfRotation(p)) advanceProxy(d, p);
    const halted = d.proxies.some((p) => p.step === 'Failed' || p.step === 'RollingBack' || p.returning === 'Failed');
    if (!ctx.spec.paused && !halted && !planChanged) {
      skipUntargeted(d);
      scheduleWindows(d);
      giveDueNotices(d);
      const wave = currentWave(d.proxies, d.settings.waves.length);
      const taken = (regionsByWave(d)[wave] ?? []).flatMap((region) => takeOut(d, region));
      // A proxy just taken out may start draining (or call its hook) in this same pass.
      for (const p of taken) advanceProxy(d, p);
    }
  }
  describePassWaits(ctx, d);
  return conclude(ctx, d, started, planChanged);
}

/** Fills in what each unfinished proxy waits for (those without a wait yet), with the rollout's state as of this draft. */
export function describePassWaits(ctx: RolloutContext, d: RolloutDraft): void {
  const halted = !ctx.spec.aborted && d.proxies.some((p) => p.step === 'Failed' || p.step === 'RollingBack' || p.returning === 'Failed');
  const planChanged = ctx.status.planHash !== undefined && ctx.status.planHash !== planHash(ctx.spec);
  describeWaits(d, { wave: currentWave(d.proxies, d.settings.waves.length), paused: ctx.spec.paused === true, planChanged, halted, aborted: ctx.spec.aborted === true });
}

/** The rule for the whole run, against the Auth Service and every targeted proxy's version as observed. */
function startSkew(ctx: RolloutContext, s: RolloutSettings): SkewVerdict {
  const versions = s.targets.flatMap((p) => {
    const v = ctx.observations.get(p.name)?.metrics?.version;
    return v === undefined ? [] : [v];
  });
  return judgeSkew(s.version, ctx.auth, versions);
}

/** The run's VersionSkewOK condition for this pass. */
function withSkew(ctx: RolloutContext, status: ProxyRolloutStatus, skew: SkewVerdict): ProxyRolloutStatus {
  return { ...status, conditions: setCondition(status.conditions ?? [], skewCondition(skew, ctx.generation), iso(ctx.now)) };
}

function start(ctx: RolloutContext, s: RolloutSettings): ProxyRolloutStatus & { startedAt: string } {
  const proxies = initialProxies(s, (name) => ctx.observations.get(name)?.metrics?.version);
  return { ...ctx.status, startedAt: iso(ctx.now), planHash: planHash(ctx.spec), version: s.version, ...(s.image ? { image: s.image } : {}), ...(s.artifact ? { artifact: s.artifact } : {}), proxies, windows: [], notices: [] };
}

function abort(d: RolloutDraft): void {
  for (const p of d.proxies) {
    if (p.step === 'Pending' || p.step === 'Noticed') {
      p.message = 'Aborted before its turn';
      finish(d, p, 'Skipped');
    } else if (p.returning) advanceProxy(d, p);
    else if (isOutOfRotation(p)) returnToRotation(d, p, 'Skipped', `Aborted: back in rotation on ${d.observations.get(p.name)?.metrics?.version ?? p.fromVersion ?? 'its current version'}`);
  }
}

export function describeAction(a: RolloutAction): string {
  return a.kind === 'notify' ? `notice ${a.noticeId} on ${a.channels.join(', ')}` : `${a.action} hook of ${a.proxy} (${a.version})`;
}

function conclude(ctx: RolloutContext, d: RolloutDraft, started: ProxyRolloutStatus, planChanged: boolean): RolloutStep {
  const held = d.proxies.filter(isOutOfRotation);
  const failed = d.proxies.filter((p) => p.step === 'Failed' || p.returning === 'Failed' || p.step === 'RollingBack');
  const done = d.proxies.filter((p) => p.step === 'Done' || p.step === 'Skipped').length;
  const wave = currentWave(d.proxies, d.settings.waves.length);
  let phase: RolloutPhase = 'Progressing';
  let message = `Wave ${Math.min(wave + 1, d.settings.waves.length)}/${d.settings.waves.length}: ${done}/${d.proxies.length} done, ${held.length} out of rotation`;
  if (ctx.spec.aborted) [phase, message] = held.length ? ['Progressing', `Aborting: ${held.length} proxies going back into rotation`] : ['Aborted', abortedMessage(d.proxies)];
  else if (failed.length) [phase, message] = held.length ? ['Progressing', `Halting after ${failed.map((p) => p.name).join(', ')} failed: ${held.length} proxies finishing`] : ['Failed', `Halted: ${failed.map((p) => `${p.name}: ${p.message ?? 'failed'}`).join('; ')}`];
  else if (done === d.proxies.length) [phase, message] = ['Completed', completedMessage(d.proxies, d.settings.version)];
  else if (planChanged) message = 'spec.version, image, artifact, selector or waves changed after the start: abort this rollout and create a new one';
  else if (ctx.spec.paused) [phase, message] = ['Paused', `Paused: ${message}`];

  const terminal = TERMINAL.has(phase);
  const status: ProxyRolloutStatus = {
    ...started,
    currentWave: wave,
    windows: [...d.windows.values()],
    notices: d.notices,
    proxies: d.proxies,
    sessionsCut: d.proxies.reduce((n, p) => n + (p.sessionsCut ?? 0), 0),
    ...(terminal ? { finishedAt: started.finishedAt ?? iso(ctx.now) } : {}),
  };
  if (terminal) d.events.push({ reason: `Rollout${phase}`, message });
  const skew = terminal ? undefined : runSkew(d);
  if (skew && blocks(skew) && phase === 'Progressing' && !ctx.spec.aborted && !failed.length) message = `${message}; no proxy goes out: version skew: ${skew.message}`;
  const checked = skew ? withSkew(ctx, status, skew) : status;
  const withDrift = phase === 'Completed' ? { ...checked, conditions: setCondition(checked.conditions ?? [], driftCondition(d.proxies, d.settings.version, ctx.generation), iso(ctx.now)) } : checked;
  return { ...settle(ctx, withDrift, phase, message, planChanged), ...(d.action ? { action: d.action } : {}), ...(Number.isFinite(d.wakeAt) ? { wakeAt: d.wakeAt } : {}), events: d.events };
}

/** The rule as it stands for the proxies not yet taken out (each is checked again at its take-out). */
function runSkew(d: RolloutDraft): SkewVerdict {
  const versions = d.proxies.flatMap((p) => {
    if (p.step !== 'Pending' && p.step !== 'Noticed') return [];
    const v = d.observations.get(p.name)?.metrics?.version ?? p.fromVersion;
    return v === undefined || v === '' ? [] : [v];
  });
  return judgeSkew(d.settings.version, d.auth, versions);
}

/** Upgraded, skipped (by the abort, or before it) and failed proxies, each counted on its own. */
function abortedMessage(proxies: readonly ProxyRolloutProxyStatus[]): string {
  const count = (step: ProxyRolloutProxyStatus['step']) => proxies.filter((p) => p.step === step).length;
  const failed = count('Failed');
  return `Aborted: ${count('Done')} of ${proxies.length} proxies upgraded, ${count('Skipped')} skipped${failed ? `, ${failed} failed` : ''}`;
}

/**
 * A Completed rollout goes on watching what its proxies run (level-triggered: the saved status is
 * not the world): the Drifted condition and the message name every proxy seen off the target
 * since, and clear once it runs the target again.
 */
function watchCompleted(ctx: RolloutContext, st: ProxyRolloutStatus, version: string): RolloutStep {
  const before = st.proxies ?? [];
  const proxies = trackDrift(before, version, ctx.observations);
  const conditions = setCondition(st.conditions ?? [], driftCondition(proxies, version, ctx.generation), iso(ctx.now));
  const events: RolloutEvent[] = proxies.flatMap((p, i) =>
    p.driftedTo !== undefined && p.driftedTo !== before[i]?.driftedTo ? [{ reason: 'ProxyDrifted', proxy: p.name, region: p.region, message: `${p.name} runs ${p.driftedTo}, not ${version}, since the rollout completed` }] : [],
  );
  const step = settle(ctx, { ...st, proxies, conditions }, 'Completed', completedMessage(proxies, version));
  return { ...step, events };
}

/** Stamps phase, message, conditions and observedGeneration (the Argo Rollouts order: generation first, phase derived last). */
function settle(ctx: RolloutContext, status: ProxyRolloutStatus, phase: RolloutPhase, message: string, planChanged = false): RolloutStep {
  const nowIso = iso(ctx.now);
  const g = ctx.generation;
  const ready: ConditionInput = planChanged
    ? { type: 'Ready', status: 'False', reason: 'PlanChanged', message, observedGeneration: g }
    : { type: 'Ready', status: 'True', reason: 'SpecValid', message: 'The spec is valid for the fleet', observedGeneration: g };
  const progressing: ConditionInput = {
    type: 'Progressing',
    status: phase === 'Progressing' ? 'True' : phase === 'Paused' || phase === 'Pending' ? 'Unknown' : 'False',
    reason: `Rollout${phase}`,
    message,
    observedGeneration: g,
  };
  const conditions = setCondition(setCondition(status.conditions ?? [], ready, nowIso), progressing, nowIso);
  const { inFlight: _, ...rest } = status;
  return { status: { ...rest, observedGeneration: g, phase, message, conditions }, events: [] };
}
