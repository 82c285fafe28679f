import type { Proxy } from '../../model/fleet.js';
import type { DriftKind, PeerLinkStatus, ProxyPeeringSpec, ProxyPeeringStatus } from '../../model/peering.js';
import type { PeeringChange } from './peering-action.js';
import { linkId } from './peering-input.js';
import { peerPublicAddr, renderAllowList, withProxyPeering, type ClusterNetworking } from './peer-config.js';
import { RETRY_MS, type PeeringSettings } from './peering-settings.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export interface ChangeInput {
  readonly peering: string;
  readonly spec: ProxyPeeringSpec;
  readonly settings: PeeringSettings;
  /** With this pass's links and the drift still on record; its `inFlight` is an interrupted change not seen by the read back. */
  readonly status: ProxyPeeringStatus;
  readonly fleet: readonly Proxy[];
  readonly links: readonly PeerLinkStatus[];
  readonly drift: NonNullable<ProxyPeeringStatus['drift']>;
  readonly cluster: ClusterNetworking | undefined;
  readonly now: number;
}

export interface ChosenChange {
  readonly action?: PeeringChange;
  /** Why the steps are held (named in the message; the phase is Degraded). */
  readonly error?: string;
  /** When a held step is tried again. */
  readonly retryAt?: number;
}

/**
 * The next change, in order, one a pass, each done again when an observation contradicted its
 * record: the cluster's switch to proxy_peering first, when clusterNetworking is given (agents
 * report the proxies they hold only under it, and a proxy opens its peer listener only when it
 * starts under it); then each proxy's peer listener through its upgrade method; then the
 * allow-list for links whose target was given its listener.
 */
export function chooseChange(c: ChangeInput): ChosenChange {
  const st = c.status;
  const s = c.settings;
  const entry = (what: DriftKind, subject?: string) => c.drift.find((d) => d.what === what && d.subject === subject);
  // A re-apply after drift is a new request: the observation it answers names it.
  const tag = (what: DriftKind, subject?: string): string => {
    const d = entry(what, subject);
    return d ? `/@${d.observedAt}` : '';
  };
  const held = (action: 'clusterNetworking' | 'publishAllowList'): ChosenChange | undefined => {
    const e = st.applyError;
    return e?.action === action && c.now - Date.parse(e.at) < RETRY_MS ? { error: e.error, retryAt: Date.parse(e.at) + RETRY_MS } : undefined;
  };

  const cn = c.spec.apply?.clusterNetworking;
  const count = s.agentConnectionCount;
  const ts = st.tunnelStrategy;
  if (cn && (!ts || ts.agentConnectionCount !== count || entry('cluster_networking'))) {
    if (!c.cluster) return { error: `cluster networking not read yet, so not written (it is written back whole): ${st.inventory?.readBackError ?? 'no read so far'}` };
    const redo = entry('cluster_networking') !== undefined;
    return held('clusterNetworking') ?? { action: { kind: 'clusterNetworking', id: `${c.peering}/cluster-networking/${count}${tag('cluster_networking')}`, agentConnectionCount: count, write: withProxyPeering(c.cluster, count), redo } };
  }
  // Under agent_mesh agents report no proxy_ids: only with proxy_peering on is there anything to link.
  if (!c.links.length && !st.allowList) return {};

  const port = s.peerPort;
  const recorded = (proxy: Proxy): boolean => !s.configureProxies || (st.configured ?? []).some((x) => x.proxy === proxy.name && x.publicAddr === peerPublicAddr(proxy, port));
  const listening = (proxy: Proxy): boolean => recorded(proxy) && !entry('peer_listener', proxy.name);
  const failures = st.configureErrors ?? [];
  if (s.configureProxies) {
    const due = c.fleet.find((proxy) => {
      const failed = failures.find((f) => f.proxy === proxy.name);
      return !listening(proxy) && (!failed || c.now - Date.parse(failed.at) >= RETRY_MS);
    });
    if (due) {
      const publicAddr = peerPublicAddr(due, port);
      return { action: { kind: 'configure', id: `${c.peering}/configure/${due.name}/${publicAddr}${tag('peer_listener', due.name)}`, proxy: due, listenAddr: `0.0.0.0:${port}`, publicAddr, redo: entry('peer_listener', due.name) !== undefined } };
    }
  }

  const target = c.spec.apply?.allowList;
  const byName = new Map(c.fleet.map((f) => [f.name, f]));
  // A rule stays while its target's listener is being set again: the firewall need not flap.
  const allowed = c.links.filter((l) => {
    const to = byName.get(l.to);
    return to !== undefined && recorded(to);
  });
  const list = renderAllowList(allowed, c.fleet, port);
  const redo = entry('allow_list') !== undefined;
  if (target && (st.allowList?.digest !== list.digest || redo)) {
    const wait = held('publishAllowList');
    if (wait) return wait;
    const prior = st.inFlight?.kind === 'publishAllowList' ? st.inFlight : undefined;
    // The same list as an interrupted publish goes again under its generation (a retry the receiver
    // recognises); any other under a higher one, which grows with the clock as well.
    const generation = prior?.digest === list.digest ? prior.generation : Math.max((st.allowList?.generation ?? 0) + 1, (prior?.generation ?? 0) + 1, Math.floor(c.now / 1000));
    return {
      action: { kind: 'publishAllowList', doc: { kind: 'PeerAllowList', peering: c.peering, generation, generatedAt: iso(c.now), port, rules: list.rules }, digest: list.digest, links: allowed.map(linkId), redo },
    };
  }
  const failed = failures.find((f) => c.fleet.some((x) => x.name === f.proxy && !listening(x)));
  return failed ? { error: `peer listener of ${failed.proxy} not set (links to it wait; retried): ${failed.error}`, retryAt: Date.parse(failed.at) + RETRY_MS } : {};
}
