// Test certificates made with openssl per run: a CA, a server certificate for 127.0.0.1, and
// client certificates whose URI SAN is a SPIFFE identity (what Istio's mTLS presents).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../harness/fixtures.ts';

export interface Cert { cert: string; key: string; certPem: string; keyPem: string }
export interface CertSet { dir: string; ca: Cert; server: Cert; clients: Record<string, Cert> }

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Makes the CA, the server certificate and one client certificate per SPIFFE id (name -> URI). */
export function makeCerts(clients: Record<string, string>): CertSet {
  const dir = join(repoRoot, '.tmp', 'authz-certs', String(process.pid));
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(dir, 'req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=asmesh test CA', '-days', '2');
  const load = (name: string): Cert => ({
    cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`),
    certPem: readFileSync(join(dir, `${name}.crt`), 'utf8'), keyPem: readFileSync(join(dir, `${name}.key`), 'utf8'),
  });
  const issue = (name: string, san: string) => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    openssl(dir, 'req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
    return load(name);
  };
  const server = issue('server', 'IP:127.0.0.1,DNS:service_b');
  const out: Record<string, Cert> = {};
  for (const [name, uri] of Object.entries(clients)) out[name] = issue(name, `URI:${uri}`);
  return { dir, ca: load('ca'), server, clients: out };
}

/** Makes the bootstrap's listeners require a client certificate signed by the CA. */
export function requireMtls(bootstrap: any, certs: CertSet): void {
  for (const listener of bootstrap.static_resources.listeners) {
    for (const chain of listener.filter_chains) {
      chain.transport_socket = {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
          require_client_certificate: true,
          common_tls_context: {
            tls_certificates: [{ certificate_chain: { filename: certs.server.cert }, private_key: { filename: certs.server.key } }],
            validation_context: { trusted_ca: { filename: certs.ca.cert } },
          },
        },
      };
    }
  }
}
