// Fault switches for tests: the failures a controller meets against a real API server
// (throttling, a failing apiserver, reset connections, watches that drop or go quiet).
import { internalError, tooManyRequests, type ApiError } from './status-errors.js';
import type { WatchHub } from './watch-hub.js';

/** A request as the API server's RequestInfo sees it (verb is get/list/watch/create/update/patch/delete). */
export interface RequestInfo {
  method: string;
  path: string;
  verb: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export type RequestMatch = (r: RequestInfo) => boolean;

type Action = { kind: 'error'; error: () => ApiError } | { kind: 'close' };

interface Rule {
  remaining: number;
  match: RequestMatch;
  action: Action;
}

export class Faults {
  private readonly rules: Rule[] = [];

  constructor(
    private readonly hub: WatchHub,
    private readonly destroyConnections: () => number,
  ) {}

  /** The next `n` matching requests get 429 TooManyRequests (with Retry-After) or 500 InternalError. */
  failNext(n: number, code: 429 | 500, options: { retryAfterSeconds?: number; match?: RequestMatch } = {}): void {
    const error = code === 429 ? () => tooManyRequests(options.retryAfterSeconds ?? 1) : () => internalError('injected fault');
    this.rules.push({ remaining: n, match: options.match ?? (() => true), action: { kind: 'error', error } });
  }

  /** The next `n` matching requests have their connection closed without an answer. */
  closeNext(n: number, options: { match?: RequestMatch } = {}): void {
    this.rules.push({ remaining: n, match: options.match ?? (() => true), action: { kind: 'close' } });
  }

  /** Resets every open watch stream; returns how many there were. */
  dropWatches(): number {
    return this.hub.drop();
  }

  /** Ends every open watch stream cleanly (as a timeout or an API server restart does); returns how many. */
  endWatches(): number {
    return this.hub.end();
  }

  /** Open watch streams, and those opened until `restoreWatches()`, stay open and send nothing (no events, no bookmarks, no end). */
  silenceWatches(): void {
    this.hub.silence();
  }

  restoreWatches(): void {
    this.hub.restore();
  }

  /** Closes every open connection at once (watches and requests in flight); returns how many. */
  closeConnections(): number {
    return this.destroyConnections();
  }

  /** Forgets pending request faults and un-silences new watches. */
  clear(): void {
    this.rules.length = 0;
    this.hub.restore();
  }

  /** The fault for this request, if one is pending (consumes it). */
  take(info: RequestInfo): Action | undefined {
    const rule = this.rules.find((r) => r.remaining > 0 && r.match(info));
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining === 0) this.rules.splice(this.rules.indexOf(rule), 1);
    return rule.action;
  }
}
