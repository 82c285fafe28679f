// The Kubernetes API the suites run on, chosen as controller-runtime's envtest chooses it:
// USE_EXISTING_CLUSTER=true: the current kubeconfig's cluster; else KUBEBUILDER_ASSETS set:
// etcd and kube-apiserver from that folder; else the in-process server of api-server.ts. In
// every case the suites talk to a fault proxy in front of it (fault-proxy.ts), so fault
// switches, `authorize` and `onRequest` behave the same on each. See test/kube/README.md.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { loadKubeConfig, SERVICE_ACCOUNT_DIR } from '../../src/adapters/kubernetes/load-kube-config.js';
import { startApiServer, type KubeConfigOptions } from './api-server.js';
import { NS } from './client.js';
import { controlPlaneOptionsFromEnv, startControlPlane } from './envtest/control-plane.js';
import { installCrds } from './envtest/crds.js';
import { rest, restOk } from './envtest/rest.js';
import type { RequestInfo } from './faults.js';
import { startFaultProxy, type ProxyFaults } from './fault-proxy.js';
import { apiVersionOf, DEFAULT_CRD_DIR, EVENTS, LEASES, loadCrds, ResourceRegistry, type ResourceType } from './resources.js';
import type { Authorizer } from './routes.js';
import type { KubeObject } from './strategy.js';

export type Backend = 'in-process' | 'envtest' | 'existing-cluster';

/** A namespace the suites made on an existing cluster carries this label; they clean only those. */
export const TEST_NAMESPACE_LABEL = 'meridian.dev/test-namespace';

export interface TestClusterOptions {
  /** Directory of CRD YAML files (default: manifests/crds). */
  crdDir?: string;
  /** CRD files or directories installed too (another operator's CRDs), and waited for, as envtest's CRDInstallOptions.Paths. */
  extraCrds?: readonly string[];
  /** Namespaces the suite uses (default: [NS]); a real server refuses objects in a namespace that does not exist. */
  namespaces?: readonly string[];
  /** Checks each resource request by its bearer token; false answers 403 Forbidden (done by the proxy on every backend). */
  authorize?: Authorizer;
  /** Sees each request when its response finishes. */
  onRequest?: (info: RequestInfo, statusCode: number) => void;
  /** Bearer token the kubeconfig carries (default "meridian-test"). */
  token?: string;
}

export interface TestCluster {
  readonly backend: Backend;
  /** What ran, for the log: "envtest (kube-apiserver from /path)". */
  readonly description: string;
  /** The proxy's URL: the address clients use. */
  readonly url: string;
  kubeconfig(options?: { namespace?: string; token?: string }): KubeConfigOptions;
  kubeconfigYaml(options?: { namespace?: string; token?: string }): string;
  readonly faults: ProxyFaults;
  /** Server state, for assertions, read as the admin user past the proxy: the object, or undefined. */
  get(plural: string, namespace: string, name: string): Promise<KubeObject | undefined>;
  list(plural: string, namespace?: string): Promise<KubeObject[]>;
  /** The server's current resourceVersion (a list's). */
  resourceVersion(): Promise<string>;
  /** Watch streams open through the proxy now. */
  openWatches(): number;
  close(): Promise<void>;
}

const crdPaths = (options: TestClusterOptions): string[] => [options.crdDir ?? DEFAULT_CRD_DIR, ...(options.extraCrds ?? [])];

export function backendFromEnv(env: NodeJS.ProcessEnv): Backend {
  if ((env['USE_EXISTING_CLUSTER'] ?? '').toLowerCase() === 'true') return 'existing-cluster';
  return env['KUBEBUILDER_ASSETS'] ? 'envtest' : 'in-process';
}

function collectionPath(t: ResourceType, namespace?: string): string {
  const root = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return `${root}${t.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${t.plural}`;
}

/** Reads as the admin user (the in-process server answers them from memory). */
interface Reader {
  get(t: ResourceType, namespace: string, name: string): Promise<KubeObject | undefined>;
  list(t: ResourceType, namespace?: string): Promise<KubeObject[]>;
  resourceVersion(): Promise<string>;
}

function restReader(admin: KubeConfig): Reader {
  return {
    get: async (t, namespace, name) => {
      const a = await rest(admin, 'GET', `${collectionPath(t, namespace)}/${encodeURIComponent(name)}`);
      if (a.status === 404) return undefined;
      if (a.status !== 200) throw new Error(`GET ${t.plural} ${namespace}/${name}: ${a.status} ${JSON.stringify(a.body)}`);
      return a.body as KubeObject;
    },
    list: async (t, namespace) => {
      const body = (await restOk(admin, 'GET', collectionPath(t, namespace))) as { items: KubeObject[] };
      // Typed lists (Leases, Events) leave apiVersion and kind out of their items; the in-process reads have them.
      return body.items.map((o) => ({ ...o, apiVersion: apiVersionOf(t), kind: t.kind }));
    },
    resourceVersion: async () => ((await restOk(admin, 'GET', `${collectionPath(LEASES)}?limit=1`)) as { metadata: { resourceVersion: string } }).metadata.resourceVersion,
  };
}

/** Namespaces for the suite: created when missing; on an existing cluster, emptied of the suites' kinds when the suites made them before, refused otherwise. */
async function prepareNamespaces(admin: KubeConfig, registry: ResourceRegistry, namespaces: readonly string[], existing: boolean): Promise<void> {
  for (const ns of namespaces) {
    const found = await rest(admin, 'GET', `/api/v1/namespaces/${encodeURIComponent(ns)}`);
    if (found.status === 404) {
      await restOk(admin, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [TEST_NAMESPACE_LABEL]: 'true' } } });
      continue;
    }
    if (!existing) continue;
    const labels = (found.body as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {};
    if (labels[TEST_NAMESPACE_LABEL] !== 'true') {
      throw new Error(`USE_EXISTING_CLUSTER: namespace "${ns}" exists and was not made by these tests (no label ${TEST_NAMESPACE_LABEL}=true); the suites delete everything of their kinds in it, so use a disposable cluster (kind, minikube) or remove it`);
    }
    // What an earlier run left (the suites use fixed names).
    for (const t of registry.all) if (t.namespaced) await restOk(admin, 'DELETE', collectionPath(t, ns), undefined, [200, 404]);
  }
}

async function upstreamFor(backend: Backend, options: TestClusterOptions, registry: ResourceRegistry) {
  if (backend === 'in-process') {
    const server = await startApiServer({ ...(options.crdDir ? { crdDir: options.crdDir } : {}), ...(options.extraCrds ? { extraCrds: options.extraCrds } : {}) });
    const admin = new KubeConfig();
    admin.loadFromOptions(server.kubeconfig());
    const reader: Reader = {
      get: async (t, namespace, name) => server.get(t.plural, namespace, name),
      list: async (t, namespace) => server.list(t.plural, namespace),
      resourceVersion: async () => server.resourceVersion(),
    };
    return { admin, reader, description: 'in-process API server (test/kube/api-server.ts)', close: () => server.close() };
  }
  let admin: KubeConfig;
  let description: string;
  let stop: () => Promise<void>;
  if (backend === 'envtest') {
    const cp = await startControlPlane(controlPlaneOptionsFromEnv(process.env)!);
    [admin, stop] = [cp.admin, () => cp.stop()];
    description = `envtest: etcd and kube-apiserver from KUBEBUILDER_ASSETS=${process.env['KUBEBUILDER_ASSETS'] ?? ''} at ${cp.url}`;
  } else {
    // Where controller-runtime's config.GetConfig looks: KUBECONFIG, ~/.kube/config, the pod's service account.
    const paths = (process.env['KUBECONFIG'] ?? '').split(':').filter(Boolean);
    const home = join(homedir(), '.kube', 'config');
    const host = process.env['KUBERNETES_SERVICE_HOST'];
    const loaded = await loadKubeConfig({
      ...(paths.length > 0 ? { kubeconfig: { paths, from: 'KUBECONFIG' } } : existsSync(home) ? { kubeconfig: { paths: [home], from: '~/.kube/config' } } : {}),
      ...(host ? { inCluster: { host, port: process.env['KUBERNETES_SERVICE_PORT'] ?? '443' } } : {}),
      serviceAccountDir: SERVICE_ACCOUNT_DIR,
    });
    if (!loaded.ok) throw new Error(`USE_EXISTING_CLUSTER=true: ${loaded.error}`);
    [admin, stop] = [loaded.value.kubeConfig, async () => undefined];
    description = `existing cluster: ${loaded.value.source}, API server ${loaded.value.kubeConfig.getCurrentCluster()?.server ?? '?'}`;
  }
  try {
    // As envtest, on both: apply the CRDs and wait until discovery serves them.
    await installCrds(admin, crdPaths(options));
    await prepareNamespaces(admin, registry, options.namespaces ?? [NS], backend === 'existing-cluster');
  } catch (e) {
    await stop();
    throw e;
  }
  return { admin, reader: restReader(admin), description, close: stop };
}

let logged = false;

export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const backend = backendFromEnv(process.env);
  const registry = new ResourceRegistry([...loadCrds(crdPaths(options)), LEASES, EVENTS]);
  const upstream = await upstreamFor(backend, options, registry);
  const proxy = await startFaultProxy({
    upstream: upstream.admin,
    registry,
    ...(options.authorize ? { authorize: options.authorize } : {}),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  }).catch(async (e: unknown) => {
    await upstream.close();
    throw e;
  });
  if (!logged || backend !== 'in-process') process.stderr.write(`Kubernetes test backend: ${upstream.description}\n`);
  logged = true;
  const url = proxy.url;
  const defaultToken = options.token ?? 'meridian-test';
  const kubeconfig = (o: { namespace?: string; token?: string } = {}): KubeConfigOptions => ({
    clusters: [{ name: 'test', server: url, skipTLSVerify: true }],
    users: [{ name: 'test', token: o.token ?? defaultToken }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test', ...(o.namespace ? { namespace: o.namespace } : {}) }],
    currentContext: 'test',
  });
  return {
    backend,
    description: upstream.description,
    url,
    kubeconfig,
    kubeconfigYaml: (o = {}) =>
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'test', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'test', user: { token: o.token ?? defaultToken } }],
        contexts: [{ name: 'test', context: { cluster: 'test', user: 'test', ...(o.namespace ? { namespace: o.namespace } : {}) } }],
        'current-context': 'test',
      }),
    faults: proxy.faults,
    get: (plural, namespace, name) => upstream.reader.get(registry.byPlural(plural), namespace, name),
    list: (plural, namespace) => upstream.reader.list(registry.byPlural(plural), namespace),
    resourceVersion: () => upstream.reader.resourceVersion(),
    openWatches: () => proxy.openWatches(),
    close: async () => {
      await proxy.close();
      await upstream.close();
    },
  };
}
