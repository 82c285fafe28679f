import type { Logger } from 'pino';
import { oidcConnectors, type ConnectorRef } from '../adapters/kubernetes/oidc-connector.js';
import { syncOidcConnectorFile } from '../adapters/teleport/oidc-connector-file.js';
import type { Clock } from '../model/clock.js';
import { conditionHolds, type ConditionInput } from '../model/conditions.js';
import { DEFAULT_NAMESPACE, keyOf } from '../model/resource.js';
import { Conflict, hasObjectConditions, type Store } from '../model/store.js';
import { oidcRedirectUrls } from '../oidc/core/redirect-urls.js';
import type { Leadership } from '../runtime/leadership.js';
import type { Cluster } from '../runtime/open-store.js';
import type { Timers } from '../runtime/work-queue.js';
import type { Job } from './job.js';
import type { ObservedState } from './observed-state.js';

/**
 * How often the leader re-reads the TeleportOIDCConnector, besides each fleet change: someone may
 * edit it (a GitOps sync re-applying an old list), and the chart grants get and patch on it, not
 * watch. A minute of the controller's time bounds such drift at one GET a minute.
 */
export const CONNECTOR_RECHECK_MS = 60_000;

/** The acting instance: keeps the redirect_url list of the OIDC connector file, and of the TeleportOIDCConnector the fleet names, in step with the fleet. */
export const oidcSyncJob: Job = {
  name: 'oidc-sync',
  async start({ config, log, leadership, observed, cluster, runtime, store }) {
    const file = config.oidcConnectorFile;
    const closeFile = file ? await syncConnectorFile(file, { log, leadership, observed }) : async () => undefined;
    const closeCluster = await syncClusterConnector({ log, leadership, observed, timers: runtime.timers, clock: runtime.clock, store, ...(cluster ? { cluster } : {}) });
    return {
      close: async () => {
        await closeFile();
        await closeCluster();
      },
    };
  },
};

interface SyncDeps {
  readonly log: Logger;
  readonly leadership: Leadership;
  readonly observed: Pick<ObservedState, 'fleet' | 'onFleet'>;
}

/** Standalone: the connector file `tctl create -f` takes. */
async function syncConnectorFile(file: string, { log, leadership, observed }: SyncDeps): Promise<() => Promise<void>> {
  return leadership.run(async (term) => {
    // One write at a time, none once the term is over, and a failure does not stop the next.
    let syncing = Promise.resolve();
    const sync = (): void => {
      syncing = syncing.then(async () => {
        const fleet = observed.fleet();
        if (!fleet || term.aborted) return;
        const r = await syncOidcConnectorFile(file, oidcRedirectUrls(fleet.spec));
        if (!r.ok) log.error({ file }, `OIDC connector not synced: ${r.error}`);
        else if (r.value === 'updated') log.info({ file }, 'Updated OIDC connector redirect_url');
      }).catch((e: unknown) => log.error({ file, err: e }, 'OIDC connector not synced'));
    };
    observed.onFleet(sync, term);
    sync();
    return () => syncing;
  });
}

export interface ClusterSyncDeps extends SyncDeps {
  /** Absent with the file store: a fleet naming a connector is then only warned about. */
  readonly cluster?: Cluster;
  /** The controller's timers, for the periodic re-check. */
  readonly timers: Timers;
  readonly clock: Clock;
  /** Where the fleet's OIDCConnectorSynced condition is written (a store whose objects take conditions). */
  readonly store?: Store;
}

export const CONNECTOR_CONDITION = 'OIDCConnectorSynced';

/** What the fleet's condition says after a sync: True once Teleport's operator has the list, False with why not. */
function conditionOf(connector: string, r: Awaited<ReturnType<ReturnType<typeof oidcConnectors>['syncRedirectUrls']>>, urls: number, generation: number): ConditionInput {
  if (!r.ok) return { type: CONNECTOR_CONDITION, status: 'False', reason: 'SyncFailed', message: r.error, observedGeneration: generation };
  if (r.value.warning) return { type: CONNECTOR_CONDITION, status: 'False', reason: 'OperatorNotApplying', message: `${connector}: ${r.value.warning}`, observedGeneration: generation };
  return { type: CONNECTOR_CONDITION, status: 'True', reason: 'Synced', message: `${connector}: redirect_url holds the ${urls} proxy callback URL(s)`, observedGeneration: generation };
}

/**
 * Kubernetes mode: the TeleportOIDCConnector named in `spec.oidcConnector`, in the fleet's namespace,
 * synced when what the fleet wants changes and re-checked every CONNECTOR_RECHECK_MS; only while leading.
 */
export async function syncClusterConnector({ log, leadership, observed, cluster, timers, clock, store }: ClusterSyncDeps): Promise<() => Promise<void>> {
  const connectors = cluster && oidcConnectors(cluster.kubeConfig);
  return leadership.run(async (term) => {
    let syncing = Promise.resolve();
    // What the last fleet change asked for: the fleet's status writes change nothing here.
    let asked: string | undefined;
    let warnedNoCluster = false;
    let lastWarning: string | undefined;
    const sync = (recheck: boolean): void => {
      syncing = syncing.then(async () => {
        const fleet = observed.fleet();
        const named = fleet?.spec.oidcConnector;
        if (!fleet || !named || term.aborted) return;
        const ref: ConnectorRef = { namespace: fleet.metadata.namespace ?? DEFAULT_NAMESPACE, name: named.name };
        const connector = `${ref.namespace}/${ref.name}`;
        if (!connectors) {
          if (!warnedNoCluster) log.warn({ connector }, 'spec.oidcConnector names a TeleportOIDCConnector, but only the kubernetes store reaches one: not synced (use --oidc-connector FILE)');
          warnedNoCluster = true;
          return;
        }
        const urls = oidcRedirectUrls(fleet.spec);
        const wanted = JSON.stringify([ref, urls]);
        if (!recheck && wanted === asked) return;
        asked = wanted;
        // Teleport refuses a connector without redirect URLs ("RedirectURL: missing redirect_url"): the operator would only fail.
        if (urls.length === 0) return void log.warn({ connector }, 'The fleet has no proxies: TeleportOIDCConnector redirect_url left as it is');
        const r = await connectors.syncRedirectUrls(ref, urls, term);
        if (term.aborted) return;
        await tell(keyOf(fleet), conditionOf(connector, r, urls.length, fleet.metadata.generation ?? 0));
        if (!r.ok) return void log.error({ connector }, `TeleportOIDCConnector not synced: ${r.error}`);
        if (r.value.outcome === 'updated') log.info({ connector, redirectUrls: urls }, recheck ? 'Put TeleportOIDCConnector redirect_url back in step with the fleet' : 'Updated TeleportOIDCConnector redirect_url');
        // Said once, not at every re-check.
        if (r.value.warning && r.value.warning !== lastWarning) log.warn({ connector }, `TeleportOIDCConnector: ${r.value.warning}`);
        lastWarning = r.value.warning;
      }).catch((e: unknown) => log.error({ err: e }, 'TeleportOIDCConnector not synced'));
    };
    /** Written only when it changed; a write that raced another is made once more on the status read back. */
    const tell = async (key: ReturnType<typeof keyOf>, want: ConditionInput): Promise<void> => {
      if (!store || !hasObjectConditions(store)) return;
      for (let attempt = 0; attempt < 2; attempt++) {
        if (conditionHolds(store.conditionsOf(key)?.find((c) => c.type === want.type), want)) return;
        try {
          return await store.setCondition(key, want, new Date(clock.now()).toISOString());
        } catch (e) {
          if (!(e instanceof Conflict)) throw e;
        }
      }
    };
    let timer: unknown;
    const recheck = (): void => {
      timer = timers.setTimeout(() => {
        sync(true);
        recheck();
      }, CONNECTOR_RECHECK_MS);
    };
    observed.onFleet(() => sync(false), term);
    sync(false);
    if (connectors) recheck();
    return async () => {
      timers.clearTimeout(timer);
      await syncing;
    };
  });
}
