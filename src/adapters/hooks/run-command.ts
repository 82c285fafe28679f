import { spawn, type ChildProcess } from 'node:child_process';
import { timerDelay } from '../../runtime/timer-delay.js';

export interface CommandOutcome {
  /** Exit code; null when the process did not end by itself (never started, killed). */
  readonly code: number | null;
  /** The first OUTPUT_LIMIT_BYTES of each stream. */
  readonly stdout: string;
  readonly stderr: string;
  /** stdout went past the limit and was cut there. */
  readonly stdoutTruncated?: true;
  /** Why it did not run to its own end: could not start, timed out, cancelled, killed by a signal. */
  readonly error?: string;
}

export interface RunOptions {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** For commands whose output is data (an inventory); default OUTPUT_LIMIT_BYTES. */
  readonly maxStdoutBytes?: number;
}

/** Runs argv[0] with the rest as its arguments, without a shell. Never rejects. */
export type RunCommand = (argv: readonly string[], opts: RunOptions) => Promise<CommandOutcome>;

/** Enough for any error message; a chatty command is not read further (it keeps running). */
export const OUTPUT_LIMIT_BYTES = 64 * 1024;

class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    if (this.size + chunk.length > this.limit) this.truncated = true;
    if (this.size >= this.limit) return;
    const part = chunk.subarray(0, this.limit - this.size);
    this.chunks.push(part);
    this.size += part.length;
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The real RunCommand: child_process.spawn with `shell: false`, killed with SIGKILL at the timeout or on abort. */
export const runCommand: RunCommand = (argv, { timeoutMs, signal, maxStdoutBytes }) =>
  new Promise((resolve) => {
    const [file, ...args] = argv;
    const stdout = new CappedOutput(maxStdoutBytes ?? OUTPUT_LIMIT_BYTES);
    const stderr = new CappedOutput(OUTPUT_LIMIT_BYTES);
    const done = (code: number | null, error?: string): void =>
      resolve({ code, stdout: stdout.text(), stderr: stderr.text(), ...(stdout.truncated ? { stdoutTruncated: true as const } : {}), ...(error === undefined ? {} : { error }) });
    if (file === undefined || file === '') return done(null, 'the command is empty');
    if (signal.aborted) return done(null, 'cancelled before it started');

    let child: ChildProcess;
    try {
      child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false, windowsHide: true });
    } catch (e) {
      return done(null, `could not start (${e instanceof Error ? e.message : String(e)})`);
    }
    let settled = false;
    const finish = (code: number | null, error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      done(code, error);
    };
    // Answer at once rather than wait for 'close': a grandchild may still hold the pipes open.
    const kill = (why: string): void => {
      child.kill('SIGKILL');
      finish(null, why);
    };
    const timer = setTimeout(kill, timerDelay(timeoutMs), `timed out after ${timeoutMs} ms`);
    const onAbort = (): void => kill('cancelled');
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (c: Buffer) => stdout.push(c));
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => finish(null, e.code === 'ENOENT' ? 'could not start (not found)' : `could not start (${e.message})`));
    child.on('close', (code, killedBy) => finish(code, code === null ? `killed by ${killedBy ?? 'a signal'}` : undefined));
  });
