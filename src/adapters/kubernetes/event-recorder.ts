import { CoreV1Api, PatchStrategy, setHeaderOptions, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { API_VERSION, keyString, type ResourceKey } from '../../model/resource.js';
import type { ObjectEvent, RecordEvent } from '../../model/object-events.js';
import { BoundedCache } from '../../runtime/bounded-cache.js';
import { apiError, KubeApiError } from './custom-objects.js';

/** Where Events go: core/v1 Events in the object's namespace. */
export interface EventSink {
  create(namespace: string, event: CoreV1Event): Promise<void>;
  /** A strategic merge patch (client-go's for Events); a 404 is a KubeApiError with statusCode 404. */
  patch(namespace: string, name: string, patch: { readonly count: number; readonly lastTimestamp: Date }): Promise<void>;
}

export interface EventRecorderLimits {
  /** Identical events within this window patch count and lastTimestamp (client-go: 10 minutes). */
  readonly sameEventWindowMs: number;
  /** Events remembered for that (client-go: an LRU of 4096). */
  readonly cacheEntries: number;
  /** Per object and type: a burst, then one token per refill (client-go's spam filter: 25, then one per 5 minutes). */
  readonly burst: number;
  readonly refillMs: number;
  /** Events waiting to be sent; more are dropped (the reconciler never waits on the API server). */
  readonly queue: number;
}

export const DEFAULT_EVENT_LIMITS: EventRecorderLimits = { sameEventWindowMs: 600_000, cacheEntries: 4096, burst: 25, refillMs: 300_000, queue: 1000 };

export interface EventRecorderDeps {
  readonly sink: EventSink;
  /** reportingInstance: this replica's identity. */
  readonly identity: string;
  /** The object's uid and resourceVersion as the store holds them now; absent fields are left out. */
  readonly refOf: (key: ResourceKey) => { readonly uid?: string; readonly resourceVersion?: string } | undefined;
  /** Wall time (ms): Event timestamps are read by people. */
  readonly now: () => number;
  readonly log: Logger;
  readonly limits?: Partial<EventRecorderLimits>;
}

export interface EventRecorder {
  readonly record: RecordEvent;
  /** Resolves once every event recorded so far has been sent (or given up on). */
  flush(): Promise<void>;
  /** Stops: what is queued is dropped; resolves when the call in flight has ended. */
  close(): Promise<void>;
}

export const COMPONENT = 'meridian';

interface Pending {
  readonly key: ResourceKey;
  readonly event: ObjectEvent;
  readonly at: number;
  readonly ref: { readonly uid?: string; readonly resourceVersion?: string } | undefined;
}

interface Sent {
  readonly namespace: string;
  readonly name: string;
  readonly count: number;
  readonly lastAt: number;
}

interface Bucket {
  readonly tokens: number;
  readonly at: number;
  readonly limited: boolean;
}

/** core/v1 Events through client-node's CoreV1Api. */
export function kubernetesEventSink(kubeConfig: KubeConfig): EventSink {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  return {
    async create(namespace, body) {
      try {
        await api.createNamespacedEvent({ namespace, body });
      } catch (e) {
        throw apiError(e, `create Event ${namespace}/${body.metadata?.name ?? ''}`);
      }
    },
    async patch(namespace, name, body) {
      try {
        await api.patchNamespacedEvent({ namespace, name, body }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
      } catch (e) {
        throw apiError(e, `patch Event ${namespace}/${name}`);
      }
    },
  };
}

/**
 * Kubernetes Events on Meridian's objects, as client-go's EventRecorder and EventCorrelator make
 * them: named `<object>.<unique suffix>`, an identical event (same object, type, reason, message)
 * within the window patches count and lastTimestamp instead of making another, and a token bucket
 * per object and type drops a flood (a loop must not flood the API server). Best effort: `record`
 * never throws and never waits; one worker sends, failures are logged and dropped.
 */
export function createEventRecorder(deps: EventRecorderDeps): EventRecorder {
  const limits = { ...DEFAULT_EVENT_LIMITS, ...deps.limits };
  const sent = new BoundedCache<Sent>(limits.cacheEntries);
  const buckets = new BoundedCache<Bucket>(limits.cacheEntries);
  const queue: Pending[] = [];
  let worker: Promise<void> | undefined;
  let closed = false;
  let seq = 0;
  let droppedSinceLog = 0;

  /** client-go's spam filter: taken when recorded, so a flood never reaches the queue. */
  function allowed(key: ResourceKey, event: ObjectEvent, at: number): boolean {
    const id = `${keyString(key)}\u0000${event.type}`;
    const b = buckets.get(id);
    const tokens = b ? Math.min(limits.burst, b.tokens + (at - b.at) / limits.refillMs) : limits.burst;
    if (tokens < 1) {
      // Said once per flood, not per dropped event.
      if (!b?.limited) deps.log.warn({ object: keyString(key), type: event.type, reason: event.reason }, 'Dropping Events on this object: too many of them');
      buckets.set(id, { tokens, at, limited: true });
      return false;
    }
    buckets.set(id, { tokens: tokens - 1, at, limited: false });
    return true;
  }

  function uniqueName(name: string, at: number): string {
    // client-go: `<name>.<UnixNano in hex>`; a sequence number keeps two events of one millisecond apart.
    const suffix = (BigInt(at) * 1_000_000n + BigInt(seq++ % 1_000_000)).toString(16);
    return `${name.slice(0, 253 - suffix.length - 1)}.${suffix}`;
  }

  async function send(p: Pending): Promise<void> {
    const { key, event, at } = p;
    const id = [keyString(key), p.ref?.uid ?? '', event.type, event.reason, event.message].join('\u0000');
    const before = sent.get(id);
    if (before && at - before.lastAt <= limits.sameEventWindowMs) {
      const next: Sent = { ...before, count: before.count + 1, lastAt: at };
      try {
        await deps.sink.patch(before.namespace, before.name, { count: next.count, lastTimestamp: new Date(at) });
        sent.set(id, next);
        return;
      } catch (e) {
        // Gone (Events expire after an hour by default): make it again, as client-go does.
        if (!(e instanceof KubeApiError && e.statusCode === 404)) throw e;
      }
    }
    const name = uniqueName(key.name, at);
    const body: CoreV1Event = {
      metadata: { name, namespace: key.namespace },
      involvedObject: {
        apiVersion: API_VERSION,
        kind: key.kind,
        namespace: key.namespace,
        name: key.name,
        ...(p.ref?.uid ? { uid: p.ref.uid } : {}),
        ...(p.ref?.resourceVersion ? { resourceVersion: p.ref.resourceVersion } : {}),
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      source: { component: COMPONENT },
      reportingComponent: COMPONENT,
      reportingInstance: deps.identity,
      firstTimestamp: new Date(at),
      lastTimestamp: new Date(at),
      count: 1,
    };
    await deps.sink.create(key.namespace, body);
    sent.set(id, { namespace: key.namespace, name, count: 1, lastAt: at });
  }

  async function drain(): Promise<void> {
    for (let p = queue.shift(); p && !closed; p = queue.shift()) {
      try {
        await send(p);
      } catch (e) {
        deps.log.warn({ object: keyString(p.key), reason: p.event.reason, err: e instanceof Error ? e.message : String(e) }, 'Failed to record an Event');
      }
    }
    worker = undefined;
  }

  const record: RecordEvent = (key, event) => {
    try {
      if (closed) return;
      const at = deps.now();
      if (!allowed(key, event, at)) return;
      if (queue.length >= limits.queue) {
        if (droppedSinceLog++ === 0) deps.log.warn({ queued: queue.length }, 'Dropped Events: the queue to the API server is full');
        return;
      }
      droppedSinceLog = 0;
      queue.push({ key, event, at, ref: deps.refOf(key) });
      worker ??= drain();
    } catch (e) {
      deps.log.warn({ object: keyString(key), err: e instanceof Error ? e.message : String(e) }, 'Failed to record an Event');
    }
  };

  return {
    record,
    async flush() {
      while (worker) await worker;
    },
    async close() {
      closed = true;
      queue.length = 0;
      await worker;
    },
  };
}
