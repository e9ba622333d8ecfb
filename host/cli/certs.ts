// The mesh CA and SPIFFE workload certificates (as Istio's CA issues them), made with the openssl
// CLI. Files: each workload directory gets cert.pem, key.pem and ca.pem, the names the Envoy
// bootstraps of `asmesh translate` read. Live (`asmesh ca`, the watcher): short-lived leaves issued
// in memory (issueWorkloadCert) and a trust bundle (bundle.pem) that holds the previous CA too while
// the CA rotates (rotateCa, retireCa).
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

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

/** Writes <dir>/ca.{pem,key} (a P-256 CA valid `days`, default 2) unless it exists. */
export function makeCa(dir: string, subject = '/O=asmesh demo/CN=asmesh mesh CA', days = 2): void {
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
      String(days),
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

// ---- live: the mesh CA of `asmesh ca` and the watcher ----

/** <dir>/bundle.pem: the roots every sidecar trusts (the CA, and the previous one during a rotation). */
export function trustBundle(dir: string): string {
  const bundle = join(dir, 'bundle.pem');
  return readFileSync(existsSync(bundle) ? bundle : join(dir, 'ca.pem'), 'utf8');
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** `asmesh ca init`: a CA in `dir` (ca.pem, ca.key, bundle.pem); false when one exists. */
export function initCa(dir: string, days = 365): boolean {
  if (existsSync(join(dir, 'ca.pem'))) return false;
  makeCa(dir, `/O=asmesh/CN=asmesh mesh CA ${new Date().toISOString()}`, days);
  writeAtomic(join(dir, 'bundle.pem'), readFileSync(join(dir, 'ca.pem'), 'utf8'));
  return true;
}

/** `asmesh ca rotate`: a new CA signs from now on; bundle.pem = new + previous, so leaves of either verify (the overlap). */
export function rotateCa(dir: string, days = 365): void {
  if (!existsSync(join(dir, 'ca.pem'))) throw new Error(`${dir}: no CA (asmesh ca init)`);
  const previous = readFileSync(join(dir, 'ca.pem'), 'utf8');
  const next = mkdtempSync(join(dir, '.next-'));
  try {
    makeCa(next, `/O=asmesh/CN=asmesh mesh CA ${new Date().toISOString()}`, days);
    writeFileSync(join(dir, 'previous.pem'), previous);
    // Trust first, then sign: a watcher that reads the bundle before the key change never sees an untrusted leaf.
    writeAtomic(join(dir, 'bundle.pem'), readFileSync(join(next, 'ca.pem'), 'utf8') + previous);
    renameSync(join(next, 'ca.key'), join(dir, 'ca.key'));
    renameSync(join(next, 'ca.pem'), join(dir, 'ca.pem'));
  } finally {
    rmSync(next, { recursive: true, force: true });
  }
}

/** `asmesh ca retire`: ends the overlap, bundle.pem = the current CA only (after every leaf of the previous one expired). */
export function retireCa(dir: string): void {
  writeAtomic(join(dir, 'bundle.pem'), readFileSync(join(dir, 'ca.pem'), 'utf8'));
  rmSync(join(dir, 'previous.pem'), { force: true });
}

export interface WorkloadCert {
  cert: string;
  key: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** When the watcher renews it: half its lifetime. */
  renewAt: Date;
}

/** UTCTime as `openssl ca -startdate/-enddate` take it. */
function asn1Time(d: Date): string {
  return d.toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, '$1$2$3$4$5$6Z');
}

/** A P-256 leaf for `spiffe` signed by `dir`'s CA, valid `lifetimeSeconds` from now (1 h by default, as short as Istio's). */
export function issueWorkloadCert(dir: string, spiffe: string, lifetimeSeconds = 3600): WorkloadCert {
  const ca = resolve(dir);
  const wd = mkdtempSync(join(ca, '.issue-'));
  try {
    writeFileSync(join(wd, 'index.txt'), '');
    writeFileSync(
      join(wd, 'ca.cnf'),
      [
        '[ca]',
        'default_ca = mesh',
        '[mesh]',
        'database = index.txt',
        'new_certs_dir = .',
        `certificate = ${join(ca, 'ca.pem')}`,
        `private_key = ${join(ca, 'ca.key')}`,
        'default_md = sha256',
        'policy = any',
        'rand_serial = yes',
        'unique_subject = no',
        '[any]',
        'organizationName = optional',
        '[leaf]',
        'basicConstraints = critical,CA:FALSE',
        'keyUsage = critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage = serverAuth,clientAuth',
        `subjectAltName = critical,URI:${spiffe}`,
      ].join('\n') + '\n',
    );
    openssl(
      [
        'req',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        'key.pem',
        '-out',
        'req.csr',
        '-subj',
        '/O=asmesh',
      ],
      wd,
    );
    const now = Date.now();
    openssl(
      [
        'ca',
        '-batch',
        '-notext',
        '-config',
        'ca.cnf',
        '-extensions',
        'leaf',
        '-in',
        'req.csr',
        '-out',
        'cert.pem',
        '-startdate',
        asn1Time(new Date(now - 1000)),
        '-enddate',
        asn1Time(new Date(now + lifetimeSeconds * 1000)),
      ],
      wd,
    );
    const cert = readFileSync(join(wd, 'cert.pem'), 'utf8');
    const x = new X509Certificate(cert);
    const notBefore = new Date(x.validFrom);
    const notAfter = new Date(x.validTo);
    return {
      cert,
      key: readFileSync(join(wd, 'key.pem'), 'utf8'),
      serial: x.serialNumber,
      notBefore,
      notAfter,
      renewAt: new Date((notBefore.getTime() + notAfter.getTime()) / 2),
    };
  } finally {
    rmSync(wd, { recursive: true, force: true });
  }
}
