// The resource types the test API server serves: the meridian.dev kinds read from the CRDs in
// manifests/crds (so the server checks what the cluster would), plus the built-ins Meridian
// writes: coordination.k8s.io/v1 Leases and core v1 Events.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

/** An OpenAPI v3 schema node as it appears in a CRD (kept loose: it is data read from YAML). */
export type JsonSchema = { [key: string]: unknown };

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** The CRD declares `subresources.status`: status writes go through `/status` only. */
  statusSubresource: boolean;
  /** Custom resources: validated and pruned with this schema; generation tracks spec changes. */
  schema?: JsonSchema;
  /** PUT on a missing object creates it (true for Leases and Events, false for custom resources). */
  createOnUpdate: boolean;
  /** DELETE answers with the deleted object (custom resources) rather than a Success Status. */
  returnsDeletedObject: boolean;
}

export function apiVersionOf(t: ResourceType): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

/** Where the generated CRDs live: the server loads them, as envtest applies them. */
export const DEFAULT_CRD_DIR = fileURLToPath(new URL('../../manifests/crds/', import.meta.url));

interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  subresources?: { status?: unknown };
  schema?: { openAPIV3Schema?: JsonSchema };
}

export interface Crd {
  kind: string;
  spec: {
    group: string;
    scope: 'Namespaced' | 'Cluster';
    names: { kind: string; plural: string; singular?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
    versions: CrdVersion[];
  };
}

/** The ResourceType of a CRD, for its storage version (the server does no conversion); `from` names it in errors. */
export function crdType(crd: Crd, from: string): ResourceType {
  const v = crd.spec.versions.find((x) => x.storage && x.served);
  if (!v) throw new Error(`${from}: no served storage version`);
  const n = crd.spec.names;
  return {
    group: crd.spec.group,
    version: v.name,
    plural: n.plural,
    singular: n.singular ?? n.kind.toLowerCase(),
    kind: n.kind,
    listKind: n.listKind ?? `${n.kind}List`,
    namespaced: crd.spec.scope === 'Namespaced',
    shortNames: n.shortNames ?? [],
    categories: n.categories ?? [],
    statusSubresource: v.subresources?.status !== undefined,
    ...(v.schema?.openAPIV3Schema ? { schema: v.schema.openAPIV3Schema } : {}),
    createOnUpdate: false,
    returnsDeletedObject: true,
  };
}

/**
 * One ResourceType per CRD in the YAML files of the paths (a directory's files in name order, or
 * a file), as envtest reads CRDInstallOptions.Paths; a later definition of a plural wins.
 */
export function loadCrds(paths: readonly string[] = [DEFAULT_CRD_DIR]): ResourceType[] {
  const byName = new Map<string, ResourceType>();
  for (const path of paths) {
    const files = statSync(path).isDirectory() ? readdirSync(path).sort().map((f) => join(path, f)) : [path];
    for (const file of files.filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        const crd = doc.toJSON() as Crd | null;
        if (crd?.kind !== 'CustomResourceDefinition') continue;
        const t = crdType(crd, file);
        byName.set(`${t.plural}.${t.group}`, t);
      }
    }
  }
  return [...byName.values()];
}

export const LEASES: ResourceType = {
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  singular: 'lease',
  kind: 'Lease',
  listKind: 'LeaseList',
  namespaced: true,
  shortNames: [],
  categories: [],
  statusSubresource: false,
  createOnUpdate: true,
  returnsDeletedObject: false,
};

export const EVENTS: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'events',
  singular: 'event',
  kind: 'Event',
  listKind: 'EventList',
  namespaced: true,
  shortNames: ['ev'],
  categories: [],
  statusSubresource: false,
  createOnUpdate: true,
  returnsDeletedObject: false,
};

/** Lookup by group/version/plural, as URLs name resources. */
export class ResourceRegistry {
  private readonly types: ResourceType[] = [];
  private readonly byPath = new Map<string, ResourceType>();

  constructor(types: readonly ResourceType[]) {
    for (const t of types) this.add(t);
  }

  get all(): readonly ResourceType[] {
    return this.types;
  }

  /** Serves one more kind (a CRD applied while the server runs); a kind it serves already is left as it is. */
  add(t: ResourceType): void {
    const path = `${t.group}/${t.version}/${t.plural}`;
    if (this.byPath.has(path)) return;
    this.types.push(t);
    this.byPath.set(path, t);
  }

  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  /** The resource a test names by its plural ("proxyrollouts", "leases"). */
  byPlural(plural: string): ResourceType {
    const t = this.all.find((x) => x.plural === plural);
    if (!t) throw new Error(`no resource ${plural}`);
    return t;
  }

  groups(): Map<string, ResourceType[]> {
    const m = new Map<string, ResourceType[]>();
    for (const t of this.all) m.set(t.group, [...(m.get(t.group) ?? []), t]);
    return m;
  }
}
