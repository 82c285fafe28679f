// envtest's TinyCA (controller-runtime pkg/internal/testing/certs/tinyca.go) with the openssl
// command, since node:crypto cannot sign certificates: RSA 2048 keys, PKCS#8 PEM, one week of
// validity, CA "envtest-environment" of organisation "envtest".
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DAYS = '7'; // 168 h, cfssl's default, as envtest

export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

export class TinyCA {
  private serial = 1;

  private constructor(
    private readonly dir: string,
    private readonly name: string,
    readonly ca: CertPair,
  ) {}

  /** A new CA whose files live in `dir` under `name` (the dir is the caller's, removed with it). */
  static async create(dir: string, name: string): Promise<TinyCA> {
    const key = join(dir, `${name}-ca.key`);
    const cert = join(dir, `${name}-ca.crt`);
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', DAYS, '-subj', '/O=envtest/CN=envtest-environment', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,digitalSignature,keyEncipherment']);
    return new TinyCA(dir, name, { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') });
  }

  /** A serving certificate for these names and IPs (envtest: "localhost" and the listen address). */
  newServingCert(names: readonly string[]): Promise<CertPair> {
    const alt = names.map((n) => (/^[\d.]+$/.test(n) || n.includes(':') ? `IP:${n}` : `DNS:${n}`)).join(',');
    return this.sign('/O=envtest/CN=localhost', [`subjectAltName=${alt}`, 'extendedKeyUsage=serverAuth']);
  }

  /** A client certificate as the API server reads users from them: the user's name as CN, its groups as O. */
  newClientCert(user: { name: string; groups: readonly string[] }): Promise<CertPair> {
    const subject = `${user.groups.map((g) => `/O=${g}`).join('')}/CN=${user.name}`;
    return this.sign(subject, ['extendedKeyUsage=clientAuth']);
  }

  private async sign(subject: string, extensions: readonly string[]): Promise<CertPair> {
    const serial = this.serial++;
    const base = join(this.dir, `${this.name}-${serial}`);
    const ext = `${base}.ext`;
    await writeFile(ext, ['keyUsage=critical,digitalSignature,keyEncipherment', ...extensions].join('\n') + '\n');
    await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject]);
    await run('openssl', ['x509', '-req', '-in', `${base}.csr`, '-CA', join(this.dir, `${this.name}-ca.crt`), '-CAkey', join(this.dir, `${this.name}-ca.key`), '-set_serial', String(serial), '-days', DAYS, '-extfile', ext, '-out', `${base}.crt`]);
    return { cert: await readFile(`${base}.crt`, 'utf8'), key: await readFile(`${base}.key`, 'utf8') };
  }
}
