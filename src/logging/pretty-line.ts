/** pino's numeric levels, as people read them. */
const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** ANSI colours of the level, at a terminal: grey, grey, green, yellow, red, red. */
const COLOURS: Readonly<Record<number, string>> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '31' };
/** Fields every line has, or that say nothing to a reader. */
const SKIPPED = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'app', 'err']);

const two = (n: number): string => String(n).padStart(2, '0');

function clock(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** A value as `key=value` shows it: bare when it is one word, else as JSON. */
function shown(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** The error pino serialized (`err`): its message inline, its stack on the lines below. */
function errorParts(err: unknown): { inline: string; stack: string } {
  if (!err || typeof err !== 'object') return { inline: err === undefined ? '' : ` err=${shown(err)}`, stack: '' };
  const { message, stack } = err as { message?: unknown; stack?: unknown };
  const below = typeof stack === 'string' ? stack.split('\n').slice(1).map((l) => `\n    ${l.trim()}`).join('') : '';
  return { inline: ` err=${shown(typeof message === 'string' ? message : err)}`, stack: below };
}

/**
 * One pino JSON line as a line for people: local time, level, message, then the other fields as
 * key=value (and an error's stack below). A line that is not JSON is passed through as it is.
 */
export function prettyLine(json: string, colour = false): string {
  let entry: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(json);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return json.endsWith('\n') ? json : `${json}\n`;
    entry = parsed as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = typeof entry.level === 'number' ? entry.level : 30;
  const name = (LEVELS[level] ?? `L${level}`).padEnd(5);
  const time = typeof entry.time === 'number' ? clock(entry.time) : '--:--:--.---';
  const fields = Object.entries(entry)
    .filter(([k]) => !SKIPPED.has(k))
    .map(([k, v]) => ` ${k}=${shown(v)}`)
    .join('');
  const err = errorParts(entry.err);
  const msg = typeof entry.msg === 'string' ? entry.msg : '';
  return `${time} ${colour ? `\x1b[${COLOURS[level] ?? '0'}m${name}\x1b[0m` : name} ${msg}${fields}${err.inline}${err.stack}\n`;
}
