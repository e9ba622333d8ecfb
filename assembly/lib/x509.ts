// The subjectAltName URIs and DNS names of an X.509 certificate, as Envoy's TLS layer lists them for
// rbac's `authenticated` principal (every URI SAN, then every DNS SAN, each IA5String's bytes as they
// are). Input: Envoy's `connection.peer_certificate` attribute (the URL-encoded PEM of the peer's leaf).
// A minimal DER walk (RFC 5280 4.1, 4.2.1.6): anything it cannot read is null, so callers fail closed.
// Pure: no host calls.
import { base64Decode } from './base64';
import { percentDecode } from './http';

export class SubjectAltNames {
  uris: string[] = [];
  dns: string[] = [];
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/** The DER of the first certificate in a (URL-encoded) PEM text; null when there is none. */
export function pemCertificate(text: string): Uint8Array | null {
  const pem = percentDecode(text);
  const at = pem.indexOf(BEGIN);
  if (at < 0) return null;
  const end = pem.indexOf(END, at);
  if (end < 0) return null;
  const body = pem.substring(at + BEGIN.length, end);
  let b64 = '';
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c != 0x0a && c != 0x0d && c != 0x20 && c != 0x09) b64 += body.charAt(i);
  }
  const der = base64Decode(b64);
  return der === null ? null : Uint8Array.wrap(der);
}

/** One DER element: its tag, and where its content is. */
class Tlv {
  constructor(
    public tag: i32,
    public start: i32,
    public end: i32,
  ) {}
}

/** The element at `at` within [at, limit); null when malformed (indefinite or overlong lengths included). */
function readTlv(d: Uint8Array, at: i32, limit: i32): Tlv | null {
  if (at + 2 > limit) return null;
  const tag = <i32>d[at];
  if ((tag & 0x1f) == 0x1f) return null; // multi-byte tags are not used by certificates
  let len = <i32>d[at + 1];
  let p = at + 2;
  if (len >= 0x80) {
    const n = len & 0x7f;
    if (n == 0 || n > 3 || p + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | (<i32>d[p + i]);
    p += n;
  }
  if (len > limit - p) return null;
  return new Tlv(tag, p, p + len);
}

const SAN_OID: u8[] = [0x55, 0x1d, 0x11]; // 2.5.29.17

function isSanOid(d: Uint8Array, t: Tlv): bool {
  if (t.tag != 0x06 || t.end - t.start != 3) return false;
  for (let i = 0; i < 3; i++) if (d[t.start + i] != SAN_OID[i]) return false;
  return true;
}

/** Printable ASCII only: anything else is refused (null) rather than compared in another encoding. */
function ia5(d: Uint8Array, t: Tlv): string | null {
  let s = '';
  for (let i = t.start; i < t.end; i++) {
    const c = <i32>d[i];
    if (c < 0x20 || c > 0x7e) return null;
    s += String.fromCharCode(c);
  }
  return s;
}

/** The SANs of a DER certificate; null when it cannot be read (or names a SAN twice). No extension: none. */
export function subjectAltNames(d: Uint8Array): SubjectAltNames | null {
  const cert = readTlv(d, 0, d.length);
  if (cert === null || cert.tag != 0x30) return null;
  const tbs = readTlv(d, cert.start, cert.end);
  if (tbs === null || tbs.tag != 0x30) return null;
  const out = new SubjectAltNames();
  let seen = false;
  let at = tbs.start;
  while (at < tbs.end) {
    const field = readTlv(d, at, tbs.end);
    if (field === null) return null;
    at = field.end;
    if (field.tag != 0xa3) continue; // [3] extensions
    const exts = readTlv(d, field.start, field.end);
    if (exts === null || exts.tag != 0x30) return null;
    let e = exts.start;
    while (e < exts.end) {
      const ext = readTlv(d, e, exts.end);
      if (ext === null || ext.tag != 0x30) return null;
      e = ext.end;
      const oid = readTlv(d, ext.start, ext.end);
      if (oid === null) return null;
      if (!isSanOid(d, oid)) continue;
      if (seen) return null;
      seen = true;
      let v = readTlv(d, oid.end, ext.end);
      if (v !== null && v.tag == 0x01) v = readTlv(d, v.end, ext.end); // critical
      if (v === null || v.tag != 0x04) return null;
      const names = readTlv(d, v.start, v.end);
      if (names === null || names.tag != 0x30) return null;
      let n = names.start;
      while (n < names.end) {
        const name = readTlv(d, n, names.end);
        if (name === null) return null;
        n = name.end;
        if (name.tag != 0x82 && name.tag != 0x86) continue; // [2] dNSName, [6] uniformResourceIdentifier
        const s = ia5(d, name);
        if (s === null) return null;
        if (name.tag == 0x86) out.uris.push(s);
        else out.dns.push(s);
      }
    }
  }
  return out;
}
