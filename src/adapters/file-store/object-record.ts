import type { FieldError } from '../../model/field-error.js';
import type { AnyResource } from '../../model/kinds.js';
import { keyOf, keyString, type ResourceKey } from '../../model/resource.js';
import { err, ok, type Result } from '../../model/result.js';
import { validateManifest } from '../../model/validate.js';

/**
 * What the state directory keeps per object: the identity the store assigns (as the API server
 * would), the manifest last accepted, and the status. One JSON file per object, written atomically.
 */
export interface ObjectRecord {
  readonly uid: string;
  readonly creationTimestamp: string;
  /** Starts at 1; +1 whenever the spec hash changes, across restarts too. */
  readonly generation: number;
  /** +1 on every change a watcher would see: spec, metadata, status, appearing, disappearing. */
  readonly resourceVersion: number;
  readonly specHash: string;
  /**
   * The last accepted manifest (no status). While its file is invalid this version stays in force,
   * and it survives a restart. Absent only when a stored one no longer validates.
   */
  readonly manifest?: AnyResource;
  /** Where the manifest came from, relative to the manifest directory; finds it again by document index. */
  readonly file: string;
  readonly document: number;
  /** False once the manifests stop defining it; the record stays so the object can come back with its status. */
  readonly inForce: boolean;
  readonly status?: unknown;
}

export interface DecodedRecord {
  readonly record: ObjectRecord;
  /** The stored manifest failed validation (say, the schema tightened): identity and status still count. */
  readonly manifestErrors: readonly FieldError[];
}

export function encodeObjectRecord(r: ObjectRecord): string {
  const ordered = {
    uid: r.uid,
    creationTimestamp: r.creationTimestamp,
    generation: r.generation,
    resourceVersion: r.resourceVersion,
    specHash: r.specHash,
    inForce: r.inForce,
    file: r.file,
    document: r.document,
    manifest: r.manifest,
    status: r.status,
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isAnyText = (v: unknown): v is string => typeof v === 'string';
const isTime = (v: unknown): v is string => isText(v) && !Number.isNaN(Date.parse(v));
const isFlag = (v: unknown): v is boolean => typeof v === 'boolean';
const isCountFrom =
  (min: number) =>
  (v: unknown): v is number =>
    typeof v === 'number' && Number.isInteger(v) && v >= min;

/** Parses a state file written by `encodeObjectRecord`, trusting nothing: it may have been edited by hand. */
export function decodeObjectRecord(text: string, key: ResourceKey): Result<DecodedRecord, FieldError[]> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    // One line: V8 quotes the offending text, newlines included.
    const reason = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ');
    return err([{ path: [], message: `not valid JSON (${reason})` }]);
  }
  if (!isObject(raw)) return err([{ path: [], message: 'must be a JSON object' }]);
  const errors: FieldError[] = [];
  const field = <T>(name: string, guard: (v: unknown) => v is T, what: string): T | undefined => {
    const v = raw[name];
    if (guard(v)) return v;
    errors.push({ path: [name], message: `must be ${what}` });
    return undefined;
  };
  const uid = field('uid', isText, 'a non-empty string');
  const creationTimestamp = field('creationTimestamp', isTime, 'an ISO time');
  const generation = field('generation', isCountFrom(1), 'an integer >= 1');
  const resourceVersion = field('resourceVersion', isCountFrom(1), 'an integer >= 1');
  const specHash = field('specHash', isText, 'a non-empty string');
  const inForce = field('inForce', isFlag, 'true or false');
  const file = field('file', isAnyText, 'a string');
  const document = field('document', isCountFrom(0), 'an integer >= 0');
  const { manifest, status } = raw;
  if (status !== undefined && !isObject(status)) errors.push({ path: ['status'], message: 'must be an object' });
  if (
    errors.length ||
    uid === undefined ||
    creationTimestamp === undefined ||
    generation === undefined ||
    resourceVersion === undefined ||
    specHash === undefined ||
    inForce === undefined ||
    file === undefined ||
    document === undefined
  )
    return err(errors);

  const manifestErrors: FieldError[] = [];
  let valid: AnyResource | undefined;
  if (manifest !== undefined) {
    const checked = validateManifest(manifest);
    if (!checked.ok) manifestErrors.push(...checked.error.map((e) => ({ ...e, path: ['manifest', ...e.path] })));
    else if (keyString(keyOf(checked.value)) !== keyString(key))
      manifestErrors.push({ path: ['manifest', 'metadata'], message: `names ${keyString(keyOf(checked.value))}, not ${keyString(key)} as its path says` });
    else valid = checked.value;
  }
  const record: ObjectRecord = {
    uid,
    creationTimestamp,
    generation,
    resourceVersion,
    specHash,
    file,
    document,
    // Nothing to put in force without a manifest.
    inForce: inForce && valid !== undefined,
    ...(valid ? { manifest: valid } : {}),
    ...(status === undefined ? {} : { status }),
  };
  return ok({ record, manifestErrors });
}
