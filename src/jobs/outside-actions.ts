import type { Logger } from 'pino';
import { createHookRunner, readSecret, runCommand } from '../adapters/hooks/index.js';
import { createNoticeSender } from '../adapters/notify/index.js';
import { systemClock } from '../runtime/controller-runtime.js';

/** Upgrade/configure hooks and user notices, as the runs make them. */
export function outsideActions(log: Logger) {
  // Signatures carry wall time: receivers check it against their own clocks.
  const deps = { log: log.child({ component: 'hooks' }), clock: systemClock, runCommand, readSecret };
  return { sendNotice: createNoticeSender({ ...deps, log: log.child({ component: 'notify' }) }), runHook: createHookRunner(deps) };
}
