// Decoding and validation of the built-in kinds Meridian writes (Lease, Event), with the
// time formats of k8s.io/apimachinery: MicroTime parses with exactly
// "2006-01-02T15:04:05.000000Z07:00" and Time with RFC 3339. A value that does not parse is a
// decode error, which the API server answers with 400 BadRequest ("Lease in version "v1"
// cannot be handled as a Lease: ..."), not with a 422.
import type { ResourceType } from './resources.js';
import { badRequest, invalid, type StatusCause } from './status-errors.js';

type Obj = { [key: string]: unknown };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

const MICRO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})(Z|([+-])(\d{2}):(\d{2}))$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/;

/** The UTC instant of a parsed date-time, in ms, or undefined when a field is out of range (Go's time.Parse rejects it). */
function instant(m: RegExpExecArray, offsetAt: number): number | undefined {
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMin = 0;
  if (m[offsetAt] !== 'Z') {
    const oh = Number(m[offsetAt + 2]);
    const om = Number(m[offsetAt + 3]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[offsetAt + 1] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) - offsetMin * 60_000;
}

/** A MicroTime as the server stores and returns it (UTC, six fraction digits), or undefined if it does not parse. */
export function parseMicroTime(s: string): string | undefined {
  const m = MICRO.exec(s);
  const at = m ? instant(m, 8) : undefined;
  if (!m || at === undefined) return undefined;
  return `${new Date(at).toISOString().slice(0, 19)}.${m[7]}Z`;
}

/** A Time as the server returns it (UTC, whole seconds), or undefined if it does not parse. */
export function parseTime(s: string): string | undefined {
  const m = RFC3339.exec(s);
  const at = m ? instant(m, 8) : undefined;
  if (!m || at === undefined) return undefined;
  return `${new Date(at).toISOString().slice(0, 19)}Z`;
}

function decodeError(t: ResourceType, detail: string): Error {
  return badRequest(`${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: ${detail}`);
}

type FieldType = 'string' | 'int32' | 'MicroTime' | 'Time' | 'object';

function decodeField(t: ResourceType, owner: Obj, key: string, type: FieldType, goField: string): void {
  const v = owner[key];
  if (v === undefined || v === null) {
    delete owner[key];
    return;
  }
  const mismatch = (jsType: string): Error => decodeError(t, `json: cannot unmarshal ${jsType} into Go struct field ${goField} of type ${type === 'int32' ? 'int32' : type === 'object' ? 'struct' : 'string'}`);
  const jsType = Array.isArray(v) ? 'array' : typeof v;
  if (type === 'int32') {
    if (typeof v !== 'number') throw mismatch(jsType);
    if (!Number.isInteger(v) || Math.abs(v) > 2 ** 31) throw decodeError(t, `json: cannot unmarshal number ${v} into Go struct field ${goField} of type int32`);
    return;
  }
  if (type === 'object') {
    if (!isObj(v)) throw mismatch(jsType);
    return;
  }
  if (typeof v !== 'string') throw mismatch(jsType);
  if (type === 'MicroTime') {
    const parsed = parseMicroTime(v);
    if (parsed === undefined) throw decodeError(t, `parsing time "${v}" as "2006-01-02T15:04:05.000000Z07:00": cannot parse "${v}" as "2006-01-02T15:04:05.000000Z07:00"`);
    owner[key] = parsed;
  } else if (type === 'Time') {
    const parsed = parseTime(v);
    if (parsed === undefined) throw decodeError(t, `parsing time "${v}" as "2006-01-02T15:04:05Z07:00": cannot parse "${v}" as "2006-01-02T15:04:05Z07:00"`);
    owner[key] = parsed;
  }
}

const LEASE_SPEC: Record<string, FieldType> = {
  holderIdentity: 'string',
  leaseDurationSeconds: 'int32',
  acquireTime: 'MicroTime',
  renewTime: 'MicroTime',
  leaseTransitions: 'int32',
  strategy: 'string',
  preferredHolder: 'string',
};

const EVENT_FIELDS: Record<string, FieldType> = {
  involvedObject: 'object',
  reason: 'string',
  message: 'string',
  source: 'object',
  firstTimestamp: 'Time',
  lastTimestamp: 'Time',
  count: 'int32',
  type: 'string',
  eventTime: 'MicroTime',
  series: 'object',
  action: 'string',
  related: 'object',
  reportingComponent: 'string',
  reportingInstance: 'string',
};

/** Decodes a built-in object in place (unknown fields dropped, times normalised), then validates it as the registry does. */
export function admitBuiltin(t: ResourceType, obj: Obj): void {
  if (t.kind === 'Lease') admitLease(t, obj);
  else if (t.kind === 'Event') admitEvent(t, obj);
}

function admitLease(t: ResourceType, obj: Obj): void {
  for (const key of Object.keys(obj)) if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key)) delete obj[key];
  if (obj.spec === undefined || obj.spec === null) return;
  decodeField(t, obj, 'spec', 'object', 'Lease.spec');
  const spec = obj.spec as Obj;
  for (const key of Object.keys(spec)) if (!(key in LEASE_SPEC)) delete spec[key];
  for (const [key, type] of Object.entries(LEASE_SPEC)) decodeField(t, spec, key, type, `LeaseSpec.spec.${key}`);
  const causes: StatusCause[] = [];
  const duration = spec.leaseDurationSeconds;
  if (typeof duration === 'number' && duration <= 0) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.leaseDurationSeconds', message: `Invalid value: ${duration}: must be greater than 0` });
  }
  const transitions = spec.leaseTransitions;
  if (typeof transitions === 'number' && transitions < 0) {
    causes.push({ reason: 'FieldValueInvalid', field: 'spec.leaseTransitions', message: `Invalid value: ${transitions}: must be greater than or equal to 0` });
  }
  if (causes.length) throw invalid(t.group, t.kind, String((obj.metadata as Obj).name ?? ''), causes);
}

function admitEvent(t: ResourceType, obj: Obj): void {
  for (const key of Object.keys(obj)) if (!['apiVersion', 'kind', 'metadata'].includes(key) && !(key in EVENT_FIELDS)) delete obj[key];
  for (const [key, type] of Object.entries(EVENT_FIELDS)) decodeField(t, obj, key, type, `Event.${key}`);
  const meta = obj.metadata as Obj;
  const involved = (obj.involvedObject ?? {}) as Obj;
  if (typeof involved.namespace === 'string' && involved.namespace !== '' && involved.namespace !== meta.namespace) {
    throw invalid('', t.kind, String(meta.name ?? ''), [
      { reason: 'FieldValueInvalid', field: 'involvedObject.namespace', message: `Invalid value: "${involved.namespace}": does not match event.namespace` },
    ]);
  }
}
