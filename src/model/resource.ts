export const API_GROUP = 'meridian.dev';
export const API_VERSION = `${API_GROUP}/v1alpha1`;

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Bumped by the store whenever the spec changes (as the API server does). */
  readonly generation?: number;
  readonly resourceVersion?: string;
  readonly uid?: string;
  readonly creationTimestamp?: string;
}

/** A Kubernetes-shaped object; the same shape in the file store and the cluster. */
export interface Resource<K extends string, Spec, Status> {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: K;
  readonly metadata: ObjectMeta;
  readonly spec: Spec;
  readonly status?: Status;
}

/** The only thing a reconcile request carries. */
export interface ResourceKey {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

export const DEFAULT_NAMESPACE = 'default';

export function keyOf(r: { readonly kind: string; readonly metadata: ObjectMeta }): ResourceKey {
  return { kind: r.kind, namespace: r.metadata.namespace ?? DEFAULT_NAMESPACE, name: r.metadata.name };
}

export function keyString(k: ResourceKey): string {
  return `${k.kind}/${k.namespace}/${k.name}`;
}

export function parseKeyString(s: string): ResourceKey | undefined {
  const [kind, namespace, name, ...rest] = s.split('/');
  if (!kind || !namespace || !name || rest.length) return undefined;
  return { kind, namespace, name };
}
