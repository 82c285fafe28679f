import { ApiException, CustomObjectsApi, PatchStrategy, setHeaderOptions, Watch, type KubeConfig } from '@kubernetes/client-node';
import { API_GROUP } from '../../model/resource.js';
import { KIND_SPECS, type Kind } from '../../model/kinds.js';
import type { KubeObject, ListWatch, WatchEvent } from './reflector.js';

export const API_VERSION_NAME = 'v1alpha1';

/** The API server's answer to a failed call: its HTTP status and the Status object's message. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

/** An ApiException as a KubeApiError naming the call; other errors pass through. */
export function apiError(e: unknown, what: string): unknown {
  if (!(e instanceof ApiException)) return e;
  const body: unknown = typeof e.body === 'string' ? safeJson(e.body) : e.body;
  const status = typeof body === 'object' && body !== null ? (body as { message?: unknown; reason?: unknown }) : {};
  const message = typeof status.message === 'string' ? status.message : `HTTP ${e.code}`;
  return new KubeApiError(e.code, `${what}: ${message}`, typeof status.reason === 'string' ? status.reason : undefined);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** One Meridian kind through client-node: list and watch (one namespace or all), and the writes the store makes. */
export function customObjects(kubeConfig: KubeConfig, kind: Kind, namespace: string | undefined) {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  const watcher = new Watch(kubeConfig);
  const plural = KIND_SPECS[kind].plural;
  const base = { group: API_GROUP, version: API_VERSION_NAME, plural };
  const path = `/apis/${API_GROUP}/${API_VERSION_NAME}/${namespace ? `namespaces/${namespace}/` : ''}${plural}`;
  const what = (name?: string, ns?: string): string => `${kind} ${name ? `${ns ?? ''}/${name}` : namespace ? `in ${namespace}` : 'in all namespaces'}`;

  const listWatch: ListWatch<KubeObject> = {
    async list() {
      try {
        const r = (namespace ? await api.listNamespacedCustomObject({ ...base, namespace }) : await api.listClusterCustomObject(base)) as { items?: KubeObject[]; metadata?: { resourceVersion?: string } };
        return { items: r.items ?? [], resourceVersion: r.metadata?.resourceVersion ?? '' };
      } catch (e) {
        throw apiError(e, `list ${what()}`);
      }
    },
    watch(resourceVersion, timeoutSeconds, onEvent, signal) {
      return new Promise<void>((resolve, reject) => {
        // client-node hands out the stream's controller only once the response headers are in: an
        // abort before that (close, the inactivity deadline) must not wait for them.
        const onAbort = (): void => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        const done = (err: unknown): void => {
          signal.removeEventListener('abort', onAbort);
          if (err && !signal.aborted) reject(err);
          else resolve();
        };
        watcher
          .watch(path, { resourceVersion, allowWatchBookmarks: true, timeoutSeconds }, (type: string, object: unknown) => onEvent(toEvent(type, object)), done)
          .then((controller) => {
            if (signal.aborted) controller.abort();
            else signal.addEventListener('abort', () => controller.abort(), { once: true });
          }, reject);
      });
    },
  };

  return {
    listWatch,
    /** PUT of the status subresource, naming the resourceVersion read: a 409 when the object changed since. */
    async replaceStatus(object: KubeObject & { readonly status?: unknown }): Promise<KubeObject> {
      const name = object.metadata?.name ?? '';
      const ns = object.metadata?.namespace ?? '';
      try {
        return (await api.replaceNamespacedCustomObjectStatus({ ...base, namespace: ns, name, body: object })) as KubeObject;
      } catch (e) {
        throw apiError(e, `status of ${what(name, ns)}`);
      }
    },
    /** A JSON merge patch of the spec (as `kubectl patch --type merge`): null removes a field. */
    async mergePatchSpec(ns: string, name: string, spec: Readonly<Record<string, unknown>>): Promise<KubeObject> {
      try {
        return (await api.patchNamespacedCustomObject({ ...base, namespace: ns, name, body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as KubeObject;
      } catch (e) {
        throw apiError(e, `spec of ${what(name, ns)}`);
      }
    },
    async create(ns: string, body: KubeObject): Promise<KubeObject> {
      try {
        return (await api.createNamespacedCustomObject({ ...base, namespace: ns, body })) as KubeObject;
      } catch (e) {
        throw apiError(e, `create ${what(body.metadata?.name, ns)}`);
      }
    },
  };
}

function toEvent(type: string, object: unknown): WatchEvent<KubeObject> {
  const o = (object ?? {}) as KubeObject & { code?: number; reason?: string; message?: string };
  if (type === 'BOOKMARK') return { type, resourceVersion: o.metadata?.resourceVersion ?? '' };
  if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') return { type, object: o };
  return { type: 'ERROR', status: { ...(o.code !== undefined ? { code: o.code } : {}), ...(o.reason ? { reason: o.reason } : {}), ...(o.message ? { message: o.message } : {}) } };
}
