/** Wall-clock arithmetic in IANA time zones with Intl only (no tz database of our own). */

export interface LocalDateTime {
  readonly year: number;
  readonly month: number; // 1-12
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  /** 0 = Monday … 6 = Sunday. */
  readonly weekday: number;
}

const WEEKDAY_INDEX: Readonly<Record<string, number>> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };
const formatters = new Map<string, Intl.DateTimeFormat>();
const zoneNames = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * Recent answers by zone and minute: passes that wait days for a window ask the same minutes over
 * and over for every proxy, and formatToParts is the costly part. Exact: the fields are per minute.
 */
const recent = new Map<string, Map<number, LocalDateTime>>();
const RECENT_PER_ZONE = 4096;

export function localTime(atMs: number, timeZone: string): LocalDateTime {
  const minute = Math.floor(atMs / 60_000);
  let zone = recent.get(timeZone);
  const known = zone?.get(minute);
  if (known) return known;
  const t = Object.freeze(formatLocalTime(minute * 60_000, timeZone));
  if (!zone) recent.set(timeZone, (zone = new Map()));
  if (zone.size >= RECENT_PER_ZONE) zone.clear();
  zone.set(minute, t);
  return t;
}

function formatLocalTime(atMs: number, timeZone: string): LocalDateTime {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(atMs)) parts[p.type] = p.value;
  return {
    year: Number(parts['year']),
    month: Number(parts['month']),
    day: Number(parts['day']),
    hour: Number(parts['hour']),
    minute: Number(parts['minute']),
    weekday: WEEKDAY_INDEX[parts['weekday'] ?? ''] ?? 0,
  };
}

/** Offset of the zone from UTC at an instant, in ms (Tokyo: +9h). */
function offsetMs(atMs: number, timeZone: string): number {
  // Offsets are whole minutes today, so the minute the wall clock shows pins it down.
  const t = localTime(atMs, timeZone);
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute) - Math.floor(atMs / 60_000) * 60_000;
}

const DAY_MS = 86_400_000;

/**
 * The instant a local wall-clock time names. In a spring-forward gap (02:30 that never
 * happens) the later offset applies, as cron and systemd timers do; in a fall-back overlap,
 * the first occurrence. A date the zone skipped altogether (Pacific/Apia, 2011-12-30) thus
 * lands on the next day; callers that need the same date check with `isOnLocalDate`.
 */
export function zonedInstant(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  // The real instant is within ±14h of `wall`, so a day either side sees the offsets before and after any transition.
  const candidates = [wall - offsetMs(wall - DAY_MS, timeZone), wall - offsetMs(wall + DAY_MS, timeZone)];
  const real = candidates.filter((c) => c + offsetMs(c, timeZone) === wall);
  // Overlap: both are real, the earlier is the first occurrence. Gap: neither is, the later reads the time on the old clock.
  return real.length > 0 ? Math.min(...real) : Math.max(...candidates);
}

/** Whether an instant falls on the given local date in the zone. */
export function isOnLocalDate(atMs: number, year: number, month: number, day: number, timeZone: string): boolean {
  const t = localTime(atMs, timeZone);
  return t.year === year && t.month === month && t.day === day;
}

/** `2026-11-28 02:00 JST`-style text for notices and plans. */
export function formatLocal(atMs: number, timeZone: string): string {
  const t = localTime(atMs, timeZone);
  let names = zoneNames.get(timeZone);
  if (!names) zoneNames.set(timeZone, (names = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'short' })));
  const zone = names.formatToParts(atMs).find((p) => p.type === 'timeZoneName')?.value ?? timeZone;
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  return `${days[t.weekday]} ${t.year}-${pad(t.month)}-${pad(t.day)} ${pad(t.hour)}:${pad(t.minute)} ${zone}`;
}

export function formatUtc(atMs: number): string {
  const d = new Date(atMs);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}
