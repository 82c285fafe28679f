import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Result } from '../model/result.js';
import type { BuildBehaviour } from './build-behaviour.js';
import { parseAddSessions, parseBuildBehaviour, parseFault, parseRestart, parseShutdown, parseVersion, type InputError } from './control-input.js';
import type { Fault } from './fault.js';
import { CONTROL_BODY_LIMIT_BYTES, methodNotAllowed, readJsonBody, sendJson } from './http-util.js';
import type { TctlNode, TctlProxy } from './inventory.js';
import { PeeringHooks, type PeeringHookFleet } from './peering-hooks.js';
import { routePeering, type PeeringControl } from './peering-routes.js';
import type { AuthView } from './sim-auth.js';
import type { AddSessions, ProxyView, ShutdownMode } from './sim-proxy.js';
import { UpgradeHook, type HookFleet } from './upgrade-hook.js';

/** The fleet operations behind the control API. Every `name` has been checked to exist. */
export interface FleetControl extends HookFleet, PeeringHookFleet, PeeringControl {
  listProxies(): readonly ProxyView[];
  proxyView(name: string): ProxyView | undefined;
  shutdown(name: string, mode: ShutdownMode): Result<ProxyView, string>;
  restart(name: string, change: { version?: string; gitref?: string }): Promise<Result<ProxyView, string>>;
  setFault(name: string, fault: Fault): ProxyView;
  addSessions(name: string, req: AddSessions): Result<ProxyView, string>;
  /** Whether new sessions reach the proxy (a load balancer's registration). */
  setRotation(name: string, inRotation: boolean): ProxyView;
  nodesInventory(): readonly TctlNode[];
  proxiesInventory(): readonly TctlProxy[];
  /** Build behaviours by version; a proxy shows the one of the version it runs. */
  listBuilds(): Readonly<Record<string, BuildBehaviour>>;
  buildOf(version: string): BuildBehaviour | undefined;
  setBuild(version: string, behaviour: BuildBehaviour): BuildBehaviour;
  /** False when the version had no behaviour. */
  deleteBuild(version: string): boolean;
  /** The simulated time (epoch ms) and how many simulated ms pass per real ms (0: only explicit steps move it). */
  clockReading(): { readonly now: number; readonly timeFactor: number };
  /** Undefined when the fleet has no Auth Service. */
  authView(): AuthView | undefined;
  restartAuth(change: { version?: string; gitref?: string }): Promise<Result<AuthView, string> | undefined>;
}

type Action = 'shutdown' | 'restart' | 'fault' | 'sessions';
const ACTIONS: readonly Action[] = ['shutdown', 'restart', 'fault', 'sessions'];

function isAction(s: string): s is Action {
  return (ACTIONS as readonly string[]).includes(s);
}

function inputError(res: ServerResponse, e: InputError): void {
  sendJson(res, 400, { error: e.message, field: e.field });
}

function decodeSegments(path: string): string[] | undefined {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

async function runAction(fleet: FleetControl, name: string, action: Action, body: unknown, res: ServerResponse): Promise<void> {
  const reply = (r: Result<ProxyView, string>): void => (r.ok ? sendJson(res, 200, r.value) : sendJson(res, 409, { error: r.error }));
  switch (action) {
    case 'shutdown': {
      const input = parseShutdown(body);
      return input.ok ? reply(fleet.shutdown(name, input.value.mode)) : inputError(res, input.error);
    }
    case 'restart': {
      const input = parseRestart(body);
      return input.ok ? reply(await fleet.restart(name, input.value)) : inputError(res, input.error);
    }
    case 'fault': {
      const input = parseFault(body);
      return input.ok ? sendJson(res, 200, fleet.setFault(name, input.value)) : inputError(res, input.error);
    }
    case 'sessions': {
      const input = parseAddSessions(body);
      return input.ok ? reply(fleet.addSessions(name, input.value)) : inputError(res, input.error);
    }
  }
}

async function routeBuild(fleet: FleetControl, rawVersion: string, method: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const allowed = 'GET, PUT, DELETE';
  if (method !== 'GET' && method !== 'PUT' && method !== 'DELETE') return methodNotAllowed(res, method, path, allowed);
  const version = parseVersion(rawVersion);
  if (!version.ok) return inputError(res, version.error);
  const v = version.value;
  switch (method) {
    case 'GET': {
      const b = fleet.buildOf(v);
      return b ? sendJson(res, 200, b) : sendJson(res, 404, { error: `no build behaviour for version "${v}"` });
    }
    case 'DELETE':
      return fleet.deleteBuild(v) ? sendJson(res, 200, { version: v, deleted: true }) : sendJson(res, 404, { error: `no build behaviour for version "${v}"` });
    case 'PUT': {
      const body = await readJsonBody(req, CONTROL_BODY_LIMIT_BYTES);
      if (!body.ok) return inputError(res, { field: 'body', message: `body: ${body.error}` });
      const input = parseBuildBehaviour(body.value);
      return input.ok ? sendJson(res, 200, fleet.setBuild(v, input.value)) : inputError(res, input.error);
    }
  }
}

const NO_AUTH = 'this fleet has no Auth Service (spec.auth.diagnosticUrls)';

/** GET /auth: its view; POST /auth/restart {version?, gitref?}: restarts it, as another version when given. */
async function routeAuth(fleet: FleetControl, action: 'restart' | undefined, method: string, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (action === undefined) {
    if (method !== 'GET') return methodNotAllowed(res, method, path, 'GET');
    const view = fleet.authView();
    return view ? sendJson(res, 200, view) : sendJson(res, 404, { error: NO_AUTH });
  }
  if (method !== 'POST') return methodNotAllowed(res, method, path, 'POST');
  const body = await readJsonBody(req, CONTROL_BODY_LIMIT_BYTES);
  if (!body.ok) return inputError(res, { field: 'body', message: `body: ${body.error}` });
  const input = parseRestart(body.value);
  if (!input.ok) return inputError(res, input.error);
  const r = await fleet.restartAuth(input.value);
  if (!r) return sendJson(res, 404, { error: NO_AUTH });
  return r.ok ? sendJson(res, 200, r.value) : sendJson(res, 409, { error: r.error });
}

interface Hooks {
  readonly upgrade: UpgradeHook;
  readonly peering: PeeringHooks;
}

async function route(fleet: FleetControl, hooks: Hooks, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const seg = decodeSegments(path);
  if (!seg) return sendJson(res, 400, { error: `path ${path} is not valid percent-encoding` });
  const [root, second, third, ...rest] = seg;

  if (root === 'hooks' && third === undefined && (second === 'upgrade' || second === 'cluster-networking' || second === 'peer-allow-list')) {
    if (method !== 'POST') return methodNotAllowed(res, method, path, 'POST');
    if (second === 'upgrade') return hooks.upgrade.handle(req, res);
    if (second === 'cluster-networking') return hooks.peering.clusterNetworking(req, res);
    return hooks.peering.allowList(req, res);
  }
  const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  if (await routePeering(fleet, { method, path, seg, query, req, res })) return;
  if (root === 'inventory' && (second === 'nodes' || second === 'proxies') && third === undefined) {
    if (method !== 'GET') return methodNotAllowed(res, method, path, 'GET');
    return sendJson(res, 200, second === 'nodes' ? fleet.nodesInventory() : fleet.proxiesInventory());
  }
  if (root === 'clock' && second === undefined) {
    if (method !== 'GET') return methodNotAllowed(res, method, path, 'GET');
    return sendJson(res, 200, fleet.clockReading());
  }
  if (root === 'auth' && (second === undefined || (second === 'restart' && third === undefined))) return routeAuth(fleet, second, method, path, req, res);
  if (root === 'builds' && second === undefined) {
    if (method !== 'GET') return methodNotAllowed(res, method, path, 'GET');
    return sendJson(res, 200, fleet.listBuilds());
  }
  if (root === 'builds' && second !== undefined && third === undefined) return routeBuild(fleet, second, method, path, req, res);
  if (root === 'proxies' && second === undefined) {
    if (method !== 'GET') return methodNotAllowed(res, method, path, 'GET');
    return sendJson(res, 200, fleet.listProxies());
  }
  if (root === 'proxies' && second !== undefined && rest.length === 0) {
    const view = fleet.proxyView(second);
    if (!view) return sendJson(res, 404, { error: `no proxy named "${second}"` });
    if (third === undefined) {
      if (method !== 'GET') return methodNotAllowed(res, method, path, 'GET');
      return sendJson(res, 200, view);
    }
    if (!isAction(third)) return sendJson(res, 404, { error: `no action "${third}" (known: ${ACTIONS.join(', ')})` });
    if (method !== 'POST') return methodNotAllowed(res, method, path, 'POST');
    const body = await readJsonBody(req, CONTROL_BODY_LIMIT_BYTES);
    if (!body.ok) return inputError(res, { field: 'body', message: `body: ${body.error}` });
    return runAction(fleet, second, third, body.value, res);
  }
  sendJson(res, 404, { error: `no route for ${method} ${path}` });
}

export interface ControlOptions {
  /** Key for X-Meridian-Signature on the POST /hooks/* requests; absent = not checked. */
  readonly hookSecret: string | undefined;
  readonly log: Logger | undefined;
}

/**
 * The simulator's control API (tests and the hooks; `/builds/:version` sets a build's
 * behaviour, GET, PUT or DELETE; `GET /clock` the simulated time a controller follows;
 * `/auth` the Auth Service; the peering routes are in peering-routes.ts): JSON in and
 * out, 400 naming the bad field, 401 for a hook request whose signature fails, 404 for an
 * unknown proxy, node or route, 409 when the fleet's state forbids the action.
 */
export function createControlHandler(fleet: FleetControl, { hookSecret, log }: ControlOptions): RequestListener {
  const now = (): number => Date.now();
  const hooks: Hooks = {
    upgrade: new UpgradeHook(fleet, { secret: hookSecret, now, log }),
    peering: new PeeringHooks(fleet, { secret: hookSecret, now, log }),
  };
  return (req, res) => {
    route(fleet, hooks, req, res).catch((e: unknown) => {
      log?.error({ err: e, method: req.method, url: req.url }, 'Control request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'Internal Server Error' });
      else res.destroy();
    });
  };
}
