import { AsyncLocalStorage } from 'node:async_hooks';
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { readTokenFile } from '../admin/auth/read-token-file.js';
import { FleetsResponse } from '../admin/schemas.js';

/** The token file the CLI sends its bearer token from, and which setting named it (for errors). */
export interface AdminCredentials {
  readonly tokenFile?: string;
  readonly setting: string;
}

/**
 * The command being run's credentials, set once by runCli around the whole command: every request
 * of every subcommand carries the token without each command passing it along. Scoped to that call,
 * so two commands run side by side (tests) each see their own.
 */
const credentials = new AsyncLocalStorage<AdminCredentials>();

export function withAdminCredentials<T>(c: AdminCredentials, run: () => Promise<T>): Promise<T> {
  return credentials.run(c, run);
}

/** The Authorization header from the token file (read at each request, as the controller's may rotate); none without a file. */
async function authorization(): Promise<Record<string, string>> {
  const c = credentials.getStore();
  if (!c?.tokenFile) return {};
  const read = await readTokenFile(c.tokenFile, 'admin');
  if (!read.ok) throw new Error(`${c.setting}: ${read.error}`);
  const [only, ...more] = read.value.tokens;
  if (!only || more.length) throw new Error(`${c.setting}: ${c.tokenFile} holds ${read.value.tokens.length} tokens (${read.value.tokens.map((t) => t.name).join(', ')}); give the CLI a file with only yours`);
  return { authorization: `Bearer ${only.token}` };
}

/** GETs a JSON document from a running controller's admin API; errors say what to check. */
export async function getJson<S extends TSchema>(server: string, path: string, schema: S, timeoutMs = 5000): Promise<Static<S>> {
  return requestJson('GET', server, path, schema, timeoutMs);
}

/** POSTs to the admin API (an operator's command) and returns the JSON answer. */
export async function postJson<S extends TSchema>(server: string, path: string, schema: S, timeoutMs = 10_000): Promise<Static<S>> {
  return requestJson('POST', server, path, schema, timeoutMs);
}

/** The API's URL for `path`; a name of "." or ".." would make it another resource's. */
function urlOf(server: string, path: string): URL {
  if (path.split('?')[0]?.split('/').some((segment) => segment === '.' || segment === '..')) throw new Error(`"." and ".." are not names (asked for ${path})`);
  let base: URL;
  try {
    base = new URL(server);
  } catch {
    throw new Error(`--server "${server}" is not a URL (such as http://127.0.0.1:9181)`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`--server "${server}" is not an http(s) URL (such as http://127.0.0.1:9181)`);
  return new URL(path, base);
}

function causeOf(e: unknown): string {
  return e instanceof Error && e.cause instanceof Error ? e.cause.message : e instanceof Error ? e.message : String(e);
}

async function requestJson<S extends TSchema>(method: 'GET' | 'POST', server: string, path: string, schema: S, timeoutMs: number): Promise<Static<S>> {
  const url = urlOf(server, path);
  const headers = await authorization();
  const signal = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    // Never followed: a redirected POST comes back a GET, and the command would look done.
    res = await fetch(url, { method, signal, redirect: 'manual', headers: { accept: 'application/json', ...headers } });
  } catch (e) {
    throw new Error(`cannot reach the Meridian admin API at ${url.origin}: ${causeOf(e)} (is the controller running? see --server)`);
  }
  if (res.status >= 300 && res.status < 400) {
    throw new Error(`${url.href} answered ${res.status}, a redirect to ${res.headers.get('location') ?? '(nowhere)'}: the admin API never redirects; give --server the controller's admin address`);
  }
  const body: unknown = await res.json().catch(() => undefined);
  if (signal.aborted) throw new Error(`${url.href} timed out after ${timeoutMs} ms without a complete answer`);
  if (!res.ok) {
    const message = typeof body === 'object' && body !== null && 'message' in body ? String(body.message) : res.statusText;
    throw new Error(`${url.pathname} answered ${res.status}: ${message}`);
  }
  if (typeof body !== 'object' || body === null) throw new Error(`${url.href} did not answer with JSON; is ${url.origin} a Meridian admin address?`);
  if (!Value.Check(schema, body)) {
    const first = Value.Errors(schema, body).First();
    throw new Error(`${url.href} answered JSON that is not the admin API's (${first ? `${first.path || '/'}: ${first.message}` : 'wrong shape'}); is ${url.origin} a Meridian admin address of this version?`);
  }
  return body;
}

export async function fetchFleets(server: string): Promise<FleetsResponse> {
  return getJson(server, '/api/v1/fleet', FleetsResponse);
}
