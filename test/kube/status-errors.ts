// Errors in the shape the Kubernetes API server sends them: a `Status` object, with the
// reasons and messages of k8s.io/apimachinery/pkg/api/errors, so clients that branch on
// `code`/`reason` (client-node's ApiException, the informer's 410 check) behave as against a cluster.

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface StatusObject {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Thrown by the store and handlers; the router answers with its `status`. */
export class ApiError extends Error {
  constructor(
    readonly status: StatusObject,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message);
  }
}

/** Which resource an error is about, as apimachinery's `schema.GroupResource`. */
export interface GroupResource {
  group: string;
  resource: string;
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

/** "proxyrollouts.meridian.dev", or "leases.coordination.k8s.io", or "events" for the core group. */
export function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

export function notFound(gr: GroupResource, name: string): ApiError {
  return failure(404, 'NotFound', `${qualified(gr)} "${name}" not found`, { name, group: gr.group, kind: gr.resource });
}

export function alreadyExists(gr: GroupResource, name: string): ApiError {
  return failure(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, { name, group: gr.group, kind: gr.resource });
}

export function conflict(gr: GroupResource, name: string, why: string): ApiError {
  return failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`, { name, group: gr.group, kind: gr.resource });
}

/** The registry's optimistic-lock message (apiserver/pkg/registry/generic/registry/store.go). */
export const OPTIMISTIC_LOCK = 'the object has been modified; please apply your changes to the latest version and try again';

/** 422 with one cause per field error; `kind` is a Kind for schema errors, a resource for registry errors (as upstream). */
export function invalid(group: string, kind: string, name: string, causes: StatusCause[]): ApiError {
  const lines = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const list = lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`;
  const subject = group ? `${kind}.${group}` : kind;
  return failure(422, 'Invalid', `${subject} "${name}" is invalid: ${list}`, { name, group, kind, causes });
}

export function badRequest(message: string): ApiError {
  return failure(400, 'BadRequest', message);
}

export function gone(message: string): ApiError {
  return failure(410, 'Expired', message);
}

export function unsupportedMediaType(accepted: readonly string[]): ApiError {
  return failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
}

export function methodNotAllowed(): ApiError {
  return failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
}

export function pathNotFound(): ApiError {
  return failure(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function forbidden(gr: GroupResource, name: string, why: string): ApiError {
  const subject = name ? `${qualified(gr)} "${name}"` : qualified(gr);
  return failure(403, 'Forbidden', `${subject} is forbidden: ${why}`, { name, group: gr.group, kind: gr.resource });
}

export function tooManyRequests(retryAfterSeconds: number): ApiError {
  const e = failure(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds });
  return new ApiError(e.status, { 'Retry-After': String(retryAfterSeconds) });
}

export function internalError(message: string): ApiError {
  return failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
}

/** What DELETE answers for kinds that do not return the deleted object (Leases, Events). */
export function deleted(gr: GroupResource, name: string, uid: string): Omit<StatusObject, 'message' | 'reason'> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: gr.group, kind: gr.resource, uid }, code: 200 };
}

/** A JSON patch that does not apply (apimachinery's NewGenericServerResponse for 422). */
export function unprocessable(serverMessage: string): ApiError {
  return failure(422, 'Invalid', 'the server rejected our request due to an error in our request', { causes: [{ reason: 'UnexpectedServerResponse', message: serverMessage }] });
}
