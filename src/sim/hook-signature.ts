import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { err, ok, type Result } from '../model/result.js';

/** A signed request older (or further ahead) than this is refused: it may be a replay. */
export const MAX_SIGNATURE_SKEW_MS = 5 * 60_000;

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Checks X-Meridian-Signature the way an operator's receiver would, written from the scheme
 * (sha256=<hex HMAC-SHA256(key, "<X-Meridian-Timestamp>.<raw body>")>) rather than by importing
 * Meridian's signer, so the simulator also tests that the scheme is what the adapter sends.
 */
export function checkSignature(key: string, headers: IncomingHttpHeaders, body: string, nowMs: number): Result<void, string> {
  const timestamp = header(headers, 'x-meridian-timestamp');
  const signature = header(headers, 'x-meridian-signature');
  if (timestamp === undefined) return err('X-Meridian-Timestamp is missing');
  if (signature === undefined) return err('X-Meridian-Signature is missing');
  if (!/^\d{1,12}$/.test(timestamp)) return err(`X-Meridian-Timestamp must be unix seconds, got ${JSON.stringify(timestamp.slice(0, 40))}`);
  if (Math.abs(nowMs - Number(timestamp) * 1000) > MAX_SIGNATURE_SKEW_MS) {
    return err(`X-Meridian-Timestamp ${timestamp} is more than ${MAX_SIGNATURE_SKEW_MS / 60_000} minutes from now`);
  }
  const expected = Buffer.from(`sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`);
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return err('X-Meridian-Signature does not match the body');
  return ok(undefined);
}
