import type { DriftKind, PeeringIntent, ProxyPeeringStatus } from '../../model/peering.js';
import { findDrift } from './drift.js';
import type { ReadOutcome } from './inventory-read.js';
import { describeIntent, intentOf, type PeeringAction, type PeeringChange, type PeeringOutcome } from './peering-action.js';
import type { PeeringEvent } from './peering-event.js';
import type { PeeringSettings } from './peering-settings.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export interface FoldContext {
  readonly settings: PeeringSettings;
  /** Names of the fleet's proxies (records of others are dropped). */
  readonly fleet: readonly string[];
  readonly now: number;
}

export interface Folded {
  readonly status: ProxyPeeringStatus;
  readonly events: readonly PeeringEvent[];
}

function withoutDrift(st: ProxyPeeringStatus, what: DriftKind, subject?: string): ProxyPeeringStatus {
  const { drift, ...rest } = st;
  const left = (drift ?? []).filter((d) => d.what !== what || d.subject !== subject);
  return left.length ? { ...rest, drift: left } : rest;
}

/** A change known to have been made at `at`: its record in status; the drift it answers is gone. */
function recordApplied(st: ProxyPeeringStatus, i: PeeringIntent, at: string, redo: boolean, fleet: readonly string[]): ProxyPeeringStatus {
  const { applyError, ...rest } = st;
  if (i.kind === 'clusterNetworking') {
    const next = { ...(applyError?.action === 'publishAllowList' ? { ...rest, applyError } : rest), tunnelStrategy: { type: 'proxy_peering' as const, agentConnectionCount: i.agentConnectionCount, appliedAt: at } };
    return withoutDrift(next, 'cluster_networking');
  }
  if (i.kind === 'configure') {
    const others = (st.configureErrors ?? []).filter((f) => f.proxy !== i.proxy);
    const { configureErrors: _errors, ...kept } = st;
    const configured = [...(st.configured ?? []).filter((c) => c.proxy !== i.proxy && fleet.includes(c.proxy)), { proxy: i.proxy, publicAddr: i.publicAddr, at }];
    const next = { ...kept, configured: configured.sort((a, b) => (a.proxy < b.proxy ? -1 : 1)), ...(others.length ? { configureErrors: others } : {}) };
    return withoutDrift(next, 'peer_listener', i.proxy);
  }
  const carried = new Set(i.links);
  // Re-published after a reset, a link's verify time starts again.
  const links = (st.links ?? []).map((l) => ((!l.allowedAt || redo) && carried.has(`${l.from}->${l.to}`) ? { ...l, allowedAt: at } : l));
  const next = { ...(applyError?.action === 'clusterNetworking' ? { ...rest, applyError } : rest), links, allowList: { generation: i.generation, digest: i.digest, rules: i.rules, appliedAt: at } };
  return withoutDrift(next, 'allow_list');
}

/** Whether a read shows an interrupted change took effect. */
function tookEffect(i: PeeringIntent, read: ReadOutcome): boolean {
  const o = read.observed;
  if (!o) return false;
  if (i.kind === 'clusterNetworking') return o.strategy?.type === 'proxy_peering' && o.strategy.agentConnectionCount === i.agentConnectionCount;
  if (i.kind === 'configure') return o.peerAddrs?.get(i.proxy) === i.publicAddr;
  return o.allowListGeneration === i.generation;
}

/**
 * A read folded in: the inventory's counts, then an interrupted change judged (recorded when the
 * read shows it took effect, so it is not made twice), then drift: what this observation
 * contradicts of what is recorded, to be re-applied.
 */
export function foldRead(st: ProxyPeeringStatus, read: ReadOutcome, c: FoldContext): Folded {
  const events: PeeringEvent[] = [];
  const readAt = iso(read.at);
  if (read.error) {
    events.push({ reason: 'InventoryNotRead', message: 'Inventory not read; the last good one stays', warn: true, fields: { error: read.error } });
    const before = st.inventory;
    // Not read back: the interrupted change is decided again (with its id).
    const i = st.inFlight && !st.inFlight.readBack ? { inFlight: { ...st.inFlight, readBack: 'NotSeen' as const } } : {};
    return { status: { ...st, ...i, inventory: { nodes: before?.nodes ?? 0, unknown: before?.unknown ?? 0, readAt, error: read.error, ...(before?.readBackError ? { readBackError: before.readBackError } : {}) } }, events };
  }
  let next: ProxyPeeringStatus = { ...st, inventory: { nodes: read.nodes, unknown: read.unknown, readAt, ...(read.readBackError ? { readBackError: read.readBackError } : {}) } };
  const i = st.inFlight;
  if (i && !i.readBack) {
    const { inFlight: _done, ...rest } = next;
    if (tookEffect(i, read)) {
      next = recordApplied(rest, i, i.at, false, c.fleet);
      events.push({ reason: 'InterruptedChangeConfirmed', message: `The read back shows ${describeIntent(i)} took effect before the interruption; recorded, not made again` });
    } else next = { ...rest, inFlight: { ...i, readBack: 'NotSeen' } };
  }
  if (!read.observed || c.settings.dryRun) return { status: next, events };
  const observedAt = iso(read.observed.at);
  const drift = findDrift(next, read.observed, c.settings.configureProxies);
  for (const d of drift) events.push({ reason: 'Drift', message: 'Drift found; re-applying', warn: true, drift: d.what, fields: { what: d.what, ...(d.subject ? { subject: d.subject } : {}), detail: d.detail } });
  const { drift: _before, ...rest } = next;
  return { status: drift.length ? { ...rest, drift: drift.map((d) => ({ ...d, observedAt })) } : rest, events };
}

/** A change's outcome folded into the status that recorded its intent; the intent is cleared. */
export function foldChange(intent: ProxyPeeringStatus, action: PeeringChange, ok: boolean, error: string | undefined, c: FoldContext): Folded {
  const { inFlight: _i, ...st } = intent;
  const at = iso(c.now);
  if (ok) {
    const events: PeeringEvent[] =
      action.kind === 'clusterNetworking'
        ? [{ reason: 'ClusterNetworkingSet', message: 'Cluster networking set to proxy_peering', fields: { agentConnectionCount: action.agentConnectionCount, redo: action.redo } }]
        : action.kind === 'configure'
          ? [{ reason: 'PeerListenerSet', message: 'Peer listener sent', fields: { proxy: action.proxy.name, publicAddr: action.publicAddr, redo: action.redo } }]
          : [{ reason: 'AllowListPublished', message: 'Peer allow-list published', fields: { generation: action.doc.generation, rules: action.doc.rules.length, links: action.links.length, redo: action.redo } }];
    return { status: recordApplied(st, intentOf(action, at), at, action.redo, c.fleet), events };
  }
  const why = error ?? 'failed';
  if (action.kind === 'configure') {
    const others = (st.configureErrors ?? []).filter((f) => f.proxy !== action.proxy.name);
    return {
      status: { ...st, configureErrors: [...others, { proxy: action.proxy.name, error: why, at }] },
      events: [{ reason: 'PeerListenerNotSet', message: 'Peer listener not set; links to this proxy wait', warn: true, fields: { proxy: action.proxy.name, error: why } }],
    };
  }
  return { status: { ...st, applyError: { action: action.kind, error: why, at } }, events: [{ reason: 'ApplyFailed', message: `${action.kind === 'clusterNetworking' ? 'Cluster networking' : 'Allow-list'} not applied; retried`, warn: true, fields: { error: why } }] };
}

/** Either fold, by action. */
export function foldOutcome(intent: ProxyPeeringStatus, action: PeeringAction, outcome: PeeringOutcome, c: FoldContext): Folded {
  if (action.kind === 'read' || outcome.kind === 'read') return outcome.kind === 'read' ? foldRead(intent, outcome.read, c) : { status: intent, events: [] };
  return foldChange(intent, action, outcome.result.ok, outcome.result.ok ? undefined : outcome.result.error, c);
}
