import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import type { Store } from '../../src/model/store.js';
import type { CanaryRoutesOptions } from '../../src/admin/routes/canaries.js';
import type { PeeringRoutesOptions } from '../../src/admin/routes/peerings.js';
import type { RolloutRoutesOptions } from '../../src/admin/routes/rollouts.js';

/** Admin app deps for tests that are not about rollouts, canaries or peering. */
export const NO_ROLLOUTS: RolloutRoutesOptions & CanaryRoutesOptions & PeeringRoutesOptions = {
  rollouts: async () => [],
  getRollout: async () => undefined,
  patchRollout: async () => {
    throw new Error('no rollouts here');
  },
  canaries: async () => [],
  getCanary: async () => undefined,
  patchCanary: async () => {
    throw new Error('no canaries here');
  },
  peerings: async () => [],
  getPeering: async () => undefined,
  peeringReport: () => undefined,
};

/** The admin app with its rollout, canary and peering routes over `store`, and no fleet observed. */
export function adminAppOver(store: Store, log: Logger = pino({ level: 'silent' })) {
  return buildAdminApp({ log, registry: new Registry(), notReadyReason: () => undefined, fleets: async () => ({ fleets: [] }), problems: () => ({ problems: [] }), explain: () => undefined, ...runsOf(store) });
}

/** The rollout, canary and peering routes over a store, as main.ts wires them (no peering report). */
function runsOf(store: Store): RolloutRoutesOptions & CanaryRoutesOptions & PeeringRoutesOptions {
  return {
    rollouts: () => store.list('ProxyRollout'),
    getRollout: (ns, name) => store.get('ProxyRollout', ns, name),
    patchRollout: (ns, name, patch) => store.patchSpec('ProxyRollout', ns, name, patch),
    canaries: () => store.list('ProxyCanary'),
    getCanary: (ns, name) => store.get('ProxyCanary', ns, name),
    patchCanary: (ns, name, patch) => store.patchSpec('ProxyCanary', ns, name, patch),
    peerings: () => store.list('ProxyPeering'),
    getPeering: (ns, name) => store.get('ProxyPeering', ns, name),
    peeringReport: () => undefined,
  };
}
