import { ok, type Result } from '../model/result.js';
import type { InputError } from './control-input.js';
import { bad, hostPortAt, integerAt, literalAt, objectAt, textAt } from './input-fields.js';

/** One opening in the firewall between proxy sites: `from` may dial `to`'s peer address. */
export interface PeerRule {
  readonly from: string;
  readonly to: string;
  readonly toAddress: string;
  /** Meridian's name for the region link the rule serves (informational). */
  readonly link?: string;
}

/** The whole set of cross-site peer openings, as Meridian hands it to the firewall automation. */
export interface PeerAllowList {
  /** The ProxyPeering that made the list (informational). */
  readonly peering?: string;
  readonly generation: number;
  readonly generatedAt: string;
  readonly port: number;
  readonly rules: readonly PeerRule[];
}

/** Far above any fleet (every ordered pair of 200 proxies); it only bounds the work. */
const MAX_RULES = 40_000;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

function parseRule(value: unknown, i: number, isProxy: (name: string) => boolean): Result<PeerRule, InputError> {
  const field = `rules[${i}]`;
  const f = objectAt(value, field, ['from', 'to', 'toAddress', 'link']);
  if (!f.ok) return f;
  const from = textAt(f.value['from'], `${field}.from`);
  if (!from.ok) return from;
  if (!isProxy(from.value)) return bad(`${field}.from`, `no proxy named ${JSON.stringify(from.value)}`);
  const to = textAt(f.value['to'], `${field}.to`);
  if (!to.ok) return to;
  if (!isProxy(to.value)) return bad(`${field}.to`, `no proxy named ${JSON.stringify(to.value)}`);
  if (to.value === from.value) return bad(`${field}.to`, `is the same proxy as from (${JSON.stringify(from.value)})`);
  const toAddress = hostPortAt(f.value['toAddress'], `${field}.toAddress`, true);
  if (!toAddress.ok) return toAddress;
  const link = f.value['link'] === undefined ? ok(undefined) : textAt(f.value['link'], `${field}.link`);
  if (!link.ok) return link;
  return ok({ from: from.value, to: to.value, toAddress: toAddress.value, ...(link.value === undefined ? {} : { link: link.value }) });
}

/** `POST /hooks/peer-allow-list`; `isProxy` says whether a name is a fleet proxy. */
export function parsePeerAllowList(body: unknown, isProxy: (name: string) => boolean): Result<PeerAllowList, InputError> {
  const f = objectAt(body, 'body', ['kind', 'peering', 'generation', 'generatedAt', 'port', 'rules']);
  if (!f.ok) return f;
  const kind = literalAt(f.value['kind'], 'kind', ['PeerAllowList']);
  if (!kind.ok) return kind;
  const peering = f.value['peering'] === undefined ? ok(undefined) : textAt(f.value['peering'], 'peering');
  if (!peering.ok) return peering;
  const generation = integerAt(f.value['generation'], 'generation', 0, Number.MAX_SAFE_INTEGER);
  if (!generation.ok) return generation;
  const generatedAt = f.value['generatedAt'];
  if (generatedAt === undefined) return bad('generatedAt', 'is required');
  if (typeof generatedAt !== 'string' || !ISO_INSTANT.test(generatedAt) || Number.isNaN(Date.parse(generatedAt))) {
    return bad('generatedAt', `must be an ISO 8601 instant such as "2026-01-05T09:00:00Z", got ${JSON.stringify(generatedAt)}`);
  }
  const port = integerAt(f.value['port'], 'port', 1, 65535);
  if (!port.ok) return port;
  const rawRules = f.value['rules'];
  if (rawRules === undefined) return bad('rules', 'is required (an empty list closes every cross-site opening)');
  if (!Array.isArray(rawRules)) return bad('rules', 'must be a list of {from, to, toAddress}');
  if (rawRules.length > MAX_RULES) return bad('rules', `has ${rawRules.length} entries, more than ${MAX_RULES}`);
  const rules: PeerRule[] = [];
  for (const [i, raw] of rawRules.entries()) {
    const rule = parseRule(raw, i, isProxy);
    if (!rule.ok) return rule;
    rules.push(rule.value);
  }
  return ok({ ...(peering.value === undefined ? {} : { peering: peering.value }), generation: generation.value, generatedAt, port: port.value, rules });
}
