import type { Logger } from 'pino';
import type { Timers } from '../../runtime/work-queue.js';
import { abortableSleep } from '../../runtime/abortable-sleep.js';

export interface KubeObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
}

/** One event of a watch stream, as the API server writes it. */
export type WatchEvent<T> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: T }
  | { readonly type: 'BOOKMARK'; readonly resourceVersion: string }
  | { readonly type: 'ERROR'; readonly status: { readonly code?: number; readonly reason?: string; readonly message?: string } };

/** A list and a watch of one kind (all namespaces or one). */
export interface ListWatch<T> {
  list(signal: AbortSignal): Promise<{ readonly items: readonly T[]; readonly resourceVersion: string }>;
  /**
   * Streams events from `resourceVersion` until the server ends the stream (resolves) or it fails
   * (rejects; an HTTP status in `statusCode`). Aborting `signal` ends it.
   */
  watch(resourceVersion: string, timeoutSeconds: number, onEvent: (e: WatchEvent<T>) => void, signal: AbortSignal): Promise<void>;
}

export interface ReflectorOptions<T extends KubeObject> {
  readonly what: string;
  readonly source: ListWatch<T>;
  /** A changed or new object (`object`), or a deleted one (undefined). */
  readonly onChange: (key: string, object: T | undefined) => void;
  readonly timers: Timers;
  readonly log: Logger;
  /** A stream with no event (bookmarks included) for this long is taken as half-open and restarted. */
  readonly inactivityMs?: number;
  readonly minTimeoutSeconds?: number;
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  readonly random?: () => number;
}

export const objectKey = (o: KubeObject): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

class Expired extends Error {}

/**
 * client-go's reflector, with what client-node's informer lacks: it lists, then watches from the
 * list's resourceVersion with bookmarks and a randomised server-side timeout (so replicas do not
 * reconnect in step); a stream silent for `inactivityMs` is ended (a half-open connection never
 * errors); 410 Expired relists; any other failure retries the watch with jittered exponential
 * backoff, relisting after a failed list. It never stops until `signal` does.
 */
export function startReflector<T extends KubeObject>(opts: ReflectorOptions<T>, signal: AbortSignal): { readonly synced: Promise<void>; readonly cache: ReadonlyMap<string, T>; readonly done: Promise<void> } {
  const cache = new Map<string, T>();
  const inactivityMs = opts.inactivityMs ?? 150_000;
  const minTimeout = opts.minTimeoutSeconds ?? 300;
  const { baseMs, maxMs } = opts.backoff ?? { baseMs: 800, maxMs: 30_000 };
  const random = opts.random ?? Math.random;
  let markSynced: () => void = () => undefined;
  const synced = new Promise<void>((resolve) => (markSynced = resolve));

  const sleep = (ms: number): Promise<void> => abortableSleep(opts.timers, ms, signal);

  const replace = (items: readonly T[]): void => {
    const seen = new Set<string>();
    for (const o of items) {
      const key = objectKey(o);
      seen.add(key);
      if (cache.get(key)?.metadata?.resourceVersion === o.metadata?.resourceVersion) continue;
      cache.set(key, o);
      opts.onChange(key, o);
    }
    for (const key of [...cache.keys()])
      if (!seen.has(key)) {
        cache.delete(key);
        opts.onChange(key, undefined);
      }
  };

  /** One watch stream; resolves with the resourceVersion to go on from. */
  const watchOnce = async (from: string): Promise<string> => {
    let rv = from;
    const stream = new AbortController();
    const stop = (): void => stream.abort();
    signal.addEventListener('abort', stop, { once: true });
    let silence: unknown;
    let silent = false;
    const arm = (): void => {
      opts.timers.clearTimeout(silence);
      silence = opts.timers.setTimeout(() => {
        silent = true;
        stream.abort();
      }, inactivityMs);
    };
    let expired = false;
    let failure: Error | undefined;
    arm();
    try {
      const timeoutSeconds = minTimeout + Math.floor(random() * minTimeout);
      await opts.source.watch(
        rv,
        timeoutSeconds,
        (e) => {
          arm();
          if (e.type === 'BOOKMARK') rv = e.resourceVersion;
          else if (e.type === 'ERROR') {
            if (e.status.code === 410) expired = true;
            else failure = new Error(`watch error ${e.status.code ?? ''} ${e.status.reason ?? ''}: ${e.status.message ?? ''}`);
            stream.abort();
          } else {
            const key = objectKey(e.object);
            rv = e.object.metadata?.resourceVersion ?? rv;
            if (e.type === 'DELETED') {
              cache.delete(key);
              opts.onChange(key, undefined);
            } else {
              cache.set(key, e.object);
              opts.onChange(key, e.object);
            }
          }
        },
        stream.signal,
      );
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 410) expired = true;
      else if (!stream.signal.aborted) failure = e instanceof Error ? e : new Error(String(e));
    } finally {
      opts.timers.clearTimeout(silence);
      signal.removeEventListener('abort', stop);
    }
    if (expired) throw new Expired(`${opts.what}: resourceVersion ${rv} is too old (410 Expired)`);
    if (failure) throw failure;
    if (silent) opts.log.warn({ what: opts.what, inactivityMs }, `Watch of ${opts.what} was silent for ${inactivityMs} ms: restarting it`);
    return rv;
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    let rv: string | undefined;
    while (!signal.aborted) {
      try {
        if (rv === undefined) {
          const listed = await opts.source.list(signal);
          replace(listed.items);
          rv = listed.resourceVersion;
          markSynced();
        }
        rv = await watchOnce(rv);
        failures = 0;
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof Expired) {
          opts.log.info({ what: opts.what }, `${e.message}: listing again`);
          rv = undefined;
          continue;
        }
        failures++;
        const delay = Math.min(maxMs, baseMs * 2 ** (failures - 1)) * (0.5 + random());
        opts.log.warn({ what: opts.what, err: e, retryInMs: Math.round(delay) }, `Watch of ${opts.what} failed; retrying`);
        await sleep(delay);
      }
    }
  };
  return { synced, cache, done: run() };
}
