import { Type, type Static } from '@sinclair/typebox';
import type { Condition } from './conditions.js';
import { DURATION_PATTERN } from './duration.js';
import type { Resource } from './resource.js';

const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description });
const Url = (description: string) => Type.String({ format: 'uri', pattern: '^https?://', description });
const Argv = (description: string) => Type.Array(Type.String(), { minItems: 1, description });

/** Where an inventory comes from: a URL answering JSON, or a command printing it (run without a shell). */
const SourceSchema = (what: string) =>
  Type.Object(
    {
      url: Type.Optional(Url(`GET answering ${what}`)),
      command: Type.Optional(Argv(`argv printing ${what}, e.g. [tctl, get, ${what.split(' ')[0]}, --format=json]`)),
    },
    { additionalProperties: false },
  );

/** A signed webhook or a command; like a proxy's upgrade method, without the proxy. */
const ActionFields = (what: string, placeholders: string) => ({
  url: Type.Optional(Url(`POSTed ${what} as signed JSON`)),
  secretFile: Type.Optional(Type.String({ minLength: 1, description: 'HMAC-SHA256 key for X-Meridian-Signature' })),
  command: Type.Optional(Argv(`argv with ${placeholders}, run without a shell`)),
  timeout: Type.Optional(Duration('Per attempt; default 30s')),
});

export const ProxyPeeringSpecSchema = Type.Object(
  {
    fleet: Type.Optional(Type.String({ minLength: 1 })),
    inventory: Type.Object(
      {
        nodes: SourceSchema('nodes as `tctl get nodes --format=json` prints them'),
        proxies: SourceSchema('proxies as `tctl get proxies --format=json` prints them (maps proxy_ids to fleet proxies)'),
        interval: Type.Optional(Duration('How often both are read. Default 1m')),
        timeout: Type.Optional(Duration('Per read. Default 20s')),
        regionLabel: Type.Optional(Type.String({ minLength: 1, description: "The node label naming its region. Default 'region'" })),
      },
      { additionalProperties: false },
    ),
    maxLinksPerProxy: Type.Optional(Type.Integer({ minimum: 1, description: 'Regions that may peer into one proxy. Default 64' })),
    holdTime: Type.Optional(Duration('A link is removed only after it has been unneeded this long. Default 30m')),
    verifyTimeout: Type.Optional(Duration('A link not up after this long is reported Failed. Default 5m')),
    peerPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, description: 'peer_listen_addr port. Default 3021' })),
    agentConnectionCount: Type.Optional(Type.Integer({ minimum: 1, maximum: 16, description: 'tunnel_strategy agent_connection_count. Default 2' })),
    dryRun: Type.Optional(Type.Boolean({ description: 'Report coverage and the plan; change nothing' })),
    apply: Type.Optional(
      Type.Object(
        {
          clusterNetworking: Type.Optional(
            Type.Object(
              {
                ...ActionFields('the cluster_networking_config resource', '{file} (the resource as YAML, for `tctl create {file}`; Meridian adds -f and --confirm as the stored resource needs them)'),
                read: SourceSchema('cluster_networking_config as `tctl get cluster_networking_config --format=json` prints it: read, changed only in tunnel_strategy, written back whole; and compared every inventory interval'),
              },
              { additionalProperties: false },
            ),
          ),
          allowList: Type.Optional(
            Type.Object(
              {
                file: Type.Optional(Type.String({ minLength: 1, description: 'Written (atomically) with the allowed proxy-to-proxy rules' })),
                url: Type.Optional(Url('The firewall automation: POSTed the allow-list as signed JSON')),
                readUrl: Type.Optional(Url('GET answering {"generation": N} as the firewall automation holds it now (null after a reset); the file is read back as well')),
                secretFile: Type.Optional(Type.String({ minLength: 1 })),
                timeout: Type.Optional(Duration('Per attempt; default 30s')),
              },
              { additionalProperties: false },
            ),
          ),
          configureProxies: Type.Optional(Type.Boolean({ description: "Send each proxy its peer_listen_addr/peer_public_addr through its upgrade method. Default true" })),
        },
        { additionalProperties: false },
      ),
    ),
    paused: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type ProxyPeeringSpec = Static<typeof ProxyPeeringSpecSchema>;

export const LINK_STATES = ['Planned', 'Pending', 'Up', 'Failed'] as const;

/** What an observation can find drifted from what Meridian applied. */
export const DRIFT_KINDS = ['cluster_networking', 'peer_listener', 'allow_list'] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];
export type LinkState = (typeof LINK_STATES)[number];

/**
 * Users of region `from` may reach nodes tunnelled to proxy `to`: every proxy of `from` may dial
 * `to`'s peer address. Proxies of one region reach each other (one site); links cross regions.
 */
export interface PeerLinkStatus {
  readonly from: string;
  readonly to: string;
  readonly since: string;
  readonly state: LinkState;
  /** Nodes that need this link, at the last plan. */
  readonly nodes: number;
  readonly reason?: string;
  /** Set while no node needs the link; it goes once the hold time has passed. */
  readonly unneededSince?: string;
  /** When an allow-list carrying the link was first published; its verify time runs from here. */
  readonly allowedAt?: string;
}

export interface RegionCoverage {
  readonly region: string;
  /** Nodes with at least one live tunnel. */
  readonly nodes: number;
  readonly reachable: number;
  readonly ratio: number;
}

export interface ProxyPeeringStatus {
  readonly observedGeneration?: number;
  readonly phase?: 'Pending' | 'Converging' | 'Covered' | 'Degraded' | 'Invalid';
  readonly message?: string;
  readonly inventory?: {
    readonly nodes: number;
    /** Nodes without proxy_ids: unknown, never guessed. */
    readonly unknown: number;
    /** The last read (good or not). */
    readonly readAt: string;
    readonly error?: string;
    /** Why reading back what Meridian applies (cluster networking, the allow-list's generation) failed at the last read. */
    readonly readBackError?: string;
  };
  readonly coverage?: readonly RegionCoverage[];
  readonly tunnelStrategy?: { readonly type: 'proxy_peering'; readonly agentConnectionCount: number; readonly appliedAt: string };
  /** What the last observation found different from what was applied (re-applied one step a pass). */
  readonly drift?: readonly { readonly what: DriftKind; readonly subject?: string; readonly detail: string; readonly observedAt: string }[];
  /** Proxies sent their peer listener, with the address they were given. */
  readonly configured?: readonly { readonly proxy: string; readonly publicAddr: string; readonly at: string }[];
  /** Proxies whose peer listener could not be set, retried after a while; links to them wait. */
  readonly configureErrors?: readonly { readonly proxy: string; readonly error: string; readonly at: string }[];
  readonly allowList?: { readonly generation: number; readonly digest: string; readonly rules: number; readonly appliedAt: string };
  readonly links?: readonly PeerLinkStatus[];
  /** The last failed cluster networking write or allow-list publish, retried after a while. */
  readonly applyError?: { readonly action: 'clusterNetworking' | 'publishAllowList'; readonly error: string; readonly at: string };
  /** The outside change being made: written before it is made, cleared when its outcome is folded in. */
  readonly inFlight?: PeeringIntent;
  /** proxy_peer_client_dial_error_total per proxy at the observation that last changed them, and who grew then. */
  readonly peerDialErrors?: { readonly observedAt: string; readonly counts: Readonly<Record<string, number>>; readonly grew: readonly string[] };
  /** Coverage and plan details at the last plan, bounded (examples, not every node): what `peering coverage|plan` show. */
  readonly report?: PeeringReport;
  readonly conditions?: readonly Condition[];
}

/**
 * One outside change as recorded before it is made (the action without its payload). Found after
 * an interruption, it is read back first: recorded as made when the read shows it, else marked
 * `readBack: 'NotSeen'` and decided again (with the same id, or the same allow-list generation).
 */
export type PeeringIntent = (
  | { readonly kind: 'clusterNetworking'; readonly id: string; readonly agentConnectionCount: number }
  | { readonly kind: 'configure'; readonly id: string; readonly proxy: string; readonly publicAddr: string }
  | { readonly kind: 'publishAllowList'; readonly generation: number; readonly digest: string; readonly rules: number; readonly links: readonly string[] }
) & { readonly at: string; readonly readBack?: 'NotSeen' };

/** A node named in the report. */
export interface PeeringNodeExample {
  readonly id: string;
  readonly hostname: string;
  readonly region?: string;
  /** Fleet proxies holding its tunnels. */
  readonly proxies: readonly string[];
}

export interface PeeringReport {
  /** Per region users are served from, some nodes it cannot reach (the counts are in `coverage`) and how many more. */
  readonly unreachable: readonly { readonly region: string; readonly examples: readonly PeeringNodeExample[]; readonly more: number }[];
  /** Nodes whose every tunnel is on a proxy that is down. */
  readonly offline: number;
  /** Per region, the nodes that need a link: how many, and some with their link or why there is none. */
  readonly needs: readonly {
    readonly from: string;
    readonly nodes: number;
    readonly examples: readonly (PeeringNodeExample & { readonly link?: string; readonly cause: 'Linked' | 'AtCap' | 'NoTarget' })[];
  }[];
  /** Links the last plan that removed any removed, and why. */
  readonly removed: readonly { readonly from: string; readonly to: string; readonly reason: string }[];
}

export type ProxyPeering = Resource<'ProxyPeering', ProxyPeeringSpec, ProxyPeeringStatus>;
