// The patch formats the API server takes for custom resources: JSON merge patch (RFC 7386)
// and JSON patch (RFC 6902). Strategic merge patch exists only for built-in kinds.
import { isDeepStrictEqual } from 'node:util';
import { badRequest, unsupportedMediaType } from './status-errors.js';

type Obj = { [key: string]: unknown };

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/** RFC 7386: objects merge key by key, null deletes, anything else (arrays too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return structuredClone(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** Why a JSON patch did not apply; the server answers 422 with this as the cause. */
export class PatchApplyError extends Error {}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchApplyError(`invalid JSON pointer: "${path}"`);
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, tokens: string[]): { parent: unknown; last: string } {
  let at = doc;
  for (const t of tokens.slice(0, -1)) {
    at = Array.isArray(at) ? at[Number(t)] : isObj(at) ? at[t] : undefined;
    if (at === undefined) throw new PatchApplyError(`doc is missing path: "/${tokens.join('/')}": missing value`);
  }
  return { parent: at, last: tokens[tokens.length - 1] ?? '' };
}

function read(doc: unknown, path: string): unknown {
  let at = doc;
  for (const t of pointer(path)) {
    at = Array.isArray(at) ? at[Number(t)] : isObj(at) ? at[t] : undefined;
    if (at === undefined) throw new PatchApplyError(`doc is missing path: "${path}": missing value`);
  }
  return at;
}

function arrayIndex(arr: unknown[], token: string, forInsert: boolean): number {
  if (forInsert && token === '-') return arr.length;
  const i = Number(token);
  const max = forInsert ? arr.length : arr.length - 1;
  if (!/^\d+$/.test(token) || i > max) throw new PatchApplyError(`index out of bounds: ${token}`);
  return i;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return structuredClone(value);
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, structuredClone(value));
  else if (isObj(parent)) parent[last] = structuredClone(value);
  else throw new PatchApplyError(`doc is missing path: "${path}": missing value`);
  return doc;
}

function remove(doc: unknown, path: string): unknown {
  const tokens = pointer(path);
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, false), 1);
  else if (isObj(parent) && last in parent) delete parent[last];
  else throw new PatchApplyError(`unable to remove nonexistent key: ${last}: missing value`);
  return doc;
}

/** RFC 6902 on a copy of `doc`; a failed `test` or a missing path throws PatchApplyError. */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let out = structuredClone(doc);
  for (const raw of ops as Operation[]) {
    if (!isObj(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw badRequest('invalid JSON patch operation');
    switch (raw.op) {
      case 'add':
        out = add(out, raw.path, raw.value);
        break;
      case 'remove':
        out = remove(out, raw.path);
        break;
      case 'replace':
        read(out, raw.path);
        out = add(remove(out, raw.path), raw.path, raw.value);
        break;
      case 'move': {
        const v = read(out, raw.from ?? '');
        out = add(remove(out, raw.from ?? ''), raw.path, v);
        break;
      }
      case 'copy':
        out = add(out, raw.path, read(out, raw.from ?? ''));
        break;
      case 'test':
        if (!isDeepStrictEqual(read(out, raw.path), raw.value)) throw new PatchApplyError(`testing value ${raw.path} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${raw.op}`);
    }
  }
  return out;
}

/**
 * Applies a patch body of the given content type. Custom resources take only merge and JSON
 * patch (415 otherwise, as upstream); for built-ins a strategic merge patch is applied as a
 * merge patch, which is what it is for the scalar fields of Leases and Events.
 */
export function applyPatch(current: unknown, contentType: string, body: unknown, custom: boolean): unknown {
  const accepted = custom ? [JSON_PATCH, MERGE_PATCH, APPLY_PATCH] : [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];
  switch (contentType) {
    case MERGE_PATCH:
      if (!isObj(body)) throw badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
      return mergePatch(current, body);
    case STRATEGIC_MERGE_PATCH:
      if (custom) throw unsupportedMediaType(accepted);
      if (!isObj(body)) throw badRequest('json: cannot unmarshal into Go value of type map[string]interface {}');
      return mergePatch(current, body);
    case JSON_PATCH:
      return jsonPatch(current, body);
    case APPLY_PATCH:
      // Server-side apply is not implemented by this test server; Meridian does not use it.
      throw unsupportedMediaType(accepted.filter((t) => t !== APPLY_PATCH));
    default:
      throw unsupportedMediaType(accepted);
  }
}
