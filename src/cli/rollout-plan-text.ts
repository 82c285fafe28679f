import type { FieldError } from '../model/field-error.js';
import { formatPath } from '../model/field-error.js';
import { formatDuration } from '../model/duration.js';
import type { SkewVerdict } from '../rollout/core/version-skew-gate.js';
import { clockNote } from './clock-note.js';
import type { ControllerClock } from './controller-clock.js';
import type { PlannedBatch, PlannedNotice, PlannedProxy, RegionPlan, RolloutPlan, WavePlan, WindowPlan } from '../rollout/core/plan-rollout.js';

const WIDTH = 108;

/**
 * `meridian rollout plan`: the timeline as terminal text, local and UTC times side by side. No
 * colours. `clock`: the controller's, when the plan was made on it (its times labelled when simulated).
 */
export function formatRolloutPlan(plan: RolloutPlan, clock?: Pick<ControllerClock, 'simulated' | 'timeFactor' | 'label'>): string {
  const s = plan.settings;
  const lines: string[] = [];
  lines.push(`Rollout plan for ${plan.rollout}: upgrade to ${plan.version}, as if started ${plan.nowUtc}${clock?.label ?? ''}`);
  const note = clockNote(clock);
  if (note) lines.push(`  ${note}`);
  lines.push(
    `  ${plural(plan.totals.upgrading, 'proxy', 'proxies')} in ${plural(plan.waves.length, 'wave')}; at most ${s.maxUnavailable} out per region` +
      (s.allowRegionOutage ? ' (a region may go dark)' : ', never the last ready one'),
  );
  lines.push(`  Drain: sessions of ${formatDuration(s.meanSessionMs)} on average, deadline ${formatDuration(s.drainDeadlineMs)}`);
  lines.push(
    `  Upgrade + verify: ${s.verifyScrapes} scrapes x ${formatDuration(s.scrapeIntervalMs)} + ${formatDuration(s.restartAllowanceMs)} restart = ` +
      `${formatDuration(s.upgradeMs)} per proxy`,
  );
  lines.push(
    s.leadTimes.length
      ? `  Notices: ${s.leadTimes.join(', ')} before each window, ${s.channels.length ? `on ${s.channels.map((c) => `${c.name} (${c.type})`).join(', ')}` : 'logged only (no channels)'}`
      : '  Notices: none (no lead times)',
  );
  lines.push(...wrap(`Version skew: ${skewText(plan.versionSkew)}`, '  ', '    '));
  for (const wave of plan.waves) lines.push('', ...formatWave(wave, plan));
  lines.push('', ...formatTotals(plan));
  return `${lines.join('\n')}\n`;
}

/** The controller's check before the start and each take-out, as the plan judged it. */
function skewText(v: SkewVerdict): string {
  switch (v.kind) {
    case 'ok':
    case 'unchecked':
      return v.message;
    case 'unknown':
      return `not checked yet: ${v.message}; until then the controller does not start the rollout`;
    case 'refused':
      return `REFUSED: ${v.message}. The controller does not start the rollout (nor take a proxy out) until the Auth Service allows it; the timeline below assumes it does`;
  }
}

/** The problems that keep a rollout from being planned, one per line. */
export function formatPlanErrors(source: string, errors: readonly FieldError[]): string {
  const lines = errors.map((e) => `${source}: ${formatPath(e.path)}: ${e.message}`);
  lines.push(`${plural(errors.length, 'problem')}: nothing planned`);
  return `${lines.join('\n')}\n`;
}

function formatWave(wave: WavePlan, plan: RolloutPlan): string[] {
  const span = wave.startAt !== undefined && wave.endAt !== undefined ? `: expected ${formatDuration(wave.endAt - wave.startAt)} from first out to last back` : '';
  const out = [`Wave ${wave.index + 1}/${plan.waves.length} "${wave.name}"${span}`];
  for (const r of wave.regions) out.push(...formatRegion(r, plan));
  return out;
}

function formatRegion(r: RegionPlan, plan: RolloutPlan): string[] {
  const name = r.displayName === r.region ? r.region : `${r.displayName} (${r.region})`;
  const out: string[] = [];
  if (!r.proxies) {
    out.push(`  Region ${name}, ${r.timeZone}: nothing to do`);
    if (r.skipped.length) out.push(`    Skipped, already on ${plan.version}: ${r.skipped.map((p) => p.name).join(', ')}`);
    return out;
  }
  const fit = r.window ? `; ${formatDuration(r.window.durationMs)} window: ${r.fitsWindow ? 'fits' : 'does not fit'}` : '';
  out.push(`  Region ${name}, ${r.timeZone}: ${plural(r.proxies, 'proxy', 'proxies')}, expected ${formatDuration(r.busyMs)} of work${fit}`);
  r.occurrences.forEach((o, i) => out.push(...formatOccurrence(o, i, r)));
  if (r.skipped.length) out.push(`    Skipped, already on ${plan.version}: ${r.skipped.map((p) => p.name).join(', ')}`);
  const later = r.occurrences.slice(1).find((o) => o.batches.length);
  if (r.spilled.length && later)
    out.push(...wrap(`! ${plural(r.spilled.length, 'proxy spills', 'proxies spill')} over to a later window (${later.window.startLocal} | ${later.window.startUtc}): ${r.spilled.join(', ')}`, '    ', '      '));
  else if (r.spilled.length) out.push(`    ! ${plural(r.spilled.length, 'proxy', 'proxies')} not planned: ${r.spilled.join(', ')}`);
  if (r.overrunMs > 0) out.push(`    Note: the last proxy is expected back ${formatDuration(r.overrunMs)} after its window closes (a drain under way may finish)`);
  if (r.expectedCut > 0) out.push(`    Expected cut at the drain deadline: ~${plural(r.expectedCut, 'session')}`);
  return out;
}

function formatOccurrence(o: WindowPlan, i: number, r: RegionPlan): string[] {
  const w = o.window;
  const label = i === 0 ? 'Window' : 'Next window';
  const out = [
    `    ${label} ${w.startLocal} to ${sameDay(w.endLocal, w.startLocal)} | ${w.startUtc} to ${sameDay(w.endUtc, w.startUtc)} (${formatDuration(w.durationMs)})`,
  ];
  out.push(...formatNotices(o.notices));
  o.batches.forEach((b, j) => out.push(...formatBatch(b, j)));
  if (!o.batches.length) out.push('      No proxy goes out in this window');
  if (o.replaced) {
    const why = o.replaced.because === 'window-closed' ? 'it closes with proxies left' : 'an earlier wave moved to a later window';
    const at = r.occurrences[i + 1]?.window;
    out.push(`      ! Replaced${at ? ` by the window at ${at.startLocal}` : ''}: ${why}`);
  }
  return out;
}

function formatNotices(notices: readonly PlannedNotice[]): string[] {
  if (!notices.length) return [];
  const channels = notices[0]?.channels ?? [];
  const out = [`      Notices ${channels.length ? `on ${channels.join(', ')}` : '(logged only)'}:`];
  const leadWidth = Math.max(...notices.map((n) => n.leadTime.length));
  for (const n of notices) {
    const dropped = n.sent ? '' : '  (dropped: window replaced)';
    out.push(`        ${`${n.leadTime} before`.padEnd(leadWidth + 7)}  ${n.sendLocal} | ${n.sendUtc}${dropped}`);
  }
  const messages = [...new Set(notices.map((n) => n.message))];
  if (messages.length === 1) out.push(...wrap(`Message: "${messages[0] ?? ''}"`, '        ', '          '));
  else for (const n of notices) out.push(...wrap(`Message (${n.leadTime}): "${n.message}"`, '        ', '          '));
  return out;
}

function formatBatch(b: PlannedBatch, j: number): string[] {
  const out = [`      Batch ${j + 1}: out ${b.outLocal} | ${b.outUtc}`];
  const nameWidth = Math.max(...b.proxies.map((p) => p.name.length));
  for (const p of b.proxies) out.push(`        ${p.name.padEnd(nameWidth)}  ${formatProxy(p, b)}`);
  return out;
}

function formatProxy(p: PlannedProxy, b: PlannedBatch): string {
  const sessions = p.sessionsKnown ? `${String(p.sessions).padStart(5)} sessions` : '    ? sessions';
  const drain = p.drainCapped ? `drain ${formatDuration(p.drainMs)} (deadline, ~${p.expectedCut} cut)` : p.drainMs > 0 ? `drain ~${formatDuration(p.drainMs)}` : 'no drain';
  return `${sessions}  ${drain.padEnd(28)}  back ~${sameDay(p.backLocal, b.outLocal)} | ${sameDay(p.backUtc, b.outUtc)}`;
}

function formatTotals(plan: RolloutPlan): string[] {
  const t = plan.totals;
  const out = [
    `Totals: ${plural(t.upgrading, 'proxy', 'proxies')} to upgrade, ${t.skipped} skipped; ${plural(t.notices, 'notice')}; ` +
      `${plural(t.sessionsNow, 'session')} open now, ~${t.expectedCut} expected cut`,
  ];
  if (t.startUtc !== undefined) out.push(`  First proxy out ${t.startUtc}; expected end ${t.endUtc} (${formatDuration(t.durationMs)} from now)`);
  else out.push('  Nothing to upgrade');
  if (t.spilledRegions.length) out.push(`  ! Regions that do not fit their first window: ${t.spilledRegions.join(', ')}`);
  if (t.unknownSessions.length) out.push(`  ! No session count for ${t.unknownSessions.join(', ')}: counted as 0`);
  for (const w of plan.warnings) out.push(`  ! ${w}`);
  return out;
}

/** Drops the date from `text` when `reference` (same format) shows the same one: `04:01 GMT+9`. */
function sameDay(text: string, reference: string): string {
  const date = /\d{4}-\d{2}-\d{2} /;
  const a = text.match(date)?.[0];
  const b = reference.match(date)?.[0];
  if (!a || a !== b) return text;
  return text.slice(text.indexOf(a) + a.length);
}

function wrap(text: string, first: string, rest: string): string[] {
  const out: string[] = [];
  let line = first;
  let fresh = true;
  for (const word of text.split(' ')) {
    if (!fresh && line.length + 1 + word.length > WIDTH) {
      out.push(line);
      line = rest + word;
    } else line = fresh ? line + word : `${line} ${word}`;
    fresh = false;
  }
  out.push(line);
  return out;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
