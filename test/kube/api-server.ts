// An in-process Kubernetes API server for tests, spoken to over plain HTTP by the real
// @kubernetes/client-node. It serves the meridian.dev CRDs from manifests/crds, Leases and
// Events with the protocol details a controller depends on (global resourceVersion, /status,
// optimistic concurrency, patches, schema validation, watches with bookmarks and 410), and has
// fault switches. See test/kube/README.md for what it does and does not implement.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { stringify } from 'yaml';
import { Faults, type RequestInfo } from './faults.js';
import { crdType, DEFAULT_CRD_DIR, EVENTS, LEASES, loadCrds, ResourceRegistry, type Crd, type ResourceType } from './resources.js';
import { createHandler, type Authorizer } from './routes.js';
import { ObjectStore } from './store.js';
import type { KubeObject } from './strategy.js';
import { WatchHub } from './watch-hub.js';

export interface ApiServerOptions {
  /** Directory of CRD YAML files (default: manifests/crds). */
  crdDir?: string;
  /** CRD files or directories served too (another operator's CRDs). */
  extraCrds?: readonly string[];
  /** Changes kept for watches, across all kinds (default 1000); older resourceVersions get 410. */
  historyLimit?: number;
  /** How an expired watch is refused: 'event' (in-stream ERROR, what the API server does; default) or 'http' (a 410 response). */
  expiredWatchAs?: 'event' | 'http';
  /** Period of BOOKMARK events on watches that allow them (default 60 s, as the API server). */
  bookmarkIntervalMs?: number;
  /** Watch length when the client sends no timeoutSeconds (default 1800 s). */
  defaultWatchTimeoutSeconds?: number;
  /** Checks each resource request; false answers 403 Forbidden (for RBAC tests). */
  authorize?: Authorizer;
  /** Sees each request when its response finishes. */
  onRequest?: (info: RequestInfo, statusCode: number) => void;
  /** Bearer token the kubeconfig carries (default "meridian-test"). */
  token?: string;
}

/** What KubeConfig.loadFromOptions takes. */
export interface KubeConfigOptions {
  clusters: { name: string; server: string; skipTLSVerify: boolean }[];
  users: { name: string; token: string }[];
  contexts: { name: string; cluster: string; user: string; namespace?: string }[];
  currentContext: string;
}

export interface ApiServer {
  url: string;
  /** Options for `new KubeConfig().loadFromOptions(...)`; `token` overrides the user's bearer token. */
  kubeconfig(options?: { namespace?: string; token?: string }): KubeConfigOptions;
  /** The same as a kubeconfig file (for --kubeconfig / KUBECONFIG). */
  kubeconfigYaml(options?: { namespace?: string; token?: string }): string;
  faults: Faults;
  /** Server state, for assertions: a copy of the stored object, or undefined. */
  get(plural: string, namespace: string, name: string): KubeObject | undefined;
  /** Server state, for assertions: copies of the stored objects of a kind. */
  list(plural: string, namespace?: string): KubeObject[];
  /** The current global resourceVersion. */
  resourceVersion(): string;
  /** Sends a BOOKMARK now on every watch that allows bookmarks. */
  bookmarkNow(): void;
  /** Drops all watch history (an etcd compaction): a watch from an older resourceVersion gets 410. */
  compact(): void;
  /** Number of watch streams open now. */
  openWatches(): number;
  resources: readonly ResourceType[];
  /** Serves a CRD applied while it runs (what the stand-in kube-apiserver does on a CRD create); a kind served already stays as it is. */
  serveCrd(crd: Crd): void;
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions = {}): Promise<ApiServer> {
  const registry = new ResourceRegistry([...loadCrds([options.crdDir ?? DEFAULT_CRD_DIR, ...(options.extraCrds ?? [])]), LEASES, EVENTS]);
  const store = new ObjectStore(options.historyLimit ?? 1000);
  const hub = new WatchHub(store, {
    expiredAs: options.expiredWatchAs ?? 'event',
    bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
    defaultTimeoutSeconds: options.defaultWatchTimeoutSeconds ?? 1800,
  });
  const sockets = new Set<Socket>();
  const destroyConnections = (): number => {
    const n = sockets.size;
    for (const s of sockets) s.destroy();
    return n;
  };
  const faults = new Faults(hub, destroyConnections);
  const server: Server = createServer(
    createHandler({ registry, store, hub, faults, ...(options.authorize ? { authorize: options.authorize } : {}), ...(options.onRequest ? { onRequest: options.onRequest } : {}) }),
  );
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const defaultToken = options.token ?? 'meridian-test';

  const kubeconfig = (o: { namespace?: string; token?: string } = {}): KubeConfigOptions => ({
    clusters: [{ name: 'test', server: url, skipTLSVerify: true }],
    users: [{ name: 'test', token: o.token ?? defaultToken }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test', ...(o.namespace ? { namespace: o.namespace } : {}) }],
    currentContext: 'test',
  });

  return {
    url,
    kubeconfig,
    kubeconfigYaml: (o = {}) => {
      const c = kubeconfig(o);
      return stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'test', user: { token: c.users[0]!.token } }],
        contexts: [{ name: 'test', context: { cluster: 'test', user: 'test', ...(o.namespace ? { namespace: o.namespace } : {}) } }],
        'current-context': 'test',
      });
    },
    faults,
    get: (plural, namespace, name) => store.get(registry.byPlural(plural), namespace, name),
    list: (plural, namespace) => store.list(registry.byPlural(plural), namespace),
    resourceVersion: () => String(store.resourceVersion),
    bookmarkNow: () => hub.bookmarkNow(),
    compact: () => store.compact(),
    openWatches: () => hub.openCount,
    get resources() {
      return registry.all;
    },
    serveCrd: (crd) => registry.add(crdType(crd, `CRD ${crd.spec.names.plural}.${crd.spec.group}`)),
    close: async () => {
      hub.closeAll();
      destroyConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
