import assert from 'node:assert/strict';

const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
/** A time written into a text (a notice's "Tue 2026-01-06 21:39 GMT+9 (2026-01-06 12:39 UTC)"). */
const TIME_IN_TEXT = /((Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?\d{4}-\d\d-\d\d[ T]\d\d:\d\d(:\d\d(\.\d+)?)?( ?(Z|UTC|[A-Z]{2,5}([+-]\d{1,2}(:\d\d)?)?))?/g;

/** What the simulator's traffic decides in a run's status (a rollout's, or a canary's deploy and revert): session counts. */
export const RUN_MEASURED = ['sessionsCut', 'proxies.*.sessionsCut', 'proxies.*.sessionsAtOut', 'proxies.*.sessionsLeft'] as const;
/** Keys whose values name who or which attempt, not what: different in every run by design. */
const IDENTITY_KEYS = new Set(['id', 'hookId', 'uid', 'resourceVersion', 'identity', 'holderIdentity']);

/**
 * A status as two runs of the same manifests must agree on it: every timestamp (a string that is
 * an RFC 3339 time; a time inside a text is masked) and identity left out, and the fields the
 * caller names as measured (by dotted path, `*` for any key or index) left out too, since the
 * simulator's traffic is not the same from run to run. What remains is what the controller
 * decided and did.
 */
export function endState(status: unknown, measured: readonly string[] = []): unknown {
  const drop = measured.map((p) => p.split('.'));
  const walk = (v: unknown, path: readonly string[]): unknown => {
    if (typeof v === 'string') return TIME.test(v) ? undefined : v.replace(TIME_IN_TEXT, '<time>');
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, String(i)])).filter((x) => x !== undefined);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const at = [...path, k];
      if (IDENTITY_KEYS.has(k) || drop.some((d) => d.length === at.length && d.every((s, i) => s === '*' || s === at[i]))) continue;
      const w = walk(x, at);
      if (w !== undefined) out[k] = w;
    }
    return out;
  };
  return walk(status, []);
}

/** Leaves as `path = value` lines, for a failure message that names what differs. */
function leaves(v: unknown, path = ''): Map<string, string> {
  const out = new Map<string, string>();
  if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) for (const [p, s] of leaves(x, path ? `${path}.${k}` : k)) out.set(p, s);
  else out.set(path, JSON.stringify(v));
  return out;
}

/**
 * The end state of a Kubernetes-mode run equals the standalone run's (see endState). A namespace
 * named in a text (`<namespace>/<name>`) is compared without it: the runs use their own.
 */
export function assertSameEndState(kubernetes: unknown, standalone: unknown, what: string, measured: readonly string[] = []): void {
  const unNamespaced = (v: unknown) => JSON.parse(JSON.stringify(endState(v, measured) ?? null).replace(/\b(meridian|default)\//g, '')) as unknown;
  const [k, s] = [leaves(unNamespaced(kubernetes)), leaves(unNamespaced(standalone))];
  const differ = [...new Set([...k.keys(), ...s.keys()])].filter((p) => k.get(p) !== s.get(p));
  assert.deepEqual(
    differ.map((p) => `${p}: ${k.get(p) ?? '(none)'} in Kubernetes mode, ${s.get(p) ?? '(none)'} standalone`),
    [],
    `${what}: Kubernetes mode across a leader change ends as standalone mode does`,
  );
}
