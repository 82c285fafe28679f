// envtest's process.State (controller-runtime pkg/internal/testing/process/process.go): start a
// binary, poll its health URL every 100 ms until 200 within the start timeout, stop it with
// SIGTERM within the stop timeout, and remove the directory made for it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const POLL_MS = 100;
const TAIL = 4096;
const running = new Set<ChildProcess>();
// A test process that ends without stopping its control plane must not leave etcd or the API server behind.
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Does `binary --help` list `--flag`? (envtest's CheckFlag, used for flags that came or went between versions). */
export async function checkFlag(binary: string, flag: string): Promise<boolean> {
  const { stdout, stderr } = await promisify(execFile)(binary, ['--help'], { maxBuffer: 8 * 1024 * 1024 }).catch((e: { stdout?: string; stderr?: string }) => {
    // Some versions exit non-zero after printing help; the output still says.
    if (e.stdout || e.stderr) return { stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    throw new Error(`unable to run ${binary} --help to check for --${flag}`);
  });
  return new RegExp(`^\\s*--${flag}\\b`, 'm').test(`${stdout}\n${stderr}`);
}

/** A Go duration as envtest's timeouts take them from the environment ("20s", "1m30s", "500ms"). */
export function parseGoDuration(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`invalid duration "${text}"`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * units[p[2]!]!, 0);
}

function healthy(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    // As envtest: the certificate is not checked for the health check.
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export interface ProcessOptions {
  readonly path: string;
  readonly args: readonly string[];
  readonly healthUrl: URL;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  /** KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT: the binary's output goes to this process's. */
  readonly attachOutput: boolean;
}

export class ControlPlaneProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private tail = '';

  private constructor(
    readonly dir: string,
    private readonly ownsDir: boolean,
  ) {}

  /** A process with its own fresh temporary directory (envtest's "k8s_test_framework_" dirs), or `dir` when given. */
  static async init(dir?: string): Promise<ControlPlaneProcess> {
    return dir ? new ControlPlaneProcess(dir, false) : new ControlPlaneProcess(await mkdtemp(join(tmpdir(), 'k8s_test_framework_')), true);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(o: ProcessOptions): Promise<void> {
    const name = basename(o.path);
    const child = spawn(o.path, [...o.args], { stdio: o.attachOutput ? 'inherit' : ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    running.add(child);
    const keep = (b: Buffer): void => {
      this.tail = (this.tail + b.toString('utf8')).slice(-TAIL);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let gone = false;
    let spawnError: Error | undefined;
    this.exited = new Promise((resolve) => {
      child.once('error', (e) => {
        spawnError = e;
        gone = true;
        running.delete(child);
        resolve();
      });
      child.once('exit', () => {
        gone = true;
        running.delete(child);
        resolve();
      });
    });
    const deadline = Date.now() + o.startTimeoutMs;
    for (;;) {
      if (gone) {
        const why = spawnError ? `: ${spawnError.message}` : this.tail ? `; its last output:\n${this.tail}` : '';
        throw new Error(`timeout waiting for process ${name} to start successfully (it may have failed to start, or stopped unexpectedly before becoming ready)${why}`);
      }
      if (await healthy(o.healthUrl)) return;
      if (Date.now() >= deadline) {
        child.kill('SIGTERM');
        throw new Error(`timeout waiting for process ${name} to start`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }

  /** SIGTERM, wait up to the stop timeout (then SIGKILL, so nothing is left running), remove the directory made for it. */
  async stop(stopTimeoutMs: number): Promise<void> {
    const child = this.child;
    let timedOut = false;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise<void>((r) => (timer = setTimeout(() => ((timedOut = true), r()), stopTimeoutMs)))]);
      clearTimeout(timer);
      if (timedOut) {
        child.kill('SIGKILL');
        await this.exited;
      }
    }
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
    if (timedOut) throw new Error(`timeout waiting for process ${basename(child?.spawnfile ?? '')} to stop`);
  }
}
