import { connect } from 'node:net';
import type { TestContext } from 'node:test';
import { startFleetSim, type FleetSim, type FleetSimOptions, type ProxyView } from '../../src/sim/index.js';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}
export interface Family {
  help?: string;
  type?: string;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN)$/;

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let rest = text;
  while (rest.length) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`line ${line}: bad label set {${text}}`);
    labels[m[1] as string] = (m[2] as string).replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    rest = rest.slice(m[0].length);
  }
  return labels;
}

/** A strict reader of text format 0.0.4: throws naming the first bad line. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const fam = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { samples: [] }));
    return f;
  };
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    if (raw === '') return;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      if (!new RegExp(`^${NAME}$`).test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      if (kind === 'HELP') fam(name).help = rest;
      else if (/^(counter|gauge|histogram|summary|untyped)$/.test(rest)) fam(name).type = rest;
      else throw new Error(`line ${line}: bad TYPE ${rest}`);
      return;
    }
    if (raw.startsWith('#')) return;
    const m = SAMPLE.exec(raw);
    if (!m) throw new Error(`line ${line}: not a sample: ${JSON.stringify(raw.slice(0, 80))}`);
    const [, name = '', labelText, value = ''] = m;
    if (!VALUE.test(value)) throw new Error(`line ${line}: bad value ${value}`);
    const f = fam(name);
    if (!f.type) throw new Error(`line ${line}: sample of ${name} before its TYPE`);
    f.samples.push({ labels: labelText ? parseLabels(labelText, line) : {}, value: Number(value.replace(/^\+/, '')) });
  });
  return families;
}

/** Sum of a family's samples matching `labels`. */
export function metric(page: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const f = page.get(name);
  if (!f || f.samples.length === 0) throw new Error(`metric ${name} is missing`);
  return f.samples
    .filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

/** A vector family (a GaugeVec or CounterVec) has no series until its first labelled observation: absent reads as 0. */
export function vectorSum(page: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  return page.has(name) ? metric(page, name, labels) : 0;
}

export async function scrape(sim: FleetSim, name: string): Promise<Map<string, Family>> {
  const res = await fetch(`${diagUrl(sim, name)}/metrics`);
  if (res.status !== 200) throw new Error(`GET /metrics of ${name}: ${res.status}`);
  return parseExposition(await res.text());
}

export function diagUrl(sim: FleetSim, name: string): string {
  const p = sim.proxies.find((x) => x.name === name);
  if (!p) throw new Error(`no proxy ${name} in the sim`);
  return p.diagnosticUrl;
}

export async function readyz(sim: FleetSim, name: string): Promise<{ status: number; body: { status?: string } }> {
  const res = await fetch(`${diagUrl(sim, name)}/readyz`);
  return { status: res.status, body: (await res.json()) as { status?: string } };
}

export async function control(sim: FleetSim, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(`${sim.controlUrl}${path}`, init);
  return { status: res.status, json: await res.json() };
}

export async function view(sim: FleetSim, name: string): Promise<ProxyView> {
  const r = await control(sim, 'GET', `/proxies/${name}`);
  if (r.status !== 200) throw new Error(`GET /proxies/${name}: ${r.status}`);
  return r.json as ProxyView;
}

export async function act(sim: FleetSim, name: string, action: string, body: unknown): Promise<ProxyView> {
  const r = await control(sim, 'POST', `/proxies/${name}/${action}`, body);
  if (r.status !== 200) throw new Error(`POST /proxies/${name}/${action}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json as ProxyView;
}

/** Resolves with the socket error code of a raw TCP connect (undefined when it connected). */
export function tcpConnect(url: string): Promise<string | undefined> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: u.hostname, port: Number(u.port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

export const ONE_REGION: FleetSimOptions['proxies'] = [
  { name: 'fra-1', region: 'eu-central', version: '17.4.2' },
  { name: 'fra-2', region: 'eu-central', version: '17.4.2' },
];

/** Starts a sim without a timer and closes it after the test. */
export async function startSim(t: TestContext, opts: Partial<FleetSimOptions> = {}): Promise<FleetSim> {
  const sim = await startFleetSim({ proxies: ONE_REGION, tickMs: 0, seed: 42, startAt: Date.UTC(2026, 0, 5, 9), ...opts });
  t.after(() => sim.close());
  return sim;
}
