import { Type, type Static } from '@sinclair/typebox';
import type { RolloutHookAction } from './actuators.js';
import type { Condition } from './conditions.js';
import { CountOrPercentSchema } from './count-or-percent.js';
import { DURATION_PATTERN } from './duration.js';
import { MaintenanceWindowSchema } from './fleet.js';
import type { Resource } from './resource.js';

const Name = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', description: 'DNS label' });
const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description });

/** Teleport release versions: 17.4.8, v17.4.8, 17.4.8-debug.1. */
export const VERSION_PATTERN = '^v?(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$';

export const NOTICE_SEVERITIES = ['low', 'medium', 'high'] as const;
export type NoticeSeverity = (typeof NOTICE_SEVERITIES)[number];

export const NoticeChannelSchema = Type.Union([
  Type.Object(
    {
      name: Name,
      type: Type.Literal('slack'),
      url: Type.String({ format: 'uri', pattern: '^https?://', description: 'Slack-compatible incoming webhook' }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      name: Name,
      type: Type.Literal('webhook'),
      url: Type.String({ format: 'uri', pattern: '^https?://' }),
      secretFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the HMAC-SHA256 key for X-Meridian-Signature' })),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      name: Name,
      type: Type.Literal('teleport'),
      command: Type.Optional(
        Type.Array(Type.String(), {
          minItems: 1,
          description: 'argv with {message} {severity} {ttl} {id} {region} {version} placeholders; default: tctl alerts create',
        }),
      ),
    },
    { additionalProperties: false },
  ),
]);
export type NoticeChannel = Static<typeof NoticeChannelSchema>;

export const MaintenanceWindowsSchema = Type.Record(Name, Type.Array(MaintenanceWindowSchema, { minItems: 1 }), {
  description: "Per-region windows (in the region's time zone); default: the fleet's regions[].maintenanceWindows",
});

/** When an upgraded proxy counts as back: ready on the new version for N scrapes in a row, within the timeout. */
export const VerifySchema = Type.Object(
  {
    consecutiveScrapes: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Default 3' })),
    timeout: Type.Optional(Duration('Default 10m')),
  },
  { additionalProperties: false },
);

export const ProxyRolloutSpecSchema = Type.Object(
  {
    fleet: Type.Optional(Type.String({ minLength: 1, description: 'ProxyFleet name in the same namespace (default: the only one)' })),
    version: Type.String({ pattern: VERSION_PATTERN, description: 'Target Teleport version, e.g. 17.4.8' }),
    image: Type.Optional(Type.String({ minLength: 1, description: 'Image for proxies upgraded by Kubernetes' })),
    artifact: Type.Optional(
      Type.String({ minLength: 1, description: 'Package URL or path for proxies that are not container images, passed to the upgrade hook (webhook field artifact, command {artifact})' }),
    ),
    flags: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Extra flags for the target build (e.g. --debug), passed to the upgrade hook' })),
    selector: Type.Optional(
      Type.Object(
        {
          regions: Type.Optional(Type.Array(Name, { minItems: 1, uniqueItems: true })),
          proxies: Type.Optional(Type.Array(Name, { minItems: 1, uniqueItems: true })),
          matchLabels: Type.Optional(Type.Record(Type.String(), Type.String())),
        },
        { additionalProperties: false },
      ),
    ),
    waves: Type.Optional(
      Type.Array(Type.Object({ name: Name, regions: Type.Array(Name, { minItems: 1, uniqueItems: true }) }, { additionalProperties: false }), {
        minItems: 1,
        description: 'Ordered groups of regions; a wave starts when the one before it is done. Default: one wave per region, in fleet order',
      }),
    ),
    maxUnavailable: Type.Optional(
      CountOrPercentSchema({ description: 'Proxies of one region out of rotation at once (count or percent, rounded down, at least 1). Default 1' }),
    ),
    allowRegionOutage: Type.Optional(Type.Boolean({ description: 'Allow taking the last ready proxy of a region out of rotation' })),
    maintenanceWindows: Type.Optional(MaintenanceWindowsSchema),
    notice: Type.Optional(
      Type.Object(
        {
          leadTimes: Type.Optional(Type.Array(Duration('How long before a proxy is taken out users are told'), { uniqueItems: true })),
          message: Type.Optional(
            Type.String({
              minLength: 1,
              description: 'Template: {proxies} {region} {version} {localTime} {utcTime} {leadTime} {rollout}',
            }),
          ),
          severity: Type.Optional(Type.Union(NOTICE_SEVERITIES.map((s) => Type.Literal(s)))),
          channels: Type.Optional(Type.Array(NoticeChannelSchema)),
          onFailure: Type.Optional(
            Type.Union([Type.Literal('block'), Type.Literal('warn')], { description: 'block (default): no proxy goes out until its users were told' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    drain: Type.Optional(
      Type.Object(
        {
          deadline: Type.Optional(Duration('Longest wait for sessions to end before the upgrade cuts the rest. Default 2h')),
          meanSessionDuration: Type.Optional(Duration('For the plan: expected length of a session. Default 30m')),
        },
        { additionalProperties: false },
      ),
    ),
    verify: Type.Optional(VerifySchema),
    failurePolicy: Type.Optional(Type.Union([Type.Literal('halt'), Type.Literal('rollback')], { description: 'Default halt' })),
    paused: Type.Optional(Type.Boolean({ description: 'Set by `meridian rollout pause|start|resume`' })),
    aborted: Type.Optional(Type.Boolean({ description: 'Set by `meridian rollout abort`: every taken-out proxy goes back in rotation' })),
  },
  { additionalProperties: false },
);
export type ProxyRolloutSpec = Static<typeof ProxyRolloutSpecSchema>;

export const PROXY_STEPS = ['Pending', 'Noticed', 'OutOfRotation', 'Draining', 'Upgrading', 'Verifying', 'RollingBack', 'Done', 'Failed', 'Skipped'] as const;
export type ProxyStep = (typeof PROXY_STEPS)[number];

/** Steps in which Meridian holds a proxy out of rotation. */
export const OUT_OF_ROTATION_STEPS: ReadonlySet<ProxyStep> = new Set(['OutOfRotation', 'Draining', 'Upgrading', 'Verifying', 'RollingBack']);

export const WAIT_REASONS = [
  'Paused',
  'PlanChanged',
  'Halted',
  'Wave',
  'Window',
  'Notice',
  'NoticeLeadTime',
  /** Another run (a canary or a rollout) holds the proxy out of rotation. */
  'OutOfRotationElsewhere',
  'Unobserved',
  'MaxUnavailable',
  'LastReadyProxy',
  'Hook',
  'HookRetry',
  'Drain',
  'Verification',
  'Aborting',
  /** Teleport's version skew rule refuses the target against the Auth Service or the proxy's version. */
  'VersionSkew',
  /** The fleet names an Auth Service whose version is not known yet: the rule cannot be checked. */
  'AuthVersionUnknown',
] as const;
export type WaitReason = (typeof WAIT_REASONS)[number];

/** What a proxy's step waits for, and until when at the latest (when that is known): computed every pass. */
export interface ProxyWait {
  readonly reason: WaitReason;
  /** UTC. */
  readonly until?: string;
  /** The same instant in the region's time zone, e.g. `Sat 2026-01-03 02:00 JST`. */
  readonly untilLocal?: string;
  /** The whole wait in words, times in the region's local time and UTC. */
  readonly message: string;
}

export interface ProxyRolloutProxyStatus {
  readonly name: string;
  readonly region: string;
  readonly wave: number;
  readonly step: ProxyStep;
  /** Version seen when the rollout first looked at it: the rollback target. */
  readonly fromVersion?: string;
  readonly outAt?: string;
  readonly sessionsAtOut?: number;
  /** Times the rollout took it out of rotation; a second take-out (after a restart mid-drain) gets hook ids of its own. */
  readonly takeOuts?: number;
  /** process_start_time_seconds seen when it went out (or first after): a later one means the process restarted. */
  readonly processStartedAt?: string;
  /** Sessions left in the drain, recorded each time the count halved (so at most twice the count now): more than this means new sessions reach it again. */
  readonly sessionsLeft?: number;
  /** When the drain ended: sessions reached zero, or the deadline passed (then sessionsCut says how many were left). */
  readonly drainedAt?: string;
  readonly sessionsCut?: number;
  /** When the upgrade hook was first asked for (written with the intent): from then on a restart may be the upgrade's own. */
  readonly upgradeRequestedAt?: string;
  /** When the upgrade (or, while RollingBack, the rollback) hook succeeded: verification counts from here. */
  readonly upgradeAt?: string;
  readonly rolledBackAt?: string;
  readonly verifyPasses?: number;
  readonly lastVerifiedScrapeAt?: string;
  readonly doneAt?: string;
  /** Set while the in-rotation hook runs: the step the proxy ends in once it is back. */
  readonly returning?: 'Done' | 'Failed' | 'Skipped';
  /** Failed rounds of the current hook action, and when to try again. */
  readonly hookFailures?: number;
  readonly retryAt?: string;
  readonly message?: string;
  /** While the step is not finished: what it waits for. */
  readonly waitingFor?: ProxyWait;
  /** A Completed rollout's proxy seen running another version than the target since: that version. */
  readonly driftedTo?: string;
}

export interface NoticeChannelStatus {
  readonly name: string;
  readonly result: 'sent' | 'failed';
  readonly attempts: number;
  readonly at: string;
  readonly error?: string;
}

export interface ProxyRolloutNoticeStatus {
  /** Stable across restarts, so receivers can drop duplicates. */
  readonly id: string;
  readonly region: string;
  readonly leadTime: string;
  readonly windowStartAt: string;
  readonly dueAt: string;
  readonly message: string;
  readonly channels: readonly NoticeChannelStatus[];
  /** When every channel had it (or, under `onFailure: warn`, when it was first tried). */
  readonly givenAt?: string;
  readonly failedRounds?: number;
  readonly retryAt?: string;
}

export interface RegionWindowStatus {
  readonly region: string;
  readonly startAt: string;
  readonly endAt: string;
  /** The region's IANA time zone, for showing the window's times as its users read them. */
  readonly timeZone?: string;
}

/** The one outside change a pass is making; written before it is made, cleared with its result. */
export type RolloutAction =
  | { readonly kind: 'notify'; readonly noticeId: string; readonly channels: readonly string[] }
  | { readonly kind: 'hook'; readonly id: string; readonly proxy: string; readonly action: RolloutHookAction; readonly version: string };

export const ROLLOUT_PHASES = ['Pending', 'Progressing', 'Paused', 'Completed', 'Failed', 'Aborted', 'Invalid'] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

export interface ProxyRolloutStatus {
  readonly observedGeneration?: number;
  readonly phase?: RolloutPhase;
  readonly message?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /** version, selection and waves the proxies were planned with; an edit of these after the start is refused. */
  readonly planHash?: string;
  /** The target the rollout started with: proxies already on their way finish on it, whatever the spec says now. */
  readonly version?: string;
  readonly image?: string;
  readonly artifact?: string;
  readonly currentWave?: number;
  readonly windows?: readonly RegionWindowStatus[];
  readonly notices?: readonly ProxyRolloutNoticeStatus[];
  readonly proxies?: readonly ProxyRolloutProxyStatus[];
  readonly inFlight?: RolloutAction;
  readonly sessionsCut?: number;
  readonly conditions?: readonly Condition[];
}

export type ProxyRollout = Resource<'ProxyRollout', ProxyRolloutSpec, ProxyRolloutStatus>;
