import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { Type } from '@sinclair/typebox';
import type { FieldError, FieldPath } from './field-error.js';
import type { ProxyFleetSpec } from './fleet.js';
import { isKind, KIND_SPECS, KINDS, ManifestMetadataSchema, type AnyResource, type Kind } from './kinds.js';
import { API_VERSION } from './resource.js';
import { rolloutSemanticErrors } from './rollout-rules.js';
import { canarySemanticErrors } from './canary-rules.js';
import { peeringSemanticErrors } from './peering-rules.js';
import { assertNever, err, ok, type Result } from './result.js';

// ajv-formats is published as CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

// verbose: a union's error then carries its branches and the value, to say what the union takes.
const ajv = addFormats(new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }));
const validators = new Map<Kind, ValidateFunction>(
  KINDS.map((kind) => [
    kind,
    ajv.compile(
      Type.Object(
        {
          apiVersion: Type.Literal(API_VERSION),
          kind: Type.Literal(kind),
          metadata: ManifestMetadataSchema,
          spec: KIND_SPECS[kind].spec,
          // Status belongs to the controller; a manifest that carries one (kubectl get -o yaml) is accepted and it is ignored.
          status: Type.Optional(Type.Unknown()),
        },
        { additionalProperties: false },
      ),
    ),
  ]),
);

function pathOf(e: ErrorObject): (string | number)[] {
  const path: (string | number)[] = e.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  if (e.keyword === 'additionalProperties') path.push(String(e.params['additionalProperty']));
  if (e.keyword === 'required') path.push(String(e.params['missingProperty']));
  return path;
}

function messageOf(e: ErrorObject): string {
  switch (e.keyword) {
    case 'additionalProperties':
      return `unknown field "${String(e.params['additionalProperty'])}"`;
    case 'required':
      return `missing required field "${String(e.params['missingProperty'])}"`;
    case 'const':
      return `must be ${JSON.stringify(e.params['allowedValue'])}`;
    case 'pattern':
      return `${e.message ?? 'does not match'}`.replace(/"/g, "'");
    default:
      return e.message ?? e.keyword;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * What a count-or-percent union (src/model/count-or-percent.ts) takes, for a value it refused;
 * undefined for other unions. Without it the first branch speaks alone ("must be integer" for `150%`),
 * as if percentages were not allowed.
 */
function countOrPercentMessage(e: ErrorObject): string | undefined {
  const branches: unknown = e.schema;
  if (!Array.isArray(branches) || branches.length !== 2) return undefined;
  const count = branches.find((b): b is Record<string, unknown> => isRecord(b) && b['type'] === 'integer');
  const percent = branches.find((b): b is Record<string, unknown> => isRecord(b) && b['type'] === 'string' && typeof b['pattern'] === 'string' && b['pattern'].endsWith('%$'));
  if (!count || !percent) return undefined;
  const min = typeof count['minimum'] === 'number' ? count['minimum'] : 0;
  return `must be a count of at least ${min} or a percent from 1% to 100% (such as 25%), not ${JSON.stringify(e.data)}`;
}

/** One error per path: ajv reports every branch of a union, which only confuses. */
function schemaErrors(errors: readonly ErrorObject[]): FieldError[] {
  const byPath = new Map<string, FieldError>();
  const unions = new Map<string, FieldError>();
  for (const e of errors) {
    if (e.keyword === 'anyOf') {
      const message = countOrPercentMessage(e);
      if (message) unions.set(JSON.stringify(pathOf(e)), { path: pathOf(e), message });
      continue;
    }
    const path = pathOf(e);
    const k = JSON.stringify(path);
    const prev = byPath.get(k);
    const message = messageOf(e);
    if (!prev) byPath.set(k, { path, message });
    else if (e.keyword === 'const' && prev.message.startsWith('must be '))
      byPath.set(k, { path, message: `${prev.message} or ${message.slice('must be '.length)}` });
  }
  for (const [k, union] of unions) byPath.set(k, union);
  return [...byPath.values()];
}

function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function checkUnique(items: readonly { name: string }[], at: FieldPath, what: string, out: FieldError[]): void {
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    const first = seen.get(it.name);
    if (first !== undefined) out.push({ path: [...at, i, 'name'], message: `duplicate ${what} name "${it.name}" (first at index ${first})` });
    else seen.set(it.name, i);
  });
}

/** Rules a JSON schema cannot say: references, uniqueness, time zones. */
export function fleetSemanticErrors(spec: ProxyFleetSpec): FieldError[] {
  const out: FieldError[] = [];
  checkUnique(spec.regions, ['spec', 'regions'], 'region', out);
  checkUnique(spec.proxies, ['spec', 'proxies'], 'proxy', out);
  const regions = new Set(spec.regions.map((r) => r.name));
  spec.regions.forEach((r, i) => {
    if (!isValidTimeZone(r.timeZone)) out.push({ path: ['spec', 'regions', i, 'timeZone'], message: `unknown IANA time zone "${r.timeZone}"` });
  });
  const defaults = spec.regions.flatMap((r, i) => (r.default ? [i] : []));
  if (defaults.length > 1)
    out.push({ path: ['spec', 'regions', defaults[1] ?? 0, 'default'], message: 'only one region may be the default' });
  for (const kind of ['countries', 'continents'] as const)
    for (const [code, region] of Object.entries(spec.redirect?.pins?.[kind] ?? {}))
      if (region !== undefined && !regions.has(region))
        out.push({ path: ['spec', 'redirect', 'pins', kind, code], message: `region "${region}" is not defined in spec.regions` });
  const publicUrls = new Map<string, number>();
  spec.proxies.forEach((p, i) => {
    if (!regions.has(p.region))
      out.push({ path: ['spec', 'proxies', i, 'region'], message: `region "${p.region}" is not defined in spec.regions` });
    const host = new URL(p.publicUrl).host;
    const first = publicUrls.get(host);
    if (first !== undefined) out.push({ path: ['spec', 'proxies', i, 'publicUrl'], message: `public address "${host}" is already used by spec.proxies[${first}]` });
    else publicUrls.set(host, i);
    const up = p.upgrade;
    if (up?.method === 'webhook' && !up.url) out.push({ path: ['spec', 'proxies', i, 'upgrade', 'url'], message: 'method "webhook" needs a url' });
    if (up?.method === 'command' && !up.command) out.push({ path: ['spec', 'proxies', i, 'upgrade', 'command'], message: 'method "command" needs a command' });
    if (up?.method === 'kubernetes' && !up.workload) out.push({ path: ['spec', 'proxies', i, 'upgrade', 'workload'], message: 'method "kubernetes" needs a workload' });
  });
  return out;
}

function semanticErrors(r: AnyResource): FieldError[] {
  switch (r.kind) {
    case 'ProxyFleet':
      return fleetSemanticErrors(r.spec);
    case 'ProxyRollout':
      return rolloutSemanticErrors(r.spec);
    case 'ProxyCanary':
      return canarySemanticErrors(r.spec);
    case 'ProxyPeering':
      return peeringSemanticErrors(r.spec);
    default:
      return assertNever(r, 'kind');
  }
}

/** Validates one decoded manifest document against its kind's schema and rules. */
export function validateManifest(doc: unknown): Result<AnyResource, FieldError[]> {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return err([{ path: [], message: 'a manifest must be a mapping' }]);
  const kind = (doc as { kind?: unknown }).kind;
  if (!isKind(kind)) {
    return err([{ path: ['kind'], message: kind === undefined ? 'missing required field "kind"' : `unknown kind ${JSON.stringify(kind)} (known: ${KINDS.join(', ')})` }]);
  }
  const validate = validators.get(kind);
  if (!validate) return err([{ path: ['kind'], message: `no schema for ${kind}` }]);
  if (!validate(doc)) return err(schemaErrors(validate.errors ?? []));
  const resource = doc as AnyResource;
  const semantic = semanticErrors(resource);
  return semantic.length ? err(semantic) : ok(resource);
}
