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
