import type { IntervalVerdict } from '../../model/canary.js';
import type { ResolvedCheck } from './canary-checks.js';

export type CanaryDecision =
  | { readonly kind: 'continue' }
  | { readonly kind: 'rollback'; readonly reason: string }
  | { readonly kind: 'succeed' }
  | { readonly kind: 'hold'; readonly reason: string };

/**
 * After each interval: roll back as soon as a check has failed `failureLimit` intervals in a row;
 * at the end of the bake, succeed only if some interval passed and the last did not fail, else
 * hold for the operator (never a success on too little traffic).
 */
export function decideCanary(input: { readonly intervals: readonly IntervalVerdict[]; readonly checks: readonly ResolvedCheck[]; readonly bakeEndsAt: number; readonly now: number }): CanaryDecision {
  const { intervals, checks } = input;
  for (const check of checks) {
    let streak = 0;
    for (let i = intervals.length - 1; i >= 0; i--) {
      const failed = intervals[i]?.outcomes.filter((o) => o.check === check.name && o.result === 'Fail') ?? [];
      if (!failed.length) break;
      streak++;
      if (streak >= check.failureLimit) {
        const latest = intervals[intervals.length - 1]?.outcomes.filter((o) => o.check === check.name && o.result === 'Fail') ?? [];
        return { kind: 'rollback', reason: `${check.name} failed ${streak} intervals in a row: ${latest.map((o) => `${o.proxy} ${o.reason}`).join('; ')}` };
      }
    }
  }
  if (input.now < input.bakeEndsAt) return { kind: 'continue' };
  if (!intervals.some((i) => i.verdict === 'Pass')) return { kind: 'hold', reason: `no interval of ${intervals.length} was conclusive: too little traffic on the canary proxies` };
  if (intervals[intervals.length - 1]?.verdict === 'Fail') return { kind: 'hold', reason: 'the bake ended on a failing interval' };
  return { kind: 'succeed' };
}
