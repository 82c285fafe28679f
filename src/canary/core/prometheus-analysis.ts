import type { PrometheusProvider, QueryOutcome } from '../../model/canary.js';
import { durationOr } from '../../model/duration.js';
import { DEFAULT_PROMETHEUS_TIMEOUT, type PromAnswer } from '../../model/prometheus.js';
import { formatValue, limitOf } from './judge-canary.js';
import { escapePromQLString, promqlDuration, regexAlternation, renderPromQL } from './promql-template.js';

/** A Prometheus query with every default filled in. */
export interface ResolvedQuery {
  readonly name: string;
  readonly query: string;
  readonly baselineQuery?: string;
  readonly sampleQuery?: string;
  readonly max?: number;
  readonly maxRelative?: number;
  readonly minSample: number;
  readonly failureLimit: number;
}

export interface ResolvedPrometheus {
  readonly address: string;
  readonly timeoutMs: number;
  readonly bearerTokenFile?: string;
  readonly queries: readonly ResolvedQuery[];
}

/** The spec's provider with its defaults: a 10s timeout, minSample 1, failureLimit 2. */
export function resolvePrometheus(p: PrometheusProvider): ResolvedPrometheus {
  return {
    address: p.address,
    timeoutMs: durationOr(p.timeout, DEFAULT_PROMETHEUS_TIMEOUT),
    ...(p.bearerTokenFile ? { bearerTokenFile: p.bearerTokenFile } : {}),
    queries: p.queries.map((q) => ({ ...q, minSample: q.minSample ?? 1, failureLimit: q.failureLimit ?? 2 })),
  };
}

/** The label a query goes by in decisions, logs and metrics, apart from the built-in checks. */
export const queryLabel = (name: string): string => `prometheus:${name}`;

/** The baseline proxies of one canary proxy, all of one region (its own or the nearest with some). */
export interface BaselineGroup {
  readonly proxies: readonly string[];
  readonly region: string;
}

/** The PromQL to run for one query and one canary proxy. */
export interface QueryPlan {
  readonly query: ResolvedQuery;
  readonly proxy: string;
  readonly value: string;
  readonly sample?: string;
  /** Absent without a baselineQuery, or when the proxy has no baseline proxies. */
  readonly baseline?: string;
}

export interface PlanInput {
  readonly queries: readonly ResolvedQuery[];
  readonly canary: readonly { readonly proxy: string; readonly region: string }[];
  readonly baselineOf: (proxy: string) => BaselineGroup | undefined;
  readonly buildVersion: string;
  readonly baselineVersion: string;
  readonly intervalMs: number;
}

/**
 * Every query of every canary proxy, rendered: the canary proxy's name, region and the build's
 * version in `query` and `sampleQuery`; the baseline proxies' names (as an escaped regex
 * alternation), region and version in `baselineQuery`. Each value is escaped for a double-quoted
 * PromQL string, so a name cannot change the query.
 */
export function planQueries(input: PlanInput): QueryPlan[] {
  const interval = promqlDuration(input.intervalMs);
  return input.canary.flatMap(({ proxy, region }) => {
    const own = { proxy: escapePromQLString(proxy), region: escapePromQLString(region), version: escapePromQLString(input.buildVersion), interval };
    const group = input.baselineOf(proxy);
    const theirs = group?.proxies.length
      ? { proxy: escapePromQLString(regexAlternation(group.proxies)), region: escapePromQLString(group.region), version: escapePromQLString(input.baselineVersion), interval }
      : undefined;
    return input.queries.map((q) => ({
      query: q,
      proxy,
      value: renderPromQL(q.query, own),
      ...(q.sampleQuery ? { sample: renderPromQL(q.sampleQuery, own) } : {}),
      ...(q.baselineQuery && theirs ? { baseline: renderPromQL(q.baselineQuery, theirs) } : {}),
    }));
  });
}

/** What the queries of one plan gave. `baseline` is absent when none was run. */
export interface QueryMeasures {
  readonly value: PromAnswer;
  readonly sample?: PromAnswer;
  readonly baseline?: PromAnswer;
}

/**
 * One query of one canary proxy, by the rules of the built-in checks: no data or an error is
 * Inconclusive (never Fail, never Pass), so is too little sample; the limit is limitOf's.
 */
export function judgeQuery(q: ResolvedQuery, proxy: string, m: QueryMeasures): QueryOutcome {
  const theirs = m.baseline?.ok ? m.baseline.value : undefined;
  const baselineProblem = m.baseline && !m.baseline.ok ? `baseline ${m.baseline.error.error}` : undefined;
  const base = { query: q.name, proxy, ...(theirs === undefined ? {} : { baseline: theirs }) };
  if (!m.value.ok) return { ...base, result: 'Inconclusive', sample: 0, reason: m.value.error.error };
  const mine = m.value.value;
  let sample = 1;
  if (q.sampleQuery !== undefined) {
    if (!m.sample) return { ...base, value: mine, result: 'Inconclusive', sample: 0, reason: 'the sample query was not run' };
    if (!m.sample.ok) return { ...base, value: mine, result: 'Inconclusive', sample: 0, reason: `sample ${m.sample.error.error}` };
    sample = m.sample.value;
  }
  const measured = { ...base, value: mine, sample };
  if (sample < q.minSample) return { ...measured, result: 'Inconclusive', reason: `sample ${formatValue(sample)} below the minimum ${q.minSample}` };
  const limit = limitOf(q, theirs);
  if (limit === undefined) return { ...measured, result: 'Inconclusive', reason: `no baseline to compare with${baselineProblem ? `: ${baselineProblem}` : ''}` };
  const against = theirs !== undefined ? `, baseline ${formatValue(theirs)}` : baselineProblem ? `; ${baselineProblem}` : '';
  return { ...measured, result: mine > limit ? 'Fail' : 'Pass', limit, reason: `${formatValue(mine)} (limit ${formatValue(limit)}${against})` };
}
