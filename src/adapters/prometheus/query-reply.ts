import { err, ok, type Result } from '../../model/result.js';
import { excerpt } from '../hooks/post-json.js';

/** Why a reply gave no number; the caller adds which query and which server. */
export interface ReplyProblem {
  readonly noData: boolean;
  readonly problem: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

const problem = (text: string): { readonly ok: false; readonly error: ReplyProblem } => err({ noData: false, problem: text });

/** `bad_data: parse error at char 5…`, from Prometheus' error envelope. */
function prometheusError(json: Record<string, unknown>): string {
  const type = typeof json['errorType'] === 'string' ? json['errorType'] : 'error';
  const message = typeof json['error'] === 'string' ? json['error'] : '(no message)';
  return `${type}: ${message}`;
}

/** A sample's value: Prometheus sends `[<unix time>, "<value>"]`, with NaN and ±Inf spelled out. */
function sampleValue(pair: unknown): Result<number, ReplyProblem> {
  if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[1] !== 'string') return problem('a sample is not [time, "value"]');
  const text = pair[1];
  if (text === 'NaN') return problem('the value is NaN (a ratio over no traffic gives 0/0; guard it, e.g. with `> 0` on the denominator, to get no data instead)');
  if (/^[+-]?Inf$/.test(text)) return problem(`the value is ${text}`);
  const value = Number(text);
  return text.trim() !== '' && Number.isFinite(value) ? ok(value) : problem(`the value ${excerpt(text, 40)} is not a number`);
}

/**
 * Reads the answer of `GET /api/v1/query`: one number from a scalar or a one-series instant
 * vector. An empty vector is "no data" (nothing to judge); more than one series, a range vector,
 * NaN or an infinity, Prometheus' own errors and anything that is not its JSON are problems.
 */
export function parseQueryReply(status: number, body: string): Result<number, ReplyProblem> {
  const json = parseJson(body);
  if (status < 200 || status > 299) {
    if (isObject(json) && json['status'] === 'error') return problem(`HTTP ${status} ${prometheusError(json)}`);
    return problem(`HTTP ${status}${body.trim() ? `: ${excerpt(body)}` : ''}`);
  }
  if (!isObject(json)) return problem(`the answer is not Prometheus JSON: ${excerpt(body)}`);
  if (json['status'] === 'error') return problem(prometheusError(json));
  const data = json['data'];
  if (json['status'] !== 'success' || !isObject(data)) return problem(`the answer is not Prometheus JSON with "status": "success" and "data": ${excerpt(body)}`);
  const result = data['result'];
  switch (data['resultType']) {
    case 'scalar':
      return sampleValue(result);
    case 'vector': {
      if (!Array.isArray(result)) return problem('"data.result" of a vector is not a list');
      if (result.length === 0) return err({ noData: true, problem: 'no data: the query returned an empty vector' });
      if (result.length > 1)
        return problem(`the query returned ${result.length} series, not one: aggregate them into one number, e.g. with sum(...) or max(...)`);
      const only: unknown = result[0];
      return sampleValue(isObject(only) ? only['value'] : undefined);
    }
    case 'matrix':
      return problem('the query returned a range vector (matrix), not one number: give an instant query, e.g. rate(x[{{interval}}]) rather than x[{{interval}}]');
    case 'string':
      return problem('the query returned a string, not a number');
    default:
      return problem(`unknown "data.resultType" ${excerpt(String(data['resultType']), 40)}`);
  }
}
