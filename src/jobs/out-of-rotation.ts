import { heldByCanary } from '../canary/core/canary-runs.js';
import type { ProxyCanary } from '../model/canary.js';
import type { ProxyFleet } from '../model/fleet.js';
import { OUT_OF_ROTATION_STEPS } from '../model/rollout.js';
import type { ProxyRollout } from '../model/rollout.js';

export interface RotationInputs {
  readonly rollouts: Iterable<ProxyRollout>;
  readonly canaries: Iterable<ProxyCanary>;
  /** With the fleet, its cordoned proxies count too. */
  readonly fleet?: ProxyFleet | undefined;
}

/**
 * The proxies out of rotation: those a rollout or canary holds out (their stored status says so),
 * and, given the fleet, those it cordons. The redirect and peering avoid them all; a run is told
 * which other runs hold (it already leaves cordoned proxies alone, by its own rules).
 */
export function outOfRotation({ rollouts, canaries, fleet }: RotationInputs): Set<string> {
  const out = new Set<string>();
  for (const r of rollouts) for (const p of r.status?.proxies ?? []) if (OUT_OF_ROTATION_STEPS.has(p.step)) out.add(p.name);
  for (const c of canaries) for (const p of heldByCanary(c)) out.add(p);
  for (const p of fleet?.spec.proxies ?? []) if (p.cordoned) out.add(p.name);
  return out;
}
