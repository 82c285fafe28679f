import { Type, type Static } from '@sinclair/typebox';
import { PROXY_STEPS, ROLLOUT_PHASES } from '../model/rollout.js';

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
  drainedAt: Opt(Str),
  sessionsCut: Opt(Type.Integer()),
  doneAt: Opt(Str),
  message: Opt(Str),
});

export type RolloutProxyView = Static<typeof RolloutProxyView>;

export const RolloutNoticeView = Type.Object({
  id: Str,
  region: Str,
  leadTime: Str,
  windowStartAt: Str,
  dueAt: Str,
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
  windows: Type.Array(Type.Object({ region: Str, startAt: Str, endAt: Str })),
  proxies: Type.Array(RolloutProxyView),
  notices: Type.Array(RolloutNoticeView),
});
export type RolloutView = Static<typeof RolloutView>;

export const RolloutsResponse = Type.Object({ rollouts: Type.Array(RolloutView) });
export type RolloutsResponse = Static<typeof RolloutsResponse>;
