import type { Store } from '../model/store.js';
import type { CanaryRoutesOptions } from './routes/canaries.js';
import type { PeeringRoutesOptions } from './routes/peerings.js';
import type { RolloutRoutesOptions } from './routes/rollouts.js';

/** The rollout, canary and peering routes read and patch the store's objects. */
export function storeRoutes(store: Store): RolloutRoutesOptions & CanaryRoutesOptions & Omit<PeeringRoutesOptions, 'proxyTunnels'> {
  return {
    rollouts: () => store.list('ProxyRollout'),
    getRollout: (namespace, name) => store.get('ProxyRollout', namespace, name),
    patchRollout: (namespace, name, patch) => store.patchSpec('ProxyRollout', namespace, name, patch),
    canaries: () => store.list('ProxyCanary'),
    getCanary: (namespace, name) => store.get('ProxyCanary', namespace, name),
    patchCanary: (namespace, name, patch) => store.patchSpec('ProxyCanary', namespace, name, patch),
    peerings: () => store.list('ProxyPeering'),
    getPeering: (namespace, name) => store.get('ProxyPeering', namespace, name),
  };
}
