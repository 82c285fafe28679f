import type { CliIo } from '../../src/cli/io.js';

/** A CliIo that keeps what a command prints, for assertions. */
export function capture(): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += `${t}\n`),
    err: (t: string) => void (io.stderr += `${t}\n`),
    untilStopped: () => Promise.resolve(),
  };
  return io;
}

/** A capturing CliIo for long-running commands (start, demo): they run until `stop()`. */
export function stoppable(): ReturnType<typeof capture> & { stop(): void } {
  let stop = (): void => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  return Object.assign(capture(), { untilStopped: () => stopped, stop: () => stop() });
}
