import { readSecret, runCommand } from '../adapters/hooks/index.js';
import { createPrometheusClient } from '../adapters/prometheus/index.js';
import { createDiagnosticsCapture } from '../adapters/teleport/diagnostics-capture.js';
import { registerCanaryMetrics } from '../canary/canary-metrics.js';
import { createCanaryReconciler } from '../canary/canary-reconciler.js';
import { createRolloutEngine } from '../rollout/rollout-engine.js';
import type { Job } from './job.js';
import { leadKind } from './lead-kind.js';
import { outOfRotation } from './out-of-rotation.js';
import { outsideActions } from './outside-actions.js';

/** The acting instance: drives each ProxyCanary, its analysis moved on by every observation. */
export const canariesJob: Job = {
  name: 'canaries',
  async start(d) {
    const { caches, observed, runtime } = d;
    registerCanaryMetrics(d.registry, () => [...caches.ProxyCanary.values()]);
    const { sendNotice, runHook } = outsideActions(d.log);
    const reconciler = createCanaryReconciler({
      store: d.store,
      clock: runtime.clock,
      log: d.log.child({ controller: 'proxycanary' }),
      snapshotOf: observed.snapshotOf,
      // A canary's drains and notices count in the same metrics as a rollout's.
      engine: createRolloutEngine({ clock: runtime.clock, sendNotice, runHook, onNotice: d.runMetrics.onNotice, onTransition: d.runMetrics.onTransition, recordEvent: d.recordEvent }),
      captureDiagnostics: createDiagnosticsCapture({ stateDir: d.config.stateDir, clock: runtime.clock, timeoutMs: 30_000, runCommand }),
      queryPrometheus: createPrometheusClient({ readSecret }),
      outOfRotation: () => outOfRotation({ rollouts: caches.ProxyRollout.values(), canaries: caches.ProxyCanary.values() }),
      recordEvent: d.recordEvent,
    });
    const close = await leadKind(d, 'ProxyCanary', reconciler, (c, term) => {
      observed.onSnapshot(c.enqueueAll, term);
      observed.onFleet(c.enqueueAll, term);
    });
    return { close };
  },
};
