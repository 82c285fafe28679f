import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { ReadInventory } from '../adapters/teleport/inventory-reader.js';
import type { AllowListDocument, PeeringActions } from '../adapters/peering/peering-actions.js';
import type { Clock } from '../model/clock.js';
import { setCondition, type ConditionInput } from '../model/conditions.js';
import { durationOr } from '../model/duration.js';
import { formatPath } from '../model/field-error.js';
import type { Proxy } from '../model/fleet.js';
import type { PeerLinkStatus, ProxyPeering, ProxyPeeringStatus } from '../model/peering.js';
import { peeringSemanticErrors } from '../model/peering-rules.js';
import { DEFAULT_NAMESPACE, keyOf, keyString, type ResourceKey } from '../model/resource.js';
import type { Result } from '../model/result.js';
import type { FleetSnapshot } from '../model/snapshot.js';
import type { Store } from '../model/store.js';
import { fleetOf } from '../fleet/fleet-of.js';
import type { Reconciler, ReconcileResult } from '../runtime/reconciler.js';
import { coverage } from './core/coverage.js';
import { linksFromPlan, verifyLinks, type PeerSeen } from './core/link-status.js';
import { findDrift, type Drift, type Observed } from './core/drift.js';
import { parseNodes, parsePeerAddrs, parseProxies, type Inventory } from './core/parse-inventory.js';
import { DEFAULT_PEER_PORT, parseClusterNetworking, peerPublicAddr, renderAllowList, withProxyPeering, type ClusterNetworking } from './core/peer-config.js';
import { peerProxies, proxiesSignature } from './core/peer-proxies.js';
import { linkId, type PeerNode, type PeerProxy } from './core/peering-input.js';
import { PeeringPlanner } from './core/peering-planner.js';
import type { PeeringPlan } from './core/plan-links.js';

/** Sends one proxy its peer listener through its upgrade method (action `configure`). */
export type ConfigureProxy = (req: { readonly id: string; readonly owner: string; readonly proxy: Proxy; readonly listenAddr: string; readonly publicAddr: string }, signal: AbortSignal) => Promise<Result<unknown, string>>;

export interface PeeringReconcilerDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: Logger;
  readonly snapshotOf: (fleet: ResourceKey) => FleetSnapshot | undefined;
  /** Proxies out of rotation (cordoned, held by a rollout or canary): never link targets. */
  readonly draining: () => ReadonlySet<string>;
  readonly readInventory: ReadInventory;
  readonly actions: PeeringActions;
  readonly configureProxy: ConfigureProxy;
  readonly onInventoryError?: (peering: string) => void;
  /** Drift found by an observation: counted once per observation and kind. */
  readonly onDrift?: (peering: string, what: Drift['what']) => void;
}

/** What the reconciler knows of one ProxyPeering between passes (the plan's inputs and outputs). */
export interface PeeringView {
  readonly proxies: readonly PeerProxy[];
  readonly nodes: readonly PeerNode[];
  readonly plan: PeeringPlan;
  readonly planner: PeeringPlanner;
  readonly hostIds: ReadonlyMap<string, readonly string[]>;
  readonly outsideFleet: readonly string[];
  /** Nodes of the current inventory without proxy_ids (the planner keeps departed nodes as such). */
  readonly unknown: number;
}

interface Memory {
  inventory?: Inventory;
  /** Host ids per fleet proxy: a reinstalled proxy's old record lingers until its heartbeat expires. */
  hostIds?: Map<string, string[]>;
  /** Bumped on every good read whose nodes differ. */
  inventoryVersion: number;
  readAt?: number;
  readError?: string;
  planner?: PeeringPlanner;
  planKey?: string;
  plan?: PeeringPlan;
  proxies?: readonly PeerProxy[];
  /** proxy_peer_client_dial_error_total per proxy at the last snapshot looked at, and what grew then. */
  dialErrors?: { readonly observedAt: string; readonly counts: Map<string, number>; readonly grew: string[] };
  /** What the last read saw of what Meridian applies; its drift is counted once. */
  observed?: Observed;
  driftCountedAt?: number;
  /** The cluster_networking_config as last read: what a write changes one field of. */
  cluster?: ClusterNetworking;
  /** Why the cluster networking or allow-list read failed (the last good one stays). */
  observeError?: string;
  /** After an apply, read back this soon rather than at the next interval. */
  verifyAt?: number;
}

/** Re-check links and the inventory at least this often while something is pending. */
const POLL_MS = 15_000;
const RETRY_MS = 30_000;
/** A read that changed at most this many nodes is applied node by node to the previous plan. */
const INCREMENTAL_LIMIT = 1_000;
/** After an outside change, read back this soon to see that it held. */
const VERIFY_MS = 10_000;

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Drives each ProxyPeering: reads the node inventory on its interval, plans the links every
 * region needs, then moves one safe step at a time: cluster networking to proxy_peering, peer
 * listeners through each proxy's upgrade method, the allow-list to the firewall automation;
 * finally verifies each link from Teleport's own peer metrics. Every step is idempotent, so a
 * crash anywhere is resumed by the next pass from the status.
 */
export function createPeeringReconciler(deps: PeeringReconcilerDeps): Reconciler & { view(key: ResourceKey): PeeringView | undefined } {
  const { store, clock } = deps;
  const memory = new Map<string, Memory>();

  async function write(p: ProxyPeering, next: ProxyPeeringStatus, conditions: readonly ConditionInput[]): Promise<ProxyPeering> {
    const nowIso = iso(clock.now());
    let cs = next.conditions ?? [];
    for (const c of conditions) cs = setCondition(cs, c, nowIso);
    const status: ProxyPeeringStatus = { ...next, observedGeneration: p.metadata.generation ?? 0, conditions: cs };
    if (isDeepStrictEqual(status, p.status ?? {})) return p;
    await store.updateStatus('ProxyPeering', p.metadata.namespace ?? DEFAULT_NAMESPACE, p.metadata.name, status);
    return { ...p, status };
  }

  const cond = (p: ProxyPeering, type: string, ok: boolean, reason: string, message: string): ConditionInput => ({
    type,
    status: ok ? 'True' : 'False',
    reason,
    message,
    observedGeneration: p.metadata.generation ?? 0,
  });

  async function readInventory(p: ProxyPeering, fleet: readonly Proxy[], mem: Memory, signal: AbortSignal): Promise<void> {
    const timeoutMs = durationOr(p.spec.inventory.timeout, '20s');
    mem.readAt = clock.now();
    // Nodes first: a proxy that joins between the reads is then in the second one too.
    const nodesBody = await deps.readInventory(p.spec.inventory.nodes, { timeoutMs, signal });
    if (!nodesBody.ok) return void (mem.readError = `nodes inventory: ${nodesBody.error}`);
    const proxiesBody = await deps.readInventory(p.spec.inventory.proxies, { timeoutMs, signal });
    if (!proxiesBody.ok) return void (mem.readError = `proxies inventory: ${proxiesBody.error}`);
    const hostMap = parseProxies(proxiesBody.value.body, proxiesBody.value.from, fleet);
    if (!hostMap.ok) return void (mem.readError = `proxies inventory: ${hostMap.error}`);
    const inv = parseNodes(nodesBody.value.body, nodesBody.value.from, hostMap.value, p.spec.inventory.regionLabel ?? 'region');
    if (!inv.ok) return void (mem.readError = `nodes inventory: ${inv.error}`);
    mem.readError = undefined;
    await observe(p, mem, hostMap.value, proxiesBody.value, timeoutMs, signal);
    mem.hostIds = new Map();
    for (const [id, name] of hostMap.value) if (name) mem.hostIds.set(name, [...(mem.hostIds.get(name) ?? []), id]);
    // One pass over the nodes says both whether anything changed and what.
    const changed = mem.inventory && changedNodes(mem.inventory.nodes, inv.value.nodes);
    if (changed && !changed.length && isDeepStrictEqual(mem.inventory?.outsideFleet, inv.value.outsideFleet)) return;
    mem.inventoryVersion++;
    // The previous plan can be moved node by node when few changed; otherwise plan afresh.
    if (mem.planner && mem.plan && changed && changed.length <= INCREMENTAL_LIMIT) {
      const now = clock.now();
      for (const n of changed) mem.planner.updateNode(n, now);
      mem.plan = mem.planner.current();
      mem.planKey = planKeyOf(mem, mem.proxies ?? []);
    }
    mem.inventory = inv.value;
  }

  /** Reads back what Meridian applies: the proxies' peer addresses, the cluster networking resource, the allow-list the firewall holds. */
  async function observe(p: ProxyPeering, mem: Memory, hostMap: ReadonlyMap<string, string | undefined>, proxies: { readonly body: string; readonly from: string }, timeoutMs: number, signal: AbortSignal): Promise<void> {
    const at = mem.readAt ?? clock.now();
    const errors: string[] = [];
    const peerAddrs = parsePeerAddrs(proxies.body, proxies.from, hostMap);
    const read = p.spec.apply?.clusterNetworking?.read;
    if (read) {
      const body = await deps.readInventory(read, { timeoutMs, signal });
      const parsed = body.ok ? parseClusterNetworking(body.value.body, body.value.from) : body;
      if (parsed.ok) mem.cluster = parsed.value;
      else errors.push(`cluster networking read: ${parsed.error}`);
    }
    const target = p.spec.apply?.allowList;
    const gen = target ? await deps.actions.readAllowListGeneration(target, signal) : undefined;
    if (gen && !gen.ok) errors.push(gen.error);
    mem.observeError = errors.length ? errors.join('; ') : undefined;
    mem.observed = {
      at,
      ...(read && mem.cluster && !errors.some((e) => e.startsWith('cluster networking')) ? { strategy: mem.cluster.strategy } : {}),
      ...(peerAddrs.ok ? { peerAddrs: peerAddrs.value } : {}),
      ...(gen?.ok && gen.value !== undefined ? { allowListGeneration: gen.value } : {}),
    };
  }

  function planKeyOf(mem: Memory, proxies: readonly PeerProxy[]): string {
    return `${mem.inventoryVersion}|${proxiesSignature(proxies)}`;
  }

  /** The plan for this pass: reused while nothing it rests on changed and no hold time ran out. */
  function planFor(p: ProxyPeering, mem: Memory, proxies: readonly PeerProxy[], regions: readonly { name: string; latitude: number; longitude: number }[], now: number, log: Logger): PeeringPlan {
    const holdMs = durationOr(p.spec.holdTime, '30m');
    const key = planKeyOf(mem, proxies);
    const expiring = mem.plan?.links.some((l) => l.unneededSince !== undefined && now - l.unneededSince >= holdMs) ?? false;
    if (mem.plan && mem.planKey === key && !expiring) return mem.plan;
    const planner = new PeeringPlanner({ proxies, regions, holdMs, maxLinksPerProxy: p.spec.maxLinksPerProxy ?? 64 });
    const current = (p.status?.links ?? []).map((l) => ({ from: l.from, to: l.to, ...(l.unneededSince ? { unneededSince: Date.parse(l.unneededSince) } : {}) }));
    const plan = planner.plan(mem.inventory?.nodes ?? [], current, now);
    Object.assign(mem, { planner, plan, planKey: key, proxies });
    for (const r of plan.removed) log.info({ from: r.from, to: r.to, reason: r.reason }, 'Peer link removed');
    return plan;
  }

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

  return {
    kind: 'ProxyPeering',
    view(key) {
      const mem = memory.get(keyString(key));
      if (!mem?.plan || !mem.planner || !mem.proxies || !mem.inventory) return undefined;
      return { proxies: mem.proxies, nodes: mem.planner.nodeList, plan: mem.plan, planner: mem.planner, hostIds: mem.hostIds ?? new Map<string, string[]>(), outsideFleet: mem.inventory.outsideFleet, unknown: mem.inventory.nodes.filter((n) => !n.proxies).length };
    },
    async reconcile(key: ResourceKey, signal: AbortSignal): Promise<ReconcileResult> {
      let p = await store.get('ProxyPeering', key.namespace, key.name);
      const k = keyString(key);
      if (!p) {
        memory.delete(k);
        return {};
      }
      const log = deps.log.child({ kind: 'ProxyPeering', name: `${key.namespace}/${key.name}` });
      const st = p.status ?? {};
      const invalid = peeringSemanticErrors(p.spec);
      if (invalid.length) {
        const message = invalid.map((e) => `${formatPath(e.path)}: ${e.message}`).join('; ');
        await write(p, { ...st, phase: 'Invalid', message }, [cond(p, 'Ready', false, 'InvalidSpec', message)]);
        return {};
      }
      const fleet = await fleetOf(store, p);
      if (!fleet.ok) {
        await write(p, { ...st, phase: 'Pending', message: fleet.error }, [cond(p, 'Ready', false, 'FleetNotFound', fleet.error)]);
        return { requeueAfterMs: RETRY_MS };
      }
      const clash = sharedPeerAddress(fleet.value.spec.proxies, p.spec.peerPort ?? DEFAULT_PEER_PORT);
      if (clash) {
        await write(p, { ...st, phase: 'Invalid', message: clash }, [cond(p, 'Ready', false, 'PeerAddressShared', clash)]);
        return {};
      }
      if (p.spec.paused) {
        await write(p, { ...st, message: 'Paused: nothing is read or changed' }, []);
        return {};
      }
      const now = clock.now();
      const mem = memory.get(k) ?? { inventoryVersion: 0 };
      memory.set(k, mem);
      const intervalMs = durationOr(p.spec.inventory.interval, '1m');
      if (mem.readAt === undefined || now - mem.readAt >= intervalMs || (mem.verifyAt !== undefined && now >= mem.verifyAt)) {
        mem.verifyAt = undefined;
        await readInventory(p, fleet.value.spec.proxies, mem, signal);
        if (mem.readError) {
          log.warn({ error: mem.readError }, 'Inventory not read; the last good one stays');
          deps.onInventoryError?.(`${key.namespace}/${key.name}`);
        }
      }
      const readCond = cond(p, 'InventoryRead', !mem.readError, mem.readError ? 'ReadFailed' : 'Read', mem.readError ?? 'The node and proxy inventories were read');
      const nextRead = Math.min((mem.readAt ?? now) + intervalMs, mem.verifyAt ?? Infinity) - now;
      if (!mem.inventory) {
        await write(p, { ...st, phase: 'Pending', message: mem.readError ?? 'Waiting for the first inventory' }, [readCond]);
        return { requeueAfterMs: Math.max(1_000, Math.min(nextRead, RETRY_MS)) };
      }

      const snapshot = deps.snapshotOf(keyOf(fleet.value));
      const proxies = peerProxies(fleet.value.spec.proxies, snapshot, deps.draining());
      const plan = planFor(p, mem, proxies, fleet.value.spec.regions, now, log);
      const dryRun = p.spec.dryRun ?? false;
      let links = linksFromPlan(plan.links, st.links ?? [], now, dryRun);
      const inventoryStatus = { nodes: mem.inventory.nodes.length, unknown: mem.inventory.nodes.filter((n) => !n.proxies).length, readAt: iso(mem.readAt ?? now), ...(mem.readError ? { error: mem.readError } : {}) };
      let next: ProxyPeeringStatus = { ...st, inventory: inventoryStatus, links };

      // Saved status is a record, never proof: compare it with the last observation; drift is re-applied below.
      const configure = p.spec.apply?.configureProxies ?? true;
      const drift = !dryRun && mem.observed ? findDrift(next, mem.observed, configure) : [];
      const owner = `${key.namespace}/${key.name}`;
      if (mem.observed && mem.driftCountedAt !== mem.observed.at) {
        mem.driftCountedAt = mem.observed.at;
        for (const d of drift) {
          log.warn({ what: d.what, subject: d.subject, detail: d.detail }, 'Drift found; re-applying');
          deps.onDrift?.(owner, d.what);
        }
      }
      const observedAt = iso(mem.observed?.at ?? now);
      const { drift: _before, ...withoutDrift } = next;
      next = drift.length ? { ...withoutDrift, drift: drift.map((d) => ({ ...d, observedAt })) } : withoutDrift;
      const syncCond = mem.observeError
        ? cond(p, 'InSync', false, 'ReadFailed', mem.observeError)
        : drift.length
          ? cond(p, 'InSync', false, 'Drifted', drift.map((d) => d.detail).join('; '))
          : cond(p, 'InSync', true, 'Observed', 'The last observation shows what was applied');
      // The intent first: a crash while re-applying leaves the drift on record.
      if (drift.length) p = await write(p, next, [syncCond]);

      let stepError: string | undefined;
      let more = false;
      if (!dryRun) {
        const r = await applySteps(p, next, fleet.value.spec.proxies, links, drift, mem, signal, log);
        next = r.status;
        p = r.peering;
        stepError = r.error;
        more = r.more ?? false;
        if (more) mem.verifyAt = clock.now() + VERIFY_MS;
      }
      const hostIds = mem.hostIds ?? new Map<string, string[]>();
      const eligibleBy = (region: string): string[] => proxies.filter((x) => x.region === region && x.eligible).map((x) => x.name);
      links = verifyLinks(next.links ?? links, { sources: eligibleBy, seen: seenFrom(snapshot, hostIds), verifyMs: durationOr(p.spec.verifyTimeout, '5m'), now });
      for (const l of links) {
        const before = st.links?.find((x) => x.from === l.from && x.to === l.to);
        if (before?.state !== l.state && (l.state === 'Up' || l.state === 'Failed')) log.info({ from: l.from, to: l.to, state: l.state, reason: l.reason }, `Peer link ${l.state}`);
      }
      const grew = dialErrorGrowth(mem, snapshot);
      const dialCond = grew.length
        ? cond(p, 'PeerDialsClean', false, 'DialErrorsGrew', `proxy_peer_client_dial_error_total grew on ${grew.join(', ')} since the previous observation`)
        : cond(p, 'PeerDialsClean', true, 'NoNewDialErrors', 'proxy_peer_client_dial_error_total did not grow');
      const active = links.filter((l) => l.state === 'Up');
      const cov = coverage(proxies, mem.planner?.tunnelGroups ?? [], active);
      const failed = links.filter((l) => l.state === 'Failed');
      const pending = links.filter((l) => l.state === 'Pending');
      const uncovered = cov.filter((c) => c.ratio < 1);
      // Drift is being re-applied: what the links rest on is not there yet, whatever they showed.
      const phase: ProxyPeeringStatus['phase'] = failed.length || stepError ? 'Degraded' : uncovered.length || drift.length ? (pending.length || more || drift.length ? 'Converging' : 'Degraded') : 'Covered';
      const message = stepError
        ? stepError
        : drift.length
          ? `Re-applying what drifted: ${drift.map((d) => d.detail).join('; ')}`
        : failed.length
          ? `${failed.length} link(s) failed: ${failed[0]?.from}->${failed[0]?.to}: ${failed[0]?.reason ?? ''}`
          : uncovered.length
            ? `${uncovered.map((c) => `${c.region} reaches ${c.reachable}/${c.nodes}`).join(', ')}${dryRun ? ' (dry run: nothing applied)' : ''}`
            : `Every node with a live tunnel is reachable from every region (${links.length} link(s))`;
      await write(p, { ...next, phase, message, links, coverage: cov }, [
        readCond,
        syncCond,
        dialCond,
        cond(p, 'Ready', true, 'SpecValid', 'The spec is valid'),
        cond(p, 'Covered', !uncovered.length, uncovered.length ? 'NodesUnreachable' : 'AllReachable', message),
      ]);
      if (more) return { requeueAfterMs: 0 };
      const waiting = pending.length || failed.length || stepError;
      return { requeueAfterMs: Math.max(1_000, Math.min(nextRead, waiting ? (stepError ? RETRY_MS : POLL_MS) : nextRead)) };
    },
  };

  /**
   * The apply steps in order, one outside change a pass, each idempotent and recorded in status as
   * soon as it is done, each done again when the last observation contradicts its record: the
   * cluster's switch to proxy_peering first, when clusterNetworking is given (read, tunnel_strategy
   * changed, written back whole): agents report the proxies they hold only under it, and a proxy
   * opens its peer listener and client only when it starts under it;
   * then each proxy's peer listener through its upgrade method (the automation restarts it to
   * apply it; one proxy a pass); then the allow-list for links whose target was given its
   * listener. `more`: call again at once.
   */
  async function applySteps(
    p: ProxyPeering,
    status: ProxyPeeringStatus,
    fleet: readonly Proxy[],
    links: readonly PeerLinkStatus[],
    drift: readonly Drift[],
    mem: Memory,
    signal: AbortSignal,
    log: Logger,
  ): Promise<{ peering: ProxyPeering; status: ProxyPeeringStatus; error?: string; more?: boolean }> {
    let next = status;
    const owner = `${p.metadata.namespace ?? DEFAULT_NAMESPACE}/${p.metadata.name}`;
    const port = p.spec.peerPort ?? DEFAULT_PEER_PORT;
    const persist = async (s: ProxyPeeringStatus): Promise<void> => {
      next = s;
      p = await write(p, s, []);
    };
    const drifted = (what: Drift['what'], subject?: string): boolean => drift.some((d) => d.what === what && d.subject === subject);
    // A re-apply after drift is a new request: the observation it answers names it.
    const retryTag = mem.observed ? `@${iso(mem.observed.at)}` : '';

    const cn = p.spec.apply?.clusterNetworking;
    const count = p.spec.agentConnectionCount ?? 2;
    const ts = next.tunnelStrategy;
    if (cn && (!ts || ts.agentConnectionCount !== count || drifted('cluster_networking'))) {
      if (!mem.cluster) return { peering: p, status: next, error: `cluster networking not read yet, so not written (it is written back whole): ${mem.observeError ?? 'no read so far'}` };
      const id = `${owner}/cluster-networking/${count}${drifted('cluster_networking') ? `/${retryTag}` : ''}`;
      const r = await deps.actions.applyClusterNetworking(cn, id, withProxyPeering(mem.cluster, count), signal);
      if (!r.ok) return { peering: p, status: next, error: r.error };
      log.info({ agentConnectionCount: count, redo: drifted('cluster_networking') }, 'Cluster networking set to proxy_peering');
      await persist({ ...next, tunnelStrategy: { type: 'proxy_peering', agentConnectionCount: count, appliedAt: iso(clock.now()) } });
      return { peering: p, status: next, more: true };
    }
    // Under agent_mesh agents report no proxy_ids: only with proxy_peering on is there anything to link.
    if (!links.length && !next.allowList) return { peering: p, status: next };

    const configure = p.spec.apply?.configureProxies ?? true;
    const recorded = (proxy: Proxy): boolean => !configure || (next.configured ?? []).some((c) => c.proxy === proxy.name && c.publicAddr === peerPublicAddr(proxy, port));
    const listening = (proxy: Proxy): boolean => recorded(proxy) && !drifted('peer_listener', proxy.name);
    if (configure) {
      const failures = next.configureErrors ?? [];
      const due = fleet.find((proxy) => {
        const failed = failures.find((f) => f.proxy === proxy.name);
        return !listening(proxy) && (!failed || clock.now() - Date.parse(failed.at) >= RETRY_MS);
      });
      if (due) {
        const publicAddr = peerPublicAddr(due, port);
        const redo = drifted('peer_listener', due.name);
        const r = await deps.configureProxy({ id: `${owner}/configure/${due.name}/${publicAddr}${redo ? `/${retryTag}` : ''}`, owner, proxy: due, listenAddr: `0.0.0.0:${port}`, publicAddr }, signal);
        const others = failures.filter((f) => f.proxy !== due.name);
        const { configureErrors: _errors, ...rest } = next;
        if (r.ok) {
          const configured = [...(next.configured ?? []).filter((c) => c.proxy !== due.name && fleet.some((f) => f.name === c.proxy)), { proxy: due.name, publicAddr, at: iso(clock.now()) }];
          await persist({ ...rest, configured: configured.sort((a, b) => (a.proxy < b.proxy ? -1 : 1)), ...(others.length ? { configureErrors: others } : {}) });
        } else {
          log.warn({ proxy: due.name, error: r.error }, 'Peer listener not set; links to this proxy wait');
          await persist({ ...rest, configureErrors: [...others, { proxy: due.name, error: r.error, at: iso(clock.now()) }] });
        }
        return { peering: p, status: next, more: true };
      }
    }

    const target = p.spec.apply?.allowList;
    const byName = new Map(fleet.map((f) => [f.name, f]));
    // A rule stays while its target's listener is being set again: the firewall need not flap.
    const allowed = links.filter((l) => {
      const to = byName.get(l.to);
      return to !== undefined && recorded(to);
    });
    const list = renderAllowList(allowed, fleet, port);
    const redo = drifted('allow_list');
    if (target && (next.allowList?.digest !== list.digest || redo)) {
      // Grows with the clock as well, so a publish that landed before a crash lost its status write is followed by a higher one.
      const generation = Math.max((next.allowList?.generation ?? 0) + 1, Math.floor(clock.now() / 1000));
      const doc: AllowListDocument = { kind: 'PeerAllowList', peering: owner, generation, generatedAt: iso(clock.now()), port, rules: list.rules };
      const r = await deps.actions.publishAllowList(target, doc, signal);
      if (!r.ok) return { peering: p, status: next, error: r.error };
      log.info({ generation, rules: list.rules.length, links: allowed.length, redo }, 'Peer allow-list published');
      const nowIso = iso(clock.now());
      const carried = new Set(allowed.map(linkId));
      // Re-published after a reset, a link's verify time starts again.
      const withAllowed = (next.links ?? links).map((l) => ((!l.allowedAt || redo) && carried.has(linkId(l)) ? { ...l, allowedAt: nowIso } : l));
      await persist({ ...next, links: withAllowed, allowList: { generation, digest: list.digest, rules: list.rules.length, appliedAt: nowIso } });
      return { peering: p, status: next, more: true };
    }
    const failed = next.configureErrors?.find((f) => fleet.some((x) => x.name === f.proxy && !listening(x)));
    return { peering: p, status: next, ...(failed ? { error: `peer listener of ${failed.proxy} not set (links to it wait; retried): ${failed.error}` } : {}) };
  }
}

/**
 * Proxies whose peer dial error counter grew since the previous snapshot (a restart resets it:
 * no growth). Judged once per snapshot: passes on the same one keep the answer.
 */
function dialErrorGrowth(mem: Memory, snapshot: FleetSnapshot | undefined): string[] {
  if (!snapshot) return [];
  if (mem.dialErrors?.observedAt === snapshot.observedAt) return mem.dialErrors.grew;
  const before = mem.dialErrors?.counts ?? new Map<string, number>();
  const counts = new Map<string, number>();
  const grew: string[] = [];
  for (const o of snapshot.proxies) {
    const v = o.metrics?.peerDialErrors;
    if (v === undefined) continue;
    counts.set(o.name, v);
    const prev = before.get(o.name);
    if (prev !== undefined && v > prev) grew.push(`${o.name} (+${v - prev})`);
  }
  mem.dialErrors = { observedAt: snapshot.observedAt, counts, grew };
  return grew;
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

/** Nodes that are new or whose tunnels changed, and nodes gone (as Unknown). */
function changedNodes(before: readonly PeerNode[], after: readonly PeerNode[]): PeerNode[] {
  const old = new Map(before.map((n) => [n.id, n]));
  const out: PeerNode[] = [];
  for (const n of after) {
    const o = old.get(n.id);
    old.delete(n.id);
    if (!o || o.region !== n.region || o.hostname !== n.hostname || !sameList(o.proxies, n.proxies)) out.push(n);
  }
  for (const gone of old.values()) out.push({ id: gone.id, hostname: gone.hostname });
  return out;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
