import type { PeerLinkStatus } from '../../model/peering.js';
import { linkId } from './peering-input.js';
import type { PlannedLink } from './plan-links.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The links of a plan as status, keeping each link's start and state across passes. */
export function linksFromPlan(planned: readonly PlannedLink[], before: readonly PeerLinkStatus[], now: number, dryRun: boolean): PeerLinkStatus[] {
  const prev = new Map(before.map((l) => [linkId(l), l]));
  return planned.map((l) => {
    const p = prev.get(linkId(l));
    const state = dryRun ? 'Planned' : p && p.state !== 'Planned' ? p.state : 'Pending';
    return {
      from: l.from,
      to: l.to,
      since: p?.since ?? iso(now),
      state,
      nodes: l.nodes,
      ...(p?.reason && state !== 'Up' ? { reason: p.reason } : {}),
      ...(l.unneededSince === undefined ? {} : { unneededSince: iso(l.unneededSince) }),
      ...(p?.allowedAt ? { allowedAt: p.allowedAt } : {}),
    };
  });
}

/** What one source proxy's page says of its peer connection to the link's target. */
export type PeerSeen = { readonly ready: true } | { readonly ready: false; readonly why: string };

export interface VerifyInput {
  /** Serving proxies of each region (the ones whose dials must succeed). */
  readonly sources: (region: string) => readonly string[];
  readonly seen: (source: string, target: string) => PeerSeen;
  readonly verifyMs: number;
  readonly now: number;
}

/**
 * Up when every serving proxy of the source region has a READY peer connection to the target;
 * Failed, with the reasons seen, once the verify time has passed since the link was allowed (or
 * planned, while no allow-list carries it); Pending before. Teleport's own metrics are the only evidence.
 */
export function verifyLinks(links: readonly PeerLinkStatus[], v: VerifyInput): PeerLinkStatus[] {
  return links.map((l) => {
    if (l.state === 'Planned') return l;
    const sources = v.sources(l.from);
    const problems = sources.flatMap((s) => {
      const seen = v.seen(s, l.to);
      return seen.ready ? [] : [`${s}: ${seen.why}`];
    });
    const { reason: _reason, ...rest } = l;
    if (!problems.length && sources.length) return { ...rest, state: 'Up' };
    const startedAt = Date.parse(l.allowedAt ?? l.since);
    const seen = sources.length ? `no READY peer connection to ${l.to} from ${problems.join('; ')}` : `region ${l.from} has no serving proxy to check from`;
    const why = l.allowedAt ? seen : `not in a published allow-list yet; ${seen}`;
    return { ...rest, state: v.now - startedAt >= v.verifyMs ? 'Failed' : 'Pending', reason: why };
  });
}
