/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's leaderelection semantics
 * (tryAcquireOrRenew): another holder's lease counts as expired only when this replica has seen
 * the same record, unchanged, for the lease duration on its own clock. The other replica's
 * renewTime is never compared with the local clock, so clock skew between replicas is harmless.
 */

/** The Lease's spec, as stored. Times are MicroTime strings (see microTime). */
export interface LeaseRecord {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

export interface ElectionConfig {
  readonly identity: string;
  readonly leaseDurationSeconds: number;
}

/** What this replica remembers between attempts: the last record seen, and when (local ms) it was first seen as it is. */
export interface ElectorMemory {
  readonly observed?: LeaseRecord;
  /** A canonical form of `observed`, to tell a renewal (any field changed) from silence. */
  readonly observedKey?: string;
  readonly observedAt?: number;
}

export type LeaseAttempt =
  /** No Lease yet: create it with this record. */
  | { readonly kind: 'create'; readonly record: LeaseRecord; readonly memory: ElectorMemory }
  /** Write this record with the resourceVersion read (a renewal, or taking over an expired lease). */
  | { readonly kind: 'update'; readonly record: LeaseRecord; readonly memory: ElectorMemory }
  /** Another replica holds a lease that has not expired as seen from here. */
  | { readonly kind: 'held'; readonly holder: string; readonly memory: ElectorMemory };

/** Kubernetes MicroTime: RFC 3339 with exactly six fraction digits (the API server refuses other forms). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function keyOf(r: LeaseRecord): string {
  return JSON.stringify([r.holderIdentity ?? '', r.leaseDurationSeconds ?? 0, r.acquireTime ?? '', r.renewTime ?? '', r.leaseTransitions ?? 0]);
}

/** The memory after reading `current` at local time `now`: the clock restarts only when the record changed. */
export function observe(memory: ElectorMemory, current: LeaseRecord, now: number): ElectorMemory {
  const key = keyOf(current);
  return key === memory.observedKey ? memory : { observed: current, observedKey: key, observedAt: now };
}

/** Whether the lease last observed is still running by this replica's clock. */
export function leaseValid(memory: ElectorMemory, now: number): boolean {
  if (!memory.observed || memory.observedAt === undefined) return false;
  return memory.observedAt + (memory.observed.leaseDurationSeconds ?? 0) * 1000 > now;
}

/** Whether this replica holds the lease as last observed. */
export function isLeader(memory: ElectorMemory, config: ElectionConfig): boolean {
  return memory.observed?.holderIdentity === config.identity;
}

/**
 * One attempt to acquire or renew, given the Lease as just read (undefined: not found). The
 * memory in the answer holds once the write succeeds; after a failed write keep `observe(memory, current, now)`.
 */
export function attempt(memory: ElectorMemory, current: LeaseRecord | undefined, now: number, config: ElectionConfig): LeaseAttempt {
  const stamp = microTime(now);
  const mine: LeaseRecord = { holderIdentity: config.identity, leaseDurationSeconds: config.leaseDurationSeconds, acquireTime: stamp, renewTime: stamp, leaseTransitions: 0 };
  if (!current) return { kind: 'create', record: mine, memory: observe({}, mine, now) };
  const seen = observe(memory, current, now);
  const holder = current.holderIdentity ?? '';
  if (holder !== '' && holder !== config.identity && leaseValid(seen, now)) return { kind: 'held', holder, memory: seen };
  // Ours: keep when it was acquired and how often it changed hands; taken over: one more transition.
  const record: LeaseRecord =
    holder === config.identity
      ? { ...mine, ...(current.acquireTime ? { acquireTime: current.acquireTime } : {}), leaseTransitions: current.leaseTransitions ?? 0 }
      : { ...mine, leaseTransitions: (current.leaseTransitions ?? 0) + 1 };
  return { kind: 'update', record, memory: observe(seen, record, now) };
}

/** What a leader writes when it stops (SIGTERM): no holder and a one-second lease, so a standby takes over at once. */
export function released(memory: ElectorMemory, now: number): LeaseRecord {
  const stamp = microTime(now);
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: stamp, renewTime: stamp, leaseTransitions: memory.observed?.leaseTransitions ?? 0 };
}
