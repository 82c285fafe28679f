// Watch streams: newline-delimited JSON events over a chunked 200 response, as the API server
// sends them. A watch replays the history after its resourceVersion (or, without one, the
// current objects as ADDED), then follows changes. An object that starts or stops matching
// the selectors arrives as ADDED or DELETED (as the watch cache converts them).
import type { ServerResponse } from 'node:http';
import { apiVersionOf, type ResourceType } from './resources.js';
import type { Predicate } from './selectors.js';
import { gone, type StatusObject } from './status-errors.js';
import { parseResourceVersion, type ObjectStore, type StoreEvent } from './store.js';
import type { KubeObject } from './strategy.js';

export interface WatchRequest {
  resource: ResourceType;
  /** Undefined: all namespaces. */
  namespace?: string;
  filter: Predicate;
  resourceVersion?: string;
  allowWatchBookmarks: boolean;
  timeoutSeconds?: number;
}

export interface WatchHubOptions {
  /** How a watch from a compacted resourceVersion is refused: an in-stream ERROR event (what the API server does) or an HTTP 410. */
  expiredAs: 'event' | 'http';
  bookmarkIntervalMs: number;
  /** Used when the client sends no timeoutSeconds (the API server picks 30–60 minutes). */
  defaultTimeoutSeconds: number;
}

type WireEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'; object: KubeObject | StatusObject | Record<string, unknown> };

interface Watcher {
  req: WatchRequest;
  res: ServerResponse;
  /** A silenced stream stays open and sends nothing again, like a half-open connection. */
  silent: boolean;
  timers: NodeJS.Timeout[];
}

export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private silenceNew = false;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: WatchHubOptions,
  ) {
    store.subscribe((e) => {
      for (const w of this.watchers) for (const out of this.convert(e, w.req)) this.send(w, out);
    });
  }

  get openCount(): number {
    return this.watchers.size;
  }

  private convert(e: StoreEvent, req: WatchRequest): WireEvent[] {
    if (e.resource !== req.resource) return [];
    const passes = (o: KubeObject | undefined): boolean => o !== undefined && (req.namespace === undefined || o.metadata.namespace === req.namespace) && req.filter(o);
    if (e.type === 'DELETED') return passes(e.previous) ? [{ type: 'DELETED', object: e.object }] : [];
    const now = passes(e.object);
    const before = e.type === 'MODIFIED' && passes(e.previous);
    if (now && before) return [{ type: 'MODIFIED', object: e.object }];
    if (now) return [{ type: 'ADDED', object: e.object }];
    if (before && e.previous) {
      const left = structuredClone(e.previous);
      left.metadata.resourceVersion = String(e.rv);
      return [{ type: 'DELETED', object: left }];
    }
    return [];
  }

  private send(w: Watcher, event: WireEvent): void {
    if (w.silent || w.res.writableEnded) return;
    w.res.write(`${JSON.stringify(event)}\n`);
  }

  private bookmark(w: Watcher): void {
    if (!w.req.allowWatchBookmarks) return;
    const t = w.req.resource;
    this.send(w, { type: 'BOOKMARK', object: { kind: t.kind, apiVersion: apiVersionOf(t), metadata: { resourceVersion: String(this.store.resourceVersion) } } });
  }

  /** Starts a watch on `res`. Throws (before any header is written) for a bad resourceVersion or, in 'http' mode, an expired one. */
  open(req: WatchRequest, res: ServerResponse): void {
    const from = parseResourceVersion(req.resourceVersion);
    let replay: WireEvent[];
    let expired: StatusObject | undefined;
    if (from === undefined || from === 0) {
      const matching = this.store.list(req.resource, req.namespace).filter(req.filter);
      replay = matching.map((o) => ({ type: 'ADDED', object: o }));
    } else {
      const events = this.store.eventsSince(req.resource, from);
      if (events === undefined) {
        const error = gone(`too old resource version: ${from} (${this.store.oldestWatchable + 1})`);
        if (this.options.expiredAs === 'http') throw error;
        expired = error.status;
      }
      replay = (events ?? []).flatMap((e) => this.convert(e, req));
    }
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const w: Watcher = { req, res, silent: this.silenceNew, timers: [] };
    if (expired) {
      // The watch cache answers an expired resourceVersion with one ERROR event, then ends the stream.
      this.send(w, { type: 'ERROR', object: expired });
      if (!w.silent) res.end();
      return;
    }
    for (const e of replay) this.send(w, e);
    this.watchers.add(w);
    const timeout = setTimeout(() => {
      if (!w.silent) res.end();
    }, (req.timeoutSeconds ?? this.options.defaultTimeoutSeconds) * 1000);
    const bookmarks = setInterval(() => this.bookmark(w), this.options.bookmarkIntervalMs);
    w.timers.push(timeout, bookmarks);
    for (const t of w.timers) t.unref();
    res.on('close', () => {
      this.watchers.delete(w);
      for (const t of w.timers) clearTimeout(t);
    });
  }

  /** Sends a BOOKMARK now on every stream that asked for bookmarks. */
  bookmarkNow(): void {
    for (const w of this.watchers) this.bookmark(w);
  }

  /** Cuts every open stream (the connection is reset, as when a node or load balancer drops it). */
  drop(): number {
    const n = this.watchers.size;
    for (const w of [...this.watchers]) w.res.socket?.destroy();
    return n;
  }

  /** Ends every open stream cleanly, as the server does when a watch's timeout is reached. */
  end(): number {
    const n = this.watchers.size;
    for (const w of [...this.watchers]) if (!w.silent) w.res.end();
    return n;
  }

  /** Open streams, and those opened until `restore()`, stay open but never send anything again. */
  silence(): void {
    this.silenceNew = true;
    for (const w of this.watchers) w.silent = true;
  }

  /** New streams behave again; streams silenced before stay silent. */
  restore(): void {
    this.silenceNew = false;
  }

  closeAll(): void {
    for (const w of [...this.watchers]) w.res.socket?.destroy();
  }
}
