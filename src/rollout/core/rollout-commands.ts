import { err, ok, type Result } from '../../model/result.js';
import type { ProxyRollout } from '../../model/rollout.js';
import type { SpecPatch } from '../../model/store.js';

export const ROLLOUT_VERBS = ['start', 'pause', 'resume', 'abort'] as const;
export type RolloutVerb = (typeof ROLLOUT_VERBS)[number];

const FINISHED = new Set(['Completed', 'Failed', 'Aborted']);

/**
 * What an operator's command changes in the spec, or why it makes no sense now. Offline (the
 * manifests without the controller's status) only the spec can be checked.
 */
export function commandPatch(verb: RolloutVerb, r: ProxyRollout, knowsStatus = true): Result<SpecPatch, string> {
  const name = r.metadata.name;
  const phase = r.status?.phase;
  if (phase && FINISHED.has(phase)) return err(`rollout ${name} is ${phase}; create a new ProxyRollout to go again`);
  if (r.spec.aborted) return err(`rollout ${name} is being aborted`);
  const started = r.status?.startedAt !== undefined;
  switch (verb) {
    case 'start':
      if (started) return err(`rollout ${name} started at ${r.status?.startedAt ?? ''}; use resume to continue a paused one`);
      if (!r.spec.paused) return err(`rollout ${name} is not held back (spec.paused is not set): it starts by itself`);
      return ok({ paused: null });
    case 'pause':
      return r.spec.paused ? err(`rollout ${name} is already paused`) : ok({ paused: true });
    case 'resume':
      if (knowsStatus && !started) return err(`rollout ${name} has not started; use start`);
      return r.spec.paused ? ok({ paused: null }) : err(`rollout ${name} is not paused`);
    case 'abort':
      return ok({ aborted: true, paused: null });
  }
}
