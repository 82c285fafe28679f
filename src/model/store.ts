import type { Condition, ConditionInput } from './conditions.js';
import type { FieldError } from './field-error.js';
import type { Kind, KindMap } from './kinds.js';
import type { ResourceKey } from './resource.js';

/** A JSON merge patch of a spec's top-level fields: a value sets the field, null removes it. */
export type SpecPatch = Readonly<Record<string, string | number | boolean | null>>;

/** A manifest that could not be accepted, and where. The last valid version stays in force. */
export interface ManifestProblem {
  /** File path (file store) or object key (cluster). */
  readonly source: string;
  readonly line?: number;
  readonly column?: number;
  readonly error: FieldError;
  /** The refused object, when the problem is one (cluster): it can be told on its status. */
  readonly object?: ResourceKey;
  /** The refused generation (cluster). */
  readonly generation?: number;
}

export type StatusOf<K extends Kind> = NonNullable<KindMap[K]['status']>;

/**
 * Desired state and status of Meridian's resources. The file store implements it now;
 * the Kubernetes store later. Watchers get keys only: reconcile reads the rest.
 */
export interface Store {
  list<K extends Kind>(kind: K): Promise<readonly KindMap[K][]>;
  get<K extends Kind>(kind: K, namespace: string, name: string): Promise<KindMap[K] | undefined>;
  /** Calls `onKey` for every object that may have changed; returns an unsubscribe. */
  watch(onKey: (key: ResourceKey) => void): () => void;
  /** Replaces the status subresource. Throws if the object no longer exists. */
  updateStatus<K extends Kind>(kind: K, namespace: string, name: string, status: StatusOf<K>): Promise<void>;
  /**
   * Merge-patches top-level spec fields (null removes one), as `kubectl patch --type merge` does;
   * the file store edits the manifest in place. Throws if the object is gone, and SpecPatchRefused
   * when its manifest cannot take the patch (a YAML error in its file, an invalid result).
   */
  patchSpec<K extends Kind>(kind: K, namespace: string, name: string, patch: SpecPatch): Promise<void>;
  /**
   * Creates an object the controller derives (a promoted canary's rollout); the file store writes
   * it as a new manifest for the operators to commit. Throws if it exists or is invalid.
   */
  create<K extends Kind>(resource: KindMap[K]): Promise<void>;
  /** Inputs currently refused, with the reason. */
  problems(): readonly ManifestProblem[];
}

/** A spec patch the object's manifest cannot take as it stands: the operator's to fix (an HTTP 409). */
export class SpecPatchRefused extends Error {
  readonly statusCode = 409;
  readonly code = 'Conflict';
}

/**
 * A status write naming a resourceVersion that is no longer current: someone else wrote the object
 * since it was read. Not a failure: reconcile again at once, from fresh state.
 */
export class Conflict extends Error {
  readonly statusCode = 409;
  readonly code = 'Conflict';
}

/**
 * What a store whose problems are objects (the kubernetes store) offers to say so on them: the
 * conditions an object's latest status holds and a write of one of them, whether or not its spec
 * passed Meridian's checks (an object that never did has a status too).
 */
export interface ObjectConditions {
  /** The conditions the latest version of the object holds; undefined when the object is unknown. */
  conditionsOf(key: ResourceKey): readonly Condition[] | undefined;
  /** Upserts one condition into the latest status, keeping the rest of it; Conflict when the object changed since it was read. */
  setCondition(key: ResourceKey, condition: ConditionInput, nowIso: string): Promise<void>;
}

export function hasObjectConditions(store: Store): store is Store & ObjectConditions {
  const s = store as Partial<ObjectConditions>;
  return typeof s.conditionsOf === 'function' && typeof s.setCondition === 'function';
}
