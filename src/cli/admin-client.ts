import type { FleetsResponse } from '../admin/schemas.js';

/** Reads a running controller's admin API; errors say what to check. */
export async function fetchFleets(server: string, timeoutMs = 5000): Promise<FleetsResponse> {
  const url = new URL('/api/v1/fleet', server);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new Error(`cannot reach the Meridian admin API at ${url.origin}: ${cause} (is the controller running? see --server)`);
  }
  if (!res.ok) throw new Error(`${url.href} answered ${res.status} ${res.statusText}`);
  const body: unknown = await res.json().catch(() => undefined);
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { fleets?: unknown }).fleets))
    throw new Error(`${url.href} did not answer with a fleet list; is ${url.origin} a Meridian admin address?`);
  return body as FleetsResponse;
}
