import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { FileStore } from '../adapters/file-store/index.js';
import { createEventRecorder, kubernetesEventSink } from '../adapters/kubernetes/event-recorder.js';
import { kubernetesLeaseLock } from '../adapters/kubernetes/lease-lock.js';
import { KubernetesStore } from '../adapters/kubernetes/kubernetes-store.js';
import { loadKubeConfig, SERVICE_ACCOUNT_DIR } from '../adapters/kubernetes/load-kube-config.js';
import { NO_MANIFEST_DIR, type MeridianConfig } from '../config.js';
import { recordNoEvent, type RecordEvent } from '../model/object-events.js';
import type { Store } from '../model/store.js';
import { systemClock } from './controller-runtime.js';
import { standaloneLeadership, type Leadership } from './leadership.js';
import { startLeaseLeadership } from './lease-leadership.js';
import type { Timers } from './work-queue.js';

/** Where desired state and status live, and who acts on them. */
export interface OpenedStore {
  readonly store: Store;
  readonly leadership: Leadership;
  /** Events on Meridian's objects (Kubernetes Events in a cluster). */
  readonly recordEvent: RecordEvent;
  /** The cluster the kubernetes store talks to (for other resources there, such as Teleport's); absent with the file store. */
  readonly cluster?: Cluster;
  /** Stops acting (a leader releases the Lease), then the store. */
  close(): Promise<void>;
}

export interface Cluster {
  readonly kubeConfig: KubeConfig;
  /** The namespace the store watches; absent: all. */
  readonly namespace?: string;
}

export interface OpenStoreOptions {
  /** Who acts, when the caller decides; otherwise standalone for the file store, a Lease for the kubernetes store. */
  readonly leadership?: Leadership;
  /** Follows whether this replica acts (meridian_leader). */
  readonly onLeading: (leading: boolean) => void;
  /** The leader's work did not stop in time after the Lease was lost: the process must go. */
  readonly exit: () => void;
}

/** Lease and API calls run on local wall time, whatever clock the controller acts on. */
const realTimers: Timers = { setTimeout, clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };

/** The file store and standalone leadership, or the API server's resources and a Lease election; resolves once synced. */
export async function openStore(config: MeridianConfig, log: Logger, opts: OpenStoreOptions): Promise<OpenedStore> {
  const kube = config.kubernetes;
  if (config.mode === 'standalone' || !kube) {
    const manifestDir = config.manifestDir;
    if (manifestDir === undefined) throw new Error(NO_MANIFEST_DIR);
    const store = new FileStore({ manifestDir, stateDir: config.stateDir, log: log.child({ component: 'file-store' }), clock: systemClock });
    await store.start();
    for (const p of store.problems()) log.warn({ source: p.source, line: p.line }, `Manifest refused: ${p.error.message}`);
    const leadership = opts.leadership ?? standaloneLeadership;
    if (!opts.leadership) opts.onLeading(true);
    return { store, leadership, recordEvent: recordNoEvent, close: () => store.close() };
  }

  const loaded = await loadKubeConfig({ ...(kube.kubeconfig ? { kubeconfig: kube.kubeconfig } : {}), ...(kube.inCluster ? { inCluster: kube.inCluster } : {}), serviceAccountDir: SERVICE_ACCOUNT_DIR });
  if (!loaded.ok) throw new Error(loaded.error);
  const { kubeConfig, source } = loaded.value;
  const leaseNamespace = kube.lease.namespace ?? loaded.value.namespace;
  if (!leaseNamespace) throw new Error(`no namespace for the Lease: give --lease-namespace or --namespace (${source} names none)`);
  log.info({ source, namespace: kube.namespace ?? 'all', lease: `${leaseNamespace}/${kube.lease.name}`, identity: config.identity }, 'Kubernetes store');
  const store = new KubernetesStore({ kubeConfig, ...(kube.namespace ? { namespace: kube.namespace } : {}), timers: realTimers, log: log.child({ component: 'kubernetes-store' }) });
  await store.start();
  const cluster: Cluster = { kubeConfig, ...(kube.namespace ? { namespace: kube.namespace } : {}) };
  // Events name the object's uid as the store holds it; wall time, as people read them.
  const events = createEventRecorder({ sink: kubernetesEventSink(kubeConfig), identity: config.identity, refOf: (key) => store.refOf(key), now: systemClock.now, log: log.child({ component: 'events' }) });
  const recordEvent = events.record;
  const closeStore = async (): Promise<void> => {
    await events.close();
    await store.close();
  };
  if (opts.leadership) return { store, leadership: opts.leadership, recordEvent, cluster, close: closeStore };
  const lease = startLeaseLeadership(
    {
      identity: config.identity,
      leaseDurationMs: kube.lease.durationMs,
      renewDeadlineMs: kube.lease.renewDeadlineMs,
      retryPeriodMs: kube.lease.retryPeriodMs,
      lock: kubernetesLeaseLock(kubeConfig, leaseNamespace, kube.lease.name),
      clock: systemClock,
      timers: realTimers,
      log: log.child({ component: 'leader-election' }),
      onStuck: opts.exit,
    },
    opts.onLeading,
  );
  return {
    store,
    leadership: lease.leadership,
    recordEvent,
    cluster,
    close: async () => {
      await lease.close();
      await closeStore();
    },
  };
}
