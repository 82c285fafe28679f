import type { ConditionInput } from '../../model/conditions.js';
import type { ProxyFleetSpec } from '../../model/fleet.js';
import type { ProxyWait } from '../../model/rollout.js';
import type { FleetSnapshot } from '../../model/snapshot.js';
import { checkVersionSkew } from '../../model/version-skew.js';

/**
 * The fleet's Auth Service as a run sees it, for Teleport's version skew rule. A run gets none
 * when the fleet names no Auth Service (spec.auth): the rule is then not checked.
 */
export interface AuthVersion {
  /** The lowest version its instances report; absent while unknown (not observed yet, or unreadable). */
  readonly version?: string;
  /** Why the version is unknown, when the observer said. */
  readonly unknownBecause?: string;
}

export type SkewVerdict =
  /** The fleet names no Auth Service: existing fleets keep working, and the status says nothing was checked. */
  | { readonly kind: 'unchecked'; readonly message: string }
  | { readonly kind: 'ok'; readonly message: string }
  /** Named but its version unknown: wait, never guess. */
  | { readonly kind: 'unknown'; readonly message: string }
  | { readonly kind: 'refused'; readonly message: string };

export const VERSION_SKEW_CONDITION = 'VersionSkewOK';

/** What the run knows of the Auth Service: none when the fleet names none, else what the latest snapshot says. */
export function authVersionOf(fleet: ProxyFleetSpec, snapshot: FleetSnapshot | undefined): AuthVersion | undefined {
  if (!fleet.auth) return undefined;
  const a = snapshot?.auth;
  if (a?.version !== undefined) return { version: a.version };
  return { unknownBecause: a?.error?.message ?? 'not observed yet' };
}

/** Teleport's rule (checkVersionSkew) for moving proxies now on `proxyVersions` to `target`, with the Auth Service as the run sees it. */
export function judgeSkew(target: string, auth: AuthVersion | undefined, proxyVersions: readonly string[]): SkewVerdict {
  if (!auth) return { kind: 'unchecked', message: 'not checked: the fleet names no Auth Service (spec.auth)' };
  if (auth.version === undefined) return { kind: 'unknown', message: `the Auth Service version is unknown (${auth.unknownBecause ?? 'not observed yet'}): ${target} is checked against it once it is read` };
  const r = checkVersionSkew(target, auth.version, proxyVersions);
  return r.ok ? { kind: 'ok', message: `${target} with Auth ${auth.version}: ok` } : { kind: 'refused', message: r.error };
}

/** A verdict that keeps the run (or a proxy's take-out) from going on. */
export function blocks(v: SkewVerdict): boolean {
  return v.kind === 'unknown' || v.kind === 'refused';
}

/** The VersionSkewOK condition: True (checked, ok), False (refused), Unknown (Auth version unknown, or not checked). */
export function skewCondition(v: SkewVerdict, observedGeneration: number): ConditionInput {
  const [status, reason] = ({ ok: ['True', 'Compatible'], refused: ['False', 'VersionSkew'], unknown: ['Unknown', 'AuthVersionUnknown'], unchecked: ['Unknown', 'NotChecked'] } as const)[v.kind];
  return { type: VERSION_SKEW_CONDITION, status, reason, message: `Version skew: ${v.message}`, observedGeneration };
}

/** What a proxy whose take-out the rule holds back waits for. */
export function skewWait(v: SkewVerdict, target: string, closes: string): ProxyWait {
  return v.kind === 'refused'
    ? { reason: 'VersionSkew', message: `Teleport's version skew rule to allow ${target}: ${v.message}${closes}` }
    : { reason: 'AuthVersionUnknown', message: `${v.message}${closes}` };
}
