import type { RolloutHookAction } from '../../model/actuators.js';

/**
 * Ids of outside actions, stable for one run of a rollout, so a hook or notice sent again after
 * a crash carries the same id and receivers can drop the duplicate.
 */
export function noticeId(rollout: string, startedAt: string, region: string, windowStartAt: string, leadTime: string): string {
  return `${rollout}/${Date.parse(startedAt)}/notice/${region}/${Date.parse(windowStartAt)}/${leadTime}`;
}

export function hookId(rollout: string, startedAt: string, proxy: string, action: RolloutHookAction, version: string): string {
  return `${rollout}/${Date.parse(startedAt)}/${proxy}/${action}/${version}`;
}
