import type { Proxy } from '../../model/fleet.js';
import type { PeeringIntent } from '../../model/peering.js';
import type { Result } from '../../model/result.js';
import type { ReadOutcome } from './inventory-read.js';
import type { AllowListDocument, ClusterNetworkingWrite } from './peer-config.js';

/** The one thing a pass does outside: a read (changes nothing, so no intent is recorded), or one change. */
export type PeeringAction =
  | { readonly kind: 'read' }
  | { readonly kind: 'clusterNetworking'; readonly id: string; readonly agentConnectionCount: number; readonly write: ClusterNetworkingWrite; readonly redo: boolean }
  | { readonly kind: 'configure'; readonly id: string; readonly proxy: Proxy; readonly listenAddr: string; readonly publicAddr: string; readonly redo: boolean }
  | { readonly kind: 'publishAllowList'; readonly doc: AllowListDocument; readonly digest: string; readonly links: readonly string[]; readonly redo: boolean };

export type PeeringChange = Exclude<PeeringAction, { kind: 'read' }>;

export type PeeringOutcome = { readonly kind: 'read'; readonly read: ReadOutcome } | { readonly kind: 'change'; readonly result: Result<unknown, string> };

/** What status records of a change before it is made: enough to recognise it after a crash, without its payload. */
export function intentOf(action: PeeringChange, at: string): PeeringIntent {
  switch (action.kind) {
    case 'clusterNetworking':
      return { kind: 'clusterNetworking', id: action.id, agentConnectionCount: action.agentConnectionCount, at };
    case 'configure':
      return { kind: 'configure', id: action.id, proxy: action.proxy.name, publicAddr: action.publicAddr, at };
    case 'publishAllowList':
      return { kind: 'publishAllowList', generation: action.doc.generation, digest: action.digest, rules: action.doc.rules.length, links: action.links, at };
  }
}

export function describeIntent(i: PeeringIntent): string {
  if (i.kind === 'clusterNetworking') return `the cluster networking write (${i.id})`;
  if (i.kind === 'configure') return `the peer listener of ${i.proxy}`;
  return `allow-list generation ${i.generation}`;
}
