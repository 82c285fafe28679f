import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pino from 'pino';
import { buildConfig } from '../../src/config.js';
import { compressedTimers, startMeridian, type MeridianHandle } from '../../src/main.js';
import { startApiServer, type ApiServer } from '../kube/api-server.js';
import type { RequestInfo } from '../kube/faults.js';
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
  readonly before?: (req: IncomingMessage, server: ApiServer) => Promise<void>;
  /** True for an answer the replica never gets: the request was made, its outcome lost (see startForwarder). */
  readonly loseAnswer?: (req: IncomingMessage, statusCode: number) => boolean;
  /** Sees each request the API server answered, with its status. */
  readonly onRequest?: (info: RequestInfo, status: number) => void;
}

/**
 * The world's manifests as objects in the in-process API server, and controller replicas with the
 * kubernetes store (a Lease of 3 s, compressed time) reaching it through a forwarder. Each replica
 * has exactly what the chart's rendered RBAC grants, unless cut off (then nothing).
 */
export interface Cluster {
  readonly server: ApiServer;
  readonly replicas: readonly Replica[];
  /** Replicas whose `exit` was called: a term that did not stop in time. */
  readonly stuck: readonly string[];
  /** The Lease's holder now. */
  holder(): string | undefined;
  /** The Lease's transitions so far. */
  leaseTransitions(): number;
  /** The replica's `meridian_leader` as its /metrics says. */
  leading(r: Replica): Promise<number | undefined>;
  /** Waits for a holder whose /metrics agrees, and no other replica saying it leads; `not` excluded. */
  leader(not?: string): Promise<Replica>;
  /** Every request with the replica's token is refused from now on (a network partition). */
  cutOff(id: string): void;
  /** Closes the replica (a pod killed: it stops and releases what it can). */
  kill(id: string): Promise<void>;
  /** The object's status as the API server holds it. */
  status<T>(kind: string, name: string): T;
  close(): Promise<void>;
}

export async function startCluster(world: DemoWorld, manifests: readonly Manifest[], options: ClusterOptions = {}): Promise<Cluster> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const cut = new Set<string>();
  const allowedByChart = chartAuthorizer({ leaseName: LEASE });
  const server = await startApiServer({
    // The replicas have what the chart's RBAC grants; the test's own client (any other token) all.
    authorize: (info, token) => !cut.has(token ?? '') && (!token?.startsWith('token-') || allowedByChart(info)),
    ...(options.onRequest ? { onRequest: options.onRequest } : {}),
  });
  cleanups.push(() => server.close());
  const forwarder: Forwarder = await startForwarder(server.url, async (req) => options.before?.(req, server), options.loseAnswer ? { loseAnswer: options.loseAnswer } : {});
  cleanups.push(() => forwarder.close());
  const { custom } = clientsFor(server);
  for (const m of manifests) await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: pluralOf(m.kind), body: m });

  const replicas: Replica[] = [];
  const stuck: string[] = [];
  const closed = new Set<string>();
  for (const id of options.ids ?? ['meridian-a', 'meridian-b']) {
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
    replicas.push({ id, handle });
  }

  const lease = () => server.get('leases', NS, LEASE)?.['spec'] as { holderIdentity?: string; leaseTransitions?: number } | undefined;
  const holder = (): string | undefined => lease()?.holderIdentity || undefined;
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
    leaseTransitions: () => lease()?.leaseTransitions ?? 0,
    leading,
    leader: (not) =>
      waitFor(`a leader${not ? ` other than ${not}` : ''}`, async () => {
        const h = holder();
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
    status: <T>(kind: string, name: string): T => (server.get(pluralOf(kind), NS, name)?.['status'] ?? {}) as T,
    close: async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    },
  };
}
