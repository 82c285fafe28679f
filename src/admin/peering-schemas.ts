import { Type, type Static } from '@sinclair/typebox';
import { LINK_STATES } from '../model/peering.js';

const Str = Type.String();
const Num = Type.Number();
const Opt = Type.Optional;

const Link = Type.Object({ from: Str, to: Str, since: Str, state: Type.Union(LINK_STATES.map((s) => Type.Literal(s))), nodes: Num, reason: Opt(Str), unneededSince: Opt(Str) });
const Coverage = Type.Object({ region: Str, nodes: Num, reachable: Num, ratio: Num });

export const PeeringView = Type.Object({
  namespace: Str,
  name: Str,
  dryRun: Type.Boolean(),
  paused: Type.Boolean(),
  phase: Opt(Str),
  message: Opt(Str),
  inventory: Opt(Type.Object({ nodes: Num, unknown: Num, readAt: Str, error: Opt(Str) })),
  coverage: Type.Array(Coverage),
  tunnelStrategy: Opt(Type.Object({ type: Str, agentConnectionCount: Num, appliedAt: Str })),
  allowList: Opt(Type.Object({ generation: Num, digest: Str, rules: Num, appliedAt: Str })),
  links: Type.Array(Link),
});
export type PeeringView = Static<typeof PeeringView>;

export const PeeringsResponse = Type.Object({ peerings: Type.Array(PeeringView) });

const NodeRow = { id: Str, hostname: Str, region: Opt(Str), proxies: Type.Array(Str), why: Str };

export const CoverageResponse = Type.Object({
  regions: Type.Array(Type.Object({ ...Coverage.properties, unreachable: Type.Array(Type.Object(NodeRow)), more: Num })),
  unknown: Num,
  offline: Num,
  proxies: Type.Array(Type.Object({ proxy: Str, region: Str, nodeTunnels: Num, missingTunnels: Num })),
});

export const PlanResponse = Type.Object({
  add: Type.Array(Link),
  remove: Type.Array(Type.Object({ from: Str, to: Str, reason: Str })),
  keep: Num,
  nodes: Type.Array(Type.Object({ ...NodeRow, from: Str, link: Opt(Str) })),
  more: Num,
});
