// envtest's addr.Suggest (controller-runtime pkg/internal/testing/addr/manager.go): a port the
// kernel hands out for 127.0.0.1:0, reserved by a file for two minutes so that test files
// starting control planes in parallel processes do not pick the same one before it is bound.
import { mkdirSync, openSync, closeSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

const RESERVE_MS = 2 * 60_000;
const RETRIES = 100;

function cacheDir(): string {
  // os.UserCacheDir: $XDG_CACHE_HOME or ~/.cache on Linux, ~/Library/Caches on macOS.
  const base = process.env['XDG_CACHE_HOME'] || (process.platform === 'darwin' ? join(homedir(), 'Library', 'Caches') : join(homedir(), '.cache'));
  for (const dir of [join(base, 'kubebuilder-envtest'), join(tmpdir(), 'kubebuilder-envtest')]) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
      return dir;
    } catch {
      // try the next place
    }
  }
  throw new Error('no writable directory for envtest port reservations');
}

function reserve(dir: string, port: number): boolean {
  for (const f of readdirSync(dir)) {
    if (!f.startsWith('port-')) continue;
    const path = join(dir, f);
    try {
      if (Date.now() - statSync(path).mtimeMs > RESERVE_MS) rmSync(path, { force: true });
    } catch {
      // another process removed it
    }
  }
  try {
    closeSync(openSync(join(dir, `port-${port}`), 'wx'));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A free port on `host`, not handed to another envtest process in the last two minutes. */
export async function suggestPort(host = '127.0.0.1'): Promise<number> {
  const dir = cacheDir();
  for (let i = 0; i < RETRIES; i++) {
    const port = await freePort(host);
    if (reserve(dir, port)) return port;
  }
  throw new Error(`no free ports found after ${RETRIES} retries`);
}
