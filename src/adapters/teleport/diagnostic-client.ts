import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import got, { RequestError, type Got } from 'got';
import type { Logger } from 'pino';
import { createTeleportMetricsParser } from '../../observer/core/parse-metrics.js';
import type { ScrapeOutcome, ScrapeProblem } from '../../observer/core/scrape-outcome.js';
import type { TeleportMetrics } from '../../model/snapshot.js';

export interface DiagnosticClientOptions {
  /** Whole-request timeout (connect to last byte) for each of /metrics and /readyz. */
  readonly timeoutMs: number;
  /** Largest /metrics body read (after decompression); a larger one is abandoned as too_large. */
  readonly maxBodyBytes: number;
  readonly log: Logger;
}

export interface DiagnosticClient {
  /** GETs <diagnosticUrl>/metrics and /readyz at once. Never rejects: a bad proxy is an outcome. */
  scrape(diagnosticUrl: string, signal?: AbortSignal): Promise<ScrapeOutcome>;
  /** Destroys the keep-alive sockets. */
  close(): void;
}

const METRICS_TYPES: ReadonlySet<string> = new Set(['text/plain', 'application/openmetrics-text']);
// /readyz answers a few bytes of JSON; anything bigger is not worth reading.
const READYZ_MAX_BYTES = 64 * 1024;

type Fetched = { readonly ok: true; readonly status: number } | { readonly ok: false; readonly status?: number; readonly problem: ScrapeProblem };

/** Looks at the response head; a problem stops the download before the body is read. */
type HeadCheck = (status: number, headers: http.IncomingHttpHeaders) => ScrapeProblem | undefined;
/** Takes each body chunk as it arrives; a problem stops the download. */
type ChunkSink = (chunk: Buffer) => ScrapeProblem | undefined;

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}

function problemOf(url: string, e: unknown, timeoutMs: number): ScrapeProblem {
  if (e instanceof RequestError) {
    if (e.code === 'ETIMEDOUT' || e.name === 'TimeoutError') return { reason: 'timeout', message: `${url}: no complete answer within ${timeoutMs} ms` };
    if (e.code === 'ERR_ABORTED' || e.name === 'AbortError') return { reason: 'timeout', message: `${url}: scrape cancelled` };
    if (e.code === 'ECONNREFUSED') return { reason: 'connection_refused', message: `${url}: connection refused` };
    return { reason: 'network', message: `${url}: ${e.code ? `${e.code}: ` : ''}${e.message}` };
  }
  return { reason: 'network', message: `${url}: ${e instanceof Error ? e.message : String(e)}` };
}

export function createDiagnosticClient({ timeoutMs, maxBodyBytes, log }: DiagnosticClientOptions): DiagnosticClient {
  if (!(timeoutMs > 0)) throw new Error(`timeoutMs must be > 0, got ${timeoutMs}`);
  if (!(maxBodyBytes > 0)) throw new Error(`maxBodyBytes must be > 0, got ${maxBodyBytes}`);
  // Two requests per proxy per cycle: keep at most two idle sockets per proxy for the next cycle.
  const agents = {
    http: new http.Agent({ keepAlive: true, maxFreeSockets: 2 }),
    https: new https.Agent({ keepAlive: true, maxFreeSockets: 2 }),
  };
  const client: Got = got.extend({
    agent: agents,
    timeout: { request: timeoutMs },
    // The next cycle is the retry; retrying here would multiply load on a struggling proxy.
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    headers: {
      accept: 'text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1',
      'user-agent': 'meridian-observer',
    },
  });

  /**
   * Streams one GET, counting bytes as they arrive, and abandons it at the first problem.
   * The body goes to `sink` chunk by chunk and is never assembled: a large page would
   * otherwise cost a large allocation per proxy per cycle.
   */
  function fetchBounded(url: string, limit: number, check: HeadCheck, sink: ChunkSink, signal: AbortSignal | undefined): Promise<Fetched> {
    return new Promise<Fetched>((resolve) => {
      let settled = false;
      let status: number | undefined;
      let size = 0;
      const stream = client.stream(url, signal ? { signal } : {});
      const finish = (result: Fetched, stop: boolean): void => {
        if (settled) return;
        settled = true;
        if (stop) stream.destroy();
        resolve(result);
      };
      const fail = (problem: ScrapeProblem): void => finish(status === undefined ? { ok: false, problem } : { ok: false, status, problem }, true);
      stream.on('response', (res: http.IncomingMessage) => {
        status = res.statusCode ?? 0;
        const problem = check(status, res.headers);
        if (problem) return fail(problem);
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > limit) fail({ reason: 'too_large', message: `${url}: body of ${declared} bytes exceeds the ${limit}-byte limit` });
      });
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > limit) return fail({ reason: 'too_large', message: `${url}: body exceeds the ${limit}-byte limit (stopped reading at ${size} bytes)` });
        const problem = sink(chunk);
        if (problem) fail(problem);
      });
      stream.on('end', () => finish({ ok: true, status: status ?? 0 }, false));
      stream.on('error', (e: unknown) => fail(problemOf(url, e, timeoutMs)));
    });
  }

  const checkMetricsHead =
    (url: string): HeadCheck =>
    (status, headers) => {
      if (status !== 200) return { reason: 'http_status', message: `${url}: HTTP ${status}` };
      const raw = headers['content-type'];
      const type = (raw ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!METRICS_TYPES.has(type)) {
        return { reason: 'content_type', message: `${url}: Content-Type ${raw ? `"${raw}"` : 'missing'}, expected text/plain or application/openmetrics-text` };
      }
      return undefined;
    };

  type PageResult = { readonly ok: true; readonly metrics: TeleportMetrics } | { readonly ok: false; readonly problem: ScrapeProblem };

  /**
   * Downloads, decodes and parses /metrics in one pass; stops at the first bad line.
   * StringDecoder, not a fatal TextDecoder: its streaming mode costs ~4x more here. Bytes
   * that are not UTF-8 become U+FFFD, which the grammar refuses outside label values and HELP text.
   */
  async function scrapeMetrics(url: string, signal: AbortSignal | undefined): Promise<PageResult> {
    const decoder = new StringDecoder('utf8');
    const parser = createTeleportMetricsParser(url);
    const fetched = await fetchBounded(url, maxBodyBytes, checkMetricsHead(url), (chunk) => parser.push(decoder.write(chunk)), signal);
    if (!fetched.ok) return fetched;
    parser.push(decoder.end());
    const parsed = parser.end();
    return parsed.ok ? { ok: true, metrics: parsed.value } : { ok: false, problem: parsed.error };
  }

  return {
    async scrape(diagnosticUrl, signal) {
      const started = performance.now();
      const metricsUrl = joinUrl(diagnosticUrl, 'metrics');
      const readyzUrl = joinUrl(diagnosticUrl, 'readyz');
      const [page, readyz] = await Promise.all([
        scrapeMetrics(metricsUrl, signal),
        fetchBounded(readyzUrl, READYZ_MAX_BYTES, () => undefined, () => undefined, signal),
      ]);
      const readyzStatus = readyz.status;
      const base = {
        ...(readyzStatus === undefined ? {} : { readyzStatus }),
        ...(readyz.ok || readyzStatus !== undefined ? {} : { readyzProblem: readyz.problem }),
      };
      const durationMs = Math.round(performance.now() - started);
      if (!page.ok) {
        log.debug({ url: metricsUrl, reason: page.problem.reason }, 'Scrape failed');
        return { ok: false, error: page.problem, ...base, durationMs };
      }
      return { ok: true, metrics: page.metrics, ...base, durationMs };
    },
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}
