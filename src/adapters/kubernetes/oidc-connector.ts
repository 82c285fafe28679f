import { isDeepStrictEqual } from 'node:util';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { err, ok, type Result } from '../../model/result.js';
import { apiError, KubeApiError } from './custom-objects.js';

/** The Teleport Kubernetes operator's TeleportOIDCConnector: its CRD serves v3 only (integrations/operator/config/crd/bases). */
const GROUP = 'resources.teleport.dev';
const VERSION = 'v3';
const PLURAL = 'teleportoidcconnectors';
const KIND = 'TeleportOIDCConnector';
/** The operator leaves a connector with this annotation alone (controllers/reconcilers/generic.go). */
const IGNORE_ANNOTATION = 'teleport.dev/ignore';
/** The operator's status conditions (controllers/reconcilers/utils.go): False means Teleport did not get the spec. */
const OPERATOR_CONDITIONS = ['ValidStructure', 'TeleportResourceOwned', 'SuccessfullyReconciled'];

export interface ConnectorRef {
  readonly namespace: string;
  readonly name: string;
}

export interface ConnectorSynced {
  readonly outcome: 'updated' | 'unchanged';
  /** Why the operator may not carry the connector to Teleport: its ignore annotation, or a failed condition. */
  readonly warning?: string;
}

interface ConnectorObject {
  readonly kind?: unknown;
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: unknown;
  readonly status?: { readonly conditions?: readonly { readonly type?: string; readonly status?: string; readonly message?: string }[] };
}

/**
 * TeleportOIDCConnectors through client-node: Meridian owns `spec.redirect_url` only. The operator
 * copies the whole spec to Teleport on every generation change, so the list is written here, in the
 * custom resource (a `tctl` edit would be overwritten by the operator).
 */
export function oidcConnectors(kubeConfig: KubeConfig) {
  const api = kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    /**
     * Reads the connector and, only when its list differs, sets `spec.redirect_url` to `urls` by a JSON
     * merge patch that names no other field. Nothing is written once `signal` is aborted. Errors name
     * the connector and what is wrong.
     */
    async syncRedirectUrls(ref: ConnectorRef, urls: readonly string[], signal?: AbortSignal): Promise<Result<ConnectorSynced, string>> {
      const what = `${KIND} ${ref.namespace}/${ref.name}`;
      const at = { group: GROUP, version: VERSION, plural: PLURAL, namespace: ref.namespace, name: ref.name };
      let current: ConnectorObject;
      try {
        current = (await api.getNamespacedCustomObject(at)) as ConnectorObject;
      } catch (e) {
        return err(describeFailure(apiError(e, what), what, ref.name));
      }
      const shape = redirectUrlsOf(current);
      if (!shape.ok) return err(`${what}: ${shape.error}`);
      const ignored = ignoredByOperator(current);
      if (isDeepStrictEqual(shape.value, [...urls])) return synced('unchanged', ignored ?? failedCondition(current));
      if (signal?.aborted) return err(`${what}: not written, this replica stopped acting`);
      let patched: ConnectorObject;
      try {
        patched = (await api.patchNamespacedCustomObject({ ...at, body: { spec: { redirect_url: [...urls] } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as ConnectorObject;
      } catch (e) {
        return err(describeFailure(apiError(e, what), what, ref.name));
      }
      // A CRD without the field would prune it silently.
      const after = redirectUrlsOf(patched);
      if (!after.ok || !isDeepStrictEqual(after.value, [...urls])) return err(`${what}: the API server did not keep spec.redirect_url (is its CRD the Teleport operator's?)`);
      // The conditions read are about the spec before this write: the next check reads the new ones.
      return synced('updated', ignored);
    },
  };
}

/** The connector's list; a single string is one entry, as Teleport reads it. */
function redirectUrlsOf(o: ConnectorObject): Result<readonly string[], string> {
  if (o.kind !== undefined && o.kind !== KIND) return err(`kind is ${JSON.stringify(o.kind)}, expected "${KIND}"`);
  if (o.spec === undefined || o.spec === null) return ok([]);
  if (typeof o.spec !== 'object' || Array.isArray(o.spec)) return err('spec is not an object');
  const list = (o.spec as { redirect_url?: unknown }).redirect_url;
  if (list === undefined || list === null) return ok([]);
  if (typeof list === 'string') return ok([list]);
  if (Array.isArray(list) && list.every((u) => typeof u === 'string')) return ok(list as string[]);
  return err(`spec.redirect_url is ${JSON.stringify(list)}, expected a list of URLs`);
}

function synced(outcome: ConnectorSynced['outcome'], warning: string | undefined): Result<ConnectorSynced, string> {
  return ok({ outcome, ...(warning ? { warning } : {}) });
}

function ignoredByOperator(o: ConnectorObject): string | undefined {
  // strconv.ParseBool's true forms, as the operator reads the annotation.
  const flag = o.metadata?.annotations?.[IGNORE_ANNOTATION] ?? '';
  return ['1', 't', 'T', 'true', 'TRUE', 'True'].includes(flag) ? `annotated ${IGNORE_ANNOTATION}=${flag}: the Teleport operator does not carry it to Teleport` : undefined;
}

function failedCondition(o: ConnectorObject): string | undefined {
  const failed = o.status?.conditions?.find((c) => c.status === 'False' && OPERATOR_CONDITIONS.includes(c.type ?? ''));
  return failed ? `the Teleport operator reports ${failed.type}=False: ${failed.message ?? ''}` : undefined;
}

function describeFailure(e: unknown, what: string, name: string): string {
  if (!(e instanceof KubeApiError)) return `${what}: ${e instanceof Error ? e.message : String(e)}`;
  // The object missing names it; a resource the API server does not serve (no operator CRDs) does not.
  if (e.statusCode === 404) return e.message.includes(`"${name}" not found`) ? `${what}: not found (create it, or name another connector in spec.oidcConnector)` : `${what}: the API server does not serve ${PLURAL}.${GROUP}/${VERSION}: is the Teleport operator installed?`;
  if (e.statusCode === 403) return `${e.message} (the chart grants it with teleportOperator.oidcConnector.enabled)`;
  return e.message;
}
