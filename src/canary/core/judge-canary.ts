import type { CheckOutcome, CheckResult, IntervalVerdict, QueryOutcome } from '../../model/canary.js';
import { CHECK_KINDS, type ResolvedCheck } from './canary-checks.js';
import type { ProxyWindow } from './proxy-window.js';

export interface JudgeInput {
  readonly from: string;
  readonly to: string;
  readonly canary: readonly ProxyWindow[];
  /** Baseline proxies (previous version, same or nearest region) for each canary proxy. */
  readonly baselineOf: (proxy: string) => readonly ProxyWindow[];
  readonly checks: readonly ResolvedCheck[];
  /** The Prometheus queries' outcomes (judgeQuery), when the spec has a provider. */
  readonly queries?: readonly QueryOutcome[];
}

/** A measured value for a reason: integers as they are, ratios to 4 places, the rest to 1. */
export function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v < 1 ? v.toFixed(4) : v.toFixed(1);
}

/**
 * The limit a value must not exceed: `max`, `maxRelative` times the baseline, or with both the
 * higher (a value must exceed both to fail: beyond noise and beyond the baseline). Undefined when
 * neither applies (only a relative limit, and no baseline): nothing to compare with.
 */
export function limitOf(rule: { readonly max?: number; readonly maxRelative?: number }, baseline: number | undefined): number | undefined {
  const relative = rule.maxRelative !== undefined && baseline !== undefined ? baseline * rule.maxRelative : undefined;
  if (rule.max === undefined && relative === undefined) return undefined;
  return Math.max(rule.max ?? 0, relative ?? 0);
}

/** Fail if any outcome failed, Pass only if there are some and all passed, else Inconclusive. */
export function overallResult(outcomes: readonly { readonly result: CheckResult }[]): CheckResult {
  return outcomes.some((o) => o.result === 'Fail') ? 'Fail' : outcomes.length && outcomes.every((o) => o.result === 'Pass') ? 'Pass' : 'Inconclusive';
}

/** One check of one canary proxy: too little sample is Inconclusive, never Pass; the limit is limitOf's. */
export function judgeCheck(check: ResolvedCheck, proxy: ProxyWindow, baseline: readonly ProxyWindow[]): CheckOutcome | undefined {
  const kind = CHECK_KINDS[check.name];
  const mine = kind.measure([proxy]);
  const theirs = baseline.length ? kind.measure(baseline) : undefined;
  // A metric neither side exposes (an older Teleport) is nothing to judge.
  if (!mine && !theirs) return undefined;
  const base = { check: check.name, proxy: proxy.proxy, sample: mine?.sample ?? 0, ...(mine ? { value: mine.value } : {}), ...(theirs ? { baseline: theirs.value } : {}) };
  if (!mine || mine.sample < check.minSample) return { ...base, result: 'Inconclusive', reason: `sample ${mine?.sample ?? 0} below the minimum ${check.minSample}` };
  const limit = limitOf(check, theirs?.value);
  if (limit === undefined) return { ...base, result: 'Inconclusive', reason: 'no baseline to compare with' };
  const result: CheckResult = mine.value > limit ? 'Fail' : 'Pass';
  const against = theirs ? `, baseline ${formatValue(theirs.value)}` : '';
  return { ...base, result, limit, reason: `${formatValue(mine.value)} ${kind.unit} (limit ${formatValue(limit)}${against})` };
}

/**
 * Every check of every canary proxy for one interval, with the Prometheus queries' outcomes; the
 * interval fails if any of them fails, and passes only if all do.
 */
export function judgeInterval(input: JudgeInput): IntervalVerdict {
  const outcomes = input.canary.flatMap((p) => input.checks.flatMap((c) => judgeCheck(c, p, input.baselineOf(p.proxy)) ?? []));
  const verdict = overallResult([...outcomes, ...(input.queries ?? [])]);
  return { from: input.from, to: input.to, verdict, outcomes, ...(input.queries ? { queries: input.queries } : {}) };
}
