import type { Kind, KindMap } from '../../src/model/kinds.js';
import { keyOf, keyString, type ResourceKey } from '../../src/model/resource.js';
import { plainClone } from './plain-clone.js';
import type { ManifestProblem, SpecPatch, StatusOf, Store } from '../../src/model/store.js';

/** An in-memory Store for reconciler tests; counts status writes so tests can prove no-op passes. */
export class MemoryStore implements Store {
  private readonly objects = new Map<string, KindMap[Kind]>();
  private readonly watchers = new Set<(k: ResourceKey) => void>();
  statusWrites = 0;

  put(obj: KindMap[Kind]): void {
    this.objects.set(keyString(keyOf(obj)), plainClone(obj));
    for (const w of this.watchers) w(keyOf(obj));
  }

  /** A copy of every object, to start another store where this one is (loadObjects). */
  saveObjects(): KindMap[Kind][] {
    return plainClone([...this.objects.values()]);
  }

  loadObjects(objects: readonly KindMap[Kind][]): void {
    this.objects.clear();
    for (const o of plainClone(objects)) this.objects.set(keyString(keyOf(o)), o);
  }

  async list<K extends Kind>(kind: K): Promise<readonly KindMap[K][]> {
    return [...this.objects.values()].filter((o) => o.kind === kind).map((o) => plainClone(o) as KindMap[K]);
  }

  async get<K extends Kind>(kind: K, namespace: string, name: string): Promise<KindMap[K] | undefined> {
    const o = this.objects.get(keyString({ kind, namespace, name }));
    return o ? (plainClone(o) as KindMap[K]) : undefined;
  }

  watch(onKey: (key: ResourceKey) => void): () => void {
    this.watchers.add(onKey);
    return () => this.watchers.delete(onKey);
  }

  async updateStatus<K extends Kind>(kind: K, namespace: string, name: string, status: StatusOf<K>): Promise<void> {
    const k = keyString({ kind, namespace, name });
    const o = this.objects.get(k);
    if (!o) throw new Error(`${k} not found`);
    this.statusWrites++;
    this.objects.set(k, { ...o, status: plainClone(status) } as KindMap[Kind]);
  }

  async patchSpec<K extends Kind>(kind: K, namespace: string, name: string, patch: SpecPatch): Promise<void> {
    const k = keyString({ kind, namespace, name });
    const o = this.objects.get(k);
    if (!o) throw new Error(`${k} not found`);
    const spec: Record<string, unknown> = { ...o.spec };
    for (const [field, value] of Object.entries(patch)) {
      if (value === null) delete spec[field];
      else spec[field] = value;
    }
    this.put({ ...o, spec, metadata: { ...o.metadata, generation: (o.metadata.generation ?? 0) + 1 } } as KindMap[Kind]);
  }

  async create<K extends Kind>(resource: KindMap[K]): Promise<void> {
    const k = keyString(keyOf(resource));
    if (this.objects.has(k)) throw new Error(`${k} already exists`);
    this.put({ ...resource, metadata: { ...resource.metadata, generation: 1 } } as KindMap[Kind]);
  }

  problems(): readonly ManifestProblem[] {
    return [];
  }
}
