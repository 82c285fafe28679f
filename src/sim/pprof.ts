import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { hashString } from './prng.js';

/** What a proxy runs, by goroutine: the sum is its go_goroutines. */
export interface GoroutineLoad {
  readonly sessions: number;
  readonly tunnels: number;
  /** Goroutines a leaky build left behind since its start. */
  readonly leaked: number;
}

/** What /debug/pprof/ of one debug build shows. */
export interface PprofView {
  readonly load: GoroutineLoad;
  readonly uptimeMs: number;
  /** How long the build's leak has been running (its start, or when the behaviour was set). */
  readonly leakingMs: number;
  readonly heapAllocBytes: number;
  readonly version: string;
  readonly pid: number;
}

/** Goroutines of an idle proxy (main, listeners, timers, gRPC, watchers, the runtime). */
const BASE_GOROUTINES = 160;

type Frame = readonly [fn: string, args: string, file: string, line: number];

interface Stack {
  /** The wait reason in the header (`select`, `IO wait`, ...). */
  readonly wait: string;
  readonly frames: readonly Frame[];
  readonly createdBy: readonly [fn: string, file: string, line: number];
}

const GOROOT = '/opt/go/src';
const TP = 'github.com/gravitational/teleport';
const TP_SRC = '/go/src/github.com/gravitational/teleport';
const MOD = '/go/pkg/mod';

const netRead = (fn: string, file: string, line: number): Frame[] => [
  ['internal/poll.runtime_pollWait', '(0x7f3a2c1e5e28, 0x72)', `${GOROOT}/runtime/netpoll.go`, 345],
  ['internal/poll.(*pollDesc).wait', '(0xc000a1e080, 0xc001b4a000?, 0x0)', `${GOROOT}/internal/poll/fd_poll_runtime.go`, 84],
  ['internal/poll.(*FD).Read', '(0xc000a1e080, {0xc001b4a000, 0x8000, 0x8000})', `${GOROOT}/internal/poll/fd_unix.go`, 164],
  ['net.(*netFD).Read', '(0xc000a1e080, {0xc001b4a000?, 0x0?, 0x0?})', `${GOROOT}/net/fd_posix.go`, 55],
  ['net.(*conn).Read', '(0xc0004a6010, {0xc001b4a000?, 0x0?, 0x0?})', `${GOROOT}/net/net.go`, 179],
  [fn, '(...)', file, line],
];

const parked = (reason: string): Frame[] => [
  ['runtime.gopark', '(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)', `${GOROOT}/runtime/proc.go`, 402],
  [reason, '(...)', `${GOROOT}/runtime/${reason === 'runtime.selectgo' ? 'select.go' : 'chan.go'}`, reason === 'runtime.selectgo' ? 327 : 442],
];

const BASE: readonly Stack[] = [
  {
    wait: 'IO wait',
    frames: [
      ['internal/poll.runtime_pollWait', '(0x7f3a2c1e6108, 0x72)', `${GOROOT}/runtime/netpoll.go`, 345],
      ['internal/poll.(*FD).Accept', '(0xc000628000)', `${GOROOT}/internal/poll/fd_unix.go`, 611],
      ['net.(*TCPListener).Accept', '(0xc00061c1e0)', `${GOROOT}/net/tcpsock.go`, 327],
      ['net/http.(*Server).Serve', '(0xc0005e2000, {0x6a1b2c8, 0xc00061c1e0})', `${GOROOT}/net/http/server.go`, 3260],
    ],
    createdBy: [`${TP}/lib/service.(*TeleportProcess).initDiagnosticService`, `${TP_SRC}/lib/service/service.go`, 3301],
  },
  {
    wait: 'select',
    frames: [
      ...parked('runtime.selectgo'),
      [`${TP}/lib/utils.(*FnCache).runCleanup`, '(0xc000180d20)', `${TP_SRC}/lib/utils/fncache.go`, 118],
    ],
    createdBy: [`${TP}/lib/utils.NewFnCache`, `${TP_SRC}/lib/utils/fncache.go`, 102],
  },
  {
    wait: 'select',
    frames: [
      ...parked('runtime.selectgo'),
      ['google.golang.org/grpc/internal/transport.(*controlBuffer).get', '(0xc0007c4190, 0x1)', `${MOD}/google.golang.org/grpc@v1.64.1/internal/transport/controlbuf.go`, 418],
      ['google.golang.org/grpc/internal/transport.(*loopyWriter).run', '(0xc000a04230)', `${MOD}/google.golang.org/grpc@v1.64.1/internal/transport/controlbuf.go`, 551],
    ],
    createdBy: ['google.golang.org/grpc/internal/transport.newHTTP2Client', `${MOD}/google.golang.org/grpc@v1.64.1/internal/transport/http2_client.go`, 467],
  },
  {
    wait: 'select',
    frames: [
      ...parked('runtime.selectgo'),
      [`${TP}/lib/services.(*watcher).watch`, '(0xc000214a80)', `${TP_SRC}/lib/services/watcher.go`, 301],
      [`${TP}/lib/services.(*resourceWatcher).runWatchLoop`, '(0xc000214a80)', `${TP_SRC}/lib/services/watcher.go`, 250],
    ],
    createdBy: [`${TP}/lib/services.newResourceWatcher`, `${TP_SRC}/lib/services/watcher.go`, 183],
  },
  {
    wait: 'chan receive',
    frames: [
      ...parked('runtime.chanrecv'),
      ['runtime.chanrecv1', '(0xc00017e0c0?, 0x0?)', `${GOROOT}/runtime/chan.go`, 442],
      [`${TP}/lib/service.(*LocalSupervisor).serve.func1`, '()', `${TP_SRC}/lib/service/supervisor.go`, 321],
    ],
    createdBy: [`${TP}/lib/service.(*LocalSupervisor).serve`, `${TP_SRC}/lib/service/supervisor.go`, 315],
  },
  {
    wait: 'sleep',
    frames: [
      ['time.Sleep', '(0x3b9aca00)', `${GOROOT}/runtime/time.go`, 195],
      [`${TP}/lib/utils/interval.(*Interval).run`, '(0xc0003d2c80)', `${TP_SRC}/lib/utils/interval/interval.go`, 197],
    ],
    createdBy: [`${TP}/lib/utils/interval.New`, `${TP_SRC}/lib/utils/interval/interval.go`, 141],
  },
];

const PER_SESSION_STACKS: readonly Stack[] = [
  {
    wait: 'IO wait',
    frames: netRead('golang.org/x/crypto/ssh.(*connectionState).readPacket', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/transport.go`, 137),
    createdBy: ['golang.org/x/crypto/ssh.newServerTransport', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/handshake.go`, 147],
  },
  {
    wait: 'select',
    frames: [...parked('runtime.selectgo'), ['golang.org/x/crypto/ssh.(*handshakeTransport).kexLoop', '(0xc000b1c2c0)', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/handshake.go`, 313]],
    createdBy: ['golang.org/x/crypto/ssh.newServerTransport', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/handshake.go`, 148],
  },
  {
    wait: 'chan receive',
    frames: [...parked('runtime.chanrecv'), ['golang.org/x/crypto/ssh.(*mux).loop', '(0xc000c3a0e0)', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/mux.go`, 205]],
    createdBy: ['golang.org/x/crypto/ssh.newMux', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/mux.go`, 121],
  },
  {
    wait: 'IO wait',
    frames: netRead('io.copyBuffer', `${GOROOT}/io/io.go`, 429),
    createdBy: [`${TP}/lib/utils.ProxyConn`, `${TP_SRC}/lib/utils/proxyconn.go`, 45],
  },
  {
    wait: 'IO wait',
    frames: netRead('io.copyBuffer', `${GOROOT}/io/io.go`, 429),
    createdBy: [`${TP}/lib/utils.ProxyConn`, `${TP_SRC}/lib/utils/proxyconn.go`, 52],
  },
  {
    wait: 'select',
    frames: [...parked('runtime.selectgo'), [`${TP}/lib/srv.StartKeepAliveLoop`, '({{0xc000d4e0a0, 0x1, 0x1}, 0xdf8475800, 0x3, 0xc000d3c2a0, 0x6a21c80, ...})', `${TP_SRC}/lib/srv/keepalive.go`, 63]],
    createdBy: [`${TP}/lib/srv/regular.(*Server).HandleConnection`, `${TP_SRC}/lib/srv/regular/proxy.go`, 294],
  },
  {
    wait: 'select',
    frames: [...parked('runtime.selectgo'), [`${TP}/lib/srv.(*SessionTracker).UpdateExpirationLoop`, '(0xc000e2a1e0, {0x6a5e848, 0xc000e12190}, {0x6a7d530, 0xc0008a2000})', `${TP_SRC}/lib/srv/sess.go`, 1891]],
    createdBy: [`${TP}/lib/srv.newSession`, `${TP_SRC}/lib/srv/sess.go`, 1010],
  },
  {
    wait: 'select',
    frames: [...parked('runtime.selectgo'), [`${TP}/lib/srv.(*Monitor).start`, '(0xc000f0a000, {0x6a6c5a0, 0xc000f08080})', `${TP_SRC}/lib/srv/monitor.go`, 301]],
    createdBy: [`${TP}/lib/srv.StartMonitor`, `${TP_SRC}/lib/srv/monitor.go`, 266],
  },
  {
    wait: 'chan receive',
    frames: [...parked('runtime.chanrecv'), [`${TP}/lib/proxy.(*Router).DialHost.func1`, '()', `${TP_SRC}/lib/proxy/router.go`, 361]],
    createdBy: [`${TP}/lib/proxy.(*Router).DialHost`, `${TP_SRC}/lib/proxy/router.go`, 355],
  },
];

const PER_TUNNEL_STACKS: readonly Stack[] = [
  {
    wait: 'IO wait',
    frames: netRead('golang.org/x/crypto/ssh.(*connectionState).readPacket', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/transport.go`, 137),
    createdBy: ['golang.org/x/crypto/ssh.newServerTransport', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/handshake.go`, 147],
  },
  {
    wait: 'select',
    frames: [...parked('runtime.selectgo'), ['golang.org/x/crypto/ssh.(*handshakeTransport).kexLoop', '(0xc0011a42c0)', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/handshake.go`, 313]],
    createdBy: ['golang.org/x/crypto/ssh.newServerTransport', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/handshake.go`, 148],
  },
  {
    wait: 'chan receive',
    frames: [...parked('runtime.chanrecv'), ['golang.org/x/crypto/ssh.(*mux).loop', '(0xc0011c60e0)', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/mux.go`, 205]],
    createdBy: ['golang.org/x/crypto/ssh.newMux', `${MOD}/golang.org/x/crypto@v0.24.0/ssh/mux.go`, 121],
  },
  {
    wait: 'select',
    frames: [...parked('runtime.selectgo'), [`${TP}/lib/reversetunnel.(*remoteConn).run`, '(0xc0012b0000)', `${TP_SRC}/lib/reversetunnel/localsite.go`, 713]],
    createdBy: [`${TP}/lib/reversetunnel.(*localSite).addConn`, `${TP_SRC}/lib/reversetunnel/localsite.go`, 560],
  },
];

/** What a leaky build leaves behind: a send nobody receives any more. */
const LEAKED: Stack = {
  wait: 'chan send',
  frames: [
    ['runtime.gopark', '(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)', `${GOROOT}/runtime/proc.go`, 402],
    ['runtime.chansend', '(0xc00132e060, 0xc000ff5f98, 0x1, 0x0?)', `${GOROOT}/runtime/chan.go`, 259],
    ['runtime.chansend1', '(0x0?, 0x0?)', `${GOROOT}/runtime/chan.go`, 145],
    [`${TP}/lib/proxy.(*Router).DialHost.func2`, '()', `${TP_SRC}/lib/proxy/router.go`, 382],
  ],
  createdBy: [`${TP}/lib/proxy.(*Router).DialHost`, `${TP_SRC}/lib/proxy/router.go`, 378],
};

/** Goroutines each session and each tunnel holds (one of each stack). */
const PER_SESSION = PER_SESSION_STACKS.length;
const PER_TUNNEL = PER_TUNNEL_STACKS.length;

export function goroutineCount(load: GoroutineLoad): number {
  return BASE_GOROUTINES + load.sessions * PER_SESSION + load.tunnels * PER_TUNNEL + load.leaked;
}

/** Goroutine 1: main, waiting for the supervisor to exit. */
const MAIN: Stack = {
  wait: 'select',
  frames: [
    ...parked('runtime.selectgo'),
    [`${TP}/lib/service.(*TeleportProcess).WaitForSignals`, '(0xc000196000, {0x6a5e848, 0xc0001a2000}, 0x0)', `${TP_SRC}/lib/service/signals.go`, 75],
    [`${TP}/lib/service.Run`, '({0x6a5e848, 0xc0001a2000}, {{0x0, 0x0}, 0xc0001ae000, 0x1, 0x0, {0x0, 0x0}, ...}, 0x0)', `${TP_SRC}/lib/service/service.go`, 649],
    [`${TP}/tool/teleport/common.Run`, '({{0xc00013e010, 0x5, 0x5}, 0x0, 0x0, 0x0, 0x0, 0x0})', `${TP_SRC}/tool/teleport/common/teleport.go`, 702],
    ['main.main', '()', `${TP_SRC}/e/tool/teleport/main.go`, 29],
  ],
  createdBy: ['', '', 0],
};

/** The goroutine writing this dump. */
const SELF: Stack = {
  wait: 'running',
  frames: [
    ['runtime/pprof.writeGoroutineStacks', '({0x6a1c040, 0xc000e3a0e0})', `${GOROOT}/runtime/pprof/pprof.go`, 761],
    ['runtime/pprof.writeGoroutine', '({0x6a1c040?, 0xc000e3a0e0?}, 0x2?)', `${GOROOT}/runtime/pprof/pprof.go`, 750],
    ['runtime/pprof.(*Profile).WriteTo', '(0x5f5f2c0?, {0x6a1c040?, 0xc000e3a0e0?}, 0xc?)', `${GOROOT}/runtime/pprof/pprof.go`, 374],
    ['net/http/pprof.handler.ServeHTTP', '({0xc000e1c311, 0x9}, {0x6a3e0b8, 0xc000e3a0e0}, 0x6a21c80?)', `${GOROOT}/net/http/pprof/pprof.go`, 272],
    ['net/http.(*conn).serve', '(0xc000e2e1b0, {0x6a5e848, 0xc0006a0d50})', `${GOROOT}/net/http/server.go`, 2039],
  ],
  createdBy: ['net/http.(*Server).Serve', `${GOROOT}/net/http/server.go`, 3285],
};

interface Group {
  readonly stack: Stack;
  readonly count: number;
}

/** The goroutines by stack; counts add up to goroutineCount(load). */
function groups(load: GoroutineLoad): Group[] {
  const out: Group[] = [
    { stack: MAIN, count: 1 },
    { stack: SELF, count: 1 },
  ];
  // The rest of the base is spread over the base stacks, the first taking the remainder.
  const rest = BASE_GOROUTINES - 2;
  const each = Math.floor(rest / BASE.length);
  BASE.forEach((stack, i) => out.push({ stack, count: each + (i === 0 ? rest - each * BASE.length : 0) }));
  for (const stack of PER_SESSION_STACKS) out.push({ stack, count: load.sessions });
  for (const stack of PER_TUNNEL_STACKS) out.push({ stack, count: load.tunnels });
  out.push({ stack: LEAKED, count: load.leaked });
  return out.filter((g) => g.count > 0);
}

const pc = (fn: string): string => `0x${(0x400000 + (hashString(fn) % 0x1800000)).toString(16)}`;
const offset = (fn: string): string => `0x${(0x10 + (hashString(fn) % 0x3f0)).toString(16)}`;

function waitText(stack: Stack, minutes: number): string {
  return stack.wait === 'running' || minutes < 1 ? stack.wait : `${stack.wait}, ${minutes} minutes`;
}

/** `GET /debug/pprof/goroutine?debug=2`: every goroutine's stack, as Go's runtime prints them. */
export function renderGoroutineDump(v: PprofView): string {
  const minutes = Math.floor(v.uptimeMs / 60_000);
  const parts: string[] = [];
  let id = 1;
  for (const g of groups(v.load)) {
    // Innermost call first, as Go prints them.
    const frames = g.stack.frames.map(([fn, args, file, line]) => `${fn}${args}\n\t${file}:${line} +${offset(fn)}\n`).join('');
    const [cfn, cfile, cline] = g.stack.createdBy;
    // Long-lived goroutines were made near the start, leaks all along: say half the leak's time.
    const wait = waitText(g.stack, g.stack === LEAKED ? Math.floor(v.leakingMs / 120_000) : minutes);
    for (let i = 0; i < g.count; i++) {
      const gid = id++;
      // Goroutine 1 (main) has no creator; base goroutines come from main, the rest from a base one.
      const parent = gid <= BASE_GOROUTINES ? 1 : 2 + (gid % (BASE_GOROUTINES - 2));
      const creator = cfn === '' ? '' : `created by ${cfn} in goroutine ${parent}\n\t${cfile}:${cline} +${offset(cfn)}\n`;
      parts.push(`goroutine ${gid} [${wait}]:\n${frames}${creator}`);
    }
  }
  return parts.join('\n');
}


/** `GET /debug/pprof/goroutine?debug=1`: goroutines grouped by stack, with counts. */
export function renderGoroutineProfile(v: PprofView): string {
  let out = `goroutine profile: total ${goroutineCount(v.load)}\n`;
  for (const g of groups(v.load).sort((a, b) => b.count - a.count)) {
    const frames = g.stack.frames;
    out += `${g.count} @ ${frames.map(([fn]) => pc(fn)).join(' ')}\n`;
    for (const [fn, , file, line] of frames) out += `#\t${pc(fn)}\t${fn}+${offset(fn)}\t${file}:${line}\n`;
    out += '\n';
  }
  return out;
}

/** Go's legacy text heap format with a few made-up records (what `?debug=1` shows). */
export function renderLegacyProfile(kind: string, v: PprofView): string {
  const inuse = Math.max(0, Math.round(v.heapAllocBytes));
  const objects = Math.max(1, Math.round(inuse / 512));
  const lines = [
    `heap profile: ${objects}: ${inuse} [${objects * 4}: ${inuse * 4}] @ heap/1048576`,
    `${Math.ceil(objects / 2)}: ${Math.round(inuse / 2)} [${objects * 2}: ${inuse * 2}] @ ${pc('bytes.growSlice')} ${pc('golang.org/x/crypto/ssh.(*connectionState).readPacket')}`,
    `${Math.floor(objects / 2)}: ${inuse - Math.round(inuse / 2)} [${objects * 2}: ${inuse * 2}] @ ${pc('runtime.malg')} ${pc('runtime.newproc1')}`,
    '',
    `# simulated ${kind} profile of teleport ${v.version} (pid ${v.pid}); not a real pprof protobuf`,
    '',
  ];
  return lines.join('\n');
}

/**
 * `GET /debug/pprof/heap` (and the other binary profiles, `goroutine` without debug): gzip,
 * like Go's profiles, but NOT a real pprof protobuf: inside is the legacy text of
 * renderLegacyProfile. Enough for a tool that saves diagnostics; `go tool pprof` may or may
 * not read it.
 */
export function renderBinaryProfile(kind: string, v: PprofView): Buffer {
  // zlib writes no mtime: the same view gives the same bytes.
  return gzipSync(Buffer.from(renderLegacyProfile(kind, v)), { level: 6 });
}

const PROFILES: readonly (readonly [name: string, description: string])[] = [
  ['allocs', 'A sampling of all past memory allocations'],
  ['block', 'Stack traces that led to blocking on synchronization primitives'],
  ['cmdline', 'The command line invocation of the current program'],
  ['goroutine', 'Stack traces of all current goroutines. Use debug=2 as a query parameter to export in the same format as an unrecovered panic.'],
  ['heap', 'A sampling of memory allocations of live objects. You can specify the gc GET parameter to run GC before taking the heap sample.'],
  ['mutex', 'Stack traces of holders of contended mutexes'],
  ['profile', 'CPU profile. You can specify the duration in the seconds GET parameter. After you get the profile file, use the go tool pprof command to investigate the profile.'],
  ['threadcreate', 'Stack traces that led to the creation of new OS threads'],
  ['trace', 'A trace of execution of the current program. You can specify the duration in the seconds GET parameter. After you get the trace file, use the go tool trace command to investigate the trace.'],
];

/** `GET /debug/pprof/`: Go's index page. */
export function renderPprofIndex(v: PprofView): string {
  const counts: Readonly<Record<string, number>> = {
    allocs: Math.max(1, Math.round(v.heapAllocBytes / 65_536)),
    block: 0,
    goroutine: goroutineCount(v.load),
    heap: Math.max(1, Math.round(v.heapAllocBytes / 65_536)),
    mutex: 0,
    threadcreate: 18,
  };
  const rows = PROFILES.filter(([name]) => name in counts)
    .map(([name]) => `<tr><td>${counts[name]}</td><td><a href='${name}?debug=1'>${name}</a></td></tr>\n`)
    .join('');
  const descriptions = PROFILES.map(([name, d]) => `<li><div class=profile-name>${name}: </div> ${d}</li>\n`).join('');
  return `<html>
<head>
<title>/debug/pprof/</title>
<style>
.profile-name{
	display:inline-block;
	width:6rem;
}
</style>
</head>
<body>
/debug/pprof/
<br>
<p>Set debug=1 as a query parameter to export in legacy text format</p>
<br>
Types of profiles available:
<table>
<thead><td>Count</td><td>Profile</td></thead>
${rows}</table>
<a href="goroutine?debug=2">full goroutine stack dump</a>
<br>
<p>
Profile Descriptions:
<ul>
${descriptions}</ul>
</p>
</body>
</html>
`;
}

/** `GET /debug/pprof/cmdline`: the arguments, NUL-separated. */
export function renderCmdline(): string {
  return ['teleport', 'start', '--config=/etc/teleport.yaml', '--diag-addr=0.0.0.0:3000', '--debug'].join('\0');
}

function send(res: ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: string | Buffer): void {
  res.writeHead(status, { 'X-Content-Type-Options': 'nosniff', ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

const TEXT = 'text/plain; charset=utf-8';

function sendProfile(res: ServerResponse, name: string, body: Buffer): void {
  send(res, 200, { 'Content-Type': 'application/octet-stream', 'Content-Disposition': `attachment; filename="${name}"` }, body);
}

/**
 * Serves Go's net/http/pprof on a debug build's diagnostic address. Every profile answers at
 * once: `seconds` (profile, trace) is ignored, as is `gc` (heap).
 */
export function servePprof(v: PprofView, path: string, query: URLSearchParams, res: ServerResponse): void {
  // ServeMux sends the bare subtree path to the registered one.
  if (path === '/debug/pprof') return send(res, 301, { Location: '/debug/pprof/', 'Content-Type': 'text/html; charset=utf-8' }, '<a href="/debug/pprof/">Moved Permanently</a>.\n\n');
  const name = path.slice('/debug/pprof/'.length);
  const debug = Number(query.get('debug') ?? '0');
  switch (name) {
    case '':
      return send(res, 200, { 'Content-Type': 'text/html; charset=utf-8' }, renderPprofIndex(v));
    case 'cmdline':
      return send(res, 200, { 'Content-Type': TEXT }, renderCmdline());
    case 'goroutine':
      if (debug >= 2) return send(res, 200, { 'Content-Type': TEXT }, renderGoroutineDump(v));
      if (debug === 1) return send(res, 200, { 'Content-Type': TEXT }, renderGoroutineProfile(v));
      return sendProfile(res, name, renderBinaryProfile(name, v));
    case 'heap':
    case 'allocs':
    case 'block':
    case 'mutex':
    case 'threadcreate':
      if (debug >= 1) return send(res, 200, { 'Content-Type': TEXT }, renderLegacyProfile(name, v));
      return sendProfile(res, name, renderBinaryProfile(name, v));
    // CPU profile and trace: at once, whatever `seconds` asks.
    case 'profile':
    case 'trace':
      return sendProfile(res, name, renderBinaryProfile(name, v));
    default:
      // net/http/pprof's serveError.
      return send(res, 404, { 'Content-Type': TEXT, 'X-Go-Pprof': '1' }, 'Unknown profile\n');
  }
}
