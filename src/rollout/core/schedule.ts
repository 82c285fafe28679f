import type { ProxyRolloutNoticeStatus, ProxyRolloutProxyStatus, ProxyStep } from '../../model/rollout.js';
import { nextWindow } from './maintenance-window.js';
import { renderNotice } from './notice-text.js';
import { finish } from './proxy-progress.js';
import { claimAction, iso, sameVersion, wakeAt, waitingForRetry, type ProxyDraft, type RolloutDraft } from './rollout-draft.js';
import type { RolloutSettings } from './rollout-settings.js';
import { noticeId } from './rollout-ids.js';

export const END_STEPS: ReadonlySet<ProxyStep> = new Set(['Done', 'Failed', 'Skipped']);
const WAITING_STEPS: ReadonlySet<ProxyStep> = new Set(['Pending', 'Noticed']);

/** Regions of each wave, in the order their proxies appear. */
export function regionsByWave(d: RolloutDraft): string[][] {
  const waves = d.settings.waves.map(() => new Set<string>());
  for (const p of d.proxies) waves[p.wave]?.add(p.region);
  return waves.map((w) => [...w]);
}

/** The first wave with a proxy that is not finished (every earlier wave is complete); the wave count when all are. */
export function currentWave(proxies: readonly Pick<ProxyRolloutProxyStatus, 'wave' | 'step'>[], waveCount: number): number {
  let first = waveCount;
  for (const p of proxies) if (!END_STEPS.has(p.step)) first = Math.min(first, p.wave);
  return first;
}

/** Every target as a rollout starts it: Pending, or Skipped when it already runs the version. */
export function initialProxies(s: RolloutSettings, runningVersion: (name: string) => string | undefined): ProxyRolloutProxyStatus[] {
  return s.waves.flatMap((names, wave) =>
    names.map((name) => {
      const spec = s.targets.find((p) => p.name === name);
      const running = runningVersion(name) ?? spec?.version ?? '';
      const region = spec?.region ?? '';
      return sameVersion(running, s.version)
        ? { name, region, wave, step: 'Skipped' as const, fromVersion: running, message: `Already runs ${s.version}` }
        : { name, region, wave, step: 'Pending' as const, fromVersion: running };
    }),
  );
}

/** Proxies of the status the rollout no longer targets: they, or their region, left the fleet, or the selector no longer picks them. */
export function untargeted(d: RolloutDraft): ProxyDraft[] {
  const targeted = new Set(d.settings.targets.map((p) => p.name));
  return d.proxies.filter((p) => !targeted.has(p.name));
}

function whyUntargeted(d: RolloutDraft, p: ProxyDraft): string {
  if (!d.fleet.regions.some((r) => r.name === p.region)) return `Skipped: region ${p.region} is no longer in the fleet`;
  if (!d.fleet.proxies.some((x) => x.name === p.name)) return 'Skipped: no longer in the fleet';
  return 'Skipped: the rollout no longer selects it';
}

/**
 * Skips the waiting proxies the rollout no longer targets, so a later wave does not wait for
 * them forever (a proxy already out of rotation finishes its steps). A region left with nothing
 * waiting drops the notices it has not given: there is nothing to tell its users any more.
 */
export function skipUntargeted(d: RolloutDraft): void {
  const regions = new Set<string>();
  for (const p of untargeted(d)) {
    if (!WAITING_STEPS.has(p.step)) continue;
    p.message = whyUntargeted(d, p);
    finish(d, p, 'Skipped');
    regions.add(p.region);
  }
  for (const region of regions)
    if (!d.proxies.some((p) => p.region === region && WAITING_STEPS.has(p.step)))
      d.notices = d.notices.filter((n) => n.region !== region || n.givenAt !== undefined);
}

/**
 * Gives every region that still has proxies to take out a maintenance-window occurrence, in
 * wave order: far enough ahead for the longest notice, opening no earlier than every earlier
 * wave's window (a later wave may share a night with an earlier one and waits inside it until
 * that wave is done), and not yet over. A window that closed with work left is replaced by the
 * next one, with fresh notices (users were told a time that has passed).
 */
export function scheduleWindows(d: RolloutDraft): void {
  const maxLeadMs = d.settings.leadTimes[0]?.ms ?? 0;
  let previousWaveStartMs = 0;
  for (const regions of regionsByWave(d)) {
    let waveStartMs = previousWaveStartMs;
    for (const region of regions) {
      const proxies = d.proxies.filter((p) => p.region === region);
      const current = d.windows.get(region);
      const waiting = proxies.some((p) => WAITING_STEPS.has(p.step));
      const stale = !current || Date.parse(current.endAt) <= d.now || Date.parse(current.startAt) < previousWaveStartMs;
      if (waiting && stale) assignWindow(d, region, Math.max(d.now + maxLeadMs, previousWaveStartMs), current !== undefined);
      const w = d.windows.get(region);
      if (w && proxies.some((p) => !END_STEPS.has(p.step))) waveStartMs = Math.max(waveStartMs, Date.parse(w.startAt));
    }
    previousWaveStartMs = waveStartMs;
  }
}

function assignWindow(d: RolloutDraft, region: string, earliestMs: number, replacing: boolean): void {
  const { windows, timeZone } = d.settings.windows(region);
  const occurrence = nextWindow(windows, timeZone, earliestMs);
  if (!occurrence) {
    d.events.push({ reason: 'NoWindow', region, message: `Region ${region} has no maintenance window that opens` });
    return;
  }
  const startAt = iso(occurrence.startAt);
  d.windows.set(region, { region, startAt, endAt: iso(occurrence.endAt), timeZone });
  // Notices of a replaced window that were never given go; the given ones stay as the record.
  d.notices = d.notices.filter((n) => n.region !== region || n.givenAt !== undefined);
  const proxies = d.proxies.filter((p) => p.region === region && WAITING_STEPS.has(p.step));
  for (const p of proxies) p.step = 'Pending';
  const regionSpec = d.fleet.regions.find((r) => r.name === region);
  for (const lead of d.settings.leadTimes) {
    d.notices.push({
      id: noticeId(d.rollout, d.startedAt, region, startAt, lead.text),
      region,
      leadTime: lead.text,
      windowStartAt: startAt,
      dueAt: iso(occurrence.startAt - lead.ms),
      message: renderNotice(d.settings.message, {
        proxies: proxies.map((p) => p.name),
        region: regionSpec?.displayName ?? region,
        version: d.settings.version,
        windowStartAt: occurrence.startAt,
        timeZone,
        leadTime: lead.text,
        rollout: d.rollout,
      }),
      channels: [],
    });
  }
  d.events.push({
    reason: replacing ? 'WindowRescheduled' : 'WindowScheduled',
    region,
    message: `Region ${region}: ${proxies.length} proxies in the window ${startAt} to ${iso(occurrence.endAt)}`,
  });
}

export function currentNotices(d: RolloutDraft, region: string) {
  const w = d.windows.get(region);
  return d.notices.filter((n) => n.region === region && w !== undefined && n.windowStartAt === w.startAt);
}

/** Sends the next notice that is due (one per pass); a notice without channels is given by being logged. */
export function giveDueNotices(d: RolloutDraft): void {
  for (const region of d.windows.keys()) {
    for (const n of currentNotices(d, region)) {
      if (n.givenAt) continue;
      const due = Date.parse(n.dueAt);
      if (due > d.now) {
        wakeAt(d, due);
        continue;
      }
      if (waitingForRetry(d, n.retryAt)) continue;
      const channels = d.settings.channels.filter((c) => !n.channels.some((x) => x.name === c && x.result === 'sent'));
      if (!channels.length) {
        n.givenAt = iso(d.now);
        d.events.push({ reason: 'NoticeGiven', region, message: n.message });
        continue;
      }
      claimAction(d, { kind: 'notify', noticeId: n.id, channels });
    }
    if (currentNotices(d, region).every((n) => n.givenAt))
      for (const p of d.proxies) if (p.region === region && p.step === 'Pending') p.step = 'Noticed';
  }
}

/**
 * The lead time a notice was planned with (its dueAt is that long before its window), whatever
 * the spec says now: '1h' rewritten as '60m', or dropped, still owes its users the full hour.
 */
export function noticeLeadMs(n: Pick<ProxyRolloutNoticeStatus, 'windowStartAt' | 'dueAt'>): number {
  return Date.parse(n.windowStartAt) - Date.parse(n.dueAt);
}

/** When every notice of the region's window has been out for its full lead time; undefined while one is not given. */
export function noticedAt(d: RolloutDraft, region: string): number | undefined {
  let at = 0;
  for (const n of currentNotices(d, region)) {
    if (!n.givenAt) return undefined;
    at = Math.max(at, Date.parse(n.givenAt) + noticeLeadMs(n));
  }
  return at;
}
