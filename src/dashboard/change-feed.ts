import type { ResourceKey } from '../model/resource.js';

/** What the dashboard shows, each pushed as a whole when it changes. */
export const TOPICS = ['fleet', 'rollout', 'canary', 'peering'] as const;
export type Topic = (typeof TOPICS)[number];

/** A notice that something of a topic changed: its pushed view is rebuilt (see eventRoutes). */
export interface Change {
  readonly topic: Topic;
}

/** Where the admin listener hears of changes: a new snapshot, an object written to the store. */
export interface ChangeFeed {
  /** Returns an unsubscribe. */
  subscribe(listener: (change: Change) => void): () => void;
}

export interface ChangeHub extends ChangeFeed {
  publish(change: Change): void;
  /** Listeners subscribed now. */
  readonly size: number;
}

const TOPIC_OF_KIND: Readonly<Record<string, Topic>> = Object.freeze({ ProxyFleet: 'fleet', ProxyRollout: 'rollout', ProxyCanary: 'canary', ProxyPeering: 'peering' });

/** The notice a store change makes; undefined for a kind the dashboard does not show. */
export function changeOfKey(key: ResourceKey): Change | undefined {
  const topic = TOPIC_OF_KIND[key.kind];
  return topic && { topic };
}

/** A feed the controller publishes to: store.watch and each snapshot call `publish`. */
export function createChangeHub(): ChangeHub {
  const listeners = new Set<(change: Change) => void>();
  return {
    subscribe(listener) {
      // Wrapped, so one listener subscribed twice is two subscriptions, each removed by its own call.
      const own = (c: Change): void => listener(c);
      listeners.add(own);
      return () => void listeners.delete(own);
    },
    publish(change) {
      for (const l of [...listeners]) l(change);
    },
    get size() {
      return listeners.size;
    },
  };
}
