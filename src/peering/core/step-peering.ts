import { setCondition, type ConditionInput } from '../../model/conditions.js';
import { formatPath } from '../../model/field-error.js';
import type { Proxy, ProxyFleetSpec } from '../../model/fleet.js';
import type { ProxyPeeringSpec, ProxyPeeringStatus } from '../../model/peering.js';
import { peeringSemanticErrors } from '../../model/peering-rules.js';
import type { Result } from '../../model/result.js';
import type { FleetSnapshot } from '../../model/snapshot.js';
import { chooseChange } from './choose-change.js';
import { coverage } from './coverage.js';
import { judgeDialErrors } from './dial-errors.js';
import type { HeldInventory } from './inventory-read.js';
import { linksFromPlan, verifyLinks, type PeerSeen } from './link-status.js';
import { describeIntent, type PeeringAction } from './peering-action.js';
import type { PeeringEvent } from './peering-event.js';
import { peerPublicAddr } from './peer-config.js';
import { peerProxies } from './peer-proxies.js';
import { buildReport, REPORT_EXAMPLES } from './peering-report.js';
import { POLL_MS, READ_BACK_MS, resolvePeeringSpec, RETRY_MS, type PeeringSettings } from './peering-settings.js';

export interface PeeringContext {
  /** `namespace/name`: in action ids and the allow-list. */
  readonly peering: string;
  readonly generation: number;
  readonly spec: ProxyPeeringSpec;
  readonly status: ProxyPeeringStatus;
  readonly fleet: Result<ProxyFleetSpec, string>;
  readonly snapshot: FleetSnapshot | undefined;
  /** Proxies out of rotation (cordoned, held by a rollout or canary): never link targets. */
  readonly outOfRotation: ReadonlySet<string>;
  /** The last good inventory in memory; undefined after a restart until it is read again. */
  readonly inventory: HeldInventory | undefined;
  readonly now: number;
}

export interface PeeringStep {
  /** The next status, without `inFlight` (the caller records a change there before making it). */
  readonly status: ProxyPeeringStatus;
  readonly action?: PeeringAction;
  /** When to look again if nothing else happens (epoch ms). */
  readonly wakeAt?: number;
  readonly events: readonly PeeringEvent[];
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** When the next read is due: every interval, soon after a change (to see it held), at once after an interrupted change. */
function readDue(st: ProxyPeeringStatus, s: PeeringSettings, held: boolean, now: number): { readonly due: boolean; readonly at: number } {
  const readAt = st.inventory ? Date.parse(st.inventory.readAt) : undefined;
  if (readAt === undefined) return { due: true, at: now };
  // A change whose outcome was never folded in: read back whether it took effect before deciding again.
  if (st.inFlight && !st.inFlight.readBack) return { due: true, at: now };
  // After a restart the inventory is gone from memory: read it again, unless the last read failed (then on the interval).
  if (!held && !st.inventory?.error) return { due: true, at: now };
  const applied = [st.tunnelStrategy?.appliedAt, st.allowList?.appliedAt, ...(st.configured ?? []).map((c) => c.at)].reduce((m, t) => (t ? Math.max(m, Date.parse(t)) : m), -Infinity);
  const at = Math.min(readAt + s.intervalMs, applied >= readAt ? applied + READ_BACK_MS : Infinity);
  return { due: now >= at, at };
}

/**
 * One pass of a ProxyPeering: from its spec, status, fleet, the last observation and the held
 * inventory, the next status, at most one action (a read, or one outside change: cluster
 * networking to proxy_peering, one proxy's peer listener, the allow-list), and when to look
 * again. Pure apart from the held plan cache, which only memoizes.
 */
export function stepPeering(ctx: PeeringContext): PeeringStep {
  const st = ctx.status;
  const s = resolvePeeringSpec(ctx.spec);
  const cond = (type: string, ok: boolean, reason: string, message: string): ConditionInput => ({ type, status: ok ? 'True' : 'False', reason, message, observedGeneration: ctx.generation });
  const settle = (next: ProxyPeeringStatus, conditions: readonly ConditionInput[], extra: Omit<PeeringStep, 'status'> = { events: [] }): PeeringStep => {
    let cs = next.conditions ?? [];
    for (const c of conditions) cs = setCondition(cs, c, iso(ctx.now));
    const { inFlight: _intent, ...rest } = next;
    return { ...extra, status: { ...rest, observedGeneration: ctx.generation, conditions: cs } };
  };

  const invalid = peeringSemanticErrors(ctx.spec);
  if (invalid.length) {
    const message = invalid.map((e) => `${formatPath(e.path)}: ${e.message}`).join('; ');
    return settle({ ...st, phase: 'Invalid', message }, [cond('Ready', false, 'InvalidSpec', message)]);
  }
  if (!ctx.fleet.ok) return settle({ ...st, phase: 'Pending', message: ctx.fleet.error }, [cond('Ready', false, 'FleetNotFound', ctx.fleet.error)], { events: [], wakeAt: ctx.now + RETRY_MS });
  const fleet = ctx.fleet.value;
  const clash = sharedPeerAddress(fleet.proxies, s.peerPort);
  if (clash) return settle({ ...st, phase: 'Invalid', message: clash }, [cond('Ready', false, 'PeerAddressShared', clash)]);
  if (s.paused) return settle({ ...st, message: 'Paused: nothing is read or changed' }, []);

  const read = readDue(st, s, ctx.inventory !== undefined, ctx.now);
  const events: PeeringEvent[] = [];
  if (read.due) {
    if (st.inFlight && !st.inFlight.readBack) events.push({ reason: 'ActionInterrupted', message: `The pass that made ${describeIntent(st.inFlight)} was interrupted; read back before deciding again` });
    // The status as stored: a read changes nothing outside, and its fold needs the intent.
    return { status: st, action: { kind: 'read' }, events };
  }
  const error = st.inventory?.error;
  const readCond = cond('InventoryRead', !error, error ? 'ReadFailed' : 'Read', error ?? 'The node and proxy inventories were read');
  const held = ctx.inventory;
  if (!held) {
    return settle({ ...st, phase: 'Pending', message: error ?? 'Waiting for the first inventory' }, [readCond], { events, wakeAt: Math.max(ctx.now + 1_000, Math.min(read.at, ctx.now + RETRY_MS)) });
  }

  const proxies = peerProxies(fleet.proxies, ctx.snapshot, ctx.outOfRotation);
  const cached = held.plans.planFor({ proxies, regions: fleet.regions, holdMs: s.holdMs, maxLinksPerProxy: s.maxLinksPerProxy, current: st.links ?? [], now: ctx.now });
  if (cached.fresh) for (const r of cached.plan.removed) events.push({ reason: 'PeerLinkRemoved', message: 'Peer link removed', fields: { from: r.from, to: r.to, reason: r.reason } });
  const eligibleBy = (region: string): string[] => proxies.filter((x) => x.region === region && x.eligible).map((x) => x.name);
  const links = verifyLinks(linksFromPlan(cached.plan.links, st.links ?? [], ctx.now, s.dryRun), { sources: eligibleBy, seen: seenFrom(ctx.snapshot, held.hostIds), verifyMs: s.verifyMs, now: ctx.now });
  for (const l of links) {
    const before = st.links?.find((x) => x.from === l.from && x.to === l.to);
    if (before?.state !== l.state && (l.state === 'Up' || l.state === 'Failed')) events.push({ reason: `PeerLink${l.state}`, message: `Peer link ${l.state}`, fields: { from: l.from, to: l.to, state: l.state, ...(l.reason ? { reason: l.reason } : {}) } });
  }
  // Drift on record that still names something applied (a proxy gone from the fleet is no longer judged).
  const names = new Set(fleet.proxies.map((p) => p.name));
  const drift = s.dryRun ? [] : (st.drift ?? []).filter((d) => d.what !== 'peer_listener' || (d.subject !== undefined && names.has(d.subject)));
  const { drift: _drift, ...withoutDrift } = st;
  const base: ProxyPeeringStatus = { ...withoutDrift, links, ...(drift.length ? { drift } : {}) };
  const change = s.dryRun ? {} : chooseChange({ peering: ctx.peering, spec: ctx.spec, settings: s, status: base, fleet: fleet.proxies, links, drift, cluster: held.cluster, now: ctx.now });

  const dials = judgeDialErrors(st.peerDialErrors, ctx.snapshot);
  const grew = dials?.grew ?? [];
  const active = links.filter((l) => l.state === 'Up');
  const cov = coverage(proxies, cached.groups, active);
  const report = buildReport({ proxies, nodes: cached.nodes, groups: cached.groups, plan: cached.plan, links }, REPORT_EXAMPLES, st.report?.removed);
  const failed = links.filter((l) => l.state === 'Failed');
  const pending = links.filter((l) => l.state === 'Pending');
  const uncovered = cov.filter((c) => c.ratio < 1);
  const acting = change.action !== undefined;
  // Drift is being re-applied: what the links rest on is not there yet, whatever they showed.
  const phase: ProxyPeeringStatus['phase'] = failed.length || change.error ? 'Degraded' : uncovered.length || drift.length ? (pending.length || acting || drift.length ? 'Converging' : 'Degraded') : 'Covered';
  const message = change.error
    ? change.error
    : drift.length
      ? `Re-applying what drifted: ${drift.map((d) => d.detail).join('; ')}`
      : failed.length
        ? `${failed.length} link(s) failed: ${failed[0]?.from}->${failed[0]?.to}: ${failed[0]?.reason ?? ''}`
        : uncovered.length
          ? `${uncovered.map((c) => `${c.region} reaches ${c.reachable}/${c.nodes}`).join(', ')}${s.dryRun ? ' (dry run: nothing applied)' : ''}`
          : `Every node with a live tunnel is reachable from every region (${links.length} link(s))`;
  const readBackError = st.inventory?.readBackError;
  const syncCond = readBackError
    ? cond('InSync', false, 'ReadFailed', readBackError)
    : drift.length
      ? cond('InSync', false, 'Drifted', drift.map((d) => d.detail).join('; '))
      : cond('InSync', true, 'Observed', 'The last observation shows what was applied');
  const dialCond = grew.length
    ? cond('PeerDialsClean', false, 'DialErrorsGrew', `proxy_peer_client_dial_error_total grew on ${grew.join(', ')} since the previous observation`)
    : cond('PeerDialsClean', true, 'NoNewDialErrors', 'proxy_peer_client_dial_error_total did not grow');
  const { peerDialErrors: _dials, ...rest } = base;
  const next: ProxyPeeringStatus = { ...rest, phase, message, coverage: cov, report, ...(dials ? { peerDialErrors: dials } : {}) };
  const waiting = pending.length || failed.length || change.error;
  const wakeAt = acting ? undefined : Math.max(ctx.now + 1_000, Math.min(read.at, change.retryAt ?? Infinity, waiting ? ctx.now + (change.error ? RETRY_MS : POLL_MS) : Infinity));
  return settle(
    next,
    [readCond, syncCond, dialCond, cond('Ready', true, 'SpecValid', 'The spec is valid'), cond('Covered', !uncovered.length, uncovered.length ? 'NodesUnreachable' : 'AllReachable', message)],
    { events, ...(change.action ? { action: change.action } : {}), ...(wakeAt === undefined ? {} : { wakeAt }) },
  );
}

/** Up when a serving proxy's page shows a READY peer connection to one of the target's host ids. */
function seenFrom(snapshot: FleetSnapshot | undefined, hostIds: ReadonlyMap<string, readonly string[]>): (source: string, target: string) => PeerSeen {
  const byName = new Map(snapshot?.proxies.map((o) => [o.name, o]));
  return (source, target) => {
    const conns = byName.get(source)?.metrics?.peerConnections;
    if (!conns) return { ready: false, why: 'its page has no proxy_peer_client_connections (peering off there, or not scraped yet)' };
    const ids = hostIds.get(target) ?? [];
    if (!ids.length) return { ready: false, why: `the proxies inventory has no host id for ${target}` };
    const states = ids.flatMap((id) => conns[id] ?? []);
    return states.includes('READY') ? { ready: true } : { ready: false, why: states.length ? `state ${states.join(', ')}` : 'no connection' };
  };
}

/** Teleport needs a unique peer_public_addr per proxy; two proxies with one address is a fleet to fix first. */
function sharedPeerAddress(proxies: readonly Proxy[], port: number): string | undefined {
  const seen = new Map<string, string>();
  for (const proxy of proxies) {
    const addr = peerPublicAddr(proxy, port);
    const other = seen.get(addr);
    if (other) return `proxies ${other} and ${proxy.name} would both get peer_public_addr ${addr}: set spec.proxies[].peerAddress in the ProxyFleet`;
    seen.set(addr, proxy.name);
  }
  return undefined;
}
