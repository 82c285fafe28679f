// The admin API as the page uses it: the viewer's token (sessionStorage, this tab only) on every request.

const TOKEN_KEY = 'meridian.adminToken';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) ?? '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders() {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function answer(res) {
  const body = await res.json().catch(() => undefined);
  if (!res.ok) throw new ApiError(res.status, body?.message ?? `HTTP ${res.status}`);
  return body;
}

export async function getJson(path) {
  return answer(await fetch(path, { headers: { accept: 'application/json', ...authHeaders() }, cache: 'no-store' }));
}

/** POST /api/v1/<kind>/<namespace>/<name>/<verb>: the object as it is after the command. */
export async function command(kind, namespace, name, verb) {
  const path = `/api/v1/${kind}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${verb}`;
  return answer(await fetch(path, { method: 'POST', headers: { accept: 'application/json', ...authHeaders() } }));
}
