import { Type, type Static } from '@sinclair/typebox';
import { PROXY_STEPS, ROLLOUT_PHASES, WAIT_REASONS } from '../model/rollout.js';

const Str = Type.String();
const Opt = Type.Optional;

export const RolloutProxyView = Type.Object({
  name: Str,
  region: Str,
  wave: Type.Integer(),
  step: Type.Union(PROXY_STEPS.map((s) => Type.Literal(s))),
  fromVersion: Opt(Str),
  outAt: Opt(Str),
  sessionsAtOut: Opt(Type.Integer()),
  /** Times taken out of rotation (2: it came back into rotation mid-drain and was taken out again). */
  takeOuts: Opt(Type.Integer()),
  /** When its drain is (or was) cut short: out of rotation plus the rollout's drain deadline. */
  drainDeadlineAt: Opt(Str),
  drainedAt: Opt(Str),
  sessionsCut: Opt(Type.Integer()),
  doneAt: Opt(Str),
  message: Opt(Str),
  waitingFor: Opt(Type.Object({ reason: Type.Union(WAIT_REASONS.map((r) => Type.Literal(r))), until: Opt(Str), untilLocal: Opt(Str), message: Str })),
  /** Completed rollouts: the version it was seen running instead of the target. */
  driftedTo: Opt(Str),
});

export type RolloutProxyView = Static<typeof RolloutProxyView>;

export const RolloutNoticeView = Type.Object({
  id: Str,
  region: Str,
  leadTime: Str,
  windowStartAt: Str,
  dueAt: Str,
  /** dueAt in the region's time zone. */
  dueLocal: Opt(Str),
  givenAt: Opt(Str),
  message: Str,
  channels: Type.Array(Type.Object({ name: Str, result: Type.Union([Type.Literal('sent'), Type.Literal('failed')]), attempts: Type.Integer(), at: Str, error: Opt(Str) })),
});

export const RolloutView = Type.Object({
  namespace: Str,
  name: Str,
  version: Str,
  paused: Type.Boolean(),
  aborted: Type.Boolean(),
  phase: Opt(Type.Union(ROLLOUT_PHASES.map((p) => Type.Literal(p)))),
  message: Opt(Str),
  startedAt: Opt(Str),
  finishedAt: Opt(Str),
  currentWave: Opt(Type.Integer()),
  waves: Type.Integer(),
  sessionsCut: Opt(Type.Integer()),
  windows: Type.Array(Type.Object({ region: Str, startAt: Str, endAt: Str, timeZone: Opt(Str), startLocal: Opt(Str), endLocal: Opt(Str) })),
  conditions: Type.Array(Type.Object({ type: Str, status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]), reason: Str, message: Str, lastTransitionTime: Str })),
  proxies: Type.Array(RolloutProxyView),
  notices: Type.Array(RolloutNoticeView),
});
export type RolloutView = Static<typeof RolloutView>;

export const RolloutsResponse = Type.Object({ rollouts: Type.Array(RolloutView) });
export type RolloutsResponse = Static<typeof RolloutsResponse>;
