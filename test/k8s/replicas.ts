import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { buildConfig } from '../../src/config.js';
import { compressedTimers, startMeridian, type MeridianHandle } from '../../src/main.js';
import type { RequestInfo } from '../kube/faults.js';
import { startTestCluster, type TestCluster } from '../kube/cluster.js';
import { clientsFor, GROUP, NS, VERSION } from '../kube/client.js';
import { waitFor } from '../helpers/wait.js';
import { chartAuthorizer } from './chart-rbac.js';
import type { DemoWorld, Manifest } from './demo-world.js';
import { OBSERVE, TIME_FACTOR } from './demo-world.js';
import { startForwarder, type Forwarder } from './forwarder.js';

const LEASE = 'meridian-leader';

export interface Replica {
  readonly id: string;
  readonly handle: MeridianHandle;
}

/** Plural of each meridian.dev kind, as the API server serves it. */
const PLURALS: Record<string, string> = { ProxyFleet: 'proxyfleets', ProxyRollout: 'proxyrollouts', ProxyCanary: 'proxycanaries', ProxyPeering: 'proxypeerings' };
const pluralOf = (kind: string): string => PLURALS[kind] ?? `${kind.toLowerCase()}s`;

export interface ClusterOptions {
  /** Replica identities, started in this order (default meridian-a, meridian-b). */
  readonly ids?: readonly string[];
  /** Runs before each request of a replica goes on to the API server (see startForwarder). */
  readonly before?: (req: IncomingMessage, server: TestCluster) => Promise<void>;
  /** True for an answer the replica never gets: the request was made, its outcome lost (see startForwarder). */
  readonly loseAnswer?: (req: IncomingMessage, statusCode: number) => boolean;
  /** Sees each request the API server answered, with its status. */
  readonly onRequest?: (info: RequestInfo, status: number) => void;
}

/** A request a replica made that changes something (not a GET), as it left the replica. */
export interface Write {
  readonly method: string;
  readonly path: string;
}

/**
 * The world's manifests as objects in the test cluster (startTestCluster: the in-process API
 * server, envtest's binaries or an existing cluster, as the environment says), and controller
 * replicas with the kubernetes store (a Lease of 3 s, compressed time) reaching it through a
 * forwarder. Each replica has exactly what the chart's rendered RBAC grants, unless cut off (then
 * nothing); the cluster's fault proxy decides that on every backend.
 */
export interface Cluster {
  readonly server: TestCluster;
  readonly replicas: readonly Replica[];
  /** Replicas whose `exit` was called: a term that did not stop in time. */
  readonly stuck: readonly string[];
  /** The Lease's holder now. */
  holder(): Promise<string | undefined>;
  /** The Lease's transitions so far. */
  leaseTransitions(): Promise<number>;
  /** The replica's `meridian_leader` as its /metrics says. */
  leading(r: Replica): Promise<number | undefined>;
  /** Waits for a holder whose /metrics agrees, and no other replica saying it leads; `not` excluded. */
  leader(not?: string): Promise<Replica>;
  /** Every request with the replica's token is refused from now on (a network partition). */
  cutOff(id: string): void;
  /** Closes the replica (a pod killed: it stops and releases what it can). */
  kill(id: string): Promise<void>;
  /** Starts one more replica (the pod that replaces a killed one). */
  start(id: string): Promise<Replica>;
  /** What the replica has written so far (requests other than GET, in order). */
  writes(id: string): readonly Write[];
  /** The object's status as the API server holds it. */
  status<T>(kind: string, name: string): Promise<T>;
  close(): Promise<void>;
}

export async function startCluster(world: DemoWorld, manifests: readonly Manifest[], options: ClusterOptions = {}): Promise<Cluster> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const cut = new Set<string>();
  const allowedByChart = chartAuthorizer({ leaseName: LEASE });
  const server = await startTestCluster({
    // The replicas have what the chart's RBAC grants; the test's own client (any other token) all.
    authorize: (info, token) => !cut.has(token ?? '') && (!token?.startsWith('token-') || allowedByChart(info)),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  });
  cleanups.push(() => server.close());
  const written = new Map<string, Write[]>();
  const forwarder: Forwarder = await startForwarder(
    server.url,
    async (req) => {
      const id = /^Bearer token-(\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (id && req.method !== 'GET') written.set(id, [...(written.get(id) ?? []), { method: req.method ?? '', path: req.url ?? '' }]);
      await options.before?.(req, server);
    },
    options.loseAnswer ? { loseAnswer: options.loseAnswer } : {},
  );
  cleanups.push(() => forwarder.close());
  const { custom } = clientsFor(server);
  for (const m of manifests) await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: pluralOf(m.kind), body: m });

  const replicas: Replica[] = [];
  const stuck: string[] = [];
  const closed = new Set<string>();
  const start = async (id: string): Promise<Replica> => {
    const kubeconfig = join(world.dir, `${id}.kubeconfig`);
    await writeFile(kubeconfig, server.kubeconfigYaml({ token: `token-${id}` }).replace(server.url, forwarder.url));
    const config = buildConfig([
      {
        source: 'test',
        values: {
          store: 'kubernetes',
          kubeconfig,
          namespace: NS,
          identity: id,
          leaseDuration: '3s',
          renewDeadline: '2s',
          retryPeriod: '300ms',
          stateDir: join(world.dir, id),
          admin: '127.0.0.1:0',
          public: '127.0.0.1:0',
          ...OBSERVE,
        },
      },
    ]);
    assert.ok(config.ok, config.ok ? '' : config.error.join('; '));
    const handle = await startMeridian(config.value, pino({ level: 'silent' }), { runtime: { clock: world.sim.clock, timers: compressedTimers(TIME_FACTOR) }, exit: () => stuck.push(id) });
    cleanups.push(() => (closed.has(id) ? Promise.resolve() : handle.close()));
    const r = { id, handle };
    replicas.push(r);
    return r;
  };
  for (const id of options.ids ?? ['meridian-a', 'meridian-b']) await start(id);

  const lease = async () => (await server.get('leases', NS, LEASE))?.['spec'] as { holderIdentity?: string; leaseTransitions?: number } | undefined;
  const holder = async (): Promise<string | undefined> => (await lease())?.holderIdentity || undefined;
  const leading = async (r: Replica): Promise<number | undefined> => {
    const text = await (await fetch(new URL('/metrics', r.handle.adminUrl))).text();
    const m = new RegExp(`^meridian_leader\\{identity="${r.id}"\\} (\\d)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const live = () => replicas.filter((r) => !closed.has(r.id) && !cut.has(`token-${r.id}`));
  return {
    server,
    replicas,
    stuck,
    holder,
    leaseTransitions: async () => (await lease())?.leaseTransitions ?? 0,
    leading,
    leader: (not) =>
      waitFor(`a leader${not ? ` other than ${not}` : ''}`, async () => {
        const h = await holder();
        const r = live().find((x) => x.id === h);
        if (!r || r.id === not) return undefined;
        const flags = await Promise.all(live().map(leading));
        return flags.filter((f) => f === 1).length === 1 && (await leading(r)) === 1 ? r : undefined;
      }, 20_000),
    cutOff: (id) => void cut.add(`token-${id}`),
    kill: async (id) => {
      const r = replicas.find((x) => x.id === id);
      assert.ok(r, id);
      closed.add(id);
      await r.handle.close();
    },
    start,
    writes: (id) => written.get(id) ?? [],
    status: async <T>(kind: string, name: string): Promise<T> => ((await server.get(pluralOf(kind), NS, name))?.['status'] ?? {}) as T,
    close: async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    },
  };
}
