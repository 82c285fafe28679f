// The real @kubernetes/client-node, pointed at a test API server, for the tests here.
import { ApiException, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import type { ApiServer } from './api-server.js';
import type { StatusObject } from './status-errors.js';

export const GROUP = 'meridian.dev';
export const VERSION = 'v1alpha1';
export const NS = 'meridian';

/** Clients for either server: the in-process one or a TestCluster (cluster.ts). */
export function clientsFor(server: Pick<ApiServer, 'kubeconfig'>, token?: string) {
  const kc = new KubeConfig();
  kc.loadFromOptions(server.kubeconfig({ namespace: NS, ...(token ? { token } : {}) }));
  return {
    kc,
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
    core: kc.makeApiClient(CoreV1Api),
    watch: new Watch(kc),
  };
}

/** client-node 1.x sends PATCH as JSON patch unless the Content-Type is set through a middleware. */
export const asMergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
export const asStrategicMergePatch = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);

/** The Status object a failed call returned (client-node 1.x puts it in ApiException.body). */
export async function rejection(call: Promise<unknown>): Promise<StatusObject> {
  try {
    await call;
  } catch (e) {
    if (e instanceof ApiException) return (typeof e.body === 'string' ? JSON.parse(e.body) : e.body) as StatusObject;
    throw e;
  }
  throw new Error('the call succeeded');
}

export function rollout(name: string, spec: Record<string, unknown> = { version: '17.4.8' }) {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: 'ProxyRollout', metadata: { name, namespace: NS }, spec };
}

/** What the client sees of an object; custom object calls return `any`. */
export interface Seen {
  metadata: { name: string; resourceVersion: string; generation?: number; uid: string; creationTimestamp: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}
