// What policies read of the connection (addresses, port, SNI, the peer certificate), from Envoy's
// properties: one reader for authz on HTTP streams and tcp_authz on TCP connections.
import { getPropertyBool, getPropertyInt64, getPropertyString, isMissingInt } from '../../assembly/proxy';
import { pemCertificate, subjectAltNames } from '../../assembly/lib/x509';
import { AuthzConfig } from './config';
import { RequestInfo } from './policy';
import { ipOfAddress } from '../../assembly/lib/http';

/** Fills `req`'s connection fields the policies of `config` look at (each property read is a host call). */
export function readConnection(config: AuthzConfig, req: RequestInfo): void {
  if (config.needsSourceIp) {
    // source.address is the HCM's client address: the connection's, or (port 0) the one Envoy took from
    // x-forwarded-for (use_remote_address: false, as Istio's inbound), when the connection's is not visible.
    // On a TCP connection it is always the connection's.
    const src = getPropertyString(['source', 'address']);
    if (src !== null) req.remoteIp = ipOfAddress(src);
    const port = getPropertyInt64(['source', 'port']);
    if (src !== null && !isMissingInt(port) && port == 0) req.sourceIpUnknown = true;
    else req.sourceIp = req.remoteIp;
  }
  if (config.needsDestIp) {
    const dst = getPropertyString(['destination', 'address']);
    if (dst !== null) req.destIp = ipOfAddress(dst);
  }
  if (config.needsDestPort) {
    // asmesh.port: the workload port a listener on another port (translate's inbound_<port>) stands for.
    if (config.port > 0) req.destPort = config.port;
    else {
      const port = getPropertyInt64(['destination', 'port']);
      if (!isMissingInt(port)) req.destPort = <i32>port;
    }
  }
  if (config.needsSni) {
    const sni = getPropertyString(['connection', 'requested_server_name']);
    req.sni = sni === null ? '' : sni;
  }
  if (config.needsPeer) req.peerIds = peerIds();
}

/**
 * What rbac's `authenticated` principal tries: every URI SAN, every DNS SAN, then the subject. Envoy's
 * `*_san_peer_certificate` attributes give only the first of each, so the SANs come from the peer's
 * certificate itself; null (the request is denied) when a client certificate was presented but cannot be read.
 */
export function peerIds(): string[] | null {
  const pem = getPropertyString(['connection', 'peer_certificate']);
  if (pem === null || pem.length == 0) return getPropertyBool(['connection', 'mtls']) ? null : [];
  const der = pemCertificate(pem);
  if (der === null) return null;
  const sans = subjectAltNames(der);
  if (sans === null) return null;
  const ids = sans.uris.concat(sans.dns);
  const subject = getPropertyString(['connection', 'subject_peer_certificate']);
  ids.push(subject === null ? '' : subject);
  return ids;
}
