import { Type, type Static } from '@sinclair/typebox';
import { CANARY_CHECKS, CANARY_PHASES, CHECK_RESULTS } from '../model/canary.js';
import { RolloutProxyView } from './rollout-schemas.js';

const Str = Type.String();
const Opt = Type.Optional;
const Result = Type.Union(CHECK_RESULTS.map((r) => Type.Literal(r)));

export const CanaryView = Type.Object({
  namespace: Str,
  name: Str,
  build: Str,
  debug: Type.Boolean(),
  traffic: Type.Union([Type.Literal('optInOnly'), Type.Literal('normal')]),
  /** Who opted in: invitations joined through this instance's login listener (or whose cookie came with a login) and not expired; a count, never who. Absent: invitations are off. */
  optIn: Opt(Type.Object({ activeInvitations: Type.Integer({ minimum: 0 }), atLeast: Type.Boolean({ description: 'more invitations in use than are counted' }) })),
  paused: Type.Boolean(),
  phase: Opt(Type.Union(CANARY_PHASES.map((p) => Type.Literal(p)))),
  message: Opt(Str),
  startedAt: Opt(Str),
  bakeStartedAt: Opt(Str),
  proxies: Type.Array(Str),
  deploy: Type.Array(RolloutProxyView),
  revert: Type.Array(RolloutProxyView),
  decision: Opt(Type.Object({ kind: Type.Union([Type.Literal('rollback'), Type.Literal('succeed'), Type.Literal('hold')]), reason: Str, at: Str })),
  promotedRollout: Opt(Str),
  diagnostics: Type.Array(Type.Object({ proxy: Str, files: Type.Array(Str), error: Opt(Str), at: Str })),
  /** Canary proxies seen on another version than the build: no invitee goes there. */
  offBuild: Opt(Type.Array(Type.Object({ proxy: Str, version: Str, since: Str }))),
  /** Teleport's version skew rule for the build (VersionSkewOK): absent before the first check. */
  versionSkew: Opt(Type.Object({ status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]), reason: Str, message: Str })),
  intervals: Type.Array(
    Type.Object({
      from: Str,
      to: Str,
      verdict: Result,
      outcomes: Type.Array(
        Type.Object({
          check: Type.Union(CANARY_CHECKS.map((c) => Type.Literal(c))),
          proxy: Str,
          result: Result,
          value: Opt(Type.Number()),
          baseline: Opt(Type.Number()),
          limit: Opt(Type.Number()),
          sample: Type.Number(),
          reason: Str,
        }),
      ),
      queries: Opt(
        Type.Array(
          Type.Object({ query: Str, proxy: Str, result: Result, value: Opt(Type.Number()), baseline: Opt(Type.Number()), limit: Opt(Type.Number()), sample: Type.Number(), reason: Str }),
        ),
      ),
    }),
  ),
});
export type CanaryView = Static<typeof CanaryView>;

export const CanariesResponse = Type.Object({ canaries: Type.Array(CanaryView) });
