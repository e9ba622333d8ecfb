// as-pect tests of the authz filter's pure parts: matchers, JWT parsing, token extraction,
// time checks, policy evaluation and configuration errors. No host calls.
import { Cidr, StringMatch, parseIp, stripPort, anyCidrContains } from '../match';
import { JwtStatus, parseJwt, parseJwks, jwtStatusString } from '../../../assembly/lib/jwt';
import { base64UrlEncode } from '../../../assembly/lib/base64';
import { parseJsonString, JsonValue } from '../../../assembly/lib/json';
import { HeaderSource, extractToken, queryParam, checkTime, precheck, Outcome } from '../authn';
import { parseAuthzConfig, AuthzConfig } from '../config';
import { AuthInfo, RequestInfo, evaluate, hostWithoutPort } from '../policy';

function b64(s: string): string { return base64UrlEncode(String.UTF8.encode(s)); }
function tok(header: string, payload: string): string { return b64(header) + '.' + b64(payload) + '.c2ln'; }

class MapHeaders extends HeaderSource {
  map: Map<string, string> = new Map<string, string>();
  get(name: string): string | null { return this.map.has(name) ? this.map.get(name) : null; }
}

function config(json: string): AuthzConfig {
  const r = parseAuthzConfig(String.UTF8.encode(json));
  if (r.config === null) throw new Error(r.error);
  return r.config as AuthzConfig;
}

function configError(json: string): string {
  return parseAuthzConfig(String.UTF8.encode(json)).error;
}

describe('matchers', () => {
  it('string match forms', () => {
    expect(StringMatch.parse('/info*').matches('/info/x')).toBe(true);
    expect(StringMatch.parse('/info*').matches('/inf')).toBe(false);
    expect(StringMatch.parse('*.png').matches('/a.png')).toBe(true);
    expect(StringMatch.parse('*').matches('')).toBe(true);
    expect(StringMatch.parse('/a').matches('/a/')).toBe(false);
    expect(StringMatch.parse('Example.COM', true).matches('example.com')).toBe(true);
  });

  it('IPv4 and IPv6 CIDR blocks', () => {
    expect(anyCidrContains([Cidr.parse('10.1.0.0/16') as Cidr], '10.1.200.3')).toBe(true);
    expect(anyCidrContains([Cidr.parse('10.1.0.0/16') as Cidr], '10.2.0.1')).toBe(false);
    expect(anyCidrContains([Cidr.parse('10.0.0.7') as Cidr], '10.0.0.7')).toBe(true);
    expect(anyCidrContains([Cidr.parse('0.0.0.0/0') as Cidr], '192.168.1.1')).toBe(true);
    expect(anyCidrContains([Cidr.parse('fd00::/8') as Cidr], 'fd12::1')).toBe(true);
    expect(anyCidrContains([Cidr.parse('fd00::/8') as Cidr], '10.0.0.1')).toBe(false);
    expect(anyCidrContains([Cidr.parse('::ffff:10.0.0.0/104') as Cidr], '::ffff:10.9.9.9')).toBe(true);
    expect(Cidr.parse('10.0.0.1/33')).toBeNull();
    expect(Cidr.parse('1.2.3')).toBeNull();
    expect(Cidr.parse('1::2::3')).toBeNull();
    expect(parseIp('256.1.1.1')).toBeNull();
  });

  it('ports stripped from addresses and hosts', () => {
    expect(stripPort('10.0.0.1:8080')).toBe('10.0.0.1');
    expect(stripPort('[::1]:80')).toBe('::1');
    expect(stripPort('::1')).toBe('::1');
    expect(hostWithoutPort('a.b:8000')).toBe('a.b');
    expect(hostWithoutPort('[::1]:80')).toBe('[::1]');
  });
});

describe('JWT parsing', () => {
  it('answers Envoy status for malformed tokens and never traps', () => {
    expect(parseJwt('a.b').status).toBe(JwtStatus.JwtBadFormat);
    expect(parseJwt('').status).toBe(JwtStatus.JwtBadFormat);
    expect(parseJwt('..').status).toBe(JwtStatus.JwtHeaderParseErrorBadBase64);
    expect(parseJwt('...').status).toBe(JwtStatus.JwtBadFormat);
    expect(parseJwt(b64('{"alg":"RS256"') + '.e30.c2ln').status).toBe(JwtStatus.JwtHeaderParseErrorBadJson);
    expect(parseJwt(tok('{"alg":"none"}', '{}')).status).toBe(JwtStatus.JwtHeaderNotImplementedAlg);
    expect(parseJwt(tok('{"alg":"RS256","kid":1}', '{}')).status).toBe(JwtStatus.JwtHeaderBadKid);
    expect(parseJwt(tok('{"alg":"RS256"}', '{"exp":1.5}')).status).toBe(JwtStatus.JwtPayloadParseErrorExpNotInteger);
    expect(parseJwt(tok('{"alg":"RS256"}', '{"aud":{}}')).status).toBe(JwtStatus.JwtPayloadParseErrorAudNotString);
    expect(parseJwt(tok('{"alg":"RS256"}', '{"iss":"a","aud":["x","y"],"exp":100}')).status).toBe(JwtStatus.Ok);
    expect(jwtStatusString(JwtStatus.JwtExpired)).toBe('Jwt is expired');
  });

  it('keeps the decoded payload bytes (the JSON the filter state carries)', () => {
    const payload = '{"iss":"a","n":[1]}';
    const jwt = parseJwt(tok('{"alg":"RS256"}', payload)).jwt!;
    expect(String.UTF8.decode(jwt.payloadBytes)).toBe(payload);
  });

  it('JWKS: skips keys it cannot use', () => {
    const N2048 = nOfBits(2048);
    const r = parseJwks(String.UTF8.encode('{"keys":[{"kty":"oct","k":"AA"},{"kty":"RSA","n":"' + N2048 + '","e":"AQAB","use":"enc"},{"kty":"EC","crv":"P-521","x":"AA","y":"AA"},{"kty":"RSA","kid":"k","n":"' + N2048 + '","e":"AQAB"}]}'));
    expect(r.status).toBe(JwtStatus.Ok);
    expect(r.keys.length).toBe(1);
    expect(r.skipped.length).toBe(0);
    expect(parseJwks(String.UTF8.encode('{"keys":[]}')).status).toBe(JwtStatus.JwksNoValidKeys);
    expect(parseJwks(String.UTF8.encode('[]')).status).toBe(JwtStatus.JwksParseError);
  });
});

describe('token extraction and time', () => {
  it('default location: Authorization Bearer, then access_token', () => {
    const c = config('{"jwtRules":[{"issuer":"i","jwks":"{\\"keys\\":[{\\"kty\\":\\"RSA\\",\\"n\\":\\"' + nOfBits(2048) + '\\",\\"e\\":\\"AQAB\\"}]}"}]}');
    const h = new MapHeaders();
    expect(extractToken(c.jwtRules, h, '/x')).toBeNull();
    expect(extractToken(c.jwtRules, h, '/x?access_token=abc')!.token).toBe('abc');
    h.map.set('authorization', 'bearer t1');
    expect(extractToken(c.jwtRules, h, '/x')!.token).toBe('t1');
    h.map.set('authorization', 'Basic dXNlcg==');
    expect(extractToken(c.jwtRules, h, '/x')).toBeNull();
    expect(queryParam('/p?a=1&b=2#f', 'b')).toBe('2');
    expect(queryParam('/p?ab=1', 'a')).toBeNull();
  });

  it('60 s skew on exp and nbf; issuer and audiences before keys', () => {
    const jwt = parseJwt(tok('{"alg":"RS256"}', '{"iss":"i","exp":1000,"nbf":500}')).jwt!;
    expect(checkTime(jwt, 1060)).toBe(JwtStatus.Ok);
    expect(checkTime(jwt, 1061)).toBe(JwtStatus.JwtExpired);
    expect(checkTime(jwt, 440)).toBe(JwtStatus.Ok);
    expect(checkTime(jwt, 439)).toBe(JwtStatus.JwtNotYetValid);
    const c = config('{"jwtRules":[{"issuer":"i","audiences":["a"],"jwks":"{\\"keys\\":[{\\"kty\\":\\"RSA\\",\\"n\\":\\"' + nOfBits(2048) + '\\",\\"e\\":\\"AQAB\\"}]}"}]}');
    const h = new MapHeaders();
    h.map.set('authorization', 'Bearer ' + tok('{"alg":"RS256"}', '{"iss":"i","aud":"b"}'));
    expect(precheck(extractToken(c.jwtRules, h, '/')!, 0).status).toBe(JwtStatus.JwtAudienceNotAllowed);
    h.map.set('authorization', 'Bearer ' + tok('{"alg":"RS256"}', '{"iss":"j","aud":"a"}'));
    expect(precheck(extractToken(c.jwtRules, h, '/')!, 0).status).toBe(JwtStatus.JwtUnknownIssuer);
    h.map.set('authorization', 'Bearer ' + tok('{"alg":"RS256"}', '{"iss":"i","aud":["b","a"]}'));
    expect(precheck(extractToken(c.jwtRules, h, '/')!, 0).outcome).toBe(Outcome.Verified);
  });
});

const SEED = '{"policies":[{"name":"httpbin","action":"ALLOW","rules":[{"from":[{"source":{"principals":["cluster.local/ns/default/sa/sleep"]}},{"source":{"namespaces":["test"]}}],"to":[{"operation":{"methods":["GET"],"paths":["/info*"]}},{"operation":{"methods":["POST"],"paths":["/data"]}}],"when":[{"key":"request.auth.claims[iss]","values":["https://accounts.google.com"]}]}]}]}';

function request(method: string, path: string, san: string, iss: string): RequestInfo {
  const r = new RequestInfo();
  r.method = method;
  r.path = path;
  r.host = 'httpbin';
  if (san.length) r.setPeerUriSan(san);
  if (iss.length) r.auth = new AuthInfo(iss + '/u', parseJsonString('{"iss":"' + iss + '"}').value as JsonValue, [], null);
  return r;
}

describe('policy evaluation', () => {
  it('the seed AuthorizationPolicy', () => {
    const c = config(SEED);
    const g = 'https://accounts.google.com';
    expect(evaluate(c.policies, request('GET', '/info/1', 'spiffe://cluster.local/ns/default/sa/sleep', g)).allowed).toBe(true);
    expect(evaluate(c.policies, request('POST', '/data', 'spiffe://cluster.local/ns/test/sa/x', g)).allowed).toBe(true);
    expect(evaluate(c.policies, request('POST', '/data', 'spiffe://cluster.local/ns/prod/sa/x', g)).allowed).toBe(false);
    expect(evaluate(c.policies, request('GET', '/info', 'spiffe://cluster.local/ns/default/sa/sleep', 'https://other')).allowed).toBe(false);
    expect(evaluate(c.policies, request('GET', '/info', 'spiffe://cluster.local/ns/default/sa/sleep', '')).allowed).toBe(false);
    expect(evaluate(c.policies, request('PUT', '/info', 'spiffe://cluster.local/ns/default/sa/sleep', g)).allowed).toBe(false);
  });

  it('the config says which connection properties the policies read', () => {
    const none = config('{"policies":[{"name":"p","rules":[{"from":[{"source":{"requestPrincipals":["*"]}}],"to":[{"operation":{"paths":["/a"],"hosts":["h"]}}],"when":[{"key":"request.auth.claims[x]","values":["1"]}]}]}]}');
    expect(none.needsSourceIp || none.needsDestIp || none.needsDestPort || none.needsSni || none.needsPeer || none.needsHeaders).toBe(false);
    const from = config('{"policies":[{"name":"p","rules":[{"from":[{"source":{"notIpBlocks":["10.0.0.0/8"]}},{"source":{"namespaces":["n"]}}],"to":[{"operation":{"notPorts":["81"]}}]}]}]}');
    expect(from.needsSourceIp).toBe(true);
    expect(from.needsPeer).toBe(true);
    expect(from.needsDestPort).toBe(true);
    expect(from.needsDestIp || from.needsSni).toBe(false);
    const when = config('{"policies":[{"name":"p","rules":[{"when":[{"key":"remote.ip","values":["1.2.3.4"]},{"key":"destination.ip","values":["1.2.3.4"]},{"key":"destination.port","values":["80"]},{"key":"connection.sni","values":["s"]},{"key":"source.principal","values":["p"]}]}]}]}');
    expect(when.needsSourceIp && when.needsDestIp && when.needsDestPort && when.needsSni && when.needsPeer).toBe(true);
    expect(when.needsHeaders).toBe(false);
  });

  it('DENY wins, AUDIT is reported, no ALLOW policy allows', () => {
    const c = config('{"policies":[{"name":"a","action":"AUDIT","rules":[{}]},{"name":"d","action":"DENY","rules":[{"to":[{"operation":{"notMethods":["GET"]}}]}]}]}');
    const get = evaluate(c.policies, request('GET', '/', '', ''));
    expect(get.allowed).toBe(true);
    expect(get.audited.length).toBe(1);
    const post = evaluate(c.policies, request('POST', '/', '', ''));
    expect(post.allowed).toBe(false);
    expect(post.policy).toBe('d');
  });

  it('configuration errors carry the JSON path', () => {
    expect(configError('{"policies":[{"name":"p","rules":[{"when":[{"key":"request.auth.claims","values":["x"]}]}]}]}'))
      .toBe('$.policies[0].rules[0].when[0].key: expected request.auth.claims[name] or [name][nested]');
    expect(configError('{"policies":[{"name":"p","rules":[{"when":[{"key":"source.ip"}]}]}]}'))
      .toBe('$.policies[0].rules[0].when[0]: values or notValues is required');
    expect(configError('{"jwtRules":[{"issuer":"i","jwksUri":"https://a/b"},{"issuer":"i","jwksUri":"https://a/c"}]}'))
      .toBe('$.jwtRules[1].issuer: issuer "i" is already used by $.jwtRules[0]');
    expect(configError('nope')).toBe("$: invalid JSON: unexpected character 'n' at byte 0");
  });

  it('a JWT rule timeout is a duration string', () => {
    expect(config('{"jwtRules":[{"issuer":"i","jwksUri":"https://a/b","timeout":"1.5s"}]}').jwtRules[0].jwksTimeoutMs).toBe(1500);
    expect(config('{"jwtRules":[{"issuer":"i","jwksUri":"https://a/b","timeout":"250ms"}]}').jwtRules[0].jwksTimeoutMs).toBe(250);
    expect(configError('{"jwtRules":[{"issuer":"i","jwksUri":"https://a/b","timeout":"5"}]}'))
      .toBe('$.jwtRules[0].timeout: expected a duration such as "5s"');
    expect(configError('{"jwtRules":[{"issuer":"i","jwksUri":"https://a/b","timeout":"1.2.3s"}]}'))
      .toBe('$.jwtRules[0].timeout: expected a duration such as "5s"');
  });

  it('JWKS: RSA keys outside 2048..4096 bits or with an exponent over 32 bits, even or below 3 are dropped, with the reason', () => {
    const doc = '{"keys":[' +
      '{"kty":"RSA","kid":"small","n":"' + nOfBits(2047) + '","e":"AQAB"},' +
      '{"kty":"RSA","kid":"min","n":"' + nOfBits(2048) + '","e":"AQAB"},' +
      '{"kty":"RSA","kid":"max","n":"' + nOfBits(4096) + '","e":"AQAB"},' +
      '{"kty":"RSA","kid":"big","n":"' + nOfBits(4097) + '","e":"AQAB"},' +
      '{"kty":"RSA","kid":"lead0","n":"AA' + nOfBits(2048) + '","e":"AAEAAQ"},' +
      '{"kty":"RSA","kid":"e33","n":"' + nOfBits(2048) + '","e":"AQAAAAE"},' +
      '{"kty":"RSA","kid":"e32","n":"' + nOfBits(2048) + '","e":"_____w"},' +
      '{"kty":"RSA","kid":"even","n":"' + nOfBits(2048) + '","e":"AQAA"},' +
      '{"kty":"RSA","n":"' + nOfBits(2048) + '","e":"AQ"}]}';
    const r = parseJwks(String.UTF8.encode(doc));
    expect(r.status).toBe(JwtStatus.Ok);
    expect(r.keys.length).toBe(4);
    expect(r.keys[0].kid).toBe('min');
    expect(r.keys[1].kid).toBe('max');
    expect(r.keys[2].kid).toBe('lead0');
    expect(r.keys[3].kid).toBe('e32');
    expect(r.skipped.length).toBe(5);
    expect(r.skipped[0]).toBe('key 0 (kid small): RSA modulus of 2047 bits, outside 2048..4096');
    expect(r.skipped[1]).toBe('key 3 (kid big): RSA modulus of 4097 bits, outside 2048..4096');
    expect(r.skipped[2]).toBe('key 5 (kid e33): RSA exponent of 33 bits, over 32');
    expect(r.skipped[3]).toBe('key 7 (kid even): RSA exponent is even');
    expect(r.skipped[4]).toBe('key 8: RSA exponent below 3');
    const none = parseJwks(String.UTF8.encode('{"keys":[{"kty":"RSA","kid":"small","n":"' + nOfBits(1024) + '","e":"AQAB"}]}'));
    expect(none.status).toBe(JwtStatus.JwksNoValidKeys);
    expect(none.skipped[0]).toBe('key 0 (kid small): RSA modulus of 1024 bits, outside 2048..4096');
  });
});

/** base64url of a big-endian number of exactly `bits` bits (top bit set, odd). */
function nOfBits(bits: i32): string {
  const len = (bits + 7) >> 3;
  const buf = new ArrayBuffer(len);
  const p = changetype<usize>(buf);
  for (let i = 0; i < len; i++) store<u8>(p + <usize>i, 0xa5);
  const topBits: i32 = bits - (len - 1) * 8;
  const top: i32 = (0xff >> (8 - topBits)) | (1 << (topBits - 1));
  store<u8>(p, <u8>top);
  store<u8>(p + <usize>(len - 1), <u8>(<i32>load<u8>(p + <usize>(len - 1)) | 1));
  return base64UrlEncode(buf);
}

