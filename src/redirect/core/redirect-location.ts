/**
 * The Location of a login redirect: always the proxy's configured origin, plus the path and
 * query the client asked for when they are a plain deep link. Nothing in the request can
 * change the scheme, host or port, or smuggle a header; anything suspicious becomes "/".
 */

/** Query parameters that steer Meridian itself and mean nothing to the proxy. */
export const REDIRECT_CONTROL_PARAMS: readonly string[] = Object.freeze(['region']);

/** Longer request targets are not deep links anyone typed; send them to the login page. */
export const MAX_REDIRECT_TARGET_LENGTH = 4096;

// Controls (C0, DEL) — raw or once decoded — could split headers or be stripped by a parser into something else.
const CONTROL = /[\u0000-\u001f\u007f]/;
const SEPARATOR = /[/\\]/;
// Origin-relative, and not "//x" or "/\x": those are protocol-relative URLs in disguise, never deep links.
const ORIGIN_RELATIVE = /^[/\\](?![/\\])/;
const PLUS = /\+/g;

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined; // malformed escape: treated as hostile by the callers
  }
}

/**
 * Normalises the path: `\` counts as `/` (as browsers read it), empty segments collapse,
 * dot segments resolve at the root. Returns undefined for paths that are not plain deep
 * links: a leading `//` or `/\`, encoded separators or controls, bad escapes, or a scheme
 * (`/http:…`, `/https:evil`) as the first segment.
 */
export function normalisePath(path: string): string | undefined {
  if (!ORIGIN_RELATIVE.test(path)) return undefined;
  const out: string[] = [];
  const segments = path.split(SEPARATOR);
  for (const seg of segments) {
    if (seg === '') continue;
    const decoded = decode(seg);
    if (decoded === undefined || CONTROL.test(decoded) || SEPARATOR.test(decoded)) return undefined;
    if (decoded === '.') continue;
    if (decoded === '..') {
      out.pop();
      continue;
    }
    out.push(seg);
  }
  const first = out[0] === undefined ? undefined : decode(out[0]);
  if (first?.includes(':')) return undefined;
  const last = segments[segments.length - 1];
  const trailingSlash = out.length > 0 && (last === '' || last === '.' || last === '..');
  return `/${out.join('/')}${trailingSlash ? '/' : ''}`;
}

/** Case-insensitive: `?REGION=` must not slip through to the proxy. */
function isControlParam(name: string, drop: readonly string[]): boolean {
  const n = name.toLowerCase();
  return drop.some((d) => d.toLowerCase() === n);
}

/** Keeps the query's own encoding for parameters that pass; drops control params and any pair with controls or bad escapes. */
export function filterQuery(query: string, drop: readonly string[] = REDIRECT_CONTROL_PARAMS): string {
  const kept: string[] = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode((eq < 0 ? pair : pair.slice(0, eq)).replace(PLUS, ' '));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1).replace(PLUS, ' '));
    if (name === undefined || value === undefined) continue;
    if (CONTROL.test(pair) || CONTROL.test(name) || CONTROL.test(value)) continue;
    if (isControlParam(name, drop)) continue;
    kept.push(pair);
  }
  return kept.join('&');
}

// What the WHATWG URL serialiser leaves as it is in an http(s) path, and in a query (where it
// encodes "'"). "%" only comes as valid escapes: normalisePath and filterQuery drop the rest.
// A deep link made only of these is concatenated; anything else goes through URL.
const KEPT_IN_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*$/;
const KEPT_IN_QUERY = /^[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*$/;

/**
 * The origin of a proxy's configured public URL, with nothing else of it (no user, password,
 * path, query or fragment). Throws when `publicUrl` is not an http(s) URL (a configuration
 * bug the fleet schema already rules out).
 */
export function proxyOrigin(publicUrl: string): string {
  const configured = new URL(publicUrl);
  if (configured.protocol !== 'https:' && configured.protocol !== 'http:') throw new TypeError(`public URL "${publicUrl}" is not http(s)`);
  return configured.origin;
}

/**
 * `https://tokyo-1.proxy.example.com` + `/web/cluster/main/nodes?foo=bar&region=tokyo`
 * → `https://tokyo-1.proxy.example.com/web/cluster/main/nodes?foo=bar`.
 * Throws only when `publicUrl` itself is not an http(s) URL (see proxyOrigin).
 */
export function buildLocation(publicUrl: string, rawPathAndQuery: string, dropParams: readonly string[] = REDIRECT_CONTROL_PARAMS): string {
  return locationAt(proxyOrigin(publicUrl), rawPathAndQuery, dropParams);
}

/**
 * As buildLocation, on an origin from proxyOrigin (the request path computes it once per proxy).
 */
export function locationAt(origin: string, rawPathAndQuery: string, dropParams: readonly string[] = REDIRECT_CONTROL_PARAMS): string {
  return `${origin}${redirectSuffix(rawPathAndQuery, dropParams)}`;
}

// The scheme and authority of an absolute-form request target (`GET http://host/path HTTP/1.1`).
const ABSOLUTE_FORM = /^https?:\/\/[^/?#\\]*/i;

/**
 * The origin-form of a request target: HTTP/1.1 servers must accept the absolute form too
 * (RFC 9112, 3.2.2), whose host is not the Location's either way; only its path and query count.
 */
export function originForm(target: string): string {
  const authority = ABSOLUTE_FORM.exec(target);
  if (authority === null) return target;
  const rest = target.slice(authority[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

// Any http(s) origin serialises a path and query alike; this one only frames them for URL.
const FRAME = 'https://frame.invalid';

/**
 * What a login redirect keeps of the request target, to follow a proxy's origin: the
 * normalised path and the filtered query, always starting with a single "/"; "/" alone for
 * anything that is not a plain deep link. The same for every proxy, so it can be remembered
 * per target.
 */
export function redirectSuffix(rawPathAndQuery: string, dropParams: readonly string[] = REDIRECT_CONTROL_PARAMS): string {
  if (rawPathAndQuery.length > MAX_REDIRECT_TARGET_LENGTH || CONTROL.test(rawPathAndQuery)) return '/';

  // A fragment never belongs to a request target; drop it rather than guess.
  const hash = rawPathAndQuery.indexOf('#');
  const target = originForm(hash < 0 ? rawPathAndQuery : rawPathAndQuery.slice(0, hash));
  const q = target.indexOf('?');
  const path = normalisePath(q < 0 ? target : target.slice(0, q));
  if (path === undefined) return '/';
  const query = q < 0 ? '' : filterQuery(target.slice(q + 1), dropParams);

  if (path === '/' && query === '') return '/';
  // What URL would give, without building one: the path starts with a single "/" (normalisePath
  // saw to that), and neither part holds a control, a backslash, "#" or anything URL re-encodes.
  if (KEPT_IN_PATH.test(path) && KEPT_IN_QUERY.test(query)) return query === '' ? path : `${path}?${query}`;
  const url = new URL(FRAME);
  url.pathname = path;
  if (query !== '') url.search = `?${query}`;
  const href = url.href;
  // Belt and braces: the setters above cannot move the origin, but this is the one property that matters.
  if (url.origin !== FRAME || !href.startsWith(`${FRAME}/`) || CONTROL.test(href)) return '/';
  return href.slice(FRAME.length);
}
