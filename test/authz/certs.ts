// Test certificates made with openssl per run: a CA, a server certificate for 127.0.0.1, and
// client certificates whose URI SAN is a SPIFFE identity (what Istio's mTLS presents).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCert, makeCa } from '../../host/cli/certs.ts';
import { downstreamMtlsSocket } from '../../host/envoy/config.ts';
import { repoRoot } from '../harness/fixtures.ts';

export interface Cert {
  cert: string;
  key: string;
  certPem: string;
  keyPem: string;
}
export interface CertSet {
  dir: string;
  ca: Cert;
  server: Cert;
  clients: Record<string, Cert>;
}

function load(cert: string, key: string): Cert {
  return { cert, key, certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

/** Makes the CA, the server certificate and one client certificate per SPIFFE id (name -> URI), with host/cli/certs.ts. */
export function makeCerts(clients: Record<string, string>): CertSet {
  return makePeerCerts(Object.fromEntries(Object.entries(clients).map(([name, uri]) => [name, { san: `URI:${uri}` }])));
}

/** A client certificate's openssl subjectAltName ('' for none, e.g. `URI:a,URI:b,DNS:c`) and subject (`/O=asmesh demo`). */
export interface PeerSpec {
  san: string;
  subject?: string;
}

/** Like makeCerts, with any SANs and subject per client. */
export function makePeerCerts(clients: Record<string, PeerSpec>): CertSet {
  const dir = join(repoRoot, '.tmp', 'authz-certs', String(process.pid));
  makeCa(dir, '/CN=asmesh test CA');
  const issue = (name: string, san: string, subject?: string) => {
    const wd = issueCert(dir, name, san, subject);
    return load(join(wd, 'cert.pem'), join(wd, 'key.pem'));
  };
  const server = issue('server', 'IP:127.0.0.1,DNS:service_b');
  const out: Record<string, Cert> = {};
  for (const [name, spec] of Object.entries(clients)) out[name] = issue(name, spec.san, spec.subject);
  return { dir, ca: load(join(dir, 'ca.pem'), join(dir, 'ca.key')), server, clients: out };
}

/** The connection attributes Envoy gives a filter for a TLS peer presenting `cert` (for the harness). */
export function peerAttributes(cert: Cert): Record<string, string | boolean> {
  const x = new X509Certificate(cert.certPem);
  const uris = (x.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('URI:'))
    .map((s) => s.slice(4));
  const attrs: Record<string, string | boolean> = {
    'connection.mtls': true,
    'connection.peer_certificate': encodeURIComponent(cert.certPem),
    'connection.subject_peer_certificate': x.subject.split('\n').reverse().join(','),
  };
  if (uris.length > 0) attrs['connection.uri_san_peer_certificate'] = uris[0]!;
  return attrs;
}

/** Makes the bootstrap's listeners require a client certificate signed by the CA. */
export function requireMtls(bootstrap: any, certs: CertSet): void {
  for (const listener of bootstrap.static_resources.listeners) {
    for (const chain of listener.filter_chains) {
      chain.transport_socket = downstreamMtlsSocket({ cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert });
    }
  }
}
