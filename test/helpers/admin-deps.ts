import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { buildAdminApp } from '../../src/admin/admin-app.js';
import type { AdminAuth } from '../../src/admin/auth/admin-auth.js';
import { storeRoutes } from '../../src/admin/store-routes.js';
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
};

/** The admin app with its rollout, canary and peering routes over `store`, and no fleet observed. */
export function adminAppOver(store: Store, log: Logger = pino({ level: 'silent' }), auth?: AdminAuth) {
  return buildAdminApp({ log, registry: new Registry(), ...(auth ? { auth } : {}), notReadyReason: () => undefined, fleets: async () => ({ fleets: [] }), problems: () => ({ problems: [] }), explain: () => undefined, ...storeRoutes(store) });
}
