// Custom resources against their CRD's openAPIV3Schema, as apiextensions-apiserver does it:
// first prune unknown fields, drop nulls the schema does not allow and apply defaults (the
// server does this silently, so a controller that writes a field the CRD lacks loses it),
// then validate, answering 422 with one cause per field error.
import { isDeepStrictEqual } from 'node:util';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from './resources.js';
import type { StatusCause } from './status-errors.js';

type Obj = { [key: string]: unknown };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

// strict: false lets the x-kubernetes-* extensions through; the walk below gives them meaning.
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, logger: false });
// Kubernetes checks "uri" with Go's url.Parse, which takes nearly anything (a relative path too).
ajv.addFormat('uri', (s: string) => !/[\x00-\x1f\x7f]/.test(s) && !s.startsWith(':') && !/%(?![0-9a-fA-F]{2})/.test(s));
ajv.addFormat('date-time', (s: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s));

const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/** Go's %v/%q rendering of a value in field errors: strings quoted, the rest as JSON. */
export function goValue(v: unknown): string {
  return JSON.stringify(v) ?? 'null';
}

function goType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** Prunes, drops disallowed nulls and defaults in place; returns the errors the walk itself finds. */
export function pruneAndDefault(obj: Obj, schema: JsonSchema): StatusCause[] {
  const causes: StatusCause[] = [];
  visit(obj, schema, '', causes, true);
  return causes;
}

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

function visit(v: unknown, s: JsonSchema, path: string, causes: StatusCause[], root = false): void {
  if (s['x-kubernetes-int-or-string'] === true && !(Number.isInteger(v) || typeof v === 'string')) {
    causes.push({ reason: 'FieldValueTypeInvalid', field: path, message: `Invalid value: "${goType(v)}": ${path} in body must be of type integer-or-string: "${goType(v)}"` });
  }
  if (isObj(v)) {
    const props = isObj(s.properties) ? (s.properties as Record<string, JsonSchema>) : undefined;
    const additional = s.additionalProperties;
    const keepUnknown = s['x-kubernetes-preserve-unknown-fields'] === true || additional === true;
    for (const key of Object.keys(v)) {
      // The root's apiVersion, kind and metadata are the server's, never pruned by the schema.
      if (root && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
      const child = props?.[key] ?? (isObj(additional) ? (additional as JsonSchema) : undefined);
      if (!child) {
        if (!keepUnknown) delete v[key];
        continue;
      }
      if (v[key] === null && child.nullable !== true) {
        delete v[key];
        continue;
      }
      visit(v[key], child, childPath(path, key), causes);
    }
    for (const [key, child] of Object.entries(props ?? {})) {
      if (v[key] === undefined && isObj(child) && 'default' in child) v[key] = structuredClone(child.default);
    }
    return;
  }
  if (Array.isArray(v)) {
    if (isObj(s.items)) v.forEach((item, i) => visit(item, s.items as JsonSchema, `${path}[${i}]`, causes));
    duplicates(v, s, path, causes);
  }
}

// x-kubernetes-list-type: set items are unique; map items are unique by their list-map-keys.
function duplicates(items: unknown[], s: JsonSchema, path: string, causes: StatusCause[]): void {
  const type = s['x-kubernetes-list-type'];
  if (type !== 'set' && type !== 'map') return;
  const keys = Array.isArray(s['x-kubernetes-list-map-keys']) ? (s['x-kubernetes-list-map-keys'] as string[]) : [];
  const identity = (x: unknown): unknown => (type === 'map' && isObj(x) ? Object.fromEntries(keys.map((k) => [k, x[k]])) : x);
  items.forEach((item, i) => {
    if (items.slice(0, i).some((before) => isDeepStrictEqual(identity(before), identity(item)))) {
      causes.push({ reason: 'FieldValueDuplicate', field: `${path}[${i}]`, message: `Duplicate value: ${goValue(identity(item))}` });
    }
  });
}

/** Schema errors as Kubernetes field errors (apiextensions validation's conversion of kube-openapi errors). */
export function validateAgainstSchema(obj: Obj, schema: JsonSchema): StatusCause[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(obj)) return [];
  return (validate.errors ?? []).filter((e) => !['anyOf', 'oneOf', 'if'].includes(e.keyword)).map((e) => toCause(e, obj));
}

function fieldPath(instancePath: string, root: unknown): string {
  let path = '';
  let at: unknown = root;
  for (const raw of instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path = Array.isArray(at) ? `${path}[${seg}]` : childPath(path, seg);
    at = Array.isArray(at) ? at[Number(seg)] : isObj(at) ? at[seg] : undefined;
  }
  return path;
}

function toCause(e: ErrorObject, root: unknown): StatusCause {
  const field = fieldPath(e.instancePath, root);
  const p = e.params as Record<string, unknown>;
  const value = goValue(e.data);
  const subject = field || '<root>';
  switch (e.keyword) {
    case 'required':
      return { reason: 'FieldValueRequired', field: childPath(field, String(p.missingProperty)), message: 'Required value' };
    case 'type':
      return { reason: 'FieldValueTypeInvalid', field, message: `Invalid value: "${goType(e.data)}": ${subject} in body must be of type ${String(p.type)}: "${goType(e.data)}"` };
    case 'enum':
      return { reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${value}: supported values: ${(p.allowedValues as unknown[]).map(goValue).join(', ')}` };
    case 'maxItems':
      return { reason: 'FieldValueTooMany', field, message: `Too many: ${(e.data as unknown[]).length}: must have at most ${String(p.limit)} items` };
    case 'maxLength':
      return { reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${String(p.limit)} bytes` };
    default:
      return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${value}: ${subject} in body ${detail(e)}` };
  }
}

function detail(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'pattern':
      return `should match '${String(p.pattern)}'`;
    case 'minLength':
      return `should be at least ${String(p.limit)} chars long`;
    case 'minItems':
      return `should have at least ${String(p.limit)} items`;
    case 'minimum':
      return `should be greater than or equal to ${String(p.limit)}`;
    case 'exclusiveMinimum':
      return `should be greater than ${String(p.limit)}`;
    case 'maximum':
      return `should be less than or equal to ${String(p.limit)}`;
    case 'exclusiveMaximum':
      return `should be less than ${String(p.limit)}`;
    case 'format':
      return `must be of type ${String(p.format)}: ${goValue(e.data)}`;
    default:
      return e.message ?? e.keyword;
  }
}
