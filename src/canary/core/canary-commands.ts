import type { ProxyCanary } from '../../model/canary.js';
import { err, ok, type Result } from '../../model/result.js';
import type { SpecPatch } from '../../model/store.js';

export const CANARY_VERBS = ['start', 'promote', 'rollback'] as const;
export type CanaryVerb = (typeof CANARY_VERBS)[number];

/** What an operator's command changes in the spec, or why it makes no sense now. */
export function canaryCommandPatch(verb: CanaryVerb, c: ProxyCanary): Result<SpecPatch, string> {
  const name = c.metadata.name;
  const phase = c.status?.phase;
  if (phase === 'Promoted' || phase === 'RolledBack') return err(`canary ${name} is ${phase}`);
  switch (verb) {
    case 'start':
      if (c.status?.startedAt) return err(`canary ${name} started at ${c.status.startedAt}`);
      return c.spec.paused ? ok({ paused: null }) : err(`canary ${name} is not held back (spec.paused is not set): it starts by itself`);
    case 'promote':
      return phase === 'Held' ? ok({ decision: 'promote' }) : err(`canary ${name} is ${phase ?? 'Pending'}: only a Held canary is promoted by hand (a passing one is promoted by itself)`);
    case 'rollback':
      return phase === 'Baking' || phase === 'Held' ? ok({ decision: 'rollback' }) : err(`canary ${name} is ${phase ?? 'Pending'}: only a baking or held canary can be rolled back`);
  }
}
