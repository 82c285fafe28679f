// What the registry does to an object before it is stored, per kind (the "strategies" of
// apiserver/pkg/registry and apiextensions-apiserver): system metadata, the status
// subresource split, generation, and admission (schema for custom resources, decoding for built-ins).
import { isDeepStrictEqual } from 'node:util';
import { admitBuiltin } from './builtin-types.js';
import { pruneAndDefault, validateAgainstSchema } from './cr-schema.js';
import type { ResourceType } from './resources.js';
import { invalid, type StatusCause } from './status-errors.js';

export type Obj = { [key: string]: unknown };

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

/** An object as stored and served: always with metadata. */
export type KubeObject = Obj & { apiVersion?: string; kind?: string; metadata: ObjectMeta };

const META_FIELDS = ['name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'labels', 'annotations', 'ownerReferences', 'finalizers', 'managedFields'];

/** ObjectMeta as decoded by the server: unknown fields are dropped. */
export function cleanMeta(meta: unknown): ObjectMeta {
  const m = (typeof meta === 'object' && meta !== null ? meta : {}) as Obj;
  return Object.fromEntries(Object.entries(m).filter(([k]) => META_FIELDS.includes(k))) as ObjectMeta;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function nameProblem(t: ResourceType, name: string): string | undefined {
  if (t.kind === 'Lease') {
    if (name.length > 253) return 'must be no more than 253 characters';
    if (!DNS_SUBDOMAIN.test(name)) {
      return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    }
    return undefined;
  }
  // Custom resources and Events take any path segment name.
  if (name === '.' || name === '..') return `may not be '${name}'`;
  if (name.includes('/')) return "may not contain '/'";
  if (name.includes('%')) return "may not contain '%'";
  return undefined;
}

function kindForErrors(t: ResourceType): { group: string; kind: string } {
  return { group: t.group, kind: t.kind };
}

/** Field errors on metadata, as ValidateObjectMeta reports them. */
export function validateMeta(t: ResourceType, obj: KubeObject): void {
  const name = obj.metadata.name ?? '';
  const problem = nameProblem(t, name);
  if (problem) {
    const { group, kind } = kindForErrors(t);
    throw invalid(group, kind, name, [{ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": ${problem}` }]);
  }
}

/** Decodes, prunes, defaults and validates in place; throws the 400/422 the server would answer. */
export function admit(t: ResourceType, obj: KubeObject): void {
  validateMeta(t, obj);
  if (!t.schema) {
    admitBuiltin(t, obj);
    return;
  }
  const causes: StatusCause[] = [...pruneAndDefault(obj, t.schema), ...validateAgainstSchema(obj, t.schema)];
  if (causes.length) throw invalid(t.group, t.kind, obj.metadata.name ?? '', causes);
}

/** A new custom resource never carries status when the CRD has the subresource; generation starts at 1. */
export function prepareCreate(t: ResourceType, obj: KubeObject): void {
  if (t.statusSubresource) delete obj.status;
  if (t.schema) obj.metadata.generation = 1;
  else delete obj.metadata.generation;
}

function withoutMetaAndStatus(o: KubeObject, t: ResourceType): Obj {
  const { metadata: _m, ...rest } = o;
  if (t.statusSubresource) delete rest.status;
  return rest;
}

/**
 * The object to store for an update of `old` with `incoming` (already admitted by the caller
 * afterwards): a main-resource write keeps the old status, a `/status` write changes only
 * status, and any other content change of a custom resource bumps `generation`.
 */
export function prepareUpdate(t: ResourceType, old: KubeObject, incoming: KubeObject, subresource: 'status' | undefined): KubeObject {
  let next: KubeObject;
  if (subresource === 'status') {
    next = structuredClone(old);
    if (incoming.status === undefined) delete next.status;
    else next.status = incoming.status;
    return next;
  }
  next = incoming;
  next.metadata = { ...next.metadata, uid: old.metadata.uid, creationTimestamp: old.metadata.creationTimestamp, resourceVersion: old.metadata.resourceVersion };
  if (t.statusSubresource) {
    if (old.status === undefined) delete next.status;
    else next.status = structuredClone(old.status);
  }
  if (t.schema) next.metadata.generation = old.metadata.generation ?? 1;
  else delete next.metadata.generation;
  return next;
}

/** After admission (pruning can undo a change): bump generation when content other than metadata/status changed. */
export function bumpGeneration(t: ResourceType, old: KubeObject, next: KubeObject): void {
  if (t.schema && !isDeepStrictEqual(withoutMetaAndStatus(old, t), withoutMetaAndStatus(next, t))) {
    next.metadata.generation = (old.metadata.generation ?? 1) + 1;
  }
}
