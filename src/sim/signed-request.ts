import type { IncomingMessage, ServerResponse } from 'node:http';
import { err, ok, type Result } from '../model/result.js';
import { checkSignature } from './hook-signature.js';
import { CONTROL_BODY_LIMIT_BYTES, parseJsonBody, readBody, sendJson } from './http-util.js';

/** A hook request turned away: the status and the `{accepted: false, error, field?}` body. */
export interface Refusal {
  readonly status: number;
  readonly error: string;
  readonly field?: string;
}

export interface SignedRequestOptions {
  /** Key for X-Meridian-Signature; absent = requests are not checked. */
  readonly secret: string | undefined;
  /** Real time (epoch ms), which the request's timestamp is checked against. */
  readonly now: () => number;
}

export function refusal(status: number, error: string, field?: string): Refusal {
  return { status, error, ...(field === undefined ? {} : { field }) };
}

export function refuse(res: ServerResponse, r: Refusal): void {
  sendJson(res, r.status, { accepted: false, error: r.error, ...(r.field === undefined ? {} : { field: r.field }) });
}

/**
 * Reads a hook request's body, checks its signature over the raw text (401 when it fails),
 * then parses it as JSON (400). Every signed hook of the control API starts here.
 */
export async function readSignedJson(req: IncomingMessage, o: SignedRequestOptions): Promise<Result<unknown, Refusal>> {
  const raw = await readBody(req, CONTROL_BODY_LIMIT_BYTES);
  if (!raw.ok) return err(refusal(400, `body: ${raw.error}`, 'body'));
  if (o.secret !== undefined) {
    const signed = checkSignature(o.secret, req.headers, raw.value, o.now());
    if (!signed.ok) return err(refusal(401, signed.error));
  }
  const body = parseJsonBody(raw.value);
  return body.ok ? ok(body.value) : err(refusal(400, `body: ${body.error}`, 'body'));
}
