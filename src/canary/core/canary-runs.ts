import type { CanaryOffBuild, CanaryPhase, ProxyCanary, ProxyCanarySpec } from '../../model/canary.js';
import type { ProxyFleetSpec } from '../../model/fleet.js';
import { API_VERSION, DEFAULT_NAMESPACE } from '../../model/resource.js';
import { OUT_OF_ROTATION_STEPS, type ProxyRollout, type ProxyRolloutSpec, type ProxyRolloutStatus } from '../../model/rollout.js';
import type { ProxyObservation } from '../../model/snapshot.js';
import { sameVersion } from '../../rollout/core/rollout-draft.js';
import { resolveCanarySpec } from './canary-settings.js';

function regionsOf(fleet: ProxyFleetSpec, proxies: readonly string[]): string[] {
  return [...new Set(fleet.proxies.filter((p) => proxies.includes(p.name)).map((p) => p.region))];
}

/** The canary proxies going to the build: the rollout steps, every canary region in one wave. */
export function deploySpec(c: ProxyCanarySpec, fleet: ProxyFleetSpec, proxies: readonly string[]): ProxyRolloutSpec {
  const s = resolveCanarySpec(c);
  return {
    ...(c.fleet ? { fleet: c.fleet } : {}),
    version: c.build.version,
    ...(c.build.image ? { image: c.build.image } : {}),
    ...(c.build.artifact ? { artifact: c.build.artifact } : {}),
    ...(c.build.flags?.length ? { flags: [...c.build.flags] } : {}),
    selector: { proxies: [...proxies] },
    waves: [{ name: 'canary', regions: regionsOf(fleet, proxies) }],
    maxUnavailable: 1,
    notice: { leadTimes: [...s.leadTimes], channels: [...s.channels] },
    drain: { deadline: s.drainDeadline },
    ...(c.verify ? { verify: { ...c.verify } } : {}),
    failurePolicy: 'rollback',
    ...(c.maintenanceWindows ? { maintenanceWindows: c.maintenanceWindows } : {}),
  };
}

/** The canary proxies going back to `version`, with the (short) rollback notice. */
export function revertSpec(c: ProxyCanarySpec, fleet: ProxyFleetSpec, proxies: readonly string[], version: string): ProxyRolloutSpec {
  // The build's image, artifact and flags stay with the build.
  const { image: _image, artifact: _artifact, flags: _flags, ...rest } = deploySpec(c, fleet, proxies);
  return {
    ...rest,
    version,
    notice: { leadTimes: [resolveCanarySpec(c).rollbackLeadTime], channels: rest.notice?.channels ?? [] },
    failurePolicy: 'halt',
  };
}

/** The version the canary proxies ran before the build: what a rollback returns them to. */
export function previousVersion(deploy: ProxyRolloutStatus | undefined, fleet: ProxyFleetSpec, proxies: readonly string[]): string {
  const from = deploy?.proxies?.find((p) => p.fromVersion && p.step !== 'Skipped')?.fromVersion;
  return from ?? fleet.proxies.find((p) => proxies.includes(p.name))?.version ?? '';
}

/** A ProxyRollout of the build for the whole fleet (the canary proxies already on it are skipped), held back unless autoPromote. */
export function promotionRollout(c: ProxyCanary): ProxyRollout {
  return {
    apiVersion: API_VERSION,
    kind: 'ProxyRollout',
    metadata: {
      name: `${c.metadata.name}-promote`,
      namespace: c.metadata.namespace ?? DEFAULT_NAMESPACE,
      annotations: { 'meridian.dev/promoted-from': `ProxyCanary/${c.metadata.name}` },
    },
    spec: {
      ...(c.spec.fleet ? { fleet: c.spec.fleet } : {}),
      version: c.spec.build.version,
      ...(c.spec.build.image ? { image: c.spec.build.image } : {}),
      ...(c.spec.build.artifact ? { artifact: c.spec.build.artifact } : {}),
      ...(c.spec.autoPromote ? {} : { paused: true }),
    },
  };
}

/** Proxies on the build now: done in the deploy, not yet back in the revert, and not seen on another version since. */
export function proxiesOnBuild(c: ProxyCanary): string[] {
  const done = new Set((c.status?.deploy?.proxies ?? []).filter((p) => p.step === 'Done').map((p) => p.name));
  for (const p of c.status?.revert?.proxies ?? []) if (p.step === 'Done') done.delete(p.name);
  for (const o of c.status?.offBuild ?? []) done.delete(o.proxy);
  return [...done];
}

/**
 * Where invitees of the canary may be sent: its proxies on the build, less any that the latest
 * observation shows on another version (before the canary's next pass has marked it).
 */
export function canaryRouteProxies(c: ProxyCanary, observations: readonly ProxyObservation[]): string[] {
  const seen = new Map(observations.map((o) => [o.name, o]));
  return proxiesOnBuild(c).filter((p) => !offVersion(seen.get(p), c.spec.build.version));
}

/** Seen (by a scrape that succeeded) running another version than `version`. */
function offVersion(obs: ProxyObservation | undefined, version: string): string | undefined {
  const seen = obs?.up ? obs.metrics?.version : undefined;
  return seen !== undefined && !sameVersion(seen, version) ? seen : undefined;
}

/**
 * The canary proxies off the build now: marked when seen on another version (a rollout, an
 * operator, a reset moved them), unmarked when seen on the build again; unseen ones keep their mark.
 */
export function trackOffBuild(c: ProxyCanary, observations: ReadonlyMap<string, ProxyObservation>, nowIso: string): CanaryOffBuild[] {
  const deployed = new Set((c.status?.deploy?.proxies ?? []).filter((p) => p.step === 'Done').map((p) => p.name));
  const before = new Map((c.status?.offBuild ?? []).map((o) => [o.proxy, o]));
  return (c.status?.proxies ?? []).flatMap((name) => {
    if (!deployed.has(name)) return [];
    const obs = observations.get(name);
    const seen = obs?.up ? obs.metrics?.version : undefined;
    const was = before.get(name);
    if (seen === undefined) return was ? [was] : [];
    if (sameVersion(seen, c.spec.build.version)) return [];
    return [was && was.version === seen ? was : { proxy: name, version: seen, since: was?.since ?? nowIso }];
  });
}

/** Canary phases in which its proxies are its own: deployed or being deployed, not yet given back. */
const CLAIMING: ReadonlySet<CanaryPhase> = new Set(['Deploying', 'Baking', 'Held', 'Promoting']);

/** The proxies a live canary holds, each with who holds it (for rollouts to skip, with the reason). */
export function canaryClaims(canaries: Iterable<ProxyCanary>): Map<string, string> {
  const claims = new Map<string, string>();
  for (const c of canaries) {
    if (!c.status?.phase || !CLAIMING.has(c.status.phase)) continue;
    for (const p of c.status.proxies ?? []) claims.set(p, `canary ${c.metadata.namespace ?? DEFAULT_NAMESPACE}/${c.metadata.name} (build ${c.spec.build.version}, ${c.status.phase})`);
  }
  return claims;
}

/** Proxies the canary holds out of rotation right now (deploying or reverting). */
export function heldByCanary(c: ProxyCanary): string[] {
  return [...(c.status?.deploy?.proxies ?? []), ...(c.status?.revert?.proxies ?? [])].filter((p) => OUT_OF_ROTATION_STEPS.has(p.step)).map((p) => p.name);
}
