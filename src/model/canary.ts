import { Type, type Static } from '@sinclair/typebox';
import type { Condition } from './conditions.js';
import { CountOrPercentSchema } from './count-or-percent.js';
import { DURATION_PATTERN } from './duration.js';
import { VERSION_PATTERN, MaintenanceWindowsSchema, NoticeChannelSchema, VerifySchema, type ProxyRolloutStatus } from './rollout.js';
import type { Resource } from './resource.js';

const Name = Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', description: 'DNS label' });
const Duration = (description: string) => Type.String({ pattern: DURATION_PATTERN, description });

/** What the analysis compares; each is read from what the observer already scrapes. */
export const CANARY_CHECKS = [
  'connect-failure-ratio',
  'process-state',
  'readyz-failures',
  'restarts',
  'connection-limit',
  'peer-dial-errors',
  'memory',
  'goroutines',
] as const;
export type CanaryCheckName = (typeof CANARY_CHECKS)[number];

export const CanaryCheckSchema = Type.Object(
  {
    name: Type.Union(CANARY_CHECKS.map((c) => Type.Literal(c))),
    /** Fails above this value (a ratio, a count, or bytes, as the check measures). */
    max: Type.Optional(Type.Number({ minimum: 0 })),
    /** Fails above this multiple of the baseline's value. */
    maxRelative: Type.Optional(Type.Number({ minimum: 1 })),
    /** Below this much traffic (attempts, scrapes) the check is Inconclusive, never Pass. */
    minSample: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Consecutive failing intervals before the canary is rolled back. Default 2. */
    failureLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CanaryCheck = Static<typeof CanaryCheckSchema>;

const PromQL = (description: string) => Type.String({ minLength: 1, description });

/** A PromQL query judged like a built-in check, for teams that already have the data in Prometheus. */
export const PrometheusQuerySchema = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', description: 'DNS label; not a built-in check name' }),
    query: PromQL(
      'Instant query giving one number for one canary proxy (aggregate with sum/max). Placeholders, escaped for use inside a double-quoted PromQL string: {{proxy}} {{region}} {{version}} (the build), {{interval}} (the analysis interval, e.g. 5m)',
    ),
    baselineQuery: Type.Optional(
      PromQL('The same number for the baseline proxies: {{proxy}} is their names as a regex alternation (use proxy=~"{{proxy}}"), {{region}} their region, {{version}} their version'),
    ),
    sampleQuery: Type.Optional(PromQL('How much traffic the value rests on (e.g. attempts), same placeholders as query; without it the sample is 1 when a value came back')),
    max: Type.Optional(Type.Number({ minimum: 0, description: 'Fails above this value (with maxRelative too: above both)' })),
    maxRelative: Type.Optional(Type.Number({ minimum: 1, description: "Fails above this multiple of the baselineQuery's value" })),
    minSample: Type.Optional(Type.Integer({ minimum: 0, description: 'Below this sample the query is Inconclusive, never Pass. Default 1' })),
    failureLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'Consecutive failing intervals before the canary is rolled back. Default 2' })),
  },
  { additionalProperties: false },
);
export type PrometheusQuery = Static<typeof PrometheusQuerySchema>;

export const PrometheusProviderSchema = Type.Object(
  {
    address: Type.String({ format: 'uri', pattern: '^https?://', description: 'Base URL of the Prometheus server: queries go to <address>/api/v1/query' }),
    timeout: Type.Optional(Duration('Per query. Default 10s')),
    bearerTokenFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding a bearer token for the Authorization header, read at every query' })),
    queries: Type.Array(PrometheusQuerySchema, { minItems: 1 }),
  },
  { additionalProperties: false, description: 'Optional PromQL queries, judged every interval alongside the built-in checks' },
);
export type PrometheusProvider = Static<typeof PrometheusProviderSchema>;

export const ProxyCanarySpecSchema = Type.Object(
  {
    fleet: Type.Optional(Type.String({ minLength: 1 })),
    build: Type.Object(
      {
        version: Type.String({ pattern: VERSION_PATTERN, description: 'e.g. 17.4.9-debug.1' }),
        image: Type.Optional(Type.String({ minLength: 1 })),
        artifact: Type.Optional(Type.String({ minLength: 1, description: 'A package URL or path, for proxies that are not container images; passed to the upgrade hook' })),
        debug: Type.Optional(Type.Boolean({ description: 'A debug build: /debug/pprof/ is expected on the diagnostic address' })),
        flags: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { description: 'Extra flags for the upgrade hook, e.g. --debug' })),
      },
      { additionalProperties: false },
    ),
    subset: Type.Object(
      {
        proxies: Type.Optional(Type.Array(Name, { minItems: 1, uniqueItems: true })),
        perRegion: Type.Optional(CountOrPercentSchema()),
        regions: Type.Optional(Type.Array(Name, { minItems: 1, uniqueItems: true, description: 'With perRegion: only these regions' })),
        matchLabels: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false, description: 'Which proxies run the build; never the last ready proxy of a region' },
    ),
    bakeTime: Type.Optional(Duration('How long the canary runs before the end decision. Default 2h')),
    analysisInterval: Type.Optional(Duration('Default 5m')),
    analysis: Type.Optional(
      Type.Object(
        {
          checks: Type.Optional(Type.Array(CanaryCheckSchema, { description: 'Overrides of the built-in checks by name' })),
          prometheus: Type.Optional(PrometheusProviderSchema),
        },
        { additionalProperties: false },
      ),
    ),
    traffic: Type.Optional(
      Type.Union([Type.Literal('optInOnly'), Type.Literal('normal')], { description: 'optInOnly (default): only opted-in users reach canary proxies' }),
    ),
    onSuccess: Type.Optional(Type.Union([Type.Literal('promote'), Type.Literal('revert')], { description: 'promote (default): a paused ProxyRollout of the build' })),
    autoPromote: Type.Optional(Type.Boolean()),
    notice: Type.Optional(
      Type.Object(
        {
          leadTimes: Type.Optional(Type.Array(Duration('Before a canary proxy is taken out'), { uniqueItems: true })),
          rollbackLeadTime: Type.Optional(Duration('Before a failed canary is taken back; may be short. Default 5m')),
          channels: Type.Optional(Type.Array(NoticeChannelSchema)),
        },
        { additionalProperties: false },
      ),
    ),
    diagnostics: Type.Optional(
      Type.Object(
        {
          command: Type.Optional(
            Type.Array(Type.String(), {
              minItems: 1,
              description: 'Run on a failed analysis before the rollback, without a shell: argv with {proxy} {region} {host} {dir} (files it writes in {dir} are kept), e.g. a script running `teleport debug profile` on the host',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    drain: Type.Optional(Type.Object({ deadline: Type.Optional(Duration('Default 30m')) }, { additionalProperties: false })),
    /** A debug build may take longer to come up: as a ProxyRollout's, for the deploy and the revert. */
    verify: Type.Optional(VerifySchema),
    maintenanceWindows: Type.Optional(MaintenanceWindowsSchema),
    paused: Type.Optional(Type.Boolean({ description: 'Set until `meridian canary start`' })),
    decision: Type.Optional(
      Type.Union([Type.Literal('promote'), Type.Literal('rollback')], { description: 'The operator ends a Held canary: `meridian canary promote|rollback`' }),
    ),
  },
  { additionalProperties: false },
);
export type ProxyCanarySpec = Static<typeof ProxyCanarySpecSchema>;

export const CHECK_RESULTS = ['Pass', 'Fail', 'Inconclusive'] as const;
export type CheckResult = (typeof CHECK_RESULTS)[number];

/** What a check or query measured on one canary proxy against its baseline, over one interval. */
interface MeasuredOutcome {
  readonly proxy: string;
  readonly result: CheckResult;
  readonly value?: number;
  readonly baseline?: number;
  /** The limit the value was held against (absolute, after applying maxRelative). */
  readonly limit?: number;
  readonly sample: number;
  readonly reason: string;
}

/** One built-in check of one canary proxy. */
export interface CheckOutcome extends MeasuredOutcome {
  readonly check: CanaryCheckName;
}

/** One Prometheus query (spec.analysis.prometheus.queries[]) for one canary proxy. */
export interface QueryOutcome extends MeasuredOutcome {
  /** The query's name. */
  readonly query: string;
}

export interface IntervalVerdict {
  readonly from: string;
  readonly to: string;
  /** Over the built-in checks and the Prometheus queries together. */
  readonly verdict: CheckResult;
  /** The built-in checks. */
  readonly outcomes: readonly CheckOutcome[];
  /** The Prometheus provider's queries, when the spec has some. */
  readonly queries?: readonly QueryOutcome[];
}

/** The spec's defaults, in one place (resolveCanarySpec fills them in; the rules check against them). */
export const CANARY_DEFAULTS = {
  bakeTime: '2h',
  analysisInterval: '5m',
  leadTimes: ['1h', '10m'],
  rollbackLeadTime: '5m',
  drainDeadline: '30m',
  traffic: 'optInOnly',
  onSuccess: 'promote',
} as const;

export const CANARY_PHASES = ['Pending', 'Deploying', 'Baking', 'Promoting', 'Promoted', 'RollingBack', 'RolledBack', 'Held', 'Invalid'] as const;
export type CanaryPhase = (typeof CANARY_PHASES)[number];

/** The counters a window takes its next increases from: the last page seen, only what the checks count. */
export interface CanaryWindowBase {
  readonly connectAttempts: number;
  readonly connectFailures: number;
  readonly connectionLimitExceeded: number;
  readonly peerDialErrors?: number;
  readonly startTimeSeconds?: number;
}

/** What one proxy showed over the analysis interval under way, built scrape by scrape. */
export interface CanaryWindow {
  readonly proxy: string;
  readonly region: string;
  /** Scrapes that came back, and how many of those said process_state was not ok or /readyz not 200. */
  readonly scrapes: number;
  readonly notOkScrapes: number;
  readonly readyzFailures: number;
  /** Failed scrapes (the proxy did not answer). */
  readonly missedScrapes: number;
  readonly restarts: number;
  /** Counter increases over the interval, across restarts (a counter that went down started again from 0). */
  readonly connectAttempts: number;
  readonly connectFailures: number;
  readonly connectionLimitExceeded: number;
  readonly peerDialErrors: number;
  readonly residentMemoryBytes?: number;
  readonly goroutines?: number;
  /** The last page's counters, to take the next increase from; not a measurement. */
  readonly last?: CanaryWindowBase;
  readonly lastScrapeAt?: string;
}

/**
 * The analysis interval under way, kept in the status so a restarted controller (or another
 * instance taking over) goes on with it instead of beginning it again.
 */
export interface CanaryAnalysisStatus {
  /** Every observed proxy's window (canary and baseline proxies alike). */
  readonly windows: readonly CanaryWindow[];
  /** The interval's Prometheus queries, judged, once asked at its end (`at`); absent before. */
  readonly queries?: { readonly at: string; readonly outcomes: readonly QueryOutcome[] };
}

/** The canary's own outside action being made (a deploy or revert step has its own, in that run's status). */
export type CanaryIntent =
  | { readonly kind: 'capture'; readonly id: string; readonly proxies: readonly string[] }
  | { readonly kind: 'query'; readonly at: string }
  | { readonly kind: 'promote'; readonly rollout: string };

export interface CanaryDecisionStatus {
  readonly kind: 'rollback' | 'succeed' | 'hold';
  readonly reason: string;
  readonly at: string;
}

export interface ProxyCanaryStatus {
  readonly observedGeneration?: number;
  readonly phase?: CanaryPhase;
  readonly message?: string;
  readonly startedAt?: string;
  /** The subset, chosen once at the start. */
  readonly proxies?: readonly string[];
  /** The canary proxies going to the build, through the rollout steps. */
  readonly deploy?: ProxyRolloutStatus;
  readonly bakeStartedAt?: string;
  readonly intervalStartedAt?: string;
  /** The interval under way (while Baking). */
  readonly analysis?: CanaryAnalysisStatus;
  /** The latest analysis intervals, newest last. */
  readonly intervals?: readonly IntervalVerdict[];
  readonly decision?: CanaryDecisionStatus;
  /** The canary proxies going back to their previous version. */
  readonly revert?: ProxyRolloutStatus;
  /** The ProxyRollout created to take the build to the rest of the fleet. */
  readonly promotedRollout?: string;
  readonly diagnostics?: readonly { readonly proxy: string; readonly files: readonly string[]; readonly error?: string; readonly at: string }[];
  /** Canary proxies seen running another version than the build since it was deployed: no invitee is sent there, and the analysis leaves them out. */
  readonly offBuild?: readonly CanaryOffBuild[];
  /** Written before the action is made; cleared when its outcome is folded in. A pass that finds it makes the action again. */
  readonly inFlight?: CanaryIntent;
  readonly conditions?: readonly Condition[];
}

export interface CanaryOffBuild {
  readonly proxy: string;
  /** The version seen instead of the build. */
  readonly version: string;
  readonly since: string;
}

export type ProxyCanary = Resource<'ProxyCanary', ProxyCanarySpec, ProxyCanaryStatus>;
