import type { Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { setCondition, type Condition, type ConditionInput } from '../../model/conditions.js';
import { deepFreeze } from '../../model/deep-freeze.js';
import { formatPath } from '../../model/field-error.js';
import { isKind, KINDS, type Kind, type KindMap } from '../../model/kinds.js';
import { DEFAULT_NAMESPACE, keyString, type ResourceKey } from '../../model/resource.js';
import { Conflict, SpecPatchRefused, type ManifestProblem, type ObjectConditions, type SpecPatch, type StatusOf, type Store } from '../../model/store.js';
import { validateManifest } from '../../model/validate.js';
import type { Timers } from '../../runtime/work-queue.js';
import { customObjects, KubeApiError } from './custom-objects.js';
import { objectKey, startReflector, type KubeObject } from './reflector.js';

export interface KubernetesStoreDeps {
  readonly kubeConfig: KubeConfig;
  /** One namespace, or all of them. */
  readonly namespace?: string;
  readonly timers: Timers;
  readonly log: Logger;
}

type Raw = KubeObject & { readonly kind?: string; readonly spec?: unknown; readonly status?: unknown; readonly metadata?: KubeObject['metadata'] & Record<string, unknown> };

interface Entry {
  /** The latest version the API server holds (its resourceVersion is what a write names). */
  readonly raw: Raw;
  /** The last version that passed Meridian's own checks; what readers get. */
  readonly accepted?: KindMap[Kind];
}

/** The metadata a manifest may carry; the API server's own fields (uid, managedFields, …) are put back after the check. */
function manifestOf(kind: Kind, raw: Raw): unknown {
  const m = raw.metadata ?? {};
  const pick = (k: string): Record<string, unknown> => (m[k] === undefined ? {} : { [k]: m[k] });
  return { apiVersion: `meridian.dev/v1alpha1`, kind, metadata: { ...pick('name'), ...pick('namespace'), ...pick('labels'), ...pick('annotations') }, spec: raw.spec };
}

/**
 * Meridian's Store over the API server: a reflector per kind feeds a cache that readers are served
 * from (frozen objects); status goes to the /status subresource with a PUT naming the
 * resourceVersion read (a 409 is a Conflict: reconcile again from fresh state); spec edits are
 * merge patches; creates treat AlreadyExists as done. Objects the API server's schema let through
 * but Meridian's cross-field checks refuse are problems, and their last valid version stays in force
 * (with the latest status: what the controller wrote is not forgotten because a spec edit was refused).
 */
export class KubernetesStore implements Store, ObjectConditions {
  readonly #deps: KubernetesStoreDeps;
  readonly #entries = new Map<string, Entry>();
  readonly #problems = new Map<string, ManifestProblem>();
  readonly #watchers = new Set<(key: ResourceKey) => void>();
  readonly #stop = new AbortController();
  readonly #clients: { readonly [K in Kind]: ReturnType<typeof customObjects> };
  #done: Promise<void>[] = [];

  constructor(deps: KubernetesStoreDeps) {
    this.#deps = deps;
    const ns = deps.namespace;
    this.#clients = { ProxyFleet: customObjects(deps.kubeConfig, 'ProxyFleet', ns), ProxyRollout: customObjects(deps.kubeConfig, 'ProxyRollout', ns), ProxyCanary: customObjects(deps.kubeConfig, 'ProxyCanary', ns), ProxyPeering: customObjects(deps.kubeConfig, 'ProxyPeering', ns) };
  }

  /** Resolves once every kind has been listed. */
  async start(): Promise<void> {
    const synced = KINDS.map((kind) => {
      const r = startReflector<Raw>(
        { what: kind, source: this.#clients[kind].listWatch, onChange: (key, o) => this.#changed(kind, key, o), timers: this.#deps.timers, log: this.#deps.log },
        this.#stop.signal,
      );
      this.#done.push(r.done);
      return r.synced;
    });
    await Promise.all(synced);
  }

  async close(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#done);
  }

  #changed(kind: Kind, objKey: string, raw: Raw | undefined): void {
    const [namespace = DEFAULT_NAMESPACE, name = ''] = objKey.split('/');
    const key = { kind, namespace: namespace || DEFAULT_NAMESPACE, name };
    const k = keyString(key);
    if (!raw) {
      this.#entries.delete(k);
      this.#problems.delete(k);
    } else this.#accept(key, raw);
    for (const w of this.#watchers) w(key);
  }

  #accept(key: ResourceKey & { readonly kind: Kind }, raw: Raw): void {
    const { kind } = key;
    const k = keyString(key);
    const checked = validateManifest(manifestOf(kind, raw));
    const before = this.#entries.get(k);
    const m = raw.metadata ?? {};
    if (!checked.ok) {
      const first = checked.error[0] ?? { path: [], message: 'invalid' };
      if (!this.#problems.has(k)) this.#deps.log.warn({ object: k, field: formatPath(first.path), problem: first.message }, 'Refused an object: its last valid version stays in force');
      this.#problems.set(k, deepFreeze({ source: k, error: first, object: key, ...(typeof m.generation === 'number' ? { generation: m.generation } : {}) }));
      // The last valid spec, with the latest status and resourceVersion.
      const kept = before?.accepted;
      const accepted = kept && deepFreeze({ ...withoutStatus(kept), metadata: { ...kept.metadata, ...serverMeta(m, ['resourceVersion']) }, ...statusOf(raw) }) as KindMap[Kind];
      this.#entries.set(k, { raw, ...(accepted ? { accepted } : {}) });
      return;
    }
    if (this.#problems.delete(k)) this.#deps.log.info({ object: k }, 'Accepted an object after its problems were fixed');
    const accepted = deepFreeze({ ...checked.value, metadata: { ...checked.value.metadata, ...serverMeta(m) }, ...statusOf(raw) }) as KindMap[Kind];
    this.#entries.set(k, { raw, accepted });
  }

  async list<K extends Kind>(kind: K): Promise<readonly KindMap[K][]> {
    const out: KindMap[K][] = [];
    for (const e of this.#entries.values()) if (e.accepted?.kind === kind) out.push(e.accepted as KindMap[K]);
    return out;
  }

  async get<K extends Kind>(kind: K, namespace: string, name: string): Promise<KindMap[K] | undefined> {
    return this.#entries.get(keyString({ kind, namespace, name }))?.accepted as KindMap[K] | undefined;
  }

  watch(onKey: (key: ResourceKey) => void): () => void {
    this.#watchers.add(onKey);
    return () => this.#watchers.delete(onKey);
  }

  async updateStatus<K extends Kind>(kind: K, namespace: string, name: string, status: StatusOf<K>): Promise<void> {
    await this.#putStatus(kind, keyString({ kind, namespace, name }), () => status);
  }

  conditionsOf(key: ResourceKey): readonly Condition[] | undefined {
    const e = this.#entries.get(keyString(key));
    if (!e) return undefined;
    const conditions = (e.raw.status as { conditions?: unknown } | undefined)?.conditions;
    return Array.isArray(conditions) ? (conditions as Condition[]) : [];
  }

  async setCondition(key: ResourceKey, condition: ConditionInput, nowIso: string): Promise<void> {
    if (!isKind(key.kind)) throw new Error(`${keyString(key)}: not a Meridian kind`);
    // Upserted into the latest status as the API server holds it (a refused object's too): the rest is kept.
    await this.#putStatus(key.kind, keyString(key), (raw) => {
      const status = (raw.status ?? {}) as Record<string, unknown>;
      const conditions = Array.isArray(status.conditions) ? (status.conditions as Condition[]) : [];
      return { ...status, conditions: setCondition(conditions, condition, nowIso) };
    });
  }

  /** Objects the store knows, refused ones included: their uid and resourceVersion (for Events' involvedObject). */
  refOf(key: ResourceKey): { readonly uid?: string; readonly resourceVersion?: string } | undefined {
    const m = this.#entries.get(keyString(key))?.raw.metadata;
    if (!m) return undefined;
    return { ...(m.uid ? { uid: String(m.uid) } : {}), ...(m.resourceVersion ? { resourceVersion: String(m.resourceVersion) } : {}) };
  }

  /** A PUT of /status naming the resourceVersion read; a 409 is a Conflict. */
  async #putStatus(kind: Kind, k: string, statusFrom: (raw: Raw) => unknown): Promise<void> {
    const e = this.#entries.get(k);
    if (!e) throw new Error(`${k} not found`);
    try {
      const written = (await this.#clients[kind].replaceStatus({ ...e.raw, status: statusFrom(e.raw) })) as Raw;
      // The next write of this pass names the new resourceVersion, before the watch brings it.
      this.#written(kind, k, e.raw, written);
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 409) throw new Conflict(`${k}: changed since it was read (${err.message})`);
      if (err instanceof KubeApiError && err.statusCode === 404) throw new Error(`${k} not found`);
      throw err;
    }
  }

  async patchSpec<K extends Kind>(kind: K, namespace: string, name: string, patch: SpecPatch): Promise<void> {
    const k = keyString({ kind, namespace, name });
    const before = this.#entries.get(k)?.raw;
    try {
      this.#written(kind, k, before, (await this.#clients[kind].mergePatchSpec(namespace, name, patch)) as Raw);
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 404) throw new Error(`${k} not found`);
      if (err instanceof KubeApiError && err.statusCode === 422) throw new SpecPatchRefused(`cannot patch ${k}: ${err.message}`);
      throw err;
    }
  }

  async create<K extends Kind>(resource: KindMap[K]): Promise<void> {
    const ns = resource.metadata.namespace ?? this.#deps.namespace ?? DEFAULT_NAMESPACE;
    try {
      const made = (await this.#clients[resource.kind as K].create(ns, { ...resource, metadata: { ...resource.metadata, namespace: ns } } as KubeObject)) as Raw;
      const k = keyString({ kind: resource.kind, namespace: ns, name: resource.metadata.name });
      this.#written(resource.kind as K, k, undefined, made);
    } catch (err) {
      // Made by an earlier pass (or another replica) whose outcome was lost: done.
      if (err instanceof KubeApiError && err.statusCode === 409) return;
      throw err;
    }
  }

  problems(): readonly ManifestProblem[] {
    return [...this.#problems.values()];
  }

  /**
   * A write's answer, unless the watch replaced the version the write started from meanwhile (it
   * then holds this write or a later one). resourceVersions are opaque: compared for equality only.
   */
  #written(kind: Kind, k: string, from: Raw | undefined, raw: Raw): void {
    if (this.#entries.get(k)?.raw !== from) return;
    this.#changed(kind, objectKey(raw), raw);
  }

}

const SERVER_META = ['generation', 'resourceVersion', 'uid', 'creationTimestamp'] as const;

function serverMeta(m: Readonly<Record<string, unknown>>, fields: readonly (typeof SERVER_META)[number][] = SERVER_META): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (m[f] !== undefined) out[f] = m[f];
  return out;
}

function statusOf(raw: Raw): { status?: unknown } {
  return raw.status !== undefined ? { status: structuredClone(raw.status) } : {};
}

function withoutStatus<T extends { readonly status?: unknown }>(o: T): Omit<T, 'status'> {
  const { status: _, ...rest } = o;
  return rest;
}
