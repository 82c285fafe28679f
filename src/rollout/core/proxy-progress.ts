import type { RolloutHookAction } from '../../model/actuators.js';
import type { Proxy } from '../../model/fleet.js';
import type { ProxyObservation } from '../../model/snapshot.js';
import { assertNever } from '../../model/result.js';
import { claimAction, iso, sameVersion, wakeAt, waitingForRetry, type ProxyDraft, type RolloutDraft } from './rollout-draft.js';
import { hookId } from './rollout-ids.js';

/** Only a webhook can hold a proxy out of a load balancer; other methods leave rotation to the redirect. */
export function hasRotationHook(p: Proxy | undefined): boolean {
  return p?.upgrade?.method === 'webhook';
}

function fleetProxy(d: RolloutDraft, name: string): Proxy | undefined {
  return d.fleet.proxies.find((p) => p.name === name);
}

/** Asks for the proxy's hook this pass; false when it waits for a retry or another step has the pass's action. */
function requestHook(d: RolloutDraft, p: ProxyDraft, action: RolloutHookAction, version: string): boolean {
  if (waitingForRetry(d, p.retryAt)) return false;
  const id = hookId(d.rollout, d.startedAt, p.name, action, version, action === 'out-of-rotation' ? (p.takeOuts ?? 1) : 1);
  return claimAction(d, { kind: 'hook', id, proxy: p.name, action, version });
}

/** Moves the proxy to a new step: the failures and retry time of the old step's hook are forgotten. */
export function moveTo(p: ProxyDraft, step: ProxyDraft['step']): void {
  p.step = step;
  delete p.hookFailures;
  delete p.retryAt;
}

/** Back into rotation, through the in-rotation hook when the method has one, then the end step. */
export function returnToRotation(d: RolloutDraft, p: ProxyDraft, end: 'Done' | 'Failed' | 'Skipped', message: string): void {
  p.message = message;
  delete p.hookFailures;
  delete p.retryAt;
  if (hasRotationHook(fleetProxy(d, p.name))) {
    p.returning = end;
    requestHook(d, p, 'in-rotation', runningVersion(d, p));
  } else finish(d, p, end);
}

export function finish(d: RolloutDraft, p: ProxyDraft, end: 'Done' | 'Failed' | 'Skipped'): void {
  moveTo(p, end);
  delete p.returning;
  if (end === 'Done') p.doneAt = iso(d.now);
  d.events.push({ reason: `Proxy${end}`, proxy: p.name, region: p.region, message: p.message ?? end });
}

/** A failed upgrade: roll back when the policy says so and there is a version to go back to, else back into rotation as Failed. */
export function failProxy(d: RolloutDraft, p: ProxyDraft, reason: string): void {
  d.events.push({ reason: 'ProxyUpgradeFailed', proxy: p.name, region: p.region, message: reason });
  const canRollBack = d.settings.rollbackOnFailure && p.fromVersion !== undefined && (p.step === 'Upgrading' || p.step === 'Verifying');
  if (canRollBack && p.fromVersion !== undefined) {
    moveTo(p, 'RollingBack');
    delete p.rolledBackAt;
    p.verifyPasses = 0;
    p.message = `${reason}; rolling back to ${p.fromVersion}`;
    requestHook(d, p, 'rollback', p.fromVersion);
  } else returnToRotation(d, p, 'Failed', reason);
}

function runningVersion(d: RolloutDraft, p: ProxyDraft): string {
  return d.observations.get(p.name)?.metrics?.version ?? p.fromVersion ?? d.settings.version;
}

/** One step forward for a proxy Meridian holds out of rotation, as far as what is observed allows. */
export function advanceProxy(d: RolloutDraft, p: ProxyDraft): void {
  if (p.returning) {
    requestHook(d, p, 'in-rotation', runningVersion(d, p));
    return;
  }
  switch (p.step) {
    case 'OutOfRotation': {
      // Until the load balancer lets it go, a restart changes nothing: the drain is yet to start.
      const started = processStart(d.observations.get(p.name));
      if (started !== undefined) p.processStartedAt = started;
      requestHook(d, p, 'out-of-rotation', runningVersion(d, p));
      return;
    }
    case 'Draining':
      return drain(d, p);
    case 'Upgrading':
      return upgrade(d, p);
    case 'Verifying':
      return verify(d, p, d.settings.version, p.upgradeAt, () => returnToRotation(d, p, 'Done', `Upgraded to ${d.settings.version}`), (why) => failProxy(d, p, why));
    case 'RollingBack': {
      const from = p.fromVersion ?? d.settings.version;
      if (!p.rolledBackAt) {
        requestHook(d, p, 'rollback', from);
        return;
      }
      const failed = p.message ?? 'upgrade failed';
      return verify(d, p, from, p.rolledBackAt, () => returnToRotation(d, p, 'Failed', `${failed}; rolled back to ${from}`), (why) => returnToRotation(d, p, 'Failed', `${failed}; the rollback failed too: ${why}`));
    }
    case 'Pending':
    case 'Noticed':
    case 'Done':
    case 'Failed':
    case 'Skipped':
      return;
    default:
      return assertNever(p.step, 'proxy step');
  }
}

/** process_start_time_seconds of a proxy seen up, as an ISO instant. */
export function processStart(obs: ProxyObservation | undefined): string | undefined {
  const s = obs?.up ? obs.metrics?.startTimeSeconds : undefined;
  return s === undefined ? undefined : iso(Math.round(s * 1000));
}

/**
 * Why a proxy being drained is back in rotation, if it is: its process restarted (a restarted
 * Teleport registers again and takes new sessions), or, where a load balancer holds it out, its
 * session count went up (only new sessions raise it).
 */
function backInRotation(d: RolloutDraft, p: ProxyDraft, obs: ProxyObservation): string | undefined {
  const started = processStart(obs);
  if (started !== undefined && p.processStartedAt !== undefined && started !== p.processStartedAt) return `Restarted at ${started} while out of rotation`;
  const fresh = obs.up && Date.parse(obs.lastScrapeAt) >= Date.parse(p.outAt ?? iso(d.now));
  if (fresh && hasRotationHook(fleetProxy(d, p.name)) && p.sessionsLeft !== undefined && obs.sessionsTotal > p.sessionsLeft)
    return `Back in rotation: sessions went up from ${p.sessionsLeft} to ${obs.sessionsTotal}`;
  return undefined;
}

/**
 * The proxy came back into rotation before its upgrade was asked for: out of rotation again and a
 * drain from the start (a new deadline: the sessions on it now are new), never an upgrade over them.
 */
function takeOutAgain(d: RolloutDraft, p: ProxyDraft, obs: ProxyObservation, why: string): void {
  const webhook = hasRotationHook(fleetProxy(d, p.name));
  moveTo(p, webhook ? 'OutOfRotation' : 'Draining');
  p.takeOuts = (p.takeOuts ?? 1) + 1;
  p.outAt = iso(d.now);
  p.sessionsAtOut = obs.sessionsTotal;
  const started = processStart(obs);
  if (started !== undefined) p.processStartedAt = started;
  delete p.sessionsLeft;
  delete p.drainedAt;
  delete p.sessionsCut;
  delete p.upgradeRequestedAt;
  p.message = `${why}: taken out of rotation again with ${obs.sessionsTotal} sessions; the drain starts over`;
  d.events.push({ reason: 'ProxyBackInRotation', proxy: p.name, region: p.region, message: p.message });
  if (webhook) requestHook(d, p, 'out-of-rotation', runningVersion(d, p));
  else drain(d, p);
}

/** Waits for the sessions to end, up to the deadline; the upgrade after the deadline cuts the rest, counted. */
function drain(d: RolloutDraft, p: ProxyDraft): void {
  const obs = d.observations.get(p.name);
  // Never observed since a restart: its sessions are unknown, so nothing is cut or counted blind.
  if (obs === undefined) {
    p.message = 'Draining: waiting for the first observation of the proxy';
    return;
  }
  const back = backInRotation(d, p, obs);
  if (back) return takeOutAgain(d, p, obs, back);
  // The page had no start time when the proxy went out: the first one seen is the one to compare with.
  p.processStartedAt ??= processStart(obs);
  const outAt = Date.parse(p.outAt ?? iso(d.now));
  const deadline = outAt + d.settings.drainDeadlineMs;
  const fresh = obs.up && Date.parse(obs.lastScrapeAt) >= outAt;
  // Recorded each time the count halves (and at 0), not at every scrape: a handful of status writes per drain.
  if (fresh && (p.sessionsLeft === undefined || obs.sessionsTotal === 0 || obs.sessionsTotal * 2 <= p.sessionsLeft)) p.sessionsLeft = obs.sessionsTotal;
  // Two failed scrapes in a row: the process is gone and holds no session.
  const down = obs !== undefined && !obs.up && obs.consecutiveFailures >= 2;
  if ((fresh && obs.sessionsTotal === 0) || down) {
    p.drainedAt = iso(d.now);
    p.sessionsCut = 0;
    p.message = down ? 'Proxy is down: nothing to drain' : 'Drained';
  } else if (d.now >= deadline) {
    p.drainedAt = iso(d.now);
    p.sessionsCut = obs.sessionsTotal;
    p.message = `Drain deadline reached with ${p.sessionsCut} sessions open`;
    d.events.push({ reason: 'DrainDeadline', proxy: p.name, region: p.region, message: p.message });
  } else {
    wakeAt(d, deadline);
    return;
  }
  moveTo(p, 'Upgrading');
  upgrade(d, p);
}

function upgrade(d: RolloutDraft, p: ProxyDraft): void {
  const obs = d.observations.get(p.name);
  // Already there (an earlier call took effect before a crash, or an operator did it): no second restart.
  if (obs?.up && sameVersion(obs.metrics?.version, d.settings.version)) {
    moveTo(p, 'Verifying');
    p.upgradeAt = iso(d.now);
    p.verifyPasses = 0;
    return;
  }
  // Once the upgrade was asked for, a restart may be its own doing; before, it is not, and new sessions may be on it.
  const back = obs && p.upgradeRequestedAt === undefined ? backInRotation(d, p, obs) : undefined;
  if (obs && back) return takeOutAgain(d, p, obs, back);
  // Written with the intent, before the call: a crash after it still knows the call may have been made.
  if (requestHook(d, p, 'upgrade', d.settings.version)) p.upgradeRequestedAt ??= iso(d.now);
}

/** `consecutiveScrapes` fresh scrapes in a row that say ready and `version`, within the timeout. */
function verify(d: RolloutDraft, p: ProxyDraft, version: string, sinceIso: string | undefined, passed: () => void, failed: (why: string) => void): void {
  const since = Date.parse(sinceIso ?? iso(d.now));
  const obs = d.observations.get(p.name);
  if (obs && Date.parse(obs.lastScrapeAt) > since && obs.lastScrapeAt !== p.lastVerifiedScrapeAt) {
    p.lastVerifiedScrapeAt = obs.lastScrapeAt;
    const good = obs.up && obs.readyzStatus === 200 && sameVersion(obs.metrics?.version, version);
    p.verifyPasses = good ? (p.verifyPasses ?? 0) + 1 : 0;
  }
  if ((p.verifyPasses ?? 0) >= d.settings.verifyScrapes) return passed();
  const timeoutAt = since + d.settings.verifyTimeoutMs;
  if (d.now >= timeoutAt) {
    const seen = obs?.metrics?.version ?? 'unknown';
    return failed(`not verified within ${Math.round(d.settings.verifyTimeoutMs / 1000)}s: wanted ready on ${version}, last seen ${obs?.up ? `readyz ${obs.readyzStatus ?? '?'}` : 'down'} on ${seen}`);
  }
  wakeAt(d, timeoutAt);
}
