import { Type, type Static } from '@sinclair/typebox';
import type { Condition } from './conditions.js';
import { DURATION_PATTERN } from './duration.js';
import type { Resource } from './resource.js';

const Name = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', description: 'DNS label' });
const Labels = Type.Record(Type.String(), Type.String());

export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export const MaintenanceWindowSchema = Type.Object(
  {
    days: Type.Array(Type.Union(WEEKDAYS.map((d) => Type.Literal(d))), { minItems: 1, uniqueItems: true }),
    start: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM local time' }),
    duration: Type.String({ pattern: DURATION_PATTERN, description: 'e.g. 4h' }),
  },
  { additionalProperties: false },
);
export type MaintenanceWindow = Static<typeof MaintenanceWindowSchema>;

export const RegionSchema = Type.Object(
  {
    name: Name,
    displayName: Type.Optional(Type.String({ minLength: 1 })),
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
    timeZone: Type.String({ minLength: 1, description: 'IANA time zone, e.g. Asia/Tokyo' }),
    maintenanceWindows: Type.Optional(Type.Array(MaintenanceWindowSchema)),
    default: Type.Optional(Type.Boolean({ description: 'Region for clients whose location is unknown' })),
  },
  { additionalProperties: false },
);
export type Region = Static<typeof RegionSchema>;

export const UPGRADE_METHODS = ['webhook', 'command', 'kubernetes', 'manual'] as const;
export type UpgradeMethod = (typeof UPGRADE_METHODS)[number];

export const UpgradeSchema = Type.Object(
  {
    method: Type.Union(UPGRADE_METHODS.map((m) => Type.Literal(m))),
    url: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description: 'webhook: POSTed a signed JSON request' })),
    secretFile: Type.Optional(Type.String({ minLength: 1, description: 'webhook: file holding the HMAC-SHA256 key for X-Meridian-Signature' })),
    command: Type.Optional(
      Type.Array(Type.String(), { minItems: 1, description: 'command: argv with {proxy} {region} {version} {image} {artifact} {id} {action} {rollout} {flags} {peer_listen_addr} {peer_public_addr} placeholders, run without a shell' }),
    ),
    timeout: Type.Optional(Type.String({ pattern: DURATION_PATTERN, description: 'Per attempt; default 30s' })),
    workload: Type.Optional(
      Type.Object(
        {
          kind: Type.Union([Type.Literal('Deployment'), Type.Literal('StatefulSet')]),
          name: Type.String({ minLength: 1 }),
          namespace: Type.Optional(Type.String({ minLength: 1 })),
          container: Type.Optional(Type.String({ minLength: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type Upgrade = Static<typeof UpgradeSchema>;

export const ProxySchema = Type.Object(
  {
    name: Name,
    region: Name,
    publicUrl: Type.String({ format: 'uri', pattern: '^https?://', description: 'What users are redirected to' }),
    diagnosticUrl: Type.String({ format: 'uri', pattern: '^https?://', description: 'Teleport --diag-addr' }),
    version: Type.String({ minLength: 1, description: 'Version the proxy should run' }),
    capacity: Type.Optional(Type.Integer({ minimum: 1, description: 'Sessions above which the redirect spills over' })),
    upgrade: Type.Optional(UpgradeSchema),
    cordoned: Type.Optional(Type.Boolean({ description: 'Taken out of rotation by the operator: the login redirect sends no one here' })),
    peerAddress: Type.Optional(
      Type.String({ pattern: '^(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+):[0-9]{1,5}$', description: "Teleport's peer_public_addr (host:port other proxies dial); default the diagnostic URL's host on the peer port" }),
    ),
    labels: Type.Optional(Labels),
  },
  { additionalProperties: false },
);
export type Proxy = Static<typeof ProxySchema>;

/** Continent codes as MaxMind (after GeoNames) uses them. */
export const CONTINENT_CODES = ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'] as const;
export type ContinentCode = (typeof CONTINENT_CODES)[number];

export const RedirectPolicySchema = Type.Object(
  {
    pins: Type.Optional(
      Type.Object(
        {
          countries: Type.Optional(
            Type.Record(Type.String({ pattern: '^[A-Z]{2}$' }), Name, { additionalProperties: false, description: 'ISO 3166-1 alpha-2 country code (upper case) to region' }),
          ),
          continents: Type.Optional(
            Type.Object(Object.fromEntries(CONTINENT_CODES.map((c) => [c, Type.Optional(Name)])), { additionalProperties: false, description: 'Continent code to region' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type RedirectPolicy = Static<typeof RedirectPolicySchema>;

/** The cluster's Auth Service, observed like a proxy for its version (teleport_build_info) and readiness. */
export const AuthServiceSchema = Type.Object(
  {
    diagnosticUrls: Type.Array(Type.String({ format: 'uri', pattern: '^https?://', description: 'Teleport --diag-addr of an Auth Service instance' }), {
      minItems: 1,
      description: 'One per Auth Service instance (several in a highly available cluster)',
    }),
  },
  { additionalProperties: false },
);
export type AuthService = Static<typeof AuthServiceSchema>;

/** A Teleport operator's TeleportOIDCConnector in the fleet's namespace, whose redirect_url list Meridian keeps (Kubernetes mode). */
export const OidcConnectorRefSchema = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
      maxLength: 253,
      description: 'metadata.name of the TeleportOIDCConnector (resources.teleport.dev) in the ProxyFleet namespace',
    }),
  },
  { additionalProperties: false, description: 'With the Teleport Kubernetes operator: keep this connector spec.redirect_url in step with the proxies' },
);
export type OidcConnectorRef = Static<typeof OidcConnectorRefSchema>;

export const ProxyFleetSpecSchema = Type.Object(
  {
    regions: Type.Array(RegionSchema, { minItems: 1 }),
    proxies: Type.Array(ProxySchema),
    redirect: Type.Optional(RedirectPolicySchema),
    auth: Type.Optional(AuthServiceSchema),
    oidcConnector: Type.Optional(OidcConnectorRefSchema),
  },
  { additionalProperties: false },
);
export type ProxyFleetSpec = Static<typeof ProxyFleetSpecSchema>;

export interface RegionStatus {
  readonly name: string;
  readonly proxies: number;
  readonly ready: number;
}

export interface ProxyFleetStatus {
  readonly observedGeneration?: number;
  readonly phase?: 'Pending' | 'Healthy' | 'Degraded' | 'Invalid';
  readonly proxies?: number;
  readonly readyProxies?: number;
  readonly regions?: readonly RegionStatus[];
  readonly conditions?: readonly Condition[];
}

export type ProxyFleet = Resource<'ProxyFleet', ProxyFleetSpec, ProxyFleetStatus>;

/** Operator pins: clients from a country or continent go to a named region. */
export type RedirectPins = NonNullable<RedirectPolicy['pins']>;
