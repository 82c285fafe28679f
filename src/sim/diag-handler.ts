import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProcessState } from '../model/snapshot.js';
import { HTML_PAGE, GARBAGE_PAGE, type Fault, type FaultPages } from './fault.js';
import { sendJson, sendText } from './http-util.js';
import { METRICS_CONTENT_TYPE } from './metrics-page.js';
import { servePprof, type PprofView } from './pprof.js';

/** What the diagnostic address needs from a running proxy. */
export interface DiagTarget {
  readonly fault: Fault;
  readonly pid: number;
  processState(): ProcessState;
  metricsPage(): string;
  /** What /debug/pprof/ shows; undefined unless the build runs with --debug (then 404, as Teleport). */
  pprof(): PprofView | undefined;
  /** Runs `fn` after `ms` real milliseconds unless the process stops first. */
  defer(fn: () => void, ms: number): void;
}

/** Teleport's /readyz replies (lib/service/state.go). */
const READINESS: Readonly<Record<ProcessState, { readonly code: number; readonly status: string }>> = {
  ok: { code: 200, status: 'ok' },
  recovering: { code: 400, status: 'teleport is recovering from a degraded state, check logs for details' },
  starting: { code: 400, status: "teleport is starting and hasn't joined the cluster yet" },
  degraded: { code: 503, status: 'teleport is in a degraded state, check logs for details' },
};

function serveMetrics(target: DiagTarget, pages: FaultPages, res: ServerResponse): void {
  switch (target.fault.mode) {
    case 'garbage':
      return sendText(res, 200, METRICS_CONTENT_TYPE, GARBAGE_PAGE);
    case 'oversized': {
      const body = Buffer.concat([Buffer.from(target.metricsPage()), pages.oversizedPadding()]);
      return sendText(res, 200, METRICS_CONTENT_TYPE, body);
    }
    case 'wrong_content_type':
      return sendText(res, 200, 'text/html; charset=utf-8', HTML_PAGE);
    // Only /metrics fails: health and readiness still answer, as when the metrics handler alone breaks.
    case 'http_500':
      return sendText(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error\n');
    default:
      return sendText(res, 200, METRICS_CONTENT_TYPE, target.metricsPage());
  }
}

function respond(target: DiagTarget, pages: FaultPages, path: string, query: string, res: ServerResponse): void {
  if (path === '/debug/pprof' || path.startsWith('/debug/pprof/')) {
    const view = target.pprof();
    if (view) return servePprof(view, path, new URLSearchParams(query), res);
  }
  switch (path) {
    case '/metrics':
      return serveMetrics(target, pages, res);
    case '/healthz':
      return sendJson(res, 200, { status: 'ok' });
    case '/readyz': {
      const r = READINESS[target.processState()];
      return sendJson(res, r.code, { status: r.status, pid: target.pid });
    }
    default:
      // Go's http.NotFound.
      return sendText(res, 404, 'text/plain; charset=utf-8', '404 page not found\n');
  }
}

/** Serves one request on a proxy's diagnostic address (Teleport's --diag-addr). */
export function serveDiagnostics(target: DiagTarget, pages: FaultPages, req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q + 1);
  const { mode, delayMs = 0 } = target.fault;
  if (mode === 'slow' && delayMs > 0) target.defer(() => respond(target, pages, path, query, res), delayMs);
  else respond(target, pages, path, query, res);
}
