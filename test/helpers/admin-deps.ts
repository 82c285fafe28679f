import type { RolloutRoutesOptions } from '../../src/admin/routes/rollouts.js';

/** Admin app deps for tests that are not about rollouts. */
export const NO_ROLLOUTS: RolloutRoutesOptions = {
  rollouts: async () => [],
  getRollout: async () => undefined,
  patchRollout: async () => {
    throw new Error('no rollouts here');
  },
};
