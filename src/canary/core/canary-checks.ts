import { CANARY_CHECKS, type CanaryCheck, type CanaryCheckName } from '../../model/canary.js';
import type { ProxyWindow } from './proxy-window.js';

/** A check with every default filled in. */
export interface ResolvedCheck {
  readonly name: CanaryCheckName;
  readonly max?: number;
  readonly maxRelative?: number;
  readonly minSample: number;
  readonly failureLimit: number;
}

/** A value measured over a group of proxies, and how much traffic (or how many scrapes) it rests on. */
export interface Measure {
  readonly value: number;
  readonly sample: number;
}

interface CheckKind {
  readonly defaults: Omit<ResolvedCheck, 'name'>;
  readonly unit: string;
  /** undefined: the metric is not on these proxies' pages at all. */
  measure(windows: readonly ProxyWindow[]): Measure | undefined;
}

const sumOf = (ws: readonly ProxyWindow[], f: (w: ProxyWindow) => number): number => ws.reduce((n, w) => n + f(w), 0);
const scrapesOf = (ws: readonly ProxyWindow[]): number => sumOf(ws, (w) => w.scrapes);

/** Ratios pool the group's counts; per-proxy counts are averaged; gauges take the median. */
const ratio = (part: (w: ProxyWindow) => number, whole: (w: ProxyWindow) => number) => (ws: readonly ProxyWindow[]): Measure | undefined => {
  const total = sumOf(ws, whole);
  return { value: total > 0 ? sumOf(ws, part) / total : 0, sample: total };
};
const perProxy = (count: (w: ProxyWindow) => number) => (ws: readonly ProxyWindow[]): Measure | undefined =>
  ws.length ? { value: sumOf(ws, count) / ws.length, sample: scrapesOf(ws) } : undefined;
const median = (gauge: (w: ProxyWindow) => number | undefined) => (ws: readonly ProxyWindow[]): Measure | undefined => {
  const values = ws.map(gauge).filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (!values.length) return undefined;
  const mid = Math.floor(values.length / 2);
  return { value: values.length % 2 ? (values[mid] ?? 0) : ((values[mid - 1] ?? 0) + (values[mid] ?? 0)) / 2, sample: values.length };
};

export const CHECK_KINDS: Readonly<Record<CanaryCheckName, CheckKind>> = {
  'connect-failure-ratio': {
    defaults: { max: 0.02, maxRelative: 2, minSample: 50, failureLimit: 2 },
    unit: 'of node connections failed',
    measure: ratio((w) => w.connectFailures, (w) => w.connectAttempts),
  },
  'process-state': {
    defaults: { max: 0.1, minSample: 3, failureLimit: 2 },
    unit: 'of scrapes with process_state not ok',
    measure: ratio((w) => w.notOkScrapes, (w) => w.scrapes),
  },
  'readyz-failures': {
    defaults: { max: 0.1, minSample: 3, failureLimit: 2 },
    unit: 'of scrapes not ready or unanswered',
    measure: ratio((w) => w.readyzFailures + w.missedScrapes, (w) => w.scrapes + w.missedScrapes),
  },
  restarts: {
    defaults: { max: 0, minSample: 2, failureLimit: 1 },
    unit: 'restarts per proxy',
    measure: perProxy((w) => w.restarts),
  },
  'connection-limit': {
    defaults: { max: 10, maxRelative: 3, minSample: 2, failureLimit: 2 },
    unit: 'connection-limit rejections per proxy',
    measure: perProxy((w) => w.connectionLimitExceeded),
  },
  'peer-dial-errors': {
    defaults: { max: 5, maxRelative: 3, minSample: 2, failureLimit: 2 },
    unit: 'peer dial errors per proxy',
    measure: perProxy((w) => w.peerDialErrors),
  },
  memory: {
    defaults: { maxRelative: 1.5, minSample: 1, failureLimit: 3 },
    unit: 'bytes resident',
    measure: median((w) => w.residentMemoryBytes),
  },
  goroutines: {
    defaults: { maxRelative: 1.5, minSample: 1, failureLimit: 3 },
    unit: 'goroutines',
    measure: median((w) => w.goroutines),
  },
};

/** The built-in checks, each with the spec's overrides; disabled ones left out. */
export function resolveChecks(overrides: readonly CanaryCheck[] = []): ResolvedCheck[] {
  return CANARY_CHECKS.flatMap((name) => {
    const o = overrides.find((c) => c.name === name);
    if (o?.disabled) return [];
    const d = CHECK_KINDS[name].defaults;
    const max = o?.max ?? d.max;
    const maxRelative = o?.maxRelative ?? d.maxRelative;
    return [{ name, ...(max === undefined ? {} : { max }), ...(maxRelative === undefined ? {} : { maxRelative }), minSample: o?.minSample ?? d.minSample, failureLimit: o?.failureLimit ?? d.failureLimit }];
  });
}
