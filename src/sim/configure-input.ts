import { ok, type Result } from '../model/result.js';
import { parseVersion, type InputError } from './control-input.js';
import { at, bad, hostPortAt, literalAt, objectAt, textAt } from './input-fields.js';

/** A proxy's peer listener: `peer_listen_addr` and `peer_public_addr` in its teleport.yaml. */
export interface PeerListener {
  readonly listenAddr: string;
  readonly publicAddr: string;
}

/** Teleport's default peer_listen_addr. */
export const DEFAULT_PEER_LISTEN_ADDR = '0.0.0.0:3021';

/** An upgrade hook request with `"action": "configure"`: set a proxy's peer listener. */
export interface ConfigureInput {
  readonly id: string;
  readonly rollout: string;
  readonly action: 'configure';
  readonly proxy: string;
  readonly region: string;
  /** The version the proxy runs; the automation must not restart it into another. */
  readonly version: string;
  readonly peer: PeerListener;
}

const CONFIGURE_FIELDS = ['type', 'id', 'rollout', 'action', 'proxy', 'region', 'version', 'peer'];

/** Whether a parsed hook body asks for `configure` (which parseHookRequest does not know). */
export function isConfigureRequest(body: unknown): boolean {
  return typeof body === 'object' && body !== null && !Array.isArray(body) && (body as Record<string, unknown>)['action'] === 'configure';
}

export function parseConfigureRequest(body: unknown): Result<ConfigureInput, InputError> {
  const f = objectAt(body, 'body', CONFIGURE_FIELDS);
  if (!f.ok) return f;
  const type = literalAt(f.value['type'], 'type', ['meridian.hook']);
  if (!type.ok) return type;
  const id = textAt(f.value['id'], 'id');
  if (!id.ok) return id;
  const rollout = textAt(f.value['rollout'], 'rollout');
  if (!rollout.ok) return rollout;
  const action = literalAt(f.value['action'], 'action', ['configure']);
  if (!action.ok) return action;
  const proxy = textAt(f.value['proxy'], 'proxy');
  if (!proxy.ok) return proxy;
  const region = textAt(f.value['region'], 'region');
  if (!region.ok) return region;
  const rawVersion = f.value['version'];
  if (rawVersion === undefined) return bad('version', 'is required (the version the proxy runs)');
  if (typeof rawVersion !== 'string') return bad('version', `must be a release version such as "17.4.2", got ${JSON.stringify(rawVersion)}`);
  const version = parseVersion(rawVersion);
  if (!version.ok) return version;
  if (f.value['peer'] === undefined) return bad('peer', 'is required ({listenAddr, publicAddr})');
  const peer = objectAt(f.value['peer'], 'peer', ['listenAddr', 'publicAddr']);
  if (!peer.ok) return peer;
  const rawListen = peer.value['listenAddr'];
  const listenAddr = rawListen === undefined ? ok(DEFAULT_PEER_LISTEN_ADDR) : hostPortAt(rawListen, at('peer', 'listenAddr'), false);
  if (!listenAddr.ok) return listenAddr;
  const publicAddr = hostPortAt(peer.value['publicAddr'], at('peer', 'publicAddr'), true);
  if (!publicAddr.ok) return publicAddr;
  return ok({
    id: id.value,
    rollout: rollout.value,
    action: 'configure',
    proxy: proxy.value,
    region: region.value,
    version: version.value,
    peer: { listenAddr: listenAddr.value, publicAddr: publicAddr.value },
  });
}
