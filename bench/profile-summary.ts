/**
 * Where a redirect server's CPU goes, from a V8 .cpuprofile (node --cpu-prof): time inside
 * each part of Meridian's request path (inclusive: a part's callees count towards it) and
 * self time by module. `node --import tsx bench/profile-summary.ts FILE.cpuprofile [REQUESTS]`
 * (with REQUESTS, times are also given per request).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Parts of the request path, matched on a stack frame (function name and file). */
const PARTS: readonly { label: string; fn: RegExp; file: RegExp }[] = [
  // The handler is an anonymous arrow function.
  { label: 'login route handler (all of the below + headers)', fn: /^(handler)?$/, file: /redirect\/routes\/login\.ts/ },
  { label: '  decide (redirect service, all)', fn: /^decide$/, file: /redirect\/redirect-service\.ts/ },
  { label: '    client address (X-Forwarded-For, trust)', fn: /^clientAddress$/, file: /redirect\/core\/client-address\.ts/ },
  { label: '    region override (query, cookie)', fn: /^override$/, file: /redirect\/redirect-service\.ts/ },
  { label: '    decision cache get/set', fn: /^(get|set)$/, file: /redirect\/decision-cache\.ts/ },
  { label: '    GeoIP lookup (cache misses)', fn: /^locate$/, file: /redirect\/redirect-service\.ts/ },
  { label: '    chooseProxy (cache misses)', fn: /^chooseProxy$/, file: /redirect\/core\/choose-proxy\.ts/ },
  { label: '    metrics (prom-client)', fn: /^(redirected|unavailable|geoLookup)$/, file: /redirect\/redirect-metrics\.ts/ },
  { label: '  buildLocation', fn: /^(buildLocation|locationAt)$/, file: /redirect\/core\/redirect-location\.ts/ },
  { label: '  reply headers, send (fastify, incl. socket write)', fn: /^Reply\.(header|send|code|type)$/, file: /fastify\/lib\/reply\.js/ },
  { label: 'fastify request handling (all, incl. the handler)', fn: /^(routeHandler|runPreParsing|handleRequest)$/, file: /fastify\/lib\/(route|handleRequest)\.js/ },
  { label: 'socket writes (syscall, kernel loopback)', fn: /^(writeLatin1String|writeUtf8String|writeBuffer|writev)$/, file: /^$/ },
  { label: 'routing table rebuild (every 5 s)', fn: /^buildRoutingTable$/, file: /routing-table\.ts/ },
];

function moduleOf(url: string): string {
  if (url === '') return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] ?? url;
  if (url.startsWith('node:')) return url.replace(/^node:internal\/(.*?)(\/.*)?$/, 'node:$1');
  const src = /\/(src|bench|test)\/(.*)$/.exec(url);
  return src ? `${src[1]}/${src[2]}` : url;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly parts: readonly { label: string; ms: number }[];
  readonly modules: readonly { module: string; ms: number }[];
  readonly functions: readonly { name: string; ms: number }[];
}

export function summariseProfile(file: string): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const partMs = new Array<number>(PARTS.length).fill(0);
  const moduleMs = new Map<string, number>();
  const fnMs = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  // Which parts each node's stack passes through, computed once per node.
  const partsOf = new Map<number, number[]>();
  const stackParts = (id: number): number[] => {
    const known = partsOf.get(id);
    if (known) return known;
    const hit = new Set<number>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const f = byId.get(at)?.callFrame;
      if (!f) continue;
      PARTS.forEach((part, i) => {
        if (part.fn.test(f.functionName) && part.file.test(f.url)) hit.add(i);
      });
    }
    const out = [...hit];
    partsOf.set(id, out);
    return out;
  };
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    const f = byId.get(id)?.callFrame;
    if (!f) return;
    if (f.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    totalMs += ms;
    for (const k of stackParts(id)) partMs[k] = (partMs[k] ?? 0) + ms;
    const mod = f.functionName.startsWith('(') ? f.functionName : f.url === '' ? `(native) ${f.functionName}` : moduleOf(f.url);
    moduleMs.set(mod, (moduleMs.get(mod) ?? 0) + ms);
    const name = `${f.functionName || '(anonymous)'} ${moduleOf(f.url)}:${f.lineNumber + 1}`;
    fnMs.set(name, (fnMs.get(name) ?? 0) + ms);
  });
  const top = <K extends string>(m: Map<string, number>, key: K, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => ({ [key]: k, ms }) as { [P in K]: string } & { ms: number });
  return {
    totalMs,
    idleMs,
    parts: PARTS.map((part, i) => ({ label: part.label, ms: partMs[i] ?? 0 })),
    modules: top(moduleMs, 'module', 14),
    functions: top(fnMs, 'name', 20),
  };
}

/** brief: the totals and top modules only. */
export function printProfileSummary(s: ProfileSummary, requests?: number, brief = false): void {
  const per = (ms: number): string => (requests ? `  ${((ms * 1000) / requests).toFixed(2).padStart(6)} us/req` : '');
  const pct = (ms: number): string => `${((100 * ms) / s.totalMs).toFixed(1).padStart(5)}%`;
  console.log(`  busy ${s.totalMs.toFixed(0)} ms (idle ${s.idleMs.toFixed(0)} ms)${requests ? ` over ${requests} requests` : ''}`);
  if (!brief) {
    console.log('  request path (inclusive):');
    for (const x of s.parts) console.log(`    ${x.label.padEnd(52)} ${pct(x.ms)}${per(x.ms)}`);
  }
  console.log('  self time by module:');
  for (const x of brief ? s.modules.slice(0, 6) : s.modules) console.log(`    ${x.module.padEnd(52)} ${pct(x.ms)}${per(x.ms)}`);
  if (brief) return;
  console.log('  self time, top functions:');
  for (const x of s.functions) console.log(`    ${x.name.slice(0, 80).padEnd(80)} ${pct(x.ms)}${per(x.ms)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-summary.ts FILE.cpuprofile [REQUESTS]');
  printProfileSummary(summariseProfile(file), process.argv[3] ? Number(process.argv[3]) : undefined);
}
