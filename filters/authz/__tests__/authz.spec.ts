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

  it('JWKS: skips keys it cannot use', () => {
    const r = parseJwks(String.UTF8.encode('{"keys":[{"kty":"oct","k":"AA"},{"kty":"RSA","n":"AQAB","e":"AQAB","use":"enc"},{"kty":"EC","crv":"P-521","x":"AA","y":"AA"},{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}'));
    expect(r.status).toBe(JwtStatus.Ok);
    expect(r.keys.length).toBe(1);
    expect(parseJwks(String.UTF8.encode('{"keys":[]}')).status).toBe(JwtStatus.JwksNoValidKeys);
    expect(parseJwks(String.UTF8.encode('[]')).status).toBe(JwtStatus.JwksParseError);
  });
});

describe('token extraction and time', () => {
  it('default location: Authorization Bearer, then access_token', () => {
    const c = config('{"jwtRules":[{"issuer":"i","jwks":"{\\"keys\\":[{\\"kty\\":\\"RSA\\",\\"n\\":\\"AQAB\\",\\"e\\":\\"AQAB\\"}]}"}]}');
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
    const c = config('{"jwtRules":[{"issuer":"i","audiences":["a"],"jwks":"{\\"keys\\":[{\\"kty\\":\\"RSA\\",\\"n\\":\\"AQAB\\",\\"e\\":\\"AQAB\\"}]}"}]}');
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
});
