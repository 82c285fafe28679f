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
