import { HOOK_ACTIONS, type HookAction } from '../model/actuators.js';
import { err, ok, type Result } from '../model/result.js';
import { SESSION_KINDS, type SessionKind } from '../model/snapshot.js';
import {
  BUILD_BEHAVIOUR_FIELDS,
  MAX_FLAP_SECONDS,
  MAX_GOROUTINE_LEAK_PER_HOUR,
  MAX_MEMORY_LEAK_BYTES_PER_HOUR,
  MAX_RESTART_EVERY_MS,
  MIN_RESTART_EVERY_MS,
  type BuildBehaviour,
} from './build-behaviour.js';
import { DEFAULT_SLOW_DELAY_MS, FAULT_MODES, MAX_SLOW_DELAY_MS, type Fault, type FaultMode } from './fault.js';
import { bad, integerAt, literalAt, objectAt, textAt, type Fields } from './input-fields.js';
import type { AddSessions, ShutdownMode } from './sim-proxy.js';

/** A bad request body, naming the field at fault. */
export interface InputError {
  readonly field: string;
  readonly message: string;
}

const SHUTDOWN_MODES: readonly ShutdownMode[] = ['graceful', 'immediate'];
const VERSION = /^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]{1,64})?$/;
const VERSION_TEXT = 'a release version such as "17.4.2" or "17.4.2-debug.1"';
const GITREF = /^[0-9A-Za-z._+-]{1,100}$/;
const MAX_SESSIONS_PER_REQUEST = 100_000;
const MAX_SESSION_DURATION_MS = 30 * 24 * 3_600_000;

/** The body as an object with only `allowed` keys; an empty body counts as `{}` when `optional`. */
function objectBody(body: unknown, allowed: readonly string[], optional = false): Result<Fields, InputError> {
  return body === undefined && optional ? ok({}) : objectAt(body, 'body', allowed);
}

function oneOf<T extends string>(fields: Fields, field: string, values: readonly T[]): Result<T, InputError> {
  return literalAt(fields[field], field, values);
}

function integerIn(fields: Fields, field: string, min: number, max: number): Result<number, InputError> {
  return integerAt(fields[field], field, min, max);
}

function optionalNumberIn(fields: Fields, field: string, min: number, max: number, minExclusive = false): Result<number | undefined, InputError> {
  const v = fields[field];
  if (v === undefined) return ok(undefined);
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (minExclusive && v === min) || v > max) {
    return bad(field, `must be a number ${minExclusive ? 'above' : 'from'} ${min} ${minExclusive ? 'and at most' : 'to'} ${max}, got ${JSON.stringify(v)}`);
  }
  return ok(v);
}

function matching(fields: Fields, field: string, pattern: RegExp, what: string): Result<string, InputError> {
  const v = fields[field];
  if (v === undefined) return bad(field, 'is required');
  if (typeof v !== 'string' || !pattern.test(v)) return bad(field, `must be ${what}, got ${JSON.stringify(v)}`);
  return ok(v);
}

function optionalMatching(fields: Fields, field: string, pattern: RegExp, what: string): Result<string | undefined, InputError> {
  return fields[field] === undefined ? ok(undefined) : matching(fields, field, pattern, what);
}

function requiredText(fields: Fields, field: string): Result<string, InputError> {
  return textAt(fields[field], field);
}

export function parseShutdown(body: unknown): Result<{ mode: ShutdownMode }, InputError> {
  const f = objectBody(body, ['mode']);
  if (!f.ok) return f;
  const mode = oneOf(f.value, 'mode', SHUTDOWN_MODES);
  return mode.ok ? ok({ mode: mode.value }) : mode;
}

export function parseRestart(body: unknown): Result<{ version?: string; gitref?: string }, InputError> {
  const f = objectBody(body, ['version', 'gitref'], true);
  if (!f.ok) return f;
  const version = optionalMatching(f.value, 'version', VERSION, VERSION_TEXT);
  if (!version.ok) return version;
  const gitref = optionalMatching(f.value, 'gitref', GITREF, 'a git describe string such as "v17.4.2-0-g1a2b3c4"');
  if (!gitref.ok) return gitref;
  return ok({
    ...(version.value === undefined ? {} : { version: version.value }),
    ...(gitref.value === undefined ? {} : { gitref: gitref.value }),
  });
}

export function parseFault(body: unknown): Result<Fault, InputError> {
  const f = objectBody(body, ['mode', 'delayMs']);
  if (!f.ok) return f;
  const mode = oneOf<FaultMode>(f.value, 'mode', FAULT_MODES);
  if (!mode.ok) return mode;
  if (mode.value !== 'slow') {
    return f.value['delayMs'] === undefined ? ok({ mode: mode.value }) : bad('delayMs', 'applies only to mode "slow"');
  }
  if (f.value['delayMs'] === undefined) return ok({ mode: 'slow', delayMs: DEFAULT_SLOW_DELAY_MS });
  const delayMs = integerIn(f.value, 'delayMs', 1, MAX_SLOW_DELAY_MS);
  return delayMs.ok ? ok({ mode: 'slow', delayMs: delayMs.value }) : delayMs;
}

export function parseAddSessions(body: unknown): Result<AddSessions, InputError> {
  const f = objectBody(body, ['kind', 'count', 'durationMs']);
  if (!f.ok) return f;
  const kind = oneOf<SessionKind>(f.value, 'kind', SESSION_KINDS);
  if (!kind.ok) return kind;
  const count = integerIn(f.value, 'count', 1, MAX_SESSIONS_PER_REQUEST);
  if (!count.ok) return count;
  const durationMs = integerIn(f.value, 'durationMs', 1, MAX_SESSION_DURATION_MS);
  if (!durationMs.ok) return durationMs;
  return ok({ kind: kind.value, count: count.value, durationMs: durationMs.value });
}

/** A version as the control API takes it in a path (`PUT /builds/:version`). */
export function parseVersion(version: string): Result<string, InputError> {
  return matching({ version }, 'version', VERSION, VERSION_TEXT);
}

/** A build's behaviour (`PUT /builds/:version`, or a value of FleetSimOptions.builds); `{}` is a well-behaved build. */
export function parseBuildBehaviour(body: unknown): Result<BuildBehaviour, InputError> {
  const f = objectBody(body, BUILD_BEHAVIOUR_FIELDS);
  if (!f.ok) return f;
  const connectFailureRatio = optionalNumberIn(f.value, 'connectFailureRatio', 0, 1);
  if (!connectFailureRatio.ok) return connectFailureRatio;
  const flapProcessState = optionalNumberIn(f.value, 'flapProcessState', 0, MAX_FLAP_SECONDS, true);
  if (!flapProcessState.ok) return flapProcessState;
  const memoryLeakBytesPerHour = optionalNumberIn(f.value, 'memoryLeakBytesPerHour', 0, MAX_MEMORY_LEAK_BYTES_PER_HOUR);
  if (!memoryLeakBytesPerHour.ok) return memoryLeakBytesPerHour;
  const goroutineLeakPerHour = optionalNumberIn(f.value, 'goroutineLeakPerHour', 0, MAX_GOROUTINE_LEAK_PER_HOUR);
  if (!goroutineLeakPerHour.ok) return goroutineLeakPerHour;
  const restartEveryMs = f.value['restartEveryMs'] === undefined ? ok(undefined) : integerIn(f.value, 'restartEveryMs', MIN_RESTART_EVERY_MS, MAX_RESTART_EVERY_MS);
  if (!restartEveryMs.ok) return restartEveryMs;
  const debug = f.value['debug'];
  if (debug !== undefined && typeof debug !== 'boolean') return bad('debug', `must be true or false, got ${JSON.stringify(debug)}`);
  const out: { -readonly [K in keyof BuildBehaviour]: BuildBehaviour[K] } = {};
  if (connectFailureRatio.value !== undefined) out.connectFailureRatio = connectFailureRatio.value;
  if (flapProcessState.value !== undefined) out.flapProcessState = flapProcessState.value;
  if (memoryLeakBytesPerHour.value !== undefined) out.memoryLeakBytesPerHour = memoryLeakBytesPerHour.value;
  if (goroutineLeakPerHour.value !== undefined) out.goroutineLeakPerHour = goroutineLeakPerHour.value;
  if (restartEveryMs.value !== undefined) out.restartEveryMs = restartEveryMs.value;
  if (debug !== undefined) out.debug = debug;
  return ok(out);
}

/** The body of an upgrade hook request, as Meridian's webhook hook adapter sends it. */
export interface HookInput {
  readonly id: string;
  readonly rollout: string;
  readonly action: HookAction;
  readonly proxy: string;
  readonly region: string;
  readonly version: string;
  readonly image?: string;
  readonly artifact?: string;
  readonly flags?: readonly string[];
}

const HOOK_FIELDS = ['type', 'id', 'rollout', 'action', 'proxy', 'region', 'version', 'image', 'artifact', 'flags'];

export function parseHookRequest(body: unknown): Result<HookInput, InputError> {
  const f = objectBody(body, HOOK_FIELDS);
  if (!f.ok) return f;
  const type = oneOf(f.value, 'type', ['meridian.hook']);
  if (!type.ok) return type;
  const id = requiredText(f.value, 'id');
  if (!id.ok) return id;
  const rollout = requiredText(f.value, 'rollout');
  if (!rollout.ok) return rollout;
  const action = oneOf<HookAction>(f.value, 'action', HOOK_ACTIONS);
  if (!action.ok) return action;
  const proxy = requiredText(f.value, 'proxy');
  if (!proxy.ok) return proxy;
  const region = requiredText(f.value, 'region');
  if (!region.ok) return region;
  const version = matching(f.value, 'version', VERSION, VERSION_TEXT);
  if (!version.ok) return version;
  const image = f.value['image'] === undefined ? ok(undefined) : requiredText(f.value, 'image');
  if (!image.ok) return image;
  const artifact = f.value['artifact'] === undefined ? ok(undefined) : requiredText(f.value, 'artifact');
  if (!artifact.ok) return artifact;
  const flags = f.value['flags'];
  if (flags !== undefined && (!Array.isArray(flags) || !flags.every((x): x is string => typeof x === 'string' && x.length > 0)))
    return err({ field: 'flags', message: 'flags: must be a list of non-empty strings' });
  return ok({
    id: id.value,
    rollout: rollout.value,
    action: action.value,
    proxy: proxy.value,
    region: region.value,
    version: version.value,
    ...(image.value === undefined ? {} : { image: image.value }),
    ...(artifact.value === undefined ? {} : { artifact: artifact.value }),
    ...(flags === undefined ? {} : { flags }),
  });
}
