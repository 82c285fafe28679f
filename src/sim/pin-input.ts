import { ok, type Result } from '../model/result.js';
import type { InputError } from './control-input.js';
import { bad, objectAt, textAt } from './input-fields.js';

/**
 * `PUT /nodes/:node/tunnels` body `{"proxies": [...]}`: distinct fleet proxy names. An empty
 * list is allowed: it cuts the node off (no tunnel at all).
 */
export function parsePinTunnels(body: unknown, isProxy: (name: string) => boolean): Result<readonly string[], InputError> {
  const f = objectAt(body, 'body', ['proxies']);
  if (!f.ok) return f;
  const raw = f.value['proxies'];
  if (raw === undefined) return bad('proxies', 'is required (a list of proxy names)');
  if (!Array.isArray(raw)) return bad('proxies', `must be a list of proxy names, got ${JSON.stringify(raw)}`);
  const names: string[] = [];
  for (const [i, v] of raw.entries()) {
    const field = `proxies[${i}]`;
    const name = textAt(v, field);
    if (!name.ok) return name;
    if (!isProxy(name.value)) return bad(field, `no proxy named ${JSON.stringify(name.value)}`);
    if (names.includes(name.value)) return bad(field, `repeats ${JSON.stringify(name.value)} (a node holds one tunnel per proxy)`);
    names.push(name.value);
  }
  return ok(names);
}
