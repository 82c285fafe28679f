import got from 'got';
import PQueue from 'p-queue';
import type { PromAnswer, PromQuery, QueryPrometheus } from '../../model/prometheus.js';
import { err, type Result } from '../../model/result.js';
import { describeRequestError } from '../hooks/post-json.js';
import { parseQueryReply } from './query-reply.js';
import { timerDelay } from '../../runtime/timer-delay.js';

export interface PrometheusClientDeps {
  /** Reads the bearer token file (trailing newlines dropped); the error names the file. */
  readonly readSecret: (path: string) => Promise<Result<string, string>>;
  /** Queries in flight at once, across every canary. Default 8. */
  readonly concurrency?: number;
}

export const DEFAULT_PROMETHEUS_CONCURRENCY = 8;

/** The server for messages: scheme, host and path prefix, never credentials or a query string. */
export function displayAddress(address: string): string {
  try {
    const u = new URL(address);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return '(invalid address)';
  }
}

/** How every error of a query begins: which query, on which server. */
const whereOf = (q: PromQuery): string => `Prometheus query "${q.name}" at ${displayAddress(q.address)}`;

/** `<address>/api/v1/query`, keeping a path prefix (`https://mon.example.com/prometheus`). */
function queryUrl(address: string): URL {
  return new URL('api/v1/query', address.endsWith('/') ? address : `${address}/`);
}

/**
 * Runs instant queries on Prometheus' HTTP API with got: `GET <address>/api/v1/query?query=…&time=…`,
 * a timeout per query and no retry (a missed answer is an Inconclusive interval, never a
 * failure), no redirects, and an optional bearer token read from its file at every query.
 * Never rejects; every error names the query and the server.
 */
export function createPrometheusClient(deps: PrometheusClientDeps): QueryPrometheus {
  const queue = new PQueue({ concurrency: deps.concurrency ?? DEFAULT_PROMETHEUS_CONCURRENCY });

  async function run(q: PromQuery, signal: AbortSignal): Promise<PromAnswer> {
    const fail = (problem: string, noData = false): PromAnswer => err({ noData, error: `${whereOf(q)}: ${problem}` });
    let authorization: string | undefined;
    if (q.bearerTokenFile !== undefined) {
      const token = await deps.readSecret(q.bearerTokenFile);
      if (!token.ok) return fail(`bearer token: ${token.error}`);
      authorization = `Bearer ${token.value}`;
    }
    let url: URL;
    try {
      url = queryUrl(q.address);
    } catch {
      return fail('the address is not a URL');
    }
    url.searchParams.set('query', q.promql);
    url.searchParams.set('time', String(q.at / 1000));
    try {
      const res = await got(url, {
        method: 'GET',
        headers: { 'user-agent': 'meridian', accept: 'application/json', ...(authorization ? { authorization } : {}) },
        responseType: 'text',
        throwHttpErrors: false,
        followRedirect: false,
        timeout: { request: timerDelay(q.timeoutMs) },
        retry: { limit: 0 },
        signal,
      });
      const r = parseQueryReply(res.statusCode, res.body);
      return r.ok ? r : fail(r.error.problem, r.error.noData);
    } catch (e) {
      return fail(describeRequestError(e, q.timeoutMs, signal));
    }
  }

  // A query still waiting for its turn when the pass is cancelled is dropped from the queue.
  return (q, signal) =>
    queue.add(() => run(q, signal), { signal }).catch((e: unknown): PromAnswer => err({ noData: false, error: `${whereOf(q)}: ${describeRequestError(e, q.timeoutMs, signal)}` }));
}
