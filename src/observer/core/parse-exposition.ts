import { err, ok, type Result } from '../../model/result.js';

/**
 * A selective reader of the Prometheus text exposition format (0.0.4, plus what a text
 * reader meets in OpenMetrics 1.0: `# EOF`/`# UNIT` comments, float timestamps, exemplars).
 *
 * Samples of the chosen metric names are read in full against the grammar (name, label
 * set with escapes, Go float value, optional timestamp). Every other line is only checked
 * to look like exposition text: blank, a `#` comment, or a sample line that starts with a
 * metric-name character and ends in a value character. Checking every line in full cost
 * ~1.2 ms on a busy proxy's page (~300 KiB, ~2,400 lines); this costs ~80 us, close to the
 * bare cost of finding the line ends (figures: test/observer/bench-parse-metrics.ts).
 *
 * Not `parse-prometheus-text-format`: ~6.5 ms on the same page (an object per sample of
 * every family), and it reads an HTML page as samples named `<html>`, an empty value as 0
 * and cannot read `+Inf`.
 */

export interface ExpositionSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Go `strconv.ParseFloat` semantics: NaN, +Inf and -Inf are values, not errors. */
  readonly value: number;
}

export interface ExpositionProblem {
  /** 1-based line number in the page. */
  readonly line: number;
  readonly message: string;
}

export type ExpositionSamples = ReadonlyMap<string, readonly ExpositionSample[]>;

const TAB = 9;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const HASH = 35;
const COMMA = 44;
const COLON = 58;
const EQUALS = 61;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR;
}

function isLabelNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}

function isLabelNameChar(c: number): boolean {
  return isLabelNameStart(c) || (c >= 48 && c <= 57);
}

function isMetricNameStart(c: number): boolean {
  return isLabelNameStart(c) || c === COLON;
}

/** Characters of a Go float or OpenMetrics timestamp: digits, sign, point, exponent, Inf, NaN. */
function isNumberChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 69 || c === 101 || // 0-9 + - . E e
    c === 73 || c === 105 || c === 110 || c === 78 || c === 102 || c === 70 || c === 97 || c === 65 // I i n N f F a A
  );
}

/** A sample line always ends in a value, timestamp or exemplar value: a digit, or the f of Inf, the N of NaN. */
function isValueEnd(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 102 || c === 70 || c === 78 || c === 110;
}

function describe(c: number): string {
  return c >= 33 && c <= 126 ? `'${String.fromCharCode(c)}'` : Number.isNaN(c) ? 'end of line' : `character code ${c}`;
}

/** Go's strconv.ParseFloat as Prometheus uses it for values; NaN for anything that is not a number. */
export function parseGoFloat(token: string): number {
  switch (token.toLowerCase()) {
    case 'nan':
      return Number.NaN;
    case 'inf':
    case '+inf':
      return Number.POSITIVE_INFINITY;
    case '-inf':
      return Number.NEGATIVE_INFINITY;
    default:
      // Number() reads '' as 0 and accepts hex and 'Infinity', which Go does not.
      return token === '' || /[a-df-zA-DF-Z_]/.test(token) ? Number.NaN : Number(token);
  }
}

class LineError extends Error {}

/** Fed a page piece by piece, so a large page is never held as one string. */
export interface ExpositionParser {
  /** Reads the complete lines of `chunk` (a partial last line waits for the next chunk); returns the first problem as soon as it is seen. */
  push(chunk: string): ExpositionProblem | undefined;
  /** Reads what is left and returns the samples, or the first problem. */
  end(): Result<ExpositionSamples, ExpositionProblem>;
}

export interface ExpositionReader {
  read(text: string): Result<ExpositionSamples, ExpositionProblem>;
  begin(): ExpositionParser;
}

/**
 * Builds a reader that returns the samples of `names` (sample names: `foo_total`,
 * `foo_bucket`) and refuses a page that is not exposition text, naming the line.
 */
export function createExpositionReader(names: readonly string[]): ExpositionReader {
  // Most lines are ruled out by their first character before any string comparison.
  const byFirstChar: (string[] | undefined)[] = new Array<string[] | undefined>(128).fill(undefined);
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (!isMetricNameStart(c)) throw new Error(`not a metric name: ${JSON.stringify(n)}`);
    (byFirstChar[c] ??= []).push(n);
  }

  /** Reads the lines of text[0, end), where `end` is just past a newline or the end of the page; counts them in `at.line`. */
  function readLines(text: string, end: number, out: Map<string, ExpositionSample[]>, at: { line: number }): void {
    let pos = 0;
    while (pos < end) {
      at.line++;
      let eol = text.indexOf('\n', pos);
      if (eol === -1 || eol > end) eol = end;
      let i = pos;
      let c = text.charCodeAt(i);
      if (isBlank(c)) {
        while (i < eol && isBlank(text.charCodeAt(i))) i++;
        c = text.charCodeAt(i);
      }
      if (i < eol && c !== HASH) {
        if (!isMetricNameStart(c)) throw new LineError(`expected a metric name or '#', found ${describe(c)}`);
        let last = eol - 1;
        while (last > i && isBlank(text.charCodeAt(last))) last--;
        if (!isValueEnd(text.charCodeAt(last))) throw new LineError(`sample line does not end in a value: "${clip(text, i, last + 1)}"`);
        const candidates = byFirstChar[c];
        if (candidates) {
          for (const name of candidates) {
            if (!text.startsWith(name, i)) continue;
            const after = text.charCodeAt(i + name.length);
            if (isBlank(after) || after === OPEN_BRACE) {
              let list = out.get(name);
              if (!list) out.set(name, (list = []));
              list.push(readSample(text, name, i + name.length, eol));
              break;
            }
          }
        }
      }
      pos = eol + 1;
    }
  }

  function begin(): ExpositionParser {
    const out = new Map<string, ExpositionSample[]>();
    const at = { line: 0 };
    // The unfinished last line, kept in pieces so a long line is joined once, not once per chunk.
    let pending: string[] = [];
    let problem: ExpositionProblem | undefined;
    const run = (text: string, end: number): void => {
      try {
        readLines(text, end, out, at);
      } catch (e) {
        if (!(e instanceof LineError)) throw e;
        problem = { line: at.line, message: e.message };
      }
    };
    return {
      push(chunk) {
        if (problem) return problem;
        const lastNewline = chunk.lastIndexOf('\n');
        if (lastNewline === -1) {
          if (chunk) pending.push(chunk);
          return undefined;
        }
        const text = pending.length ? pending.join('') + chunk : chunk;
        const end = text.length - (chunk.length - lastNewline) + 1;
        pending = end < text.length ? [text.slice(end)] : [];
        run(text, end);
        return problem;
      },
      end() {
        if (!problem && pending.length) {
          const text = pending.join('');
          pending = [];
          run(text, text.length);
        }
        return problem ? err(problem) : ok(out);
      },
    };
  }

  return {
    begin,
    read(text) {
      const parser = begin();
      const problem = parser.push(text);
      return problem ? err(problem) : parser.end();
    },
  };
}

function clip(text: string, from: number, to: number): string {
  return to - from > 60 ? `${text.slice(from, from + 57)}...` : text.slice(from, to);
}

/** Reads one sample line in full, from just after its metric name. */
function readSample(text: string, name: string, from: number, eol: number): ExpositionSample {
  let i = from;
  while (i < eol && isBlank(text.charCodeAt(i))) i++;
  let labels: Record<string, string> = {};
  if (text.charCodeAt(i) === OPEN_BRACE) {
    const pairs: [string, string][] = [];
    i = readLabels(text, i + 1, eol, name, pairs);
    // fromEntries defines own properties, so a label named __proto__ stays data.
    labels = Object.fromEntries(pairs);
    while (i < eol && isBlank(text.charCodeAt(i))) i++;
  }
  const valueStart = i;
  while (i < eol && !isBlank(text.charCodeAt(i))) {
    if (!isNumberChar(text.charCodeAt(i))) throw new LineError(`invalid character ${describe(text.charCodeAt(i))} in the value of ${name}`);
    i++;
  }
  const token = text.slice(valueStart, i);
  if (token === '') throw new LineError(`${name} has no value`);
  const value = parseGoFloat(token);
  if (Number.isNaN(value) && token.toLowerCase() !== 'nan') throw new LineError(`${name} has an invalid value "${token}"`);
  checkTail(text, i, eol, name);
  return { name, labels, value };
}

/** Reads `name="value",...}` from just after `{` into `into`; returns the index after `}`. */
function readLabels(text: string, from: number, eol: number, metric: string, into: [string, string][]): number {
  let i = from;
  for (;;) {
    while (i < eol && isBlank(text.charCodeAt(i))) i++;
    if (i >= eol) throw new LineError(`unterminated label set of ${metric}`);
    if (text.charCodeAt(i) === CLOSE_BRACE) return i + 1;
    const nameStart = i;
    if (!isLabelNameStart(text.charCodeAt(i))) throw new LineError(`expected a label name in ${metric}, found ${describe(text.charCodeAt(i))}`);
    i++;
    while (i < eol && isLabelNameChar(text.charCodeAt(i))) i++;
    const label = text.slice(nameStart, i);
    while (i < eol && isBlank(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== EQUALS) throw new LineError(`expected '=' after label ${label} of ${metric}`);
    i++;
    while (i < eol && isBlank(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== QUOTE) throw new LineError(`expected '"' to open the value of label ${label} of ${metric}`);
    i++;
    const valueStart = i;
    let escaped = false;
    for (;;) {
      if (i >= eol) throw new LineError(`unterminated value of label ${label} of ${metric}`);
      const c = text.charCodeAt(i);
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const next = text.charCodeAt(i + 1);
        if (next !== BACKSLASH && next !== QUOTE && next !== 110) throw new LineError(`invalid escape in the value of label ${label} of ${metric}`);
        escaped = true;
        i += 2;
        continue;
      }
      i++;
    }
    const raw = text.slice(valueStart, i);
    into.push([label, escaped ? raw.replace(/\\(["\\n])/g, (_m, e: string) => (e === 'n' ? '\n' : e)) : raw]);
    i++;
    while (i < eol && isBlank(text.charCodeAt(i))) i++;
    const sep = text.charCodeAt(i);
    if (sep === COMMA) {
      i++;
      continue;
    }
    if (sep === CLOSE_BRACE) return i + 1;
    throw new LineError(`expected ',' or '}' after label ${label} of ${metric}, found ${describe(sep)}`);
  }
}

/** After the value: an optional timestamp, then an optional OpenMetrics exemplar (`# {...} v`). */
function checkTail(text: string, from: number, eol: number, metric: string): void {
  let i = from;
  while (i < eol && isBlank(text.charCodeAt(i))) i++;
  if (i >= eol || text.charCodeAt(i) === HASH) return;
  while (i < eol && !isBlank(text.charCodeAt(i))) {
    if (!isNumberChar(text.charCodeAt(i))) throw new LineError(`invalid character ${describe(text.charCodeAt(i))} in the timestamp of ${metric}`);
    i++;
  }
  while (i < eol && isBlank(text.charCodeAt(i))) i++;
  if (i < eol && text.charCodeAt(i) !== HASH) throw new LineError(`unexpected ${describe(text.charCodeAt(i))} after the timestamp of ${metric}`);
}
