import type { Result } from './result.js';

/**
 * Placeholders of a ProxyCanary's PromQL queries (spec.analysis.prometheus.queries[]):
 * the canary proxy, its region, the build's version, and the analysis interval as a PromQL
 * duration. In a baselineQuery, {{proxy}} is the baseline proxies' names as a regex alternation
 * (use it as `proxy=~"{{proxy}}"`), {{region}} their region and {{version}} their version.
 */
export const PROMQL_PLACEHOLDERS = ['proxy', 'region', 'version', 'interval'] as const;
export type PromQLPlaceholder = (typeof PROMQL_PLACEHOLDERS)[number];

/** `{{name}}`, with optional spaces inside the braces. */
export const PROMQL_PLACEHOLDER = /\{\{\s*([^{}\s]*)\s*\}\}/g;

/** The placeholders of a query template that are not known, as written (`{{instnce}}`), each once. */
export function unknownPlaceholders(template: string): string[] {
  const known: ReadonlySet<string> = new Set(PROMQL_PLACEHOLDERS);
  const out = new Set<string>();
  for (const m of template.matchAll(PROMQL_PLACEHOLDER)) if (!known.has(m[1] ?? '')) out.add(m[0]);
  return [...out];
}

/** spec.analysis.prometheus.timeout when not set. */
export const DEFAULT_PROMETHEUS_TIMEOUT = '10s';

/** One instant query, rendered, for one Prometheus server. */
export interface PromQuery {
  /** Base URL of the Prometheus server (a path prefix is kept): `<address>/api/v1/query`. */
  readonly address: string;
  /** Connect to last byte. */
  readonly timeoutMs: number;
  /** File holding a bearer token, read at every query. */
  readonly bearerTokenFile?: string;
  /** The spec's query name, for messages. */
  readonly name: string;
  readonly promql: string;
  /** Evaluation time (epoch ms): the end of the analysis interval. */
  readonly at: number;
}

/** Why a query gave no number: `noData` for an empty result (nothing to judge), else an error. */
export interface PromProblem {
  readonly noData: boolean;
  /** Names the query and the Prometheus address. */
  readonly error: string;
}

/** One number, or why there is none. */
export type PromAnswer = Result<number, PromProblem>;

/** Runs one instant query. Never throws: every failure is an answer. */
export type QueryPrometheus = (query: PromQuery, signal: AbortSignal) => Promise<PromAnswer>;
