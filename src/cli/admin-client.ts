import type { FleetsResponse } from '../admin/schemas.js';

/** GETs a JSON document from a running controller's admin API; errors say what to check. */
export async function getJson<T>(server: string, path: string, timeoutMs = 5000): Promise<T> {
  return requestJson<T>('GET', server, path, timeoutMs);
}

/** POSTs to the admin API (an operator's command) and returns the JSON answer. */
export async function postJson<T>(server: string, path: string, timeoutMs = 10_000): Promise<T> {
  return requestJson<T>('POST', server, path, timeoutMs);
}

async function requestJson<T>(method: 'GET' | 'POST', server: string, path: string, timeoutMs: number): Promise<T> {
  const url = new URL(path, server);
  let res: Response;
  try {
    res = await fetch(url, { method, signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } });
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
    throw new Error(`cannot reach the Meridian admin API at ${url.origin}: ${cause} (is the controller running? see --server)`);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const message = typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : res.statusText;
    throw new Error(`${url.pathname} answered ${res.status}: ${message}`);
  }
  if (typeof body !== 'object' || body === null) throw new Error(`${url.href} did not answer with JSON; is ${url.origin} a Meridian admin address?`);
  return body as T;
}

export async function fetchFleets(server: string): Promise<FleetsResponse> {
  const body = await getJson<Partial<FleetsResponse>>(server, '/api/v1/fleet');
  if (!Array.isArray(body.fleets)) throw new Error(`${server} did not answer with a fleet list; is it a Meridian admin address?`);
  return body as FleetsResponse;
}
