import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';
import type { Logger } from 'pino';
import { Client, type Dispatcher } from 'undici';
import { createBuildInfoParser, createTeleportMetricsParser, type PageParser } from '../../observer/core/parse-metrics.js';
import type { AuthScrapeOutcome, ScrapeOutcome, ScrapeProblem } from '../../observer/core/scrape-outcome.js';

export interface DiagnosticClientOptions {
  /**
   * Time allowed for one scrape, connect to last byte: /metrics, then /readyz in what is left.
   * Bounding the pair (not each request) keeps a scrape inside the observer's own deadline.
   */
  readonly timeoutMs: number;
  /** Largest /metrics body read (after decompression); a larger one is abandoned as too_large. */
  readonly maxBodyBytes: number;
  readonly log: Logger;
}

export interface DiagnosticClient {
  /** GETs <diagnosticUrl>/metrics, then /readyz, on one keep-alive connection. Never rejects: a bad proxy is an outcome. */
  scrape(diagnosticUrl: string, signal?: AbortSignal): Promise<ScrapeOutcome>;
  /** The same for an Auth Service instance: teleport_build_info from /metrics, then /readyz. */
  scrapeAuth(diagnosticUrl: string, signal?: AbortSignal): Promise<AuthScrapeOutcome>;
  /** Destroys the keep-alive sockets. */
  close(): void;
}

const METRICS_TYPES: ReadonlySet<string> = new Set(['text/plain', 'application/openmetrics-text']);
// /readyz answers a few bytes of JSON; anything bigger is not worth reading.
const READYZ_MAX_BYTES = 64 * 1024;
const REQUEST_HEADERS = [
  'accept',
  'text/plain;version=0.0.4;q=1,application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1',
  'accept-encoding',
  'gzip, deflate, br',
  'user-agent',
  'meridian-observer',
];
// undici's own timeouts, reported as ours: connect, response head, gap between body chunks.
const UNDICI_TIMEOUTS: ReadonlySet<unknown> = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

type Fetched = { readonly ok: true; readonly status: number } | { readonly ok: false; readonly status?: number; readonly problem: ScrapeProblem };

/** What one GET does with its response: a problem from either stops the download. */
interface BodyReader {
  /** Looks at the response head, before the body is read. */
  head(status: number, contentType: string | undefined): ScrapeProblem | undefined;
  /** Takes each (decompressed) body chunk as it arrives. */
  chunk(chunk: Buffer): ScrapeProblem | undefined;
}
const DISCARD: BodyReader = { head: () => undefined, chunk: () => undefined };

function errorCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}

function problemOf(url: string, e: unknown, timeoutMs: number): ScrapeProblem {
  const code = errorCode(e);
  if (UNDICI_TIMEOUTS.has(code)) return { reason: 'timeout', message: `${url}: no complete answer within ${timeoutMs} ms` };
  if (code === 'ECONNREFUSED') return { reason: 'connection_refused', message: `${url}: connection refused` };
  const message = e instanceof Error ? e.message : String(e);
  return { reason: 'network', message: `${url}: ${typeof code === 'string' ? `${code}: ` : ''}${message}` };
}

type Decompressor = zlib.Gunzip | zlib.Unzip | zlib.InflateRaw | zlib.BrotliDecompress;

/**
 * One scrape: its deadline and its caller's signal, shared by its two requests. One timer and
 * one abort listener per scrape, both without a closure (`setTimeout` argument, `handleEvent`).
 */
class ScrapeRun {
  /** Set once the deadline passed or the caller aborted; every request then ends at once. */
  stopped: 'timeout' | 'cancelled' | undefined;
  current: BoundedGet | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly timeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.timer = setTimeout(expire, timeoutMs, this);
    if (signal?.aborted) this.stopped = 'cancelled';
    else signal?.addEventListener('abort', this);
  }

  /** The signal's abort listener. */
  handleEvent(): void {
    this.stop('cancelled');
  }

  stop(why: 'timeout' | 'cancelled'): void {
    this.stopped ??= why;
    this.current?.fail(this.stoppedProblem(this.current.url));
  }

  stoppedProblem(url: string): ScrapeProblem {
    return this.stopped === 'cancelled'
      ? { reason: 'timeout', message: `${url}: scrape cancelled` }
      : { reason: 'timeout', message: `${url}: no complete answer within ${this.timeoutMs} ms` };
  }

  end(): void {
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this);
  }
}

function expire(run: ScrapeRun): void {
  run.stop('timeout');
}

/**
 * One GET as an undici dispatch handler: the body arrives chunk by chunk through callbacks,
 * without a stream or a promise per chunk, and is never assembled (a large page would
 * otherwise cost a large allocation per proxy per cycle). Bytes are counted as they arrive
 * (after decompression) and the download is abandoned at the first problem.
 */
class BoundedGet implements Dispatcher.DispatchHandlers {
  private settled = false;
  private status: number | undefined;
  private size = 0;
  private encoding: string | undefined;
  private abort: ((e?: Error) => void) | undefined;
  private decompressor: Decompressor | undefined;

  constructor(
    readonly url: string,
    private readonly limit: number,
    private readonly reader: BodyReader,
    private readonly run: ScrapeRun,
    private readonly resolve: (f: Fetched) => void,
  ) {}

  fail(problem: ScrapeProblem): void {
    this.finish(this.status === undefined ? { ok: false, problem } : { ok: false, status: this.status, problem });
  }

  private finish(result: Fetched): void {
    if (this.settled) return;
    this.settled = true;
    if (this.run.current === this) this.run.current = undefined;
    if (!result.ok) {
      // Abandoning a response closes its connection; the next scrape opens a new one.
      this.abort?.(new Error('abandoned'));
      this.decompressor?.destroy();
    }
    this.resolve(result);
  }

  onConnect(abort: (e?: Error) => void): void {
    this.abort = abort;
    if (this.settled) abort(new Error('abandoned'));
  }

  onError(e: Error): void {
    this.fail(problemOf(this.url, e, this.run.timeoutMs));
  }

  onUpgrade(): void {
    this.fail({ reason: 'network', message: `${this.url}: unexpected protocol upgrade` });
  }

  onHeaders(status: number, raw: Buffer[] | string[] | null): boolean {
    if (this.settled) return false;
    this.status = status;
    let contentType: string | undefined;
    let contentLength: string | undefined;
    for (let i = 0; raw && i + 1 < raw.length; i += 2) {
      const name = raw[i] as Buffer | string;
      // Only content-type (12), content-length (14) and content-encoding (16) are read.
      if (name.length < 12 || name.length > 16) continue;
      const lower = name.toString('latin1').toLowerCase();
      const value = raw[i + 1] as Buffer | string;
      if (lower === 'content-type') contentType = value.toString('latin1');
      else if (lower === 'content-length') contentLength = value.toString('latin1');
      else if (lower === 'content-encoding') this.encoding = value.toString('latin1').trim().toLowerCase();
    }
    const problem = this.reader.head(status, contentType);
    if (problem) return this.fail(problem), false;
    const declared = Number(contentLength);
    if (contentLength !== undefined && Number.isFinite(declared) && declared > this.limit) {
      return this.fail({ reason: 'too_large', message: `${this.url}: body of ${declared} bytes exceeds the ${this.limit}-byte limit` }), false;
    }
    // As got did: gzip, deflate and br are decoded; another coding is read as it is.
    if (this.encoding !== 'gzip' && this.encoding !== 'deflate' && this.encoding !== 'br') this.encoding = undefined;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return false;
    if (this.encoding === undefined) return this.take(chunk);
    (this.decompressor ??= this.startDecompressor(chunk)).write(chunk);
    return true;
  }

  onComplete(): void {
    if (this.decompressor) this.decompressor.end();
    else this.finish({ ok: true, status: this.status ?? 0 });
  }

  private take(chunk: Buffer): boolean {
    if (this.settled) return false;
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.fail({ reason: 'too_large', message: `${this.url}: body exceeds the ${this.limit}-byte limit (stopped reading at ${this.size} bytes)` });
      return false;
    }
    const problem = this.reader.chunk(chunk);
    if (problem) return this.fail(problem), false;
    return true;
  }

  /** Only for an encoded body (rare on a diagnostic address); `deflate` may come raw or zlib-wrapped. */
  private startDecompressor(first: Buffer): Decompressor {
    const raw = this.encoding === 'deflate' && first.length > 0 && ((first[0] ?? 0) & 0x08) === 0;
    const z: Decompressor = this.encoding === 'br' ? zlib.createBrotliDecompress() : raw ? zlib.createInflateRaw() : zlib.createUnzip();
    z.on('data', (c: Buffer) => void this.take(c));
    z.on('end', () => this.finish({ ok: true, status: this.status ?? 0 }));
    z.on('error', (e: unknown) => this.fail(problemOf(this.url, e, this.run.timeoutMs)));
    return z;
  }
}

/** One GET of a proxy, ready to dispatch again every cycle. */
interface Endpoint {
  readonly url: string;
  readonly request: Dispatcher.DispatchOptions;
}

/** A proxy's diagnostic address: its connection and its two endpoints. */
interface Target {
  readonly client: Client;
  readonly metrics: Endpoint;
  readonly readyz: Endpoint;
}

function endpoint(origin: string, path: string): Endpoint {
  return { url: `${origin}${path}`, request: { origin, path, method: 'GET', headers: REQUEST_HEADERS } };
}

/** Reads /metrics: checks the head, then decodes and parses the body as it arrives. */
class MetricsReader<T> implements BodyReader {
  /**
   * StringDecoder, not a fatal TextDecoder: its streaming mode costs ~4x more here. Bytes
   * that are not UTF-8 become U+FFFD, which the grammar refuses outside label values and HELP text.
   */
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly url: string,
    private readonly parser: PageParser<T>,
  ) {}

  head(status: number, contentType: string | undefined): ScrapeProblem | undefined {
    if (status !== 200) return { reason: 'http_status', message: `${this.url}: HTTP ${status}` };
    const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!METRICS_TYPES.has(type)) {
      return { reason: 'content_type', message: `${this.url}: Content-Type ${contentType ? `"${contentType}"` : 'missing'}, expected text/plain or application/openmetrics-text` };
    }
    return undefined;
  }

  chunk(chunk: Buffer): ScrapeProblem | undefined {
    return this.parser.push(this.decoder.write(chunk));
  }

  end(): PageResult<T> {
    this.parser.push(this.decoder.end());
    const parsed = this.parser.end();
    return parsed.ok ? { ok: true, metrics: parsed.value } : { ok: false, problem: parsed.error };
  }
}

type PageResult<T> = { readonly ok: true; readonly metrics: T } | { readonly ok: false; readonly problem: ScrapeProblem };

/** One scrape's result before it is shaped into an outcome: the page, the /readyz part, the time taken. */
type Scraped<T> = { readonly page: PageResult<T>; readonly base: { readonly readyzStatus?: number; readonly readyzProblem?: ScrapeProblem }; readonly durationMs: number };

export function createDiagnosticClient({ timeoutMs, maxBodyBytes, log }: DiagnosticClientOptions): DiagnosticClient {
  if (!(timeoutMs > 0)) throw new Error(`timeoutMs must be > 0, got ${timeoutMs}`);
  if (!(maxBodyBytes > 0)) throw new Error(`maxBodyBytes must be > 0, got ${maxBodyBytes}`);
  // One connection per proxy (a Client, not an Agent: the target holds it, no lookup by
  // origin), kept between cycles; undici still closes it at the server's Keep-Alive hint.
  // The next cycle is the retry: undici's core neither retries nor follows redirects.
  const clientOptions: Client.Options = {
    pipelining: 1,
    keepAliveTimeout: 60_000,
    connect: { timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  };
  // By diagnostic URL: the same few thousand come back every cycle.
  const targets = new Map<string, Target | ScrapeProblem>();

  function targetOf(diagnosticUrl: string): Target | ScrapeProblem {
    let u: URL;
    try {
      u = new URL(diagnosticUrl);
    } catch {
      return { reason: 'network', message: `${diagnosticUrl}: not a valid URL` };
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return { reason: 'network', message: `${diagnosticUrl}: unsupported protocol ${u.protocol}` };
    const prefix = u.pathname.replace(/\/+$/, '');
    return { client: new Client(u.origin, clientOptions), metrics: endpoint(u.origin, `${prefix}/metrics`), readyz: endpoint(u.origin, `${prefix}/readyz`) };
  }

  function get(client: Client, { url, request }: Endpoint, limit: number, reader: BodyReader, run: ScrapeRun): Promise<Fetched> {
    if (run.stopped) return Promise.resolve({ ok: false, problem: run.stoppedProblem(url) });
    return new Promise<Fetched>((resolve) => {
      // dispatch() hands a synchronous failure to the handler's onError.
      client.dispatch(request, (run.current = new BoundedGet(url, limit, reader, run, resolve)));
    });
  }

  /** Downloads, decodes and parses /metrics in one pass; stops at the first bad line. */
  async function scrapeMetrics<T>(target: Target, parser: PageParser<T>, run: ScrapeRun): Promise<PageResult<T>> {
    const reader = new MetricsReader(target.metrics.url, parser);
    const fetched = await get(target.client, target.metrics, maxBodyBytes, reader, run);
    return fetched.ok ? reader.end() : fetched;
  }

  /** /metrics read with `parse`, then /readyz; a problem naming the URL when the URL itself is unusable. */
  async function scrapeTarget<T>(diagnosticUrl: string, signal: AbortSignal | undefined, parse: (url: string) => PageParser<T>): Promise<Scraped<T> | ScrapeProblem> {
    const started = performance.now();
    let target = targets.get(diagnosticUrl);
    if (!target) targets.set(diagnosticUrl, (target = targetOf(diagnosticUrl)));
    if (!('client' in target)) return target;
    // Sequential on one connection: half the sockets of two parallel GETs, and /readyz
    // (a few bytes) adds one round trip.
    const run = new ScrapeRun(timeoutMs, signal);
    let page: PageResult<T>;
    let readyz: Fetched;
    try {
      page = await scrapeMetrics(target, parse(target.metrics.url), run);
      readyz = await get(target.client, target.readyz, READYZ_MAX_BYTES, DISCARD, run);
    } finally {
      run.end();
    }
    const readyzStatus = readyz.status;
    const base = {
      ...(readyzStatus === undefined ? {} : { readyzStatus }),
      ...(readyz.ok || readyzStatus !== undefined ? {} : { readyzProblem: readyz.problem }),
    };
    if (!page.ok) log.debug({ url: target.metrics.url, reason: page.problem.reason }, 'Scrape failed');
    return { page, base, durationMs: Math.round(performance.now() - started) };
  }

  return {
    async scrape(diagnosticUrl, signal) {
      const s = await scrapeTarget(diagnosticUrl, signal, createTeleportMetricsParser);
      if (!('page' in s)) return { ok: false, error: s, durationMs: 0 };
      const { page, base, durationMs } = s;
      return page.ok ? { ok: true, metrics: page.metrics, ...base, durationMs } : { ok: false, error: page.problem, ...base, durationMs };
    },
    async scrapeAuth(diagnosticUrl, signal) {
      const s = await scrapeTarget(diagnosticUrl, signal, createBuildInfoParser);
      if (!('page' in s)) return { ok: false, error: s, durationMs: 0 };
      const { page, base, durationMs } = s;
      return page.ok ? { ok: true, version: page.metrics.version, ...base, durationMs } : { ok: false, error: page.problem, ...base, durationMs };
    },
    close() {
      for (const target of targets.values()) if ('client' in target) void target.client.destroy().catch(() => undefined);
      targets.clear();
    },
  };
}
