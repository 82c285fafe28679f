import type { Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { deepFreeze } from '../../model/deep-freeze.js';
import { formatPath } from '../../model/field-error.js';
import { KINDS, type Kind, type KindMap } from '../../model/kinds.js';
import { DEFAULT_NAMESPACE, keyString, type ResourceKey } from '../../model/resource.js';
import { Conflict, SpecPatchRefused, type ManifestProblem, type SpecPatch, type StatusOf, type Store } from '../../model/store.js';
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
 * but Meridian's cross-field checks refuse are problems, and their last valid version stays in force.
 */
export class KubernetesStore implements Store {
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
    const key: ResourceKey = { kind, namespace: namespace || DEFAULT_NAMESPACE, name };
    const k = keyString(key);
    if (!raw) {
      this.#entries.delete(k);
      this.#problems.delete(k);
    } else this.#accept(kind, k, raw);
    for (const w of this.#watchers) w(key);
  }

  #accept(kind: Kind, k: string, raw: Raw): void {
    const checked = validateManifest(manifestOf(kind, raw));
    const before = this.#entries.get(k);
    if (!checked.ok) {
      const first = checked.error[0] ?? { path: [], message: 'invalid' };
      if (!this.#problems.has(k)) this.#deps.log.warn({ object: k, field: formatPath(first.path), problem: first.message }, 'Refused an object: its last valid version stays in force');
      this.#problems.set(k, deepFreeze({ source: k, error: first }));
      this.#entries.set(k, { raw, ...(before?.accepted ? { accepted: before.accepted } : {}) });
      return;
    }
    if (this.#problems.delete(k)) this.#deps.log.info({ object: k }, 'Accepted an object after its problems were fixed');
    const m = raw.metadata ?? {};
    const accepted = deepFreeze({
      ...checked.value,
      metadata: { ...checked.value.metadata, ...serverMeta(m) },
      ...(raw.status !== undefined ? { status: structuredClone(raw.status) } : {}),
    }) as KindMap[Kind];
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
    const k = keyString({ kind, namespace, name });
    const e = this.#entries.get(k);
    if (!e) throw new Error(`${k} not found`);
    try {
      const written = (await this.#clients[kind].replaceStatus({ ...e.raw, status })) as Raw;
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

function serverMeta(m: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of ['generation', 'resourceVersion', 'uid', 'creationTimestamp'] as const) if (m[f] !== undefined) out[f] = m[f];
  return out;
}
