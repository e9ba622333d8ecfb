import { pemCertificate, subjectAltNames } from '../lib/x509';

// openssl req -x509 ... -subj '/O=asmesh test/CN=spiffe://cluster.local/ns/foo/sa/cn' -addext 'subjectAltName=critical,
// URI:spiffe://cluster.local/ns/bar/sa/z,URI:spiffe://cluster.local/ns/foo/sa/x,DNS:x.foo.svc,IP:127.0.0.1,email:a@b.c',
// URL-encoded as Envoy's connection.peer_certificate attribute.
const TWO_URIS =
  '-----BEGIN%20CERTIFICATE-----%0AMIICTTCCAfOgAwIBAgIUSTHx0hK%2BLdbSeMIcFMur8tRrXMowCgYIKoZIzj0EAwIw%0ARDEUMBIGA1UECgwLYXNtZXNoIHRlc3QxLDAqBgNVBAMMI3NwaWZmZTovL2NsdXN0%0AZXIubG9jYWwvbnMvZm9vL3NhL2NuMB4XDTI2MTIwMjEwMjc0NFoXDTI2MTIwMzEw%0AMjc0NFowRDEUMBIGA1UECgwLYXNtZXNoIHRlc3QxLDAqBgNVBAMMI3NwaWZmZTov%0AL2NsdXN0ZXIubG9jYWwvbnMvZm9vL3NhL2NuMFkwEwYHKoZIzj0CAQYIKoZIzj0D%0AAQcDQgAEuyZhEhOQZ0IpSMKff%2Fa2cNx4oh36E0WOedLND4RfFhgbctU3Yiyg%2B8xm%0AtNS%2FFd1QgutYZB%2B5%2B4JBmCCCUmqqYKOBwjCBvzAdBgNVHQ4EFgQU6c7hXBzxoe0d%0AdDzT8P%2BXHwmEGrQwHwYDVR0jBBgwFoAU6c7hXBzxoe0ddDzT8P%2BXHwmEGrQwDwYD%0AVR0TAQH%2FBAUwAwEB%2FzBsBgNVHREBAf8EYjBghiJzcGlmZmU6Ly9jbHVzdGVyLmxv%0AY2FsL25zL2Jhci9zYS96hiJzcGlmZmU6Ly9jbHVzdGVyLmxvY2FsL25zL2Zvby9z%0AYS94ggl4LmZvby5zdmOHBH8AAAGBBWFAYi5jMAoGCCqGSM49BAMCA0gAMEUCIQDz%0ATj%2BwKXaJUJzc3xQNNtejAKKVFVZNBm5BTSLo%2FRGZEAIgF%2BMEQmQzz9oaowre4XBo%0AVv85WzvGu7CxR%2FICFRcug4I%3D%0A-----END%20CERTIFICATE-----%0A';
// openssl req -x509 ... -subj '/CN=nosan' (no extension but the defaults), the base64 of its DER.
const NO_SAN_B64 =
  'MIIBdjCCARugAwIBAgIUd6Xi9AXuY3SlCs1oA59aclmg4IcwCgYIKoZIzj0EAwIwEDEOMAwGA1UEAwwFbm9zYW4wHhcNMjYxMjAyMTAyNzQ1WhcNMjYxMjAzMTAyNzQ1WjAQMQ4wDAYDVQQDDAVub3NhbjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJ3fxNONKyoJ8qqp/URVdsZ2hPMMFBwviQ7klvs3q4HVNEO52khMPNp0h/2UM60nr0SFVnDrrT4aiPNfoUA7kiyjUzBRMB0GA1UdDgQWBBS97/jR9HaTHr8jrBumVvPnV3f6XjAfBgNVHSMEGDAWgBS97/jR9HaTHr8jrBumVvPnV3f6XjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQC8SiD5LLTxjlxwrPT+SA+fAL8JKuYNftSyyMUaaLojEAIhAIbleGPfb6kkIBIGnPIZeiGx2d9fj0oh8bDLQsU9CCXC';

describe('x509 subjectAltNames', () => {
  it('every URI and DNS SAN in order, other kinds skipped (a critical extension too)', () => {
    const der = pemCertificate(TWO_URIS);
    expect(der).not.toBeNull();
    const sans = subjectAltNames(der!)!;
    expect(sans.uris.join(' ')).toBe('spiffe://cluster.local/ns/bar/sa/z spiffe://cluster.local/ns/foo/sa/x');
    expect(sans.dns.join(' ')).toBe('x.foo.svc');
  });

  it('a certificate without subjectAltName has none', () => {
    const der = pemCertificate('-----BEGIN CERTIFICATE-----\n' + NO_SAN_B64 + '\n-----END CERTIFICATE-----\n');
    const sans = subjectAltNames(der!)!;
    expect(sans.uris.length).toBe(0);
    expect(sans.dns.length).toBe(0);
  });

  it('what cannot be read is null (callers deny)', () => {
    expect(pemCertificate('no pem here')).toBeNull();
    expect(pemCertificate('-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----')).toBeNull();
    const der = pemCertificate(TWO_URIS)!;
    expect(subjectAltNames(der.subarray(0, der.length - 40))).toBeNull();
    const bad = new Uint8Array(der.length);
    bad.set(der);
    bad[1] = 0x85; // a 5-byte length
    expect(subjectAltNames(bad)).toBeNull();
    expect(subjectAltNames(new Uint8Array(0))).toBeNull();
  });
});
