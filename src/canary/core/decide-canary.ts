import type { IntervalVerdict } from '../../model/canary.js';
import type { ResolvedCheck } from './canary-checks.js';
import { queryLabel, type ResolvedQuery } from './prometheus-analysis.js';

export type CanaryDecision =
  | { readonly kind: 'continue' }
  | { readonly kind: 'rollback'; readonly reason: string }
  | { readonly kind: 'succeed' }
  | { readonly kind: 'hold'; readonly reason: string };

/** A built-in check or a Prometheus query: what failed in an interval, and how many failing intervals in a row it takes. */
interface Judged {
  readonly label: string;
  readonly failureLimit: number;
  failures(interval: IntervalVerdict | undefined): readonly { readonly proxy: string; readonly reason: string }[];
}

/**
 * After each interval: roll back as soon as a check (or a Prometheus query) has failed
 * `failureLimit` intervals in a row; at the end of the bake, succeed only if some interval passed
 * and the last did not fail, else hold for the operator (never a success on too little traffic).
 */
export function decideCanary(input: {
  readonly intervals: readonly IntervalVerdict[];
  readonly checks: readonly ResolvedCheck[];
  readonly queries?: readonly ResolvedQuery[];
  readonly bakeEndsAt: number;
  readonly now: number;
}): CanaryDecision {
  const { intervals } = input;
  const judged: Judged[] = [
    ...input.checks.map((c) => ({ label: c.name, failureLimit: c.failureLimit, failures: (i: IntervalVerdict | undefined) => i?.outcomes.filter((o) => o.check === c.name && o.result === 'Fail') ?? [] })),
    ...(input.queries ?? []).map((q) => ({ label: queryLabel(q.name), failureLimit: q.failureLimit, failures: (i: IntervalVerdict | undefined) => i?.queries?.filter((o) => o.query === q.name && o.result === 'Fail') ?? [] })),
  ];
  for (const j of judged) {
    let streak = 0;
    for (let i = intervals.length - 1; i >= 0; i--) {
      if (!j.failures(intervals[i]).length) break;
      streak++;
      if (streak >= j.failureLimit) {
        const latest = j.failures(intervals[intervals.length - 1]);
        return { kind: 'rollback', reason: `${j.label} failed ${streak} intervals in a row: ${latest.map((o) => `${o.proxy} ${o.reason}`).join('; ')}` };
      }
    }
  }
  if (input.now < input.bakeEndsAt) return { kind: 'continue' };
  if (!intervals.some((i) => i.verdict === 'Pass')) {
    // A Prometheus query that never answered is as good as no traffic, but the operator should know which.
    const unanswered = (intervals[intervals.length - 1]?.queries ?? []).filter((o) => o.result === 'Inconclusive');
    const why = unanswered.length ? `; the latest Prometheus queries not conclusive: ${unanswered.slice(0, 3).map((o) => `${queryLabel(o.query)} on ${o.proxy}: ${o.reason}`).join('; ')}` : '';
    return { kind: 'hold', reason: `no interval of ${intervals.length} was conclusive: too little traffic on the canary proxies${why}` };
  }
  if (intervals[intervals.length - 1]?.verdict === 'Fail') return { kind: 'hold', reason: 'the bake ended on a failing interval' };
  return { kind: 'succeed' };
}
