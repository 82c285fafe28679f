import got, { RequestError } from 'got';
import { err, ok, type Result } from '../../model/result.js';
import { timerDelay } from '../../runtime/timer-delay.js';

/** Waits between tries: baseMs, then doubling, at most maxMs (a Retry-After within the timeout is honoured, capped the same). */
export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 500, maxMs: 5_000 };
export const DEFAULT_ATTEMPTS = 3;

// Worth another try: the receiver was busy or broken for a moment. Any other 4xx will not change.
const RETRY_STATUS = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

export interface PostRequest {
  readonly url: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Per try, connect to last byte. */
  readonly timeoutMs: number;
  /** Tries in all, the first included. */
  readonly attempts: number;
  readonly backoff: Backoff;
  readonly signal: AbortSignal;
}

/** The last answer, whatever its status. */
export interface PostAnswer {
  readonly attempts: number;
  readonly status: number;
  readonly body: string;
}

/** No answer at all: refused, timed out, cancelled. */
export interface PostProblem {
  readonly attempts: number;
  readonly problem: string;
}

/** A got request error in a few words: refused, timed out, cancelled, ... */
export function describeRequestError(e: unknown, timeoutMs: number, signal: AbortSignal): string {
  if (signal.aborted) return 'cancelled';
  const code = e instanceof RequestError ? e.code : undefined;
  if (code === 'ETIMEDOUT') return `no answer within ${timeoutMs} ms`;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'ENOTFOUND') return 'host not found';
  return e instanceof Error ? e.message : String(e);
}

/**
 * POSTs a JSON body with got: a timeout per try, retries with exponential backoff on network
 * errors, timeouts, 408, 429 and 5xx, never a redirect (a signed request goes where it was
 * configured to, or nowhere). Never rejects.
 */
export async function postJson(req: PostRequest): Promise<Result<PostAnswer, PostProblem>> {
  let attempts = 0;
  try {
    const res = await got.post(req.url, {
      body: req.body,
      headers: { 'user-agent': 'meridian', ...req.headers },
      responseType: 'text',
      throwHttpErrors: false,
      followRedirect: false,
      timeout: { request: timerDelay(req.timeoutMs) },
      signal: req.signal,
      retry: {
        limit: Math.max(0, req.attempts - 1),
        methods: ['POST'],
        statusCodes: RETRY_STATUS,
        enforceRetryRules: true,
        calculateDelay: ({ attemptCount, retryAfter }) => Math.min(retryAfter ?? req.backoff.baseMs * 2 ** (attemptCount - 1), req.backoff.maxMs),
      },
      hooks: { beforeRequest: [() => void attempts++] },
    });
    return ok({ attempts, status: res.statusCode, body: res.body });
  } catch (e) {
    return err({ attempts, problem: describeRequestError(e, req.timeoutMs, req.signal) });
  }
}

/** A reply body for an error message: whitespace folded, at most `max` characters, quoted. */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}…` : flat);
}

/** Only the host of a URL goes into messages and logs: webhook URLs (Slack's above all) carry secrets in their path. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}

/** "HTTP 503: "busy"" or "connection refused", plus the tries when there was more than one. */
export function describeFailure(r: Result<PostAnswer, PostProblem>): string {
  const what = r.ok ? `HTTP ${r.value.status}${r.value.body.trim() ? `: ${excerpt(r.value.body)}` : ''}` : r.error.problem;
  const attempts = r.ok ? r.value.attempts : r.error.attempts;
  return attempts > 1 ? `${what} (after ${attempts} tries)` : what;
}

export function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}
