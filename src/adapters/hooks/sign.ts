import { createHmac } from 'node:crypto';

/**
 * How Meridian signs what it POSTs (upgrade hooks, webhook notices), the scheme of Stripe and
 * GitHub webhooks:
 *
 *   X-Meridian-Id:        the request's stable id; a receiver drops duplicates by it
 *   X-Meridian-Timestamp: unix seconds when the request was made
 *   X-Meridian-Signature: sha256=<hex HMAC-SHA256(key, "<timestamp>.<raw body>")>  (only with a key)
 *
 * A receiver recomputes the HMAC over the raw body bytes, compares in constant time, and refuses
 * a timestamp more than a few minutes from its own clock: signing the timestamp with the body
 * means a captured request cannot be replayed later.
 */
export function signatureOf(key: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** Headers of one signed JSON request; retries reuse them (same id, timestamp and signature). */
export function signedJsonHeaders(id: string, body: string, nowMs: number, key: string | undefined): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000);
  return {
    'content-type': 'application/json',
    'x-meridian-id': id,
    'x-meridian-timestamp': String(timestamp),
    ...(key === undefined ? {} : { 'x-meridian-signature': signatureOf(key, timestamp, body) }),
  };
}
