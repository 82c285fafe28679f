import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AdminAuth } from '../admin/auth/admin-auth.js';
import type { ApiRoutesOptions } from '../admin/routes/api.js';
import type { PeeringRoutesOptions } from '../admin/routes/peerings.js';
import type { MeridianConfig } from '../config.js';
import type { RecordEvent } from '../model/object-events.js';
import type { Store } from '../model/store.js';
import type { registerRolloutMetrics } from '../rollout/rollout-metrics.js';
import type { ControllerRuntime } from '../runtime/controller-runtime.js';
import type { KindCaches } from '../runtime/kind-cache.js';
import type { Leadership } from '../runtime/leadership.js';
import type { Cluster } from '../runtime/open-store.js';
import type { ObservedState } from './observed-state.js';

/** What a job answers for others: the listeners' addresses, and the admin API's views of its work. */
export interface Offers {
  readonly loginUrl: string;
  readonly adminUrl: string;
  readonly explain: ApiRoutesOptions['explain'];
  /** Active canary invitations by canary name, counted by the login listener; not offered when invitations are off. */
  readonly activeInvitations: () => ReadonlyMap<string, number>;
}

/** What every job is started with: built once by the composition root. */
export interface JobDeps {
  readonly config: MeridianConfig;
  readonly log: Logger;
  readonly registry: Registry;
  readonly store: Store;
  /** The clock and timers the controller acts on, its observation pace, and its clock reading. */
  readonly runtime: ControllerRuntime;
  /** Every kind's stored objects, kept by every instance. */
  readonly caches: KindCaches;
  readonly observed: ObservedState;
  /** Where a job's acting part runs: only while this instance leads. */
  readonly leadership: Leadership;
  /** Events on Meridian's objects; only the acting part records them. */
  readonly recordEvent: RecordEvent;
  /** The cluster, with the kubernetes store. */
  readonly cluster?: Cluster;
  readonly adminAuth: AdminAuth;
  /** Each reconcile pass, for the controller's metrics. */
  readonly onPass: (kind: string, result: 'success' | 'error', seconds: number) => void;
  /** Rollouts' and canaries' metrics: a canary's drains and notices count with a rollout's. */
  readonly runMetrics: ReturnType<typeof registerRolloutMetrics>;
  /** What the jobs started before this one offer (read at call time: later ones fill in). */
  readonly offered: Partial<Offers>;
}

export interface Started {
  /** Stops the job; resolves when it has stopped. */
  close(): Promise<void>;
  readonly offers?: Partial<Offers>;
}

/** One of Meridian's jobs: a new kind or listener is one more of these, and one row in main's table. */
export interface Job {
  readonly name: string;
  start(deps: JobDeps): Promise<Started>;
}
