import type { RolloutHookAction } from '../../model/actuators.js';

/**
 * Ids of outside actions, stable for one run of a rollout, so a hook or notice sent again after
 * a crash carries the same id and receivers can drop the duplicate.
 */
export function noticeId(rollout: string, startedAt: string, region: string, windowStartAt: string, leadTime: string): string {
  return `${rollout}/${Date.parse(startedAt)}/notice/${region}/${Date.parse(windowStartAt)}/${leadTime}`;
}

/** `takeOut` counts the proxy's take-outs: the second one (after a restart mid-drain) is a new request, not a duplicate. */
export function hookId(rollout: string, startedAt: string, proxy: string, action: RolloutHookAction, version: string, takeOut = 1): string {
  return `${rollout}/${Date.parse(startedAt)}/${proxy}/${action}/${version}${takeOut > 1 ? `/take-out-${takeOut}` : ''}`;
}
