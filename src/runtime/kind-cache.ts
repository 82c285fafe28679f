import type { Logger } from 'pino';
import { KINDS, type Kind, type KindMap } from '../model/kinds.js';
import { keyOf, keyString, type ResourceKey } from '../model/resource.js';
import type { Store } from '../model/store.js';
import { Listeners } from './listeners.js';

/**
 * The stored objects of one kind, kept by every instance for readers that cannot wait for the
 * store (routing, metrics, the runs' out-of-rotation set), fed by the store's watch.
 */
export interface KindCache<K extends Kind> {
  readonly kind: K;
  values(): IterableIterator<KindMap[K]>;
  get(key: ResourceKey): KindMap[K] | undefined;
  /** Calls `fn` after an object's cached copy was refreshed (it may be gone), until the signal aborts. */
  onChange(fn: (key: ResourceKey) => void, signal?: AbortSignal): void;
}

/** A cache of every kind, each following the store until closed. */
export type KindCaches = { readonly [K in Kind]: KindCache<K> } & { close(): void };

/** Loads the kind's objects, then follows the store; `close` stops following. */
async function startKindCache<K extends Kind>(kind: K, store: Store, log: Logger): Promise<KindCache<K> & { close(): void }> {
  const objects = new Map<string, KindMap[K]>();
  const changed = new Listeners<ResourceKey>();
  async function refresh(key: ResourceKey): Promise<void> {
    const o = await store.get(kind, key.namespace, key.name);
    if (o) objects.set(keyString(key), o);
    else objects.delete(keyString(key));
    changed.emit(key);
  }
  const unwatch = store.watch((key) => {
    if (key.kind === kind) void refresh(key).catch((e: unknown) => log.error({ err: e, ...key }, `Could not read ${kind}`));
  });
  for (const o of await store.list(kind)) objects.set(keyString(keyOf(o)), o);
  return {
    kind,
    values: () => objects.values(),
    get: (key) => objects.get(keyString(key)),
    onChange: (fn, signal) => void changed.add(fn, signal),
    close: unwatch,
  };
}

/** One cache per kind Meridian owns: a new kind gets its cache here, with nothing to add. */
export async function startKindCaches(store: Store, log: Logger): Promise<KindCaches> {
  const caches = await Promise.all(KINDS.map((kind) => startKindCache(kind, store, log)));
  const byKind = Object.fromEntries(caches.map((c) => [c.kind, c])) as unknown as { readonly [K in Kind]: KindCache<K> };
  return { ...byKind, close: () => caches.forEach((c) => c.close()) };
}
