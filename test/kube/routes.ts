// The HTTP front of the test API server: parses a request into the API server's RequestInfo
// (group, version, resource, namespace, name, subresource, verb), applies faults and
// authorization, and runs the verb against the store or the watch hub.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { discovery } from './discovery.js';
import type { Faults, RequestInfo } from './faults.js';
import { applyPatch, PatchApplyError } from './patch.js';
import { apiVersionOf, type ResourceRegistry, type ResourceType } from './resources.js';
import { fieldSelector, labelSelector } from './selectors.js';
import { ApiError, badRequest, deleted, forbidden, internalError, methodNotAllowed, notFound, pathNotFound, unprocessable } from './status-errors.js';
import type { DeletePreconditions, ObjectStore } from './store.js';
import { cleanMeta, type KubeObject } from './strategy.js';
import type { WatchHub } from './watch-hub.js';

/** Decides whether the bearer `token` may make this request (for RBAC checks); false answers 403. */
export type Authorizer = (info: RequestInfo, token: string | undefined) => boolean;

export interface RouterDeps {
  registry: ResourceRegistry;
  store: ObjectStore;
  hub: WatchHub;
  faults: Faults;
  authorize?: Authorizer;
  /** Called when a response is finished (for watches: when the stream ends). */
  onRequest?: (info: RequestInfo, statusCode: number) => void;
}

interface Target {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPrefix: boolean;
}

/** The resource a path names, or undefined for non-resource paths (discovery, unknown). */
function parseTarget(registry: ResourceRegistry, segments: string[]): Target | undefined {
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) [group, version, rest] = ['', segments[1]!, segments.slice(2)];
  else if (segments[0] === 'apis' && segments.length >= 4) [group, version, rest] = [segments[1]!, segments[2]!, segments.slice(3)];
  else return undefined;
  const watchPrefix = rest[0] === 'watch';
  if (watchPrefix) rest = rest.slice(1);
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...extra] = rest;
  const type = plural === undefined ? undefined : registry.find(group, version, plural);
  if (!type || extra.length > 0) return undefined;
  if (type.namespaced && namespace === undefined && name !== undefined) return undefined;
  return { type, watchPrefix, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}), ...(subresource !== undefined ? { subresource } : {}) };
}

function verbOf(method: string, t: Target | undefined, query: URLSearchParams): string {
  const watch = t?.watchPrefix || query.get('watch') === 'true' || query.get('watch') === '1';
  switch (method) {
    case 'GET':
      return watch ? 'watch' : t?.name === undefined ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return t?.name === undefined ? 'deletecollection' : 'delete';
    default:
      return method.toLowerCase();
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

export function writeJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The body of a create or update as the decoder leaves it: kind checked, metadata cleaned. */
function decodeObject(t: ResourceType, body: unknown): KubeObject {
  if (!isObj(body)) throw badRequest(`the object provided is unrecognized (must be of type ${t.kind})`);
  const custom = t.schema !== undefined;
  if (custom && !body.kind) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
  if (body.kind !== undefined && body.kind !== t.kind) throw badRequest(`${String(body.kind)} in version "${t.version}" cannot be handled as a ${t.kind}: no kind "${String(body.kind)}" is registered`);
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(t)) {
    throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(t)})`);
  }
  return { ...body, apiVersion: apiVersionOf(t), kind: t.kind, metadata: cleanMeta(body.metadata) };
}

function checkNamespace(obj: KubeObject, namespace: string | undefined): void {
  if (obj.metadata.namespace && namespace !== undefined && obj.metadata.namespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}

function checkName(obj: KubeObject, name: string): void {
  if (obj.metadata.name !== name) throw badRequest(`the name of the object (${obj.metadata.name ?? ''}) does not match the name on the URL (${name})`);
}

/** Built-in lists carry items without apiVersion/kind, as the API server serialises typed lists. */
function listItem(t: ResourceType, o: KubeObject): KubeObject {
  if (t.schema) return o;
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as KubeObject;
}

function list(deps: RouterDeps, target: Target, query: URLSearchParams): Record<string, unknown> {
  const t = target.type;
  const match = [labelSelector(query.get('labelSelector') ?? undefined), fieldSelector(t, query.get('fieldSelector') ?? undefined)];
  const rv = String(deps.store.resourceVersion);
  let items = deps.store.list(t, target.namespace).filter((o) => match.every((m) => m(o)));
  const token = query.get('continue');
  if (token) {
    const after = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after: string }).after;
    items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}` > after);
  }
  const limit = Number(query.get('limit') ?? 0);
  const metadata: Record<string, unknown> = { resourceVersion: rv };
  if (limit > 0 && items.length > limit) {
    const last = items[limit - 1]!;
    metadata.continue = Buffer.from(JSON.stringify({ after: `${last.metadata.namespace ?? ''}/${last.metadata.name ?? ''}` })).toString('base64url');
    metadata.remainingItemCount = items.length - limit;
    items = items.slice(0, limit);
  }
  return { apiVersion: apiVersionOf(t), kind: t.listKind, metadata, items: items.map((o) => listItem(t, o)) };
}

function patch(deps: RouterDeps, target: Target, name: string, namespace: string, contentType: string, body: unknown): KubeObject {
  const t = target.type;
  const current = deps.store.get(t, namespace, name);
  if (!current) throw notFound({ group: t.group, resource: t.plural }, name);
  let patched: unknown;
  try {
    patched = applyPatch(current, contentType, body, t.schema !== undefined);
  } catch (e) {
    if (e instanceof PatchApplyError) throw unprocessable(e.message);
    throw e;
  }
  const obj = decodeObject(t, patched);
  checkName(obj, name);
  return deps.store.update(t, namespace, name, obj, target.subresource === 'status' ? 'status' : undefined);
}

async function serveResource(deps: RouterDeps, req: IncomingMessage, res: ServerResponse, target: Target, verb: string, query: URLSearchParams): Promise<void> {
  const t = target.type;
  const gr = { group: t.group, resource: t.plural };
  if (target.subresource !== undefined && !(target.subresource === 'status' && t.statusSubresource)) throw pathNotFound();
  if (target.subresource !== undefined && !['get', 'update', 'patch'].includes(verb)) throw methodNotAllowed();
  const namespace = target.namespace ?? '';
  const name = target.name;
  switch (verb) {
    case 'list':
      return writeJson(res, 200, list(deps, target, query));
    case 'watch': {
      const names = name === undefined ? [] : [`metadata.name=${name}`];
      const fields = [...names, ...(query.get('fieldSelector') ? [query.get('fieldSelector')!] : [])].join(',');
      const byLabel = labelSelector(query.get('labelSelector') ?? undefined);
      const byField = fieldSelector(t, fields || undefined);
      const timeout = query.get('timeoutSeconds');
      deps.hub.open(
        {
          resource: t,
          ...(target.namespace !== undefined ? { namespace: target.namespace } : {}),
          filter: (o) => byLabel(o) && byField(o),
          resourceVersion: query.get('resourceVersion') ?? undefined,
          allowWatchBookmarks: query.get('allowWatchBookmarks') === 'true' || query.get('allowWatchBookmarks') === '1',
          ...(timeout !== null && Number(timeout) > 0 ? { timeoutSeconds: Number(timeout) } : {}),
        },
        res,
      );
      return;
    }
    case 'get': {
      const o = deps.store.get(t, namespace, name!);
      if (!o) throw notFound(gr, name!);
      return writeJson(res, 200, o);
    }
    case 'create': {
      if (target.subresource !== undefined) throw methodNotAllowed();
      const obj = decodeObject(t, await readBody(req));
      checkNamespace(obj, target.namespace);
      return writeJson(res, 201, deps.store.create(t, namespace, obj));
    }
    case 'update': {
      const obj = decodeObject(t, await readBody(req));
      checkName(obj, name!);
      checkNamespace(obj, target.namespace);
      const before = deps.store.get(t, namespace, name!);
      const out = deps.store.update(t, namespace, name!, obj, target.subresource === 'status' ? 'status' : undefined);
      return writeJson(res, before ? 200 : 201, out);
    }
    case 'patch': {
      const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
      return writeJson(res, 200, patch(deps, target, name!, namespace, contentType, await readBody(req)));
    }
    case 'delete': {
      const body = await readBody(req);
      const pre = (isObj(body) && isObj(body.preconditions) ? body.preconditions : {}) as DeletePreconditions;
      const gone = deps.store.remove(t, namespace, name!, pre);
      return writeJson(res, 200, t.returnsDeletedObject ? gone : deleted(gr, name!, gone.metadata.uid ?? ''));
    }
    default:
      throw methodNotAllowed();
  }
}

/** A request as the API server's RequestInfo sees it; the fault proxy in front of a real server parses requests the same way. */
export function parseRequest(registry: ResourceRegistry, req: IncomingMessage) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const target = parseTarget(registry, segments);
  const method = req.method ?? 'GET';
  const verb = verbOf(method, target, url.searchParams);
  const info: RequestInfo = {
    method,
    path: url.pathname,
    verb,
    ...(target
      ? {
          group: target.type.group,
          version: target.type.version,
          resource: target.type.plural,
          ...(target.subresource !== undefined ? { subresource: target.subresource } : {}),
          ...(target.namespace !== undefined ? { namespace: target.namespace } : {}),
          ...(target.name !== undefined ? { name: target.name } : {}),
        }
      : {}),
  };
  return { url, segments, target, method, verb, info };
}

/** The Status a refused request gets, with upstream's message (RBAC's "User ... cannot ..."). */
export function refusal(info: RequestInfo, token: string | undefined): ApiError {
  const who = token ?? 'system:anonymous';
  const group = info.group ?? '';
  const where = info.namespace !== undefined ? ` in the namespace "${info.namespace}"` : '';
  const resource = info.subresource ? `${info.resource ?? ''}/${info.subresource}` : (info.resource ?? '');
  return forbidden({ group, resource: info.resource ?? '' }, info.name ?? '', `User "${who}" cannot ${info.verb} resource "${resource}" in API group "${group}"${where}`);
}

export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith('Bearer ') ? h.slice('Bearer '.length) : undefined;
}

export function createHandler(deps: RouterDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const { url, segments, target, method, verb, info } = parseRequest(deps.registry, req);
    if (deps.onRequest) res.on('finish', () => deps.onRequest!(info, res.statusCode));
    const fail = (e: unknown): void => {
      const err = e instanceof ApiError ? e : internalError(e instanceof Error ? e.message : String(e));
      if (res.headersSent) {
        res.destroy();
        return;
      }
      writeJson(res, err.status.code, err.status, err.headers);
    };
    const fault = deps.faults.take(info);
    if (fault?.kind === 'close') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'error') return fail(fault.error());
    if (!target) {
      const doc = method === 'GET' ? discovery(deps.registry, segments, req.headers.host ?? '') : undefined;
      if (doc) return writeJson(res, 200, doc);
      return fail(pathNotFound());
    }
    if (deps.authorize && !deps.authorize(info, bearer(req))) return fail(refusal(info, bearer(req)));
    serveResource(deps, req, res, target, verb, url.searchParams).catch(fail);
  };
}
