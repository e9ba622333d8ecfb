// A throwaway mesh CA and SPIFFE workload certificates (as Istio's CA issues them), made with the
// openssl CLI: each workload directory gets cert.pem, key.pem and ca.pem, the names the Envoy
// bootstraps of `asmesh translate` read.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`openssl not available: ${r.error.message} (install the openssl CLI)`);
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

export interface Identity {
  name: string;
  namespace: string;
  serviceAccount: string;
}

export function spiffeId(id: Identity, trustDomain = 'cluster.local'): string {
  return `spiffe://${trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** Writes <dir>/ca.{pem,key} (a P-256 CA valid 2 days) unless it exists. */
export function makeCa(dir: string, subject = '/O=asmesh demo/CN=asmesh mesh CA'): void {
  mkdirSync(dir, { recursive: true });
  if (existsSync(join(dir, 'ca.pem'))) return;
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      subject,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

/**
 * Writes <dir>/<name>/{cert,key,ca}.pem: a P-256 leaf signed by <dir>'s CA with this subjectAltName (none
 * when '') and subject; returns <dir>/<name>.
 */
export function issueCert(dir: string, name: string, subjectAltName: string, subject = '/O=asmesh demo'): string {
  const wd = join(dir, name);
  mkdirSync(wd, { recursive: true });
  writeFileSync(
    join(wd, 'ext.cnf'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      ...(subjectAltName === '' ? [] : [`subjectAltName=${subjectAltName}`]),
    ].join('\n') + '\n',
  );
  openssl(
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'key.pem', '-out', 'req.csr', '-subj', subject],
    wd,
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'req.csr',
      '-CA',
      '../ca.pem',
      '-CAkey',
      '../ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      'cert.pem',
      '-extfile',
      'ext.cnf',
    ],
    wd,
  );
  openssl(['x509', '-in', '../ca.pem', '-out', 'ca.pem'], wd);
  return wd;
}

/** Writes <dir>/ca.{pem,key} and <dir>/<name>/{cert,key,ca}.pem for each identity; returns the directories by name. */
export function makeMeshCerts(dir: string, identities: Identity[], trustDomain = 'cluster.local'): Record<string, string> {
  makeCa(dir);
  const out: Record<string, string> = {};
  for (const id of identities) out[id.name] = issueCert(dir, id.name, `critical,URI:${spiffeId(id, trustDomain)}`);
  return out;
}
