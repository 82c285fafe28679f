import type { Proxy } from '../../model/fleet.js';
import { err, ok, type Result } from '../../model/result.js';
import type { PeerNode } from './peering-input.js';

/** A node inventory read and mapped onto the fleet. */
export interface Inventory {
  readonly nodes: readonly PeerNode[];
  /** Teleport proxies (host id → hostname) that are not fleet proxies: tunnels there are not counted. */
  readonly outsideFleet: readonly string[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseArray(text: string, source: string): Result<Json[], string> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return err(`${source}: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  // tctl prints a list; a single resource comes as an object.
  if (isObject(v)) return ok([v]);
  if (!Array.isArray(v)) return err(`${source}: expected a JSON list of resources, got ${v === null ? 'null' : typeof v}`);
  return ok(v as Json[]);
}

function text(o: Record<string, Json>, path: string): string | undefined {
  let cur: Json | undefined = o;
  for (const k of path.split('.')) cur = isObject(cur) ? cur[k] : undefined;
  return typeof cur === 'string' && cur.length ? cur : undefined;
}

const hostOf = (addr: string): string => {
  try {
    return new URL(addr.includes('://') ? addr : `https://${addr}`).hostname;
  } catch {
    return addr;
  }
};

/** `spec.public_addrs` (Teleport's ServerSpecV2 field 13), else the `spec.public_addr` of versions before it. */
function publicAddrs(o: Record<string, Json>): string[] {
  const spec = o['spec'];
  const list = isObject(spec) ? spec['public_addrs'] : undefined;
  if (Array.isArray(list)) return list.filter((a): a is string => typeof a === 'string' && a.length > 0);
  const one = text(o, 'spec.public_addr');
  return one ? [one] : [];
}

/**
 * `tctl get proxies --format=json` → host id to fleet proxy name: by `spec.hostname` equal to the
 * proxy's name, else by a host of `spec.public_addrs` (or the older `spec.public_addr`) equal to
 * its public URL's host. Host ids of proxies that are not in the fleet map to undefined.
 */
export function parseProxies(body: string, source: string, fleet: readonly Proxy[]): Result<Map<string, string | undefined>, string> {
  const list = parseArray(body, source);
  if (!list.ok) return list;
  const byName = new Set(fleet.map((p) => p.name));
  const byHost = new Map(fleet.map((p) => [hostOf(p.publicUrl), p.name]));
  const out = new Map<string, string | undefined>();
  for (const [i, item] of list.value.entries()) {
    if (!isObject(item)) return err(`${source}: item ${i} is not an object`);
    const id = text(item, 'metadata.name');
    if (!id) return err(`${source}: item ${i} has no metadata.name (the proxy's host id)`);
    const hostname = text(item, 'spec.hostname');
    const byAddr = publicAddrs(item).map((a) => byHost.get(hostOf(a))).find((n) => n !== undefined);
    out.set(id, hostname && byName.has(hostname) ? hostname : byAddr);
  }
  return ok(out);
}

/**
 * The peer address each heartbeating fleet proxy advertises (`spec.peer_addr`, set only while its
 * peer listener runs: a proxy started under proxy_peering with peer_public_addr), '' for none.
 * Proxies missing from the inventory are not in the map: nothing is known of them.
 */
export function parsePeerAddrs(body: string, source: string, proxyOf: ReadonlyMap<string, string | undefined>): Result<Map<string, string>, string> {
  const list = parseArray(body, source);
  if (!list.ok) return list;
  const out = new Map<string, string>();
  for (const item of list.value) {
    if (!isObject(item)) continue;
    const name = proxyOf.get(text(item, 'metadata.name') ?? '');
    // Of two records of one proxy (a reinstall), one with a listener counts.
    if (name && !out.get(name)) out.set(name, text(item, 'spec.peer_addr') ?? '');
  }
  return ok(out);
}

/**
 * `tctl get nodes --format=json` → nodes with their tunnels as fleet proxy names. A node without
 * `spec.proxy_ids` is Unknown (no `proxies`), never guessed. A proxy id that is not in the proxies
 * inventory at all means the two reads disagree: the whole read is refused, so the last good
 * one stays.
 */
export function parseNodes(body: string, source: string, proxyOf: ReadonlyMap<string, string | undefined>, regionLabel: string): Result<Inventory, string> {
  const list = parseArray(body, source);
  if (!list.ok) return list;
  const nodes: PeerNode[] = [];
  const outside = new Set<string>();
  const seen = new Set<string>();
  for (const [i, item] of list.value.entries()) {
    if (!isObject(item)) return err(`${source}: item ${i} is not an object`);
    const id = text(item, 'metadata.name');
    if (!id) return err(`${source}: item ${i} has no metadata.name`);
    if (seen.has(id)) return err(`${source}: node ${id} appears twice`);
    seen.add(id);
    const spec = isObject(item['spec']) ? item['spec'] : {};
    const labels = isObject(item['metadata']) && isObject(item['metadata']['labels']) ? item['metadata']['labels'] : {};
    const region = typeof labels[regionLabel] === 'string' && labels[regionLabel] ? (labels[regionLabel] as string) : undefined;
    const hostname = typeof spec['hostname'] === 'string' ? spec['hostname'] : id;
    const ids = spec['proxy_ids'];
    const base = { id, hostname, ...(region ? { region } : {}) };
    if (ids === undefined || ids === null || (Array.isArray(ids) && ids.length === 0)) {
      nodes.push(base);
      continue;
    }
    if (!Array.isArray(ids) || !ids.every((x): x is string => typeof x === 'string')) return err(`${source}: node ${id} (${hostname}): spec.proxy_ids is not a list of strings`);
    const proxies: string[] = [];
    for (const pid of ids) {
      if (!proxyOf.has(pid)) return err(`${source}: node ${id} (${hostname}) has a tunnel to proxy id ${pid}, which the proxies inventory does not list`);
      const name = proxyOf.get(pid);
      if (name) proxies.push(name);
      else outside.add(pid);
    }
    nodes.push({ ...base, proxies });
  }
  return ok({ nodes, outsideFleet: [...outside].sort() });
}
