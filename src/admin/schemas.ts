import { Type, type Static } from '@sinclair/typebox';
import { PROCESS_STATES, SCRAPE_ERROR_REASONS } from '../model/snapshot.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const SessionsView = Type.Object({
  ssh: Type.Integer(),
  kube_exec: Type.Integer(),
  kube_portforward: Type.Integer(),
  kube_join: Type.Integer(),
  db: Type.Integer(),
});

const ScrapeErrorView = Type.Object({
  reason: Type.Union(SCRAPE_ERROR_REASONS.map((r) => Type.Literal(r))),
  message: Type.String(),
  at: Type.String(),
});

export const ProxyView = Type.Object({
  name: Type.String(),
  region: Type.String(),
  publicUrl: Type.String(),
  desiredVersion: Type.String(),
  version: Nullable(Type.String()),
  up: Type.Boolean(),
  ready: Type.Boolean(),
  readyzStatus: Nullable(Type.Integer()),
  processState: Nullable(Type.Union(PROCESS_STATES.map((s) => Type.Literal(s)))),
  /** Null while the proxy is in rotation and its load is unknown (its page could not be read whole). */
  sessions: Nullable(SessionsView),
  sessionsTotal: Type.Integer(),
  loadKnown: Type.Boolean(),
  nodeTunnels: Type.Integer(),
  missingTunnels: Type.Integer(),
  lastScrapeAt: Nullable(Type.String()),
  lastSuccessAt: Nullable(Type.String()),
  error: Nullable(ScrapeErrorView),
});
export type ProxyView = Static<typeof ProxyView>;

export const RegionView = Type.Object({
  name: Type.String(),
  displayName: Type.String(),
  timeZone: Type.String(),
  latitude: Type.Number(),
  longitude: Type.Number(),
  sessions: Type.Integer(),
  readyProxies: Type.Integer(),
  proxies: Type.Array(ProxyView),
});
export type RegionView = Static<typeof RegionView>;

export const ConditionView = Type.Object({
  type: Type.String(),
  status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
  reason: Type.String(),
  message: Type.String(),
  observedGeneration: Type.Integer(),
  lastTransitionTime: Type.String(),
});

/** The Auth Service as observed (version: the lowest any instance reports; null: unknown). */
export const AuthView = Type.Object({
  version: Nullable(Type.String()),
  error: Nullable(ScrapeErrorView),
  observedAt: Type.String(),
  servers: Type.Array(
    Type.Object({
      diagnosticUrl: Type.String(),
      version: Nullable(Type.String()),
      ready: Type.Boolean(),
      readyzStatus: Nullable(Type.Integer()),
      error: Nullable(ScrapeErrorView),
    }),
  ),
});
export type AuthView = Static<typeof AuthView>;

export const FleetView = Type.Object({
  name: Type.String(),
  namespace: Type.String(),
  generation: Type.Integer(),
  observedAt: Nullable(Type.String()),
  phase: Type.String(),
  conditions: Type.Array(ConditionView),
  /** Null when the fleet names no Auth Service, or before it was observed. */
  auth: Nullable(AuthView),
  regions: Type.Array(RegionView),
});
export type FleetView = Static<typeof FleetView>;

export const FleetsResponse = Type.Object({ fleets: Type.Array(FleetView) });
export type FleetsResponse = Static<typeof FleetsResponse>;

export const ProblemView = Type.Object({
  source: Type.String(),
  line: Nullable(Type.Integer()),
  column: Nullable(Type.Integer()),
  field: Type.String(),
  message: Type.String(),
});
export const ProblemsResponse = Type.Object({ problems: Type.Array(ProblemView) });
export type ProblemsResponse = Static<typeof ProblemsResponse>;

export const HealthResponse = Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) });

/** GET /api/v1/clock: the time the controller acts on (windows, deadlines, notices), so clients label and plan with it. */
export const ClockResponse = Type.Object({
  now: Type.String({ description: 'The controller\'s current time, ISO 8601 UTC' }),
  simulated: Type.Boolean({ description: 'The simulator\'s clock (the demo), not the wall clock' }),
  timeFactor: Type.Optional(Type.Number({ minimum: 0, description: 'Simulated seconds per real second; 0 when only explicit steps move it' })),
});
export type ClockResponse = Static<typeof ClockResponse>;
export const ErrorResponse = Type.Object({ statusCode: Type.Integer(), error: Type.String(), message: Type.String() });

/** The redirect core's explanation, passed through as is (its shape is typed in src/redirect/core/explain-choice.ts). */
export const ExplainResponse = Type.Object({ ip: Type.String(), decision: Type.Unknown(), explanation: Type.Unknown() });
