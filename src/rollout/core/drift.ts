import type { ConditionInput } from '../../model/conditions.js';
import type { ProxyRolloutProxyStatus } from '../../model/rollout.js';
import type { ProxyObservation } from '../../model/snapshot.js';
import { sameVersion } from './rollout-draft.js';

/** Proxies a finished rollout left on its target: upgraded ones, and those that already ran it. */
export function leftOnTarget(p: ProxyRolloutProxyStatus, version: string): boolean {
  return p.step === 'Done' || (p.step === 'Skipped' && sameVersion(p.fromVersion, version));
}

/**
 * What a completed rollout's proxies run now, from the fleet as observed: a proxy seen (by a scrape
 * that succeeded) on another version is marked with it, one seen on the target again is cleared,
 * and one not seen keeps what was last known of it.
 */
export function trackDrift(proxies: readonly ProxyRolloutProxyStatus[], version: string, observations: ReadonlyMap<string, ProxyObservation>): ProxyRolloutProxyStatus[] {
  return proxies.map((p) => {
    if (!leftOnTarget(p, version)) return p;
    const obs = observations.get(p.name);
    const seen = obs?.up ? obs.metrics?.version : undefined;
    if (seen === undefined) return p;
    const { driftedTo: _, ...rest } = p;
    return sameVersion(seen, version) ? rest : { ...rest, driftedTo: seen };
  });
}

/** Skipped proxies that do not run the target, with why (their message without its "Skipped: "). */
function skippedOff(proxies: readonly ProxyRolloutProxyStatus[], version: string): string[] {
  return proxies.filter((p) => p.step === 'Skipped' && !sameVersion(p.fromVersion, version)).map((p) => `${p.name} (${(p.message ?? 'skipped').replace(/^Skipped: /, '')})`);
}

/** The message of a Completed rollout, true of the fleet as last observed. */
export function completedMessage(proxies: readonly ProxyRolloutProxyStatus[], version: string): string {
  const skipped = skippedOff(proxies, version);
  const drifted = proxies.filter((p) => p.driftedTo !== undefined);
  const running = proxies.length - skipped.length - drifted.length;
  if (!skipped.length && !drifted.length) return `All ${proxies.length} proxies run ${version}`;
  const parts = [`${running} of ${proxies.length} proxies run ${version}`];
  if (drifted.length) parts.push(`no longer on it since the rollout: ${drifted.map((p) => `${p.name} (runs ${p.driftedTo ?? '?'})`).join(', ')}`);
  if (skipped.length) parts.push(`skipped: ${skipped.join(', ')}`);
  return parts.join('; ');
}

/** The Drifted condition of a Completed rollout (True names every proxy off the target). */
export function driftCondition(proxies: readonly ProxyRolloutProxyStatus[], version: string, generation: number): ConditionInput {
  const drifted = proxies.filter((p) => p.driftedTo !== undefined);
  return drifted.length
    ? {
        type: 'Drifted',
        status: 'True',
        reason: 'VersionDrift',
        message: `${drifted.length === 1 ? '1 proxy no longer runs' : `${drifted.length} proxies no longer run`} ${version}: ${drifted.map((p) => `${p.name} runs ${p.driftedTo ?? '?'}`).join(', ')}`,
        observedGeneration: generation,
      }
    : { type: 'Drifted', status: 'False', reason: 'OnTarget', message: `Every proxy the rollout upgraded was last seen on ${version}`, observedGeneration: generation };
}
