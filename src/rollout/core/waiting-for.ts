import type { ProxyWait, WaitReason } from '../../model/rollout.js';
import { iso, type ProxyDraft, type RolloutDraft } from './rollout-draft.js';
import { currentNotices, END_STEPS, regionsByWave } from './schedule.js';
import { formatLocal, formatUtc } from './zoned-time.js';

/** `Sat 2026-01-03 02:00 JST (2026-01-02 17:00 UTC)`: how a time reads to the region's users and in UTC. */
export function bothTimes(atMs: number, timeZone: string): string {
  return `${formatLocal(atMs, timeZone)} (${formatUtc(atMs)})`;
}

function timeZoneOf(d: RolloutDraft, region: string): string {
  return d.settings.windows(region).timeZone;
}

/** A wait bound to end by `untilMs` (at the latest); the message names the time in both zones via `{until}`. */
export function waitUntil(d: RolloutDraft, region: string, reason: WaitReason, untilMs: number, message: string): ProxyWait {
  const local = formatLocal(untilMs, timeZoneOf(d, region));
  return { reason, until: iso(untilMs), untilLocal: local, message: message.replace('{until}', `${local} (${formatUtc(untilMs)})`) };
}

export function waitOpen(reason: WaitReason, message: string): ProxyWait {
  return { reason, message };
}

export interface PassState {
  readonly wave: number;
  readonly paused: boolean;
  readonly planChanged: boolean;
  readonly halted: boolean;
  readonly aborted: boolean;
}

/**
 * What each unfinished proxy waits for after this pass, for those the take-out rules did not
 * already explain (they know about maxUnavailable, the last ready proxy and runs holding it).
 * Only absolute times: the text changes when the wait does, not with the clock.
 */
export function describeWaits(d: RolloutDraft, s: PassState): void {
  const waves = regionsByWave(d);
  for (const p of d.proxies) {
    if (END_STEPS.has(p.step)) delete p.waitingFor;
    else p.waitingFor ??= waitOf(d, p, s, waves);
  }
}

function hookWait(d: RolloutDraft, p: ProxyDraft, what: string): ProxyWait {
  if (p.retryAt !== undefined && Date.parse(p.retryAt) > d.now)
    return waitUntil(d, p.region, 'HookRetry', Date.parse(p.retryAt), `${what}: failed ${p.hookFailures ?? 1} time(s), tried again at {until}`);
  return waitOpen('Hook', what);
}

function waitOf(d: RolloutDraft, p: ProxyDraft, s: PassState, waves: readonly (readonly string[])[]): ProxyWait {
  if (p.returning) return hookWait(d, p, `the in-rotation hook to put it back (then ${p.returning})`);
  switch (p.step) {
    case 'OutOfRotation':
      return hookWait(d, p, 'the out-of-rotation hook (the load balancer lets it go, then the drain starts)');
    case 'Draining':
      return drainWait(d, p);
    case 'Upgrading':
      return hookWait(d, p, `the upgrade hook to ${d.settings.version}`);
    case 'Verifying':
      return verifyWait(d, p, d.settings.version, p.upgradeAt);
    case 'RollingBack':
      return p.rolledBackAt ? verifyWait(d, p, p.fromVersion ?? '?', p.rolledBackAt) : hookWait(d, p, `the rollback hook to ${p.fromVersion ?? '?'}`);
    default:
      return turnWait(d, p, s, waves);
  }
}

function drainWait(d: RolloutDraft, p: ProxyDraft): ProxyWait {
  const obs = d.observations.get(p.name);
  if (!obs) return waitOpen('Unobserved', 'the first observation of the proxy since the controller started (its sessions are not known)');
  const deadline = Date.parse(p.outAt ?? iso(d.now)) + d.settings.drainDeadlineMs;
  const left = p.sessionsLeft ?? p.sessionsAtOut;
  return waitUntil(d, p.region, 'Drain', deadline, `${left === undefined ? 'the' : `at most ${left}`} sessions left (${p.sessionsAtOut ?? '?'} when taken out) to end; drain deadline at {until}, then the upgrade cuts the rest`);
}

function verifyWait(d: RolloutDraft, p: ProxyDraft, version: string, since: string | undefined): ProxyWait {
  const timeout = Date.parse(since ?? iso(d.now)) + d.settings.verifyTimeoutMs;
  return waitUntil(d, p.region, 'Verification', timeout, `${p.verifyPasses ?? 0} of ${d.settings.verifyScrapes} scrapes in a row ready on ${version}; fails at {until}`);
}

/** Pending or Noticed: the rollout's state, its wave, the window, the notices. */
function turnWait(d: RolloutDraft, p: ProxyDraft, s: PassState, waves: readonly (readonly string[])[]): ProxyWait {
  if (s.aborted) return waitOpen('Aborting', 'the abort: it stays on its version');
  if (s.planChanged) return waitOpen('PlanChanged', 'a new rollout: the spec changed after the start');
  if (s.halted) return waitOpen('Halted', 'the operator: the rollout halted after a proxy failed');
  if (s.paused) return waitOpen('Paused', 'meridian rollout resume');
  const window = d.windows.get(p.region);
  if (p.wave > s.wave) {
    const earlier = waves.slice(s.wave, p.wave).flat().join(', ');
    const opens = window ? `; then its window at {until}` : '';
    const text = `wave ${s.wave + 1} (${earlier}) to finish${opens}`;
    return window ? waitUntil(d, p.region, 'Wave', Date.parse(window.startAt), text) : waitOpen('Wave', text);
  }
  if (!window) return waitOpen('Window', `a maintenance window of ${p.region}: none opens`);
  const notices = currentNotices(d, p.region).filter((n) => n.givenAt === undefined).sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt));
  const next = notices[0];
  if (next) {
    if (next.retryAt !== undefined && Date.parse(next.retryAt) > d.now) return waitUntil(d, p.region, 'Notice', Date.parse(next.retryAt), `the ${next.leadTime} notice: it failed ${next.failedRounds ?? 1} time(s), tried again at {until}`);
    const due = Date.parse(next.dueAt);
    if (due > d.now) return waitUntil(d, p.region, 'Notice', due, `the ${next.leadTime} notice, due at {until}, for the window at ${bothTimes(Date.parse(window.startAt), timeZoneOf(d, p.region))}`);
    return waitOpen('Notice', `the ${next.leadTime} notice being sent`);
  }
  return waitUntil(d, p.region, 'Window', Date.parse(window.startAt), 'the window opening at {until}');
}
