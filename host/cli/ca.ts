// `asmesh ca`: the mesh CA on disk (host/cli/certs.ts): init, issue a SPIFFE workload certificate,
// rotate (a new CA signs; both trusted during the overlap), retire (the previous CA no longer trusted).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, EXIT_OK } from './errors.ts';
import { initCa, issueWorkloadCert, retireCa, rotateCa, spiffeId, trustBundle } from './certs.ts';

export const CA_USAGE = `Usage: asmesh ca init|issue|rotate|retire --dir DIR [options]

The mesh CA in DIR (ca.pem, ca.key, bundle.pem: the roots sidecars trust).
  init     make a CA (P-256, --days, default 365) unless DIR has one
  issue    a SPIFFE workload certificate spiffe://<trust-domain>/ns/<ns>/sa/<sa> into --out
           (cert.pem, key.pem, ca.pem = the bundle); lifetime --hours (default 1, as Istio's are short)
  rotate   a new CA signs from now on; bundle.pem holds the new and the previous CA, so
           certificates of either verify while the old ones run out (the overlap)
  retire   end the overlap: bundle.pem = the current CA only (after the previous CA's leaves expired)
'asmesh envoy --istio DIR --watch --ca DIR' issues and renews its own certificate and follows bundle.pem.
  --dir DIR            the CA directory (required)
  --days N             CA lifetime (init, rotate)
  --namespace NS --service-account SA --trust-domain TD   (issue; defaults default, default, cluster.local)
  --hours H            certificate lifetime (issue; default 1)
  --out DIR            where issue writes (default DIR/<ns>.<sa>)
  -h, --help           this help`;

export interface CaArgs {
  dir?: string;
  days?: number;
  namespace?: string;
  serviceAccount?: string;
  trustDomain?: string;
  hours?: number;
  out?: string;
}

export function caCommand(action: string | undefined, a: CaArgs, print: (s: string) => void): number {
  if (!a.dir) throw new InputError('ca: --dir DIR is required (asmesh ca --help)');
  const dir = a.dir;
  const fail = (e: unknown): never => {
    throw new InputError((e as Error).message);
  };
  switch (action) {
    case 'init':
      print(initCa(dir, a.days) ? `made a mesh CA in ${dir}\n` : `${dir} already has a CA (kept)\n`);
      return EXIT_OK;
    case 'issue': {
      const ns = a.namespace ?? 'default';
      const sa = a.serviceAccount ?? 'default';
      const id = spiffeId({ name: sa, namespace: ns, serviceAccount: sa }, a.trustDomain);
      let cert;
      try {
        cert = issueWorkloadCert(dir, id, Math.round((a.hours ?? 1) * 3600));
      } catch (e) {
        fail(e);
      }
      const out = a.out ?? join(dir, `${ns}.${sa}`);
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'cert.pem'), cert!.cert);
      writeFileSync(join(out, 'key.pem'), cert!.key, { mode: 0o600 });
      writeFileSync(join(out, 'ca.pem'), trustBundle(dir));
      print(`issued ${id} serial ${cert!.serial} valid until ${cert!.notAfter.toISOString()} into ${out}\n`);
      return EXIT_OK;
    }
    case 'rotate':
      try {
        rotateCa(dir, a.days);
      } catch (e) {
        fail(e);
      }
      print(`${dir}: a new CA signs; bundle.pem trusts the new and the previous CA\n`);
      return EXIT_OK;
    case 'retire':
      retireCa(dir);
      print(`${dir}: bundle.pem trusts the current CA only\n`);
      return EXIT_OK;
    default:
      throw new InputError(`ca: unknown action ${JSON.stringify(action ?? '')} (init, issue, rotate, retire)`);
  }
}
