// The flags envtest starts etcd and kube-apiserver with (controller-runtime
// pkg/internal/testing/controlplane/etcd.go and apiserver.go, defaultArgs), as data.

export type Flags = Record<string, string>;

/** `--name=value`, in name order (envtest renders its argument map sorted). */
export function render(flags: Flags): string[] {
  return Object.keys(flags)
    .sort()
    .map((k) => `--${k}=${flags[k]!}`);
}

export function etcdFlags(o: { clientUrl: string; peerUrl: string; dataDir: string; hasUnsafeNoFsync: boolean }): Flags {
  return {
    'listen-peer-urls': o.peerUrl,
    'data-dir': o.dataDir,
    'advertise-client-urls': o.clientUrl,
    'listen-client-urls': o.clientUrl,
    // etcd 3.5+: tests need no durability, and fsync dominates their time.
    ...(o.hasUnsafeNoFsync ? { 'unsafe-no-fsync': 'true' } : {}),
  };
}

export const SA_CERT = 'sa-signer.crt';
export const SA_KEY = 'sa-signer.key';
export const CLIENT_CA = 'client-cert-auth-ca.crt';

export function apiServerFlags(o: { etcdUrl: string; certDir: string; address: string; port: number; hasInsecurePort: boolean }): Flags {
  const secure = `https://${o.address.includes(':') ? `[${o.address}]` : o.address}:${o.port}/`;
  return {
    'service-cluster-ip-range': '10.0.0.0/24',
    'allow-privileged': 'true',
    // No controller-manager creates the default ServiceAccount, so its admission would refuse pods.
    'disable-admission-plugins': 'ServiceAccount',
    'cert-dir': o.certDir,
    'authorization-mode': 'RBAC',
    'secure-port': String(o.port),
    'bind-address': o.address,
    'service-account-issuer': secure,
    'service-account-key-file': `${o.certDir}/${SA_CERT}`,
    'service-account-signing-key-file': `${o.certDir}/${SA_KEY}`,
    'etcd-servers': o.etcdUrl,
    // CertAuthn.Configure: users are client certificates signed by this CA.
    'client-ca-file': `${o.certDir}/${CLIENT_CA}`,
    // Present before 1.24 (must be 0 to turn the insecure port off), gone since.
    ...(o.hasInsecurePort ? { 'insecure-port': '0' } : {}),
  };
}
