import pino, { type Logger } from 'pino';
import type { LogFormat, LogLevel } from './log-options.js';
import { prettyLine } from './pretty-line.js';

/** Where log lines go: stdout, or a test's stand-in. */
export interface LogOutput {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** auto is pretty for a person at a terminal and JSON for everything else (pipes, files, log collectors). */
export function isPretty(format: LogFormat, out: Pick<LogOutput, 'isTTY'>): boolean {
  return format === 'pretty' || (format === 'auto' && out.isTTY === true);
}

/**
 * The process's logger: JSON lines, or lines for people formatted in this thread (no transport
 * worker, so nothing is lost at exit and the compiled build needs nothing loaded by path).
 */
export function createLogger(options: { level: LogLevel; format: LogFormat; app: string }, out: LogOutput = process.stdout): Logger {
  const settings = { level: options.level, base: { app: options.app } };
  if (!isPretty(options.format, out)) return out === process.stdout ? pino(settings) : pino(settings, { write: (line: string) => void out.write(line) });
  const colour = out.isTTY === true;
  return pino(settings, { write: (line: string) => void out.write(prettyLine(line.replace(/\n$/, ''), colour)) });
}
