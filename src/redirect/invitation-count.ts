import { createHash } from 'node:crypto';
import { Gauge, type Registry } from 'prom-client';

/** More than this many invitations of one canary in use, and the count says "at least". */
export const MAX_INVITATIONS_PER_CANARY = 10_000;

export interface ActiveInvitations {
  readonly canary: string;
  /** Invitations joined (or whose cookie came with a login) and not expired. */
  readonly active: number;
}

export interface InvitationCounter {
  /** A verified invitation used: joined, or its cookie on a login. Kept until it expires. */
  seen(canary: string, token: string, expiresAtSeconds: number, nowSeconds: number): void;
  /** Active invitations of each canary still running, by name; expired ones (and ended canaries) are forgotten. */
  active(nowSeconds: number, isRunning: (canary: string) => boolean): ActiveInvitations[];
}

/**
 * Who opted in to a canary, as a count of invitations, never of people: an invitation is kept as
 * a digest of its token (not the token, which would let one join; nothing of the user) with its
 * expiry. Bounded: at most MAX_INVITATIONS_PER_CANARY per running canary.
 */
export function createInvitationCounter(max = MAX_INVITATIONS_PER_CANARY): InvitationCounter {
  const byCanary = new Map<string, Map<string, number>>();
  const prune = (held: Map<string, number>, nowSeconds: number): void => {
    for (const [digest, expiresAt] of held) if (expiresAt <= nowSeconds) held.delete(digest);
  };
  return {
    seen(canary, token, expiresAtSeconds, nowSeconds) {
      let held = byCanary.get(canary);
      if (!held) byCanary.set(canary, (held = new Map()));
      const digest = createHash('sha256').update(token).digest('base64url').slice(0, 22);
      if (held.has(digest)) return;
      // Full: room is made from expired invitations only; with none, this one is not counted.
      if (held.size >= max) prune(held, nowSeconds);
      if (held.size < max) held.set(digest, expiresAtSeconds);
    },
    active(nowSeconds, isRunning) {
      const out: ActiveInvitations[] = [];
      for (const [canary, held] of byCanary) {
        if (isRunning(canary)) prune(held, nowSeconds);
        else held.clear();
        if (held.size === 0) byCanary.delete(canary);
        else out.push({ canary, active: held.size });
      }
      return out.sort((a, b) => a.canary.localeCompare(b.canary));
    },
  };
}

/** meridian_canary_active_invitations{canary}: the counts, read when scraped. */
export function registerInvitationMetrics(registry: Registry, active: () => readonly ActiveInvitations[]): void {
  new Gauge({
    name: 'meridian_canary_active_invitations',
    help: `Canary invitations joined through this login listener (or whose cookie came with a login) and not expired, per running canary: a count of invitations, not of people; at most ${MAX_INVITATIONS_PER_CANARY}`,
    labelNames: ['canary'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const a of active()) this.set({ canary: a.canary }, a.active);
    },
  });
}

/** The counts by canary name, as the canary view takes them. */
export function invitationsByCanary(active: readonly ActiveInvitations[]): ReadonlyMap<string, number> {
  return new Map(active.map((a) => [a.canary, a.active]));
}
