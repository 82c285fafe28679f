// The server's storage: objects per resource, one global resourceVersion counter shared by
// every kind (as etcd's revision), and a bounded history of changes that watches replay from.
// Older history is "compacted": a watch from before it gets 410 Expired.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { ResourceType } from './resources.js';
import { alreadyExists, badRequest, conflict, internalError, invalid, notFound, OPTIMISTIC_LOCK } from './status-errors.js';
import { admit, bumpGeneration, prepareCreate, prepareUpdate, type KubeObject } from './strategy.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  resource: ResourceType;
  /** The object after the change (for DELETED: its last state, at the deletion's resourceVersion). */
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED). */
  previous?: KubeObject;
  rv: number;
}

export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

const GENERATE_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function nowSeconds(): string {
  return `${new Date().toISOString().slice(0, 19)}Z`;
}

/** Parses a resourceVersion sent by a client; "" and undefined are "none". */
export function parseResourceVersion(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === '') return undefined;
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

export class ObjectStore {
  private rv = 0;
  /** Every change with a resourceVersion above this is still in `history`. */
  private compactedThrough = 0;
  private readonly objects = new Map<ResourceType, Map<string, KubeObject>>();
  private readonly history: StoreEvent[] = [];
  private readonly listeners = new Set<(e: StoreEvent) => void>();

  constructor(private readonly historyLimit: number) {}

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchable(): number {
    return this.compactedThrough;
  }

  subscribe(fn: (e: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private bucket(t: ResourceType): Map<string, KubeObject> {
    let b = this.objects.get(t);
    if (!b) {
      b = new Map();
      this.objects.set(t, b);
    }
    return b;
  }

  private static key(namespace: string, name: string): string {
    return `${namespace}/${name}`;
  }

  get(t: ResourceType, namespace: string, name: string): KubeObject | undefined {
    const o = this.bucket(t).get(ObjectStore.key(namespace, name));
    return o ? structuredClone(o) : undefined;
  }

  /** Objects in etcd key order (namespace, then name); all namespaces when `namespace` is undefined. */
  list(t: ResourceType, namespace?: string): KubeObject[] {
    return [...this.bucket(t).entries()]
      .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => structuredClone(o));
  }

  private commit(type: EventType, t: ResourceType, object: KubeObject, previous?: KubeObject): KubeObject {
    this.rv += 1;
    object.metadata.resourceVersion = String(this.rv);
    const key = ObjectStore.key(object.metadata.namespace ?? '', object.metadata.name ?? '');
    if (type === 'DELETED') this.bucket(t).delete(key);
    else this.bucket(t).set(key, object);
    const event: StoreEvent = { type, resource: t, object: structuredClone(object), rv: this.rv, ...(previous ? { previous } : {}) };
    this.history.push(event);
    while (this.history.length > this.historyLimit) this.compactedThrough = this.history.shift()!.rv;
    for (const fn of this.listeners) fn(event);
    return structuredClone(object);
  }

  /** Drops all history, as an etcd compaction: watches from any earlier resourceVersion get 410. */
  compact(): void {
    this.history.length = 0;
    this.compactedThrough = this.rv;
  }

  /** Changes to `t` after `rv`, or undefined when that part of history is compacted. */
  eventsSince(t: ResourceType, rv: number): StoreEvent[] | undefined {
    if (rv < this.compactedThrough) return undefined;
    return this.history.filter((e) => e.resource === t && e.rv > rv);
  }

  create(t: ResourceType, namespace: string, body: KubeObject): KubeObject {
    const obj = structuredClone(body);
    if (t.namespaced) obj.metadata.namespace = namespace;
    else delete obj.metadata.namespace;
    if (!obj.metadata.name && obj.metadata.generateName) {
      const suffix = Array.from({ length: 5 }, () => GENERATE_CHARS[Math.floor(Math.random() * GENERATE_CHARS.length)]).join('');
      obj.metadata.name = `${obj.metadata.generateName}${suffix}`;
    }
    if (!obj.metadata.name) {
      throw invalid(t.group, t.kind, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    }
    // etcd3's store refuses this with a plain error, which the server reports as a 500.
    if (obj.metadata.resourceVersion) throw internalError('resourceVersion should not be set on objects to be created');
    prepareCreate(t, obj);
    admit(t, obj);
    if (this.bucket(t).has(ObjectStore.key(namespace, obj.metadata.name))) throw alreadyExists({ group: t.group, resource: t.plural }, obj.metadata.name);
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = nowSeconds();
    return this.commit('ADDED', t, obj);
  }

  /**
   * PUT of `body` over the stored object (also the last step of a patch). The resourceVersion
   * in `body` must match the stored one: missing is 422, stale is 409 (Leases and custom
   * resources do not allow unconditional updates). An update that changes nothing is not
   * written: no new resourceVersion, no watch event.
   */
  update(t: ResourceType, namespace: string, name: string, body: KubeObject, subresource: 'status' | undefined): KubeObject {
    const gr = { group: t.group, resource: t.plural };
    const old = this.get(t, namespace, name);
    if (!old) {
      if (!t.createOnUpdate || subresource) throw notFound(gr, name);
      const { resourceVersion: _rv, ...meta } = body.metadata;
      return this.create(t, namespace, { ...body, metadata: meta });
    }
    const sent = parseResourceVersion(body.metadata.resourceVersion);
    if (sent === undefined) {
      throw invalid(t.group, t.plural, name, [{ reason: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
    }
    if (String(sent) !== old.metadata.resourceVersion) throw conflict(gr, name, OPTIMISTIC_LOCK);
    const next = prepareUpdate(t, old, structuredClone(body), subresource);
    next.metadata.namespace = old.metadata.namespace;
    next.metadata.name = name;
    admit(t, next);
    bumpGeneration(t, old, next);
    if (isDeepStrictEqual(next, old)) return old;
    return this.commit('MODIFIED', t, next, old);
  }

  remove(t: ResourceType, namespace: string, name: string, pre: DeletePreconditions = {}): KubeObject {
    const gr = { group: t.group, resource: t.plural };
    const old = this.get(t, namespace, name);
    if (!old) throw notFound(gr, name);
    if (pre.uid !== undefined && pre.uid !== old.metadata.uid) {
      throw conflict(gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid ?? ''}`);
    }
    if (pre.resourceVersion !== undefined && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion ?? ''}`);
    }
    return this.commit('DELETED', t, structuredClone(old), old);
  }
}
