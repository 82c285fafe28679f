import type { Delivery, DeliveryFailure } from '../../model/actuators.js';
import type { ProxyRolloutStatus, RolloutAction } from '../../model/rollout.js';
import { assertNever, type Result } from '../../model/result.js';
import { failProxy, finish, moveTo, returnToRotation } from './proxy-progress.js';
import { iso, newDraft, retryDelayMs, type RolloutDraft, type RolloutEvent } from './rollout-draft.js';
import { settingsFor } from './rollout-settings.js';
import { describePassWaits, type RolloutContext } from './step-rollout.js';

export type ActionOutcome =
  | { readonly kind: 'notify'; readonly results: readonly { readonly channel: string; readonly result: Result<Delivery, DeliveryFailure> }[] }
  | { readonly kind: 'hook'; readonly result: Result<Delivery, DeliveryFailure> };

/** Rounds of a failing hook (each already retried by the adapter) before the step counts as failed. */
export const MAX_HOOK_ROUNDS = 3;

/**
 * Folds the result of the pass's action into the status and clears `inFlight`. Transitions that
 * need another outside action (a rollback, an in-rotation hook) are only marked: the next pass asks.
 */
export function applyOutcome(ctx: RolloutContext, action: RolloutAction, outcome: ActionOutcome): { status: ProxyRolloutStatus; events: readonly RolloutEvent[] } {
  const { inFlight: _, ...status } = ctx.status;
  if (!status.startedAt) return { status, events: [] };
  const d = newDraft({ rollout: ctx.rollout, now: ctx.now, settings: settingsFor(ctx.spec, ctx.fleet, status), fleet: ctx.fleet, observations: ctx.observations, outOfRotation: ctx.outOfRotation }, { ...status, startedAt: status.startedAt });
  if (action.kind === 'notify' && outcome.kind === 'notify') applyNotice(d, action.noticeId, outcome.results);
  else if (action.kind === 'hook' && outcome.kind === 'hook') applyHook(d, action, outcome.result);
  // The proxy acted on has moved on: what it waits for now, until the next pass looks again.
  const acted = action.kind === 'hook' ? d.proxies.find((p) => p.name === action.proxy) : undefined;
  if (acted) delete acted.waitingFor;
  describePassWaits({ ...ctx, status }, d);
  return { status: { ...status, notices: d.notices, proxies: d.proxies }, events: d.events };
}

function applyNotice(d: RolloutDraft, id: string, results: Extract<ActionOutcome, { kind: 'notify' }>['results']): void {
  const n = d.notices.find((x) => x.id === id);
  if (!n) return;
  const at = iso(d.now);
  for (const { channel, result } of results) {
    const entry = result.ok
      ? { name: channel, result: 'sent' as const, attempts: result.value.attempts, at }
      : { name: channel, result: 'failed' as const, attempts: result.error.attempts, at, error: result.error.error };
    n.channels = [...n.channels.filter((c) => c.name !== channel), entry];
  }
  const failed = n.channels.filter((c) => c.result === 'failed' && d.settings.channels.includes(c.name));
  if (!failed.length || !d.settings.blockOnNoticeFailure) {
    n.givenAt = at;
    delete n.retryAt;
    d.events.push({ reason: failed.length ? 'NoticeGivenWithFailures' : 'NoticeGiven', region: n.region, message: failed.length ? `${n.message} (failed on ${failed.map((c) => `${c.name}: ${c.error ?? ''}`).join('; ')})` : n.message });
    return;
  }
  n.failedRounds = (n.failedRounds ?? 0) + 1;
  n.retryAt = iso(d.now + retryDelayMs(n.failedRounds));
  d.events.push({ reason: 'NoticeFailed', region: n.region, message: `Notice ${n.id} failed on ${failed.map((c) => `${c.name}: ${c.error ?? ''}`).join('; ')}; retrying at ${n.retryAt}` });
}

function applyHook(d: RolloutDraft, action: Extract<RolloutAction, { kind: 'hook' }>, result: Result<Delivery, DeliveryFailure>): void {
  const p = d.proxies.find((x) => x.name === action.proxy);
  if (!p) return;
  if (result.ok) {
    switch (action.action) {
      case 'out-of-rotation':
        if (p.step !== 'OutOfRotation') return;
        moveTo(p, 'Draining');
        // The drain deadline counts from here: until the load balancer let it go, new sessions still came.
        p.outAt = iso(d.now);
        // Counted again from the first scrape after the load balancer let it go (sessions that raced the call included).
        delete p.sessionsLeft;
        return;
      case 'upgrade':
        if (p.step !== 'Upgrading') return;
        moveTo(p, 'Verifying');
        p.upgradeAt = iso(d.now);
        p.verifyPasses = 0;
        p.message = `Upgrade to ${action.version} requested; verifying`;
        return;
      case 'rollback':
        if (p.step === 'RollingBack') p.rolledBackAt = iso(d.now);
        return;
      case 'in-rotation':
        if (p.returning) finish(d, p, p.returning);
        return;
      default:
        return assertNever(action.action, 'hook action');
    }
  }
  const rounds = (p.hookFailures ?? 0) + 1;
  const why = `${action.action} hook failed: ${result.error.error}`;
  // Putting a proxy back is never given up on: a rollout that ended would leave it out of the load balancer for good.
  const retriedForever = action.action === 'in-rotation';
  d.events.push({ reason: 'HookFailed', proxy: p.name, region: p.region, message: retriedForever ? `${why} (round ${rounds}; retried until it works)` : `${why} (round ${rounds} of ${MAX_HOOK_ROUNDS})` });
  if (retriedForever || rounds < MAX_HOOK_ROUNDS) {
    p.hookFailures = rounds;
    p.retryAt = iso(d.now + retryDelayMs(rounds));
    p.message = why;
    return;
  }
  switch (action.action) {
    case 'upgrade':
      return failProxy(d, p, why);
    case 'rollback':
      return returnToRotation(d, p, 'Failed', `${p.message ?? 'upgrade failed'}; ${why}`);
    case 'out-of-rotation':
      // A timeout is no proof that nothing happened: the load balancer is told to take it back before the proxy fails.
      return returnToRotation(d, p, 'Failed', why);
    default:
      return assertNever(action.action, 'hook action');
  }
}
