import { formatDuration } from '../../model/duration.js';
import type { FieldError } from '../../model/field-error.js';
import type { ProxyFleetSpec } from '../../model/fleet.js';
import { err, ok, type Result } from '../../model/result.js';
import type { ProxyRolloutSpec, ProxyRolloutStatus } from '../../model/rollout.js';
import { rolloutFleetErrors, rolloutSemanticErrors } from '../../model/rollout-rules.js';
import type { ProxyObservation } from '../../model/snapshot.js';
import { estimateDrain } from './plan-drain.js';
import { iso, newDraft, sameVersion, type NoticeDraft } from './rollout-draft.js';
import { resolveSettings, type RolloutSettings } from './rollout-settings.js';
import { currentWave, END_STEPS, giveDueNotices, initialProxies, noticeLeadMs, regionsByWave, scheduleWindows } from './schedule.js';
import { isOutOfRotation, takeOut } from './take-out.js';
import { formatLocal, formatUtc } from './zoned-time.js';
import { judgeSkew, type AuthVersion, type SkewVerdict } from './version-skew-gate.js';

/** Time the plan allows for a proxy to restart on the new version, before verification starts counting. */
export const RESTART_ALLOWANCE_MS = 30_000;

/** Simulated time the plan looks ahead at most: a spec that passed the checks finishes far sooner. */
export const PLAN_HORIZON_MS = 366 * 86_400_000;
/** Passes the plan simulates at most; each moves time forward, and a valid rollout needs a few per proxy and notice. */
const MAX_PASSES = 50_000;

export interface PlanInput {
  /** `namespace/name`. */
  readonly rollout: string;
  readonly spec: ProxyRolloutSpec;
  /** Already checked against the rollout (rolloutFleetErrors); see planRolloutChecked. */
  readonly fleet: ProxyFleetSpec;
  /** Sessions per proxy now; a missing proxy counts as 0 and is flagged. */
  readonly sessions: ReadonlyMap<string, number>;
  readonly now: number;
  readonly scrapeIntervalMs: number;
  /** The fleet's Auth Service (authVersionOf); absent when the fleet names none. */
  readonly auth?: AuthVersion;
  /** Versions the proxies run now, when observed; else the fleet's spec says. */
  readonly versions?: ReadonlyMap<string, string>;
}

export interface PlannedWindow {
  readonly startAt: number;
  readonly endAt: number;
  readonly durationMs: number;
  readonly startLocal: string;
  readonly endLocal: string;
  readonly startUtc: string;
  readonly endUtc: string;
}

export interface PlannedNotice {
  /** The id the controller gives the notice when the rollout starts at the plan's `now`. */
  readonly id: string;
  readonly leadTime: string;
  readonly leadMs: number;
  readonly sendAt: number;
  readonly sendLocal: string;
  readonly sendUtc: string;
  readonly channels: readonly string[];
  /** The text the controller sends. */
  readonly message: string;
  /** False when the window is replaced before the notice is due: the controller drops it. */
  readonly sent: boolean;
}

export interface PlannedProxy {
  readonly name: string;
  readonly sessions: number;
  /** False when no session count was given: the plan counted 0. */
  readonly sessionsKnown: boolean;
  readonly drainMs: number;
  /** The expected drain reached the deadline. */
  readonly drainCapped: boolean;
  /** Sessions expected still open at the deadline, cut by the upgrade. */
  readonly expectedCut: number;
  /** Upgrade, restart and verification. */
  readonly upgradeMs: number;
  readonly outAt: number;
  readonly drainedAt: number;
  readonly backAt: number;
  readonly outLocal: string;
  readonly outUtc: string;
  readonly backLocal: string;
  readonly backUtc: string;
}

/** Proxies taken out of rotation together. */
export interface PlannedBatch {
  readonly outAt: number;
  readonly outLocal: string;
  readonly outUtc: string;
  readonly proxies: readonly PlannedProxy[];
}

export type WindowReplacement = 'window-closed' | 'earlier-wave-moved';

/** One maintenance-window occurrence of a region and what happens in it. */
export interface WindowPlan {
  readonly window: PlannedWindow;
  readonly notices: readonly PlannedNotice[];
  readonly batches: readonly PlannedBatch[];
  /**
   * The controller gives the region a later occurrence: this one closed with proxies left,
   * or an earlier wave's window moved past its start.
   */
  readonly replaced?: { readonly at: number; readonly because: WindowReplacement };
}

export interface SkippedProxy {
  readonly name: string;
  readonly version: string;
}

export interface RegionPlan {
  readonly region: string;
  readonly displayName: string;
  readonly timeZone: string;
  /** 0-based. */
  readonly wave: number;
  /** The occurrence the controller assigns when the rollout starts (its status.windows entry); none when nothing is left to upgrade. */
  readonly window?: PlannedWindow;
  /** `[0]` is `window`; later ones are the occurrences the controller moves to. */
  readonly occurrences: readonly WindowPlan[];
  readonly skipped: readonly SkippedProxy[];
  /** Proxies to upgrade. */
  readonly proxies: number;
  /** Proxies that do not go out in the first window (in fleet order). */
  readonly spilled: readonly string[];
  /** Every proxy goes out in the first window. */
  readonly fitsWindow: boolean;
  /** Time with proxies out of rotation, summed over occurrences. */
  readonly busyMs: number;
  /** First proxy out, last proxy back (absent when nothing is upgraded). */
  readonly startAt?: number;
  readonly endAt?: number;
  /** How long the last proxy is expected back after the window it went out in closed (a drain under way may finish). */
  readonly overrunMs: number;
  readonly expectedCut: number;
}

export interface WavePlan {
  /** 0-based. */
  readonly index: number;
  readonly name: string;
  readonly regions: readonly RegionPlan[];
  readonly startAt?: number;
  readonly endAt?: number;
}

export interface RolloutPlan {
  readonly rollout: string;
  readonly version: string;
  readonly now: number;
  readonly nowUtc: string;
  readonly settings: {
    readonly maxUnavailable: number | string;
    readonly allowRegionOutage: boolean;
    readonly drainDeadlineMs: number;
    readonly meanSessionMs: number;
    readonly verifyScrapes: number;
    readonly scrapeIntervalMs: number;
    readonly restartAllowanceMs: number;
    /** verifyScrapes * scrapeIntervalMs + restartAllowanceMs. */
    readonly upgradeMs: number;
    /** Longest first. */
    readonly leadTimes: readonly string[];
    readonly channels: readonly { readonly name: string; readonly type: string }[];
  };
  /**
   * Teleport's version skew rule as the controller judges it before the start (and again before
   * each take-out): refused or unknown, the rollout waits. The timeline below is planned as if it
   * were allowed.
   */
  readonly versionSkew: SkewVerdict;
  readonly waves: readonly WavePlan[];
  readonly totals: {
    readonly targets: number;
    readonly upgrading: number;
    readonly skipped: number;
    /** Notices the controller sends (dropped ones not counted). */
    readonly notices: number;
    readonly sessionsNow: number;
    readonly expectedCut: number;
    /** Proxies without a session count (counted as 0). */
    readonly unknownSessions: readonly string[];
    /** Regions whose proxies do not all go out in their first window. */
    readonly spilledRegions: readonly string[];
    readonly startAt?: number;
    readonly startUtc?: string;
    readonly endAt: number;
    readonly endUtc: string;
    /** From `now` to the expected end. */
    readonly durationMs: number;
  };
  /** Things the plan could not work out (none for a valid spec). */
  readonly warnings: readonly string[];
}

/** The spec and fleet checks `meridian rollout plan` runs first; planRollout only on a clean result. */
export function planRolloutChecked(input: PlanInput): Result<RolloutPlan, readonly FieldError[]> {
  const errors = [...rolloutSemanticErrors(input.spec), ...rolloutFleetErrors(input.spec, input.fleet)];
  return errors.length ? err(errors) : ok(planRollout(input));
}

interface Occurrence {
  readonly startAt: number;
  readonly endAt: number;
  readonly notices: NoticeDraft[];
  readonly out: string[];
  replaced?: { at: number; because: WindowReplacement };
}

interface Timing {
  readonly sessions: number;
  readonly known: boolean;
  readonly drainMs: number;
  readonly capped: boolean;
  readonly expectedCut: number;
  readonly outAt: number;
  readonly drainedAt: number;
  readonly backAt: number;
}

/**
 * The timeline of a rollout before it starts. It runs the controller's own scheduling (windows,
 * notices, take-out rules) forward over simulated time, with expected drain and upgrade times
 * in place of what the observer would report, so the windows and notices are the ones the
 * controller picks. Pure; expects a spec that passed rolloutFleetErrors.
 */
export function planRollout(input: PlanInput): RolloutPlan {
  const settings = resolveSettings(input.spec, input.fleet);
  // Notices without channels are given by being logged, at the pass they fall due: no delivery round trip to model.
  const simSettings: RolloutSettings = { ...settings, channels: [] };
  const observations = healthyObservations(input);
  const upgradeMs = settings.verifyScrapes * input.scrapeIntervalMs + RESTART_ALLOWANCE_MS;

  let status: ProxyRolloutStatus & { startedAt: string } = { startedAt: iso(input.now), proxies: initialProxies(settings, () => undefined), windows: [], notices: [] };
  const history = new Map<string, Occurrence[]>();
  const timing = new Map<string, Timing>();
  const warnings: string[] = [];
  let t = input.now;
  let regionWaves: string[][] = [];

  for (let pass = 0; ; pass++) {
    const d = newDraft({ rollout: input.rollout, now: t, settings: simSettings, fleet: input.fleet, observations }, status);
    if (pass === 0) {
      // Which regions and proxies form each wave does not change while the plan runs.
      regionWaves = regionsByWave(d);
    }
    for (const p of d.proxies) {
      const back = timing.get(p.name)?.backAt;
      if (isOutOfRotation(p) && back !== undefined && back <= t) {
        p.step = 'Done';
        p.doneAt = iso(t);
      }
    }
    const wave = currentWave(d.proxies, d.settings.waves.length);
    if (wave >= d.settings.waves.length) break;
    if (pass >= MAX_PASSES || t - input.now > PLAN_HORIZON_MS) {
      const left = d.proxies.filter((p) => !END_STEPS.has(p.step)).map((p) => p.name);
      warnings.push(`Not done ${formatDuration(t - input.now)} after the start, the plan stops with proxies left: ${left.join(', ')}`);
      break;
    }

    scheduleWindows(d);
    for (const w of d.windows.values()) {
      const list = history.get(w.region) ?? [];
      history.set(w.region, list);
      const last = list[list.length - 1];
      const startAt = Date.parse(w.startAt);
      if (last && last.startAt === startAt) continue;
      if (last) last.replaced = { at: t, because: t >= last.endAt ? 'window-closed' : 'earlier-wave-moved' };
      list.push({ startAt, endAt: Date.parse(w.endAt), notices: d.notices.filter((n) => n.region === w.region && n.windowStartAt === w.startAt).map((n) => ({ ...n })), out: [] });
    }
    giveDueNotices(d);
    for (const region of regionWaves[wave] ?? []) takeOut(d, region);
    for (const p of d.proxies) {
      if (!isOutOfRotation(p) || timing.has(p.name)) continue;
      const known = input.sessions.has(p.name);
      const sessions = input.sessions.get(p.name) ?? 0;
      const drain = estimateDrain(sessions, settings.meanSessionMs, settings.drainDeadlineMs);
      const drainedAt = t + drain.drainMs;
      timing.set(p.name, { sessions, known, drainMs: drain.drainMs, capped: drain.capped, expectedCut: drain.expectedCut, outAt: t, drainedAt, backAt: drainedAt + upgradeMs });
      history.get(p.region)?.at(-1)?.out.push(p.name);
    }
    status = { ...status, proxies: d.proxies, notices: d.notices, windows: [...d.windows.values()] };

    let next = d.wakeAt;
    for (const p of d.proxies) {
      const back = timing.get(p.name)?.backAt;
      if (isOutOfRotation(p) && back !== undefined && back > t) next = Math.min(next, back);
    }
    if (!Number.isFinite(next) || next <= t) {
      warnings.push(`The plan found nothing more to wait for with proxies left: ${d.proxies.filter((p) => !END_STEPS.has(p.step)).map((p) => p.name).join(', ')}`);
      break;
    }
    t = next;
  }

  const givenIds = new Set((status.notices ?? []).filter((n) => n.givenAt !== undefined).map((n) => n.id));
  const regionPlan = (region: string, wave: number): RegionPlan =>
    buildRegion({ input, settings, upgradeMs, region, wave, occurrences: history.get(region) ?? [], timing, givenIds });
  const waves: WavePlan[] = regionWaves.map((regions, index) => {
    const plans = regions.map((r) => regionPlan(r, index));
    const starts = plans.flatMap((r) => (r.startAt === undefined ? [] : [r.startAt]));
    const ends = plans.flatMap((r) => (r.endAt === undefined ? [] : [r.endAt]));
    return {
      index,
      name: input.spec.waves?.[index]?.name ?? regions.join(', '),
      regions: plans,
      ...(starts.length ? { startAt: Math.min(...starts) } : {}),
      ...(ends.length ? { endAt: Math.max(...ends) } : {}),
    };
  });

  const regions = waves.flatMap((w) => w.regions);
  const all = [...timing.values()];
  const endAt = all.reduce((m, x) => Math.max(m, x.backAt), input.now);
  const firstOut = all.reduce((m, x) => Math.min(m, x.outAt), Infinity);
  return {
    rollout: input.rollout,
    version: settings.version,
    now: input.now,
    nowUtc: formatUtc(input.now),
    settings: {
      maxUnavailable: input.spec.maxUnavailable ?? 1,
      allowRegionOutage: settings.allowRegionOutage,
      drainDeadlineMs: settings.drainDeadlineMs,
      meanSessionMs: settings.meanSessionMs,
      verifyScrapes: settings.verifyScrapes,
      scrapeIntervalMs: input.scrapeIntervalMs,
      restartAllowanceMs: RESTART_ALLOWANCE_MS,
      upgradeMs,
      leadTimes: settings.leadTimes.map((l) => l.text),
      channels: (input.spec.notice?.channels ?? []).map((c) => ({ name: c.name, type: c.type })),
    },
    versionSkew: judgeSkew(settings.version, input.auth, settings.targets.map((p) => input.versions?.get(p.name) ?? p.version)),
    waves,
    totals: {
      targets: settings.targets.length,
      upgrading: regions.reduce((n, r) => n + r.proxies, 0),
      skipped: regions.reduce((n, r) => n + r.skipped.length, 0),
      notices: regions.reduce((n, r) => n + r.occurrences.reduce((m, o) => m + o.notices.filter((x) => x.sent).length, 0), 0),
      sessionsNow: all.reduce((n, x) => n + x.sessions, 0),
      expectedCut: all.reduce((n, x) => n + x.expectedCut, 0),
      unknownSessions: settings.targets.filter((p) => timing.has(p.name) && !input.sessions.has(p.name)).map((p) => p.name),
      spilledRegions: regions.filter((r) => !r.fitsWindow).map((r) => r.region),
      ...(all.length ? { startAt: firstOut, startUtc: formatUtc(firstOut) } : {}),
      endAt,
      endUtc: formatUtc(endAt),
      durationMs: endAt - input.now,
    },
    warnings,
  };
}

/** Every proxy up and ready with its session count: the take-out rules see a healthy fleet. */
function healthyObservations(input: PlanInput): ReadonlyMap<string, ProxyObservation> {
  return new Map(
    input.fleet.proxies.map((p) => [
      p.name,
      { name: p.name, region: p.region, up: true, ready: true, consecutiveFailures: 0, sessionsTotal: input.sessions.get(p.name) ?? 0, lastScrapeAt: iso(input.now), scrapeDurationMs: 0 },
    ]),
  );
}

function plannedWindow(startAt: number, endAt: number, timeZone: string): PlannedWindow {
  return { startAt, endAt, durationMs: endAt - startAt, startLocal: formatLocal(startAt, timeZone), endLocal: formatLocal(endAt, timeZone), startUtc: formatUtc(startAt), endUtc: formatUtc(endAt) };
}

function buildRegion(a: {
  input: PlanInput;
  settings: RolloutSettings;
  upgradeMs: number;
  region: string;
  wave: number;
  occurrences: readonly Occurrence[];
  timing: ReadonlyMap<string, Timing>;
  givenIds: ReadonlySet<string>;
}): RegionPlan {
  const { timeZone } = a.settings.windows(a.region);
  const spec = a.input.fleet.regions.find((r) => r.name === a.region);
  const targets = a.settings.targets.filter((p) => p.region === a.region);
  const skipped = targets.filter((p) => sameVersion(p.version, a.settings.version)).map((p) => ({ name: p.name, version: p.version }));

  const occurrences: WindowPlan[] = a.occurrences.map((o) => {
    const proxies = o.out.flatMap((name) => {
      const x = a.timing.get(name);
      return x ? [plannedProxy(name, x, a.upgradeMs, timeZone)] : [];
    });
    const batches: PlannedBatch[] = [];
    for (const p of proxies) {
      const last = batches[batches.length - 1];
      if (last && last.outAt === p.outAt) batches[batches.length - 1] = { ...last, proxies: [...last.proxies, p] };
      else batches.push({ outAt: p.outAt, outLocal: p.outLocal, outUtc: p.outUtc, proxies: [p] });
    }
    return {
      window: plannedWindow(o.startAt, o.endAt, timeZone),
      notices: o.notices.map((n) => {
        const sendAt = Date.parse(n.dueAt);
        return {
          id: n.id,
          leadTime: n.leadTime,
          leadMs: noticeLeadMs(n),
          sendAt,
          sendLocal: formatLocal(sendAt, timeZone),
          sendUtc: formatUtc(sendAt),
          channels: a.settings.channels,
          message: n.message,
          sent: a.givenIds.has(n.id),
        };
      }),
      batches,
      ...(o.replaced ? { replaced: { ...o.replaced } } : {}),
    };
  });

  const mine = occurrences.flatMap((o) => o.batches.flatMap((b) => b.proxies));
  const first = occurrences[0];
  const inFirst = new Set(first?.batches.flatMap((b) => b.proxies.map((p) => p.name)) ?? []);
  const upgrading = targets.filter((p) => !skipped.some((s) => s.name === p.name));
  const spilled = upgrading.filter((p) => !inFirst.has(p.name)).map((p) => p.name);
  const busyMs = occurrences.reduce((n, o) => {
    const ps = o.batches.flatMap((b) => b.proxies);
    return ps.length ? n + Math.max(...ps.map((p) => p.backAt)) - Math.min(...ps.map((p) => p.outAt)) : n;
  }, 0);
  const overrunMs = occurrences.reduce((n, o) => Math.max(n, ...o.batches.flatMap((b) => b.proxies.map((p) => p.backAt - o.window.endAt))), 0);
  return {
    region: a.region,
    displayName: spec?.displayName ?? a.region,
    timeZone,
    wave: a.wave,
    ...(first ? { window: first.window } : {}),
    occurrences,
    skipped,
    proxies: upgrading.length,
    spilled,
    fitsWindow: spilled.length === 0,
    busyMs,
    ...(mine.length ? { startAt: Math.min(...mine.map((p) => p.outAt)), endAt: Math.max(...mine.map((p) => p.backAt)) } : {}),
    overrunMs,
    expectedCut: mine.reduce((n, p) => n + p.expectedCut, 0),
  };
}

function plannedProxy(name: string, x: Timing, upgradeMs: number, timeZone: string): PlannedProxy {
  return {
    name,
    sessions: x.sessions,
    sessionsKnown: x.known,
    drainMs: x.drainMs,
    drainCapped: x.capped,
    expectedCut: x.expectedCut,
    upgradeMs,
    outAt: x.outAt,
    drainedAt: x.drainedAt,
    backAt: x.backAt,
    outLocal: formatLocal(x.outAt, timeZone),
    outUtc: formatUtc(x.outAt),
    backLocal: formatLocal(x.backAt, timeZone),
    backUtc: formatUtc(x.backAt),
  };
}
