// as-pect tests of the authz filter's pure parts: Istio's matcher translations, JWT parsing as
// Envoy's library does it, jwt_authn's requirement tree (token locations, every token checked, a
// token only for its own rule, output headers removed), policy evaluation and configuration
// errors. No host calls.
import {
  Cidr,
  parseIp,
  anyCidrContains,
  headerPattern,
  stringPattern,
  principalPattern,
  namespacePattern,
  RequestPrincipalPattern,
} from '../match';
import { Jwk, Jwt, JwtStatus, parseJwt, parseJwks, jwtStatusString } from '../../../assembly/lib/jwt';
import { base64UrlEncode } from '../../../assembly/lib/base64';
import { parseJsonString, JsonValue } from '../../../assembly/lib/json';
import {
  Authentication,
  HeaderReader,
  KeySource,
  RequestView,
  SignatureChecker,
  TokenCache,
  CachedToken,
  sameToken,
  tokenKey,
  checkTime,
  claimNumberText,
  sanitizeAudience,
  tokenAfterPrefix,
  isCorsPreflight,
} from '../authn';
import { DecodedQueryParams } from '../../../assembly/lib/http';
import { parseAuthzConfig, AuthzConfig, JwtRule } from '../config';
import { AuthInfo, RequestInfo, evaluate } from '../policy';

function b64(s: string): string {
  return base64UrlEncode(String.UTF8.encode(s));
}
function tok(header: string, payload: string): string {
  return b64(header) + '.' + b64(payload) + '.c2ln';
}
/** A token the test checker accepts (signature "ok") or refuses ("no"). */
function signed(payload: string, good: bool = true): string {
  return b64('{"alg":"RS256"}') + '.' + b64(payload) + '.' + b64(good ? 'ok' : 'no');
}

class MapHeaders extends HeaderReader {
  names: string[] = [];
  vals: string[] = [];
  add(name: string, value: string): MapHeaders {
    this.names.push(name);
    this.vals.push(value);
    return this;
  }
  values(name: string): string[] {
    const out = new Array<string>();
    for (let i = 0; i < this.names.length; i++) if (this.names[i] == name) out.push(this.vals[i]);
    return out;
  }
}

class OkChecker extends SignatureChecker {
  check(jwt: Jwt, key: Jwk): bool {
    return String.UTF8.decode(jwt.signature) == 'ok';
  }
}

class OneKey extends KeySource {
  keys(rule: JwtRule): Jwk[] | null {
    return [new Jwk()];
  }
}

/** `"jwks": "<one RSA key>"`, written where a test config says JWKS (String#replaceAll with a longer replacement corrupts the heap in AssemblyScript 0.27: split/join). */
function jwksField(): string {
  return '"jwks":"{\\"keys\\":[{\\"kty\\":\\"RSA\\",\\"n\\":\\"' + nOfBits(2048) + '\\",\\"e\\":\\"AQAB\\"}]}"';
}

function config(json: string): AuthzConfig {
  const r = parseAuthzConfig(String.UTF8.encode(json.split('JWKS').join(jwksField())));
  if (r.config === null) throw new Error(r.error);
  return r.config as AuthzConfig;
}

function configError(json: string): string {
  return parseAuthzConfig(String.UTF8.encode(json.split('JWKS').join(jwksField()))).error;
}

class Run {
  constructor(
    public status: JwtStatus,
    public view: RequestView,
    public jwt: Jwt | null,
  ) {}
  header(name: string): string {
    return this.view.values(name).join('|');
  }
}

let cache: TokenCache | null = null;
function authn(c: AuthzConfig, h: MapHeaders, path: string = '/x'): Run {
  const view = new RequestView(h, path);
  if (cache === null) cache = new TokenCache(16);
  const a = new Authentication(c, view, new OneKey(), new OkChecker(), cache as TokenCache, 1000, false);
  const st = a.run();
  return new Run(st, view, a.jwt);
}

describe('matchers as Istio writes them', () => {
  it('header and host values: * present, *x suffix, x* prefix, else exact; hosts ignore case and keep the port', () => {
    expect(headerPattern('*', false).matches('')).toBe(true);
    expect(headerPattern('*', false).matches(null)).toBe(false);
    expect(headerPattern('*abc*', false).matches('xabc*')).toBe(true); // Istio: suffix "abc*"
    expect(headerPattern('/info*', false).matches('/info/x')).toBe(true);
    expect(headerPattern('Example.COM', true).matches('example.com')).toBe(true);
    expect(headerPattern('example.com', true).matches('example.com:8080')).toBe(false);
    expect(headerPattern('example.com*', true).matches('EXAMPLE.com:8080')).toBe(true);
  });

  it('string values: * is a non-empty value', () => {
    expect(stringPattern('*').matches('')).toBe(false);
    expect(stringPattern('*').matches('a')).toBe(true);
    expect(stringPattern('a').matches('A')).toBe(false);
  });

  it('principals and namespaces on the full URI SAN', () => {
    const san = 'spiffe://cluster.local/ns/default/sa/sleep';
    expect(principalPattern('cluster.local/ns/default/sa/sleep')!.matches(san)).toBe(true);
    expect(principalPattern('*/sa/sleep')!.matches(san)).toBe(true);
    expect(principalPattern('*/sa/sleep')!.matches('cluster.local/ns/default/sa/sleep')).toBe(false);
    expect(principalPattern('cluster.local/*')!.matches(san)).toBe(true);
    expect(namespacePattern('default')!.matches(san)).toBe(true);
    expect(namespacePattern('def*')!.matches(san)).toBe(true);
    expect(namespacePattern('test')!.matches(san)).toBe(false);
  });

  it('request principals split at the last slash: * needs iss and sub', () => {
    const any = RequestPrincipalPattern.parse('*');
    expect(any.iss.matches('i') && any.sub.matches('')).toBe(false);
    const p = RequestPrincipalPattern.parse('https://example.com/a/b');
    expect(p.iss.matches('https://example.com/a') && p.sub.matches('b')).toBe(true);
    expect(p.iss.matches('https://example.com')).toBe(false);
    const pre = RequestPrincipalPattern.parse('https://accounts.google.com/*');
    expect(pre.iss.matches('https://accounts.google.com') && pre.sub.matches('x')).toBe(true);
    expect(pre.sub.matches('')).toBe(false);
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
});

describe('the verified-token cache key', () => {
  it('a hit is the same token: a token under a colliding key is not the cached one', () => {
    const a = tok('{"alg":"RS256"}', '{"iss":"i","sub":"a"}');
    const b = tok('{"alg":"RS256"}', '{"iss":"i","sub":"b"}');
    const bytes = String.UTF8.encode(a);
    expect(sameToken(bytes, a)).toBe(true);
    expect(sameToken(bytes, b)).toBe(false);
    expect(sameToken(bytes, a + 'A')).toBe(false);
    expect(sameToken(bytes, a.substring(0, a.length - 1))).toBe(false);
    expect(sameToken(bytes, a.substring(0, a.length - 1) + 'j')).toBe(false);
    // Each position of the 4-unit steps and of the tail; a code unit above 0xff never equals a byte.
    for (let i = 0; i < a.length; i++) {
      expect(sameToken(bytes, a.substring(0, i) + 'é' + a.substring(i + 1))).toBe(false);
      expect(sameToken(bytes, a.substring(0, i) + String.fromCharCode(a.charCodeAt(i) + 0x100) + a.substring(i + 1))).toBe(false);
    }
    // A padded form is another token: it does not match the canonical token it decodes to.
    expect(sameToken(bytes, a + '=')).toBe(false);
    for (let n = 1; n <= 6; n++) {
      const t = b64('{"alg":"RS256"}') + '.' + b64('{}') + '.' + b64('xxxxxx'.substring(0, n));
      expect(sameToken(String.UTF8.encode(t), t)).toBe(true);
    }
    const c = new TokenCache(4);
    const rule = config('{"jwtRules":[{"issuer":"i",JWKS}]}').jwtRules[0];
    // b stored under a's key (as a collision would): a is not served b's verification.
    c.put(tokenKey(a), new CachedToken(parseJwt(b).jwt as Jwt, rule, b), 1000);
    expect(c.get(tokenKey(a), a, 1000)).toBeNull();
    expect(c.get(tokenKey(a), b, 1000)).not.toBeNull();
    expect(tokenKey(a)).not.toBe(tokenKey(b));
    // The key covers the length and the end: tokens differing there differ in key.
    expect(tokenKey(a + 'A')).not.toBe(tokenKey(a));
    expect(tokenKey(a.substring(0, a.length - 1) + 'j')).not.toBe(tokenKey(a));
  });

  it('caches only a token of one byte per character (a non-ASCII one is verified each time)', () => {
    const a = tok('{"alg":"RS256"}', '{"iss":"i","sub":"a"}');
    const c = new TokenCache(4);
    const rule = config('{"jwtRules":[{"issuer":"i",JWKS}]}').jwtRules[0];
    const odd = a + 'é';
    c.put(tokenKey(odd), new CachedToken(parseJwt(a).jwt as Jwt, rule, odd), 1000);
    expect(c.size).toBe(0);
    c.put(tokenKey(a), new CachedToken(parseJwt(a).jwt as Jwt, rule, a), 1000);
    expect(c.size).toBe(1);
  });

  it('reads the token in place inside its header value (from its start), as the whole token', () => {
    const a = tok('{"alg":"RS256"}', '{"iss":"i","sub":"a"}');
    const ja = parseJwt(a).jwt as Jwt;
    const header = 'Bearer ' + a;
    const bytes = String.UTF8.encode(a);
    expect(sameToken(bytes, header, 7)).toBe(true);
    expect(sameToken(bytes, header, 6)).toBe(false);
    expect(sameToken(bytes, 'Bearer ' + a + 'A', 7)).toBe(false);
    expect(tokenKey(header, 7)).toBe(tokenKey(a));
    const c = new TokenCache(4);
    const rule = config('{"jwtRules":[{"issuer":"i",JWKS}]}').jwtRules[0];
    c.put(tokenKey(a), new CachedToken(ja, rule, a), 1000);
    expect(c.get(tokenKey(header, 7), header, 1000, 7)).not.toBeNull();
  });
});

describe('JWT parsing as Envoy does it', () => {
  it('answers Envoy status for malformed tokens and never traps', () => {
    expect(parseJwt('a.b').status).toBe(JwtStatus.JwtBadFormat);
    expect(parseJwt('').status).toBe(JwtStatus.JwtBadFormat);
    expect(parseJwt('..').status).toBe(JwtStatus.JwtBadFormat);
    expect(parseJwt('...').status).toBe(JwtStatus.JwtBadFormat);
    // alg none with an empty signature: two parts once empty parts are skipped.
    expect(parseJwt(b64('{"alg":"none"}') + '.' + b64('{}') + '.').status).toBe(JwtStatus.JwtBadFormat);
    expect(parseJwt(tok('{"alg":"none"}', '{}')).status).toBe(JwtStatus.JwtHeaderNotImplementedAlg);
    expect(parseJwt('e30!.e30.c2ln').status).toBe(JwtStatus.JwtHeaderParseErrorBadBase64);
    expect(parseJwt('e30.e30.c2ln').status).toBe(JwtStatus.JwtHeaderBadAlg);
    expect(parseJwt(b64('{"alg":"RS256"') + '.e30.c2ln').status).toBe(JwtStatus.JwtHeaderParseErrorBadJson);
    expect(parseJwt(tok('{"alg":"RS256","kid":1}', '{}')).status).toBe(JwtStatus.JwtHeaderBadKid);
    expect(parseJwt(tok('{"alg":"RS256"}', '{"exp":1.5}')).status).toBe(JwtStatus.JwtPayloadParseErrorExpNotInteger);
    expect(parseJwt(tok('{"alg":"RS256"}', '{"aud":{}}')).status).toBe(JwtStatus.JwtPayloadParseErrorAudNotString);
    expect(parseJwt(tok('{"alg":"RS256"}', '{"iss":"a","aud":["x","y"],"exp":100}')).status).toBe(JwtStatus.Ok);
    expect(parseJwt(tok('{"alg":"ES512"}', '{}')).status).toBe(JwtStatus.Ok);
    expect(jwtStatusString(JwtStatus.JwtExpired)).toBe('Jwt is expired');
  });

  it('reads segments as absl does: empty parts skipped, whitespace and padding accepted', () => {
    const t = tok('{"alg":"RS256"}', '{"iss":"a"}');
    expect(parseJwt(t + '.').status).toBe(JwtStatus.Ok);
    expect(parseJwt('.' + t).status).toBe(JwtStatus.Ok);
    expect(parseJwt(t + ' xy').status).toBe(JwtStatus.Ok);
    expect(parseJwt(t + ' x').status).toBe(JwtStatus.JwtSignatureParseErrorBadBase64);
    expect(parseJwt(t + '=').status).toBe(JwtStatus.JwtSignatureParseErrorBadBase64);
    expect(parseJwt(t + '!').status).toBe(JwtStatus.JwtSignatureParseErrorBadBase64);
    expect(String.UTF8.decode(parseJwt('.' + t).jwt!.signingInput)).toBe(t.substring(0, t.lastIndexOf('.')));
  });

  it('keeps the decoded payload bytes (the JSON the filter state carries)', () => {
    const payload = '{"iss":"a","n":[1]}';
    const jwt = parseJwt(tok('{"alg":"RS256"}', payload)).jwt!;
    expect(String.UTF8.decode(jwt.payloadBytes)).toBe(payload);
  });

  it('JWKS: skips keys it cannot use', () => {
    const N2048 = nOfBits(2048);
    const r = parseJwks(
      String.UTF8.encode(
        '{"keys":[{"kty":"oct","k":"AA"},{"kty":"RSA","n":"' +
          N2048 +
          '","e":"AQAB","use":"enc"},{"kty":"EC","crv":"P-521","x":"AA","y":"AA"},{"kty":"RSA","kid":"k","n":"' +
          N2048 +
          '","e":"AQAB"}]}',
      ),
    );
    expect(r.status).toBe(JwtStatus.Ok);
    expect(r.keys.length).toBe(1);
    expect(r.skipped.length).toBe(0);
    expect(parseJwks(String.UTF8.encode('{"keys":[]}')).status).toBe(JwtStatus.JwksNoValidKeys);
    expect(parseJwks(String.UTF8.encode('[]')).status).toBe(JwtStatus.JwksParseError);
  });
});

describe('jwt_authn as Istio configures it', () => {
  it('Bearer prefix: case-sensitive, found anywhere, token from the next token character to the end', () => {
    expect(tokenAfterPrefix('bearer abc', 'Bearer ')).toBeNull();
    expect(tokenAfterPrefix('xx Bearer  abc', 'Bearer ')).toBe('abc');
    expect(tokenAfterPrefix('Bearer !!!', 'Bearer ')).toBe('Bearer !!!');
    expect(tokenAfterPrefix('Bearer a b', 'Bearer ')).toBe('a b');
    expect(tokenAfterPrefix(' raw', '')).toBe(' raw');
  });

  it("client-sent output headers are removed with no token, a bad token or another issuer's token", () => {
    const c = config(
      '{"jwtRules":[{"issuer":"i",JWKS,"outputPayloadToHeader":"x-payload","outputClaimToHeaders":[{"header":"x-sub","claim":"sub"}]},{"issuer":"j",JWKS,"fromHeaders":[{"name":"x-j"}],"outputClaimToHeaders":[{"header":"x-j-sub","claim":"sub"}]}]}',
    );
    const none = authn(c, new MapHeaders().add('x-payload', 'forged').add('x-sub', 'admin').add('x-j-sub', 'admin'));
    expect(none.status).toBe(JwtStatus.Ok);
    expect(none.header('x-payload') + none.header('x-sub') + none.header('x-j-sub')).toBe('');
    const other = authn(c, new MapHeaders().add('x-j', signed('{"iss":"j","sub":"bob"}')).add('x-sub', 'admin'));
    expect(other.status).toBe(JwtStatus.Ok);
    expect(other.header('x-sub')).toBe('');
    expect(other.header('x-j-sub')).toBe('bob');
    const good = authn(
      c,
      new MapHeaders().add('authorization', 'Bearer ' + signed('{"iss":"i","sub":"alice","n":1.5}')).add('x-sub', 'admin'),
    );
    expect(good.header('x-sub')).toBe('alice');
    expect(good.header('authorization')).toBe('');
  });

  it("every token at a rule's locations must pass: each header entry, param and cookie", () => {
    const c = config('{"jwtRules":[{"issuer":"i",JWKS,"fromHeaders":[{"name":"x-t"}],"fromParams":["t"],"fromCookies":["c"]}]}');
    const good = signed('{"iss":"i","sub":"a"}');
    expect(authn(c, new MapHeaders().add('x-t', good).add('x-t', good)).status).toBe(JwtStatus.Ok);
    expect(authn(c, new MapHeaders().add('x-t', good).add('x-t', signed('{"iss":"i"}', false))).status).toBe(JwtStatus.JwtVerificationFail);
    expect(authn(c, new MapHeaders().add('x-t', good), '/x?t=a.b').status).toBe(JwtStatus.JwtBadFormat);
    expect(authn(c, new MapHeaders().add('x-t', good), '/x?t=').status).toBe(JwtStatus.JwtBadFormat);
    expect(authn(c, new MapHeaders().add('x-t', good).add('cookie', 'a=1; c=zz')).status).toBe(JwtStatus.JwtBadFormat);
    expect(authn(c, new MapHeaders().add('cookie', 'c="' + good + '"')).status).toBe(JwtStatus.Ok);
  });

  it("a token is accepted only at its own rule's locations, also when cached", () => {
    const c = config('{"jwtRules":[{"issuer":"i",JWKS},{"issuer":"j",JWKS,"fromHeaders":[{"name":"x-j"}]}]}');
    const ofI = signed('{"iss":"i","sub":"a"}');
    expect(authn(c, new MapHeaders().add('authorization', 'Bearer ' + ofI)).status).toBe(JwtStatus.Ok);
    // Now cached for rule i; at rule j's header it is another issuer's token.
    expect(authn(c, new MapHeaders().add('x-j', ofI)).status).toBe(JwtStatus.JwtUnknownIssuer);
    expect(authn(c, new MapHeaders().add('authorization', 'Bearer ' + signed('{"iss":"k"}'))).status).toBe(JwtStatus.JwtUnknownIssuer);
  });

  it('forwardOriginalToken false: the query parameter leaves the path as Envoy rebuilds it (decoded, sorted)', () => {
    const c = config('{"jwtRules":[{"issuer":"i",JWKS,"fromParams":["tok"]}]}');
    const r = authn(c, new MapHeaders(), '/x?b=1&tok=' + signed('{"iss":"i"}') + '&a=%3D%41&&z');
    expect(r.status).toBe(JwtStatus.Ok);
    expect(r.view.path).toBe('/x?=&a==A&b=1&z=');
    expect(authn(c, new MapHeaders(), '/x?tok=' + signed('{"iss":"i"}')).view.path).toBe('/x');
    expect(DecodedQueryParams.parse('/p?t%6Fk=1&tok=2').first('tok')).toBe('1');
  });

  it("audiences compare without scheme and trailing slash; a disallowed one is Envoy's 403 status", () => {
    expect(sanitizeAudience('https://a.example/')).toBe('a.example');
    const c = config('{"jwtRules":[{"issuer":"i",JWKS,"audiences":["https://a.example/"]}]}');
    expect(authn(c, new MapHeaders().add('authorization', 'Bearer ' + signed('{"iss":"i","aud":"a.example"}'))).status).toBe(JwtStatus.Ok);
    expect(authn(c, new MapHeaders().add('authorization', 'Bearer ' + signed('{"iss":"i","aud":"b"}'))).status).toBe(
      JwtStatus.JwtAudienceNotAllowed,
    );
  });

  it('crit and the token size cap are configurable stricter choices', () => {
    const crit = b64('{"alg":"RS256","crit":["x"]}') + '.' + b64('{"iss":"i"}') + '.' + b64('ok');
    const h = new MapHeaders().add('authorization', 'Bearer ' + crit);
    expect(authn(config('{"jwtRules":[{"issuer":"i",JWKS}]}'), h).status).toBe(JwtStatus.JwtVerificationFail);
    expect(authn(config('{"jwtRules":[{"issuer":"i",JWKS}],"asmesh":{"rejectCrit":false}}'), h).status).toBe(JwtStatus.Ok);
    const big = signed('{"iss":"i","pad":"' + 'x'.repeat(70000) + '"}');
    expect(authn(config('{"jwtRules":[{"issuer":"i",JWKS}]}'), new MapHeaders().add('authorization', 'Bearer ' + big)).status).toBe(
      JwtStatus.JwtVerificationFail,
    );
    expect(
      authn(
        config('{"jwtRules":[{"issuer":"i",JWKS}],"asmesh":{"maxTokenBytes":200000}}'),
        new MapHeaders().add('authorization', 'Bearer ' + big),
      ).status,
    ).toBe(JwtStatus.Ok);
  });

  it('numbers in claim headers as Envoy prints them; CORS preflight detection', () => {
    expect(claimNumberText(3)).toBe('3');
    expect(claimNumberText(1.5)).toBe('1.500000');
    expect(claimNumberText(-2)).toBe('-2.000000');
    const preflight = new MapHeaders().add('origin', 'o').add('access-control-request-method', 'GET');
    expect(isCorsPreflight('OPTIONS', preflight)).toBe(true);
    expect(isCorsPreflight('OPTIONS', new MapHeaders().add('origin', 'o'))).toBe(false);
    expect(isCorsPreflight('GET', preflight)).toBe(false);
  });

  it('60 s skew on exp and nbf', () => {
    const jwt = parseJwt(tok('{"alg":"RS256"}', '{"iss":"i","exp":1000,"nbf":500}')).jwt!;
    expect(checkTime(jwt, 1060)).toBe(JwtStatus.Ok);
    expect(checkTime(jwt, 1061)).toBe(JwtStatus.JwtExpired);
    expect(checkTime(jwt, 440)).toBe(JwtStatus.Ok);
    expect(checkTime(jwt, 439)).toBe(JwtStatus.JwtNotYetValid);
  });
});

const SEED =
  '{"policies":[{"name":"httpbin","action":"ALLOW","rules":[{"from":[{"source":{"principals":["cluster.local/ns/default/sa/sleep"]}},{"source":{"namespaces":["test"]}}],"to":[{"operation":{"methods":["GET"],"paths":["/info*"]}},{"operation":{"methods":["POST"],"paths":["/data"]}}],"when":[{"key":"request.auth.claims[iss]","values":["https://accounts.google.com"]}]}]}]}';

function request(method: string, path: string, san: string, iss: string, claims: string = ''): RequestInfo {
  const r = new RequestInfo();
  r.method = method;
  r.path = path;
  r.host = 'httpbin';
  if (san.length) r.peerIds = [san, ''];
  if (iss.length)
    r.auth = new AuthInfo(parseJsonString(claims.length ? claims : '{"iss":"' + iss + '","sub":"u"}').value as JsonValue, [
      'permission',
      'scope',
    ]);
  return r;
}

function allows(policy: string, r: RequestInfo): bool {
  return evaluate(config('{"policies":[' + policy + ']}').policies, r).allowed;
}

describe('policy evaluation', () => {
  it('the seed AuthorizationPolicy', () => {
    const c = config(SEED);
    const g = 'https://accounts.google.com';
    expect(evaluate(c.policies, request('GET', '/info/1', 'spiffe://cluster.local/ns/default/sa/sleep', g)).allowed).toBe(true);
    expect(evaluate(c.policies, request('POST', '/data', 'spiffe://cluster.local/ns/test/sa/x', g)).allowed).toBe(true);
    expect(evaluate(c.policies, request('POST', '/data', 'spiffe://cluster.local/ns/prod/sa/x', g)).allowed).toBe(false);
    expect(evaluate(c.policies, request('GET', '/info', 'spiffe://cluster.local/ns/default/sa/sleep', 'https://other')).allowed).toBe(
      false,
    );
    expect(evaluate(c.policies, request('GET', '/info', 'spiffe://cluster.local/ns/default/sa/sleep', '')).allowed).toBe(false);
    expect(evaluate(c.policies, request('PUT', '/info', 'spiffe://cluster.local/ns/default/sa/sleep', g)).allowed).toBe(false);
  });

  it('repeated headers: each entry is matched (a DENY cannot be dodged by sending the header twice)', () => {
    const deny = '{"name":"d","action":"DENY","rules":[{"when":[{"key":"request.headers[X-H]","values":["a"]}]}]}';
    const r = request('GET', '/', '', '');
    r.addHeader('x-h', 'b');
    r.addHeader('x-h', 'a');
    expect(allows(deny, r)).toBe(false);
    const joined = request('GET', '/', '', '');
    joined.addHeader('x-h', 'a,b');
    expect(allows(deny, joined)).toBe(true);
    const notv = '{"name":"n","rules":[{"when":[{"key":"request.headers[x-h]","notValues":["a"]}]}]}';
    expect(allows(notv, r)).toBe(false);
  });

  it('hosts compare the whole authority, port included, ignoring case', () => {
    const p = '{"name":"h","rules":[{"to":[{"operation":{"hosts":["svc.example"]}}]}]}';
    const r = request('GET', '/', '', '');
    r.host = 'SVC.example';
    expect(allows(p, r)).toBe(true);
    r.host = 'svc.example:8080';
    expect(allows(p, r)).toBe(false);
    expect(allows('{"name":"h","rules":[{"to":[{"operation":{"notHosts":["svc.example"]}}]}]}', r)).toBe(true);
  });

  it('claims: strings only, lists item by item, scope and permission split at spaces', () => {
    const c = (key: string, v: string): string =>
      '{"name":"c","rules":[{"when":[{"key":"request.auth.claims[' + key + ']","values":["' + v + '"]}]}]}';
    const r = request('GET', '/', '', 'i', '{"iss":"i","sub":"u","n":1,"b":true,"l":["x",2],"scope":"read write","s":"read write","e":""}');
    expect(allows(c('n', '1'), r)).toBe(false);
    expect(allows(c('b', 'true'), r)).toBe(false);
    expect(allows(c('l', 'x'), r)).toBe(true);
    expect(allows(c('l', '2'), r)).toBe(false);
    expect(allows(c('scope', 'write'), r)).toBe(true);
    expect(allows(c('scope', 'read write'), r)).toBe(false);
    expect(allows(c('s', 'read write'), r)).toBe(true);
    expect(allows(c('e', '*'), r)).toBe(false);
    expect(allows(c('s', '*'), r)).toBe(true);
  });

  it('requestPrincipals * needs iss and sub', () => {
    const p = '{"name":"rp","rules":[{"from":[{"source":{"requestPrincipals":["*"]}}]}]}';
    expect(allows(p, request('GET', '/', '', 'i', '{"iss":"i"}'))).toBe(false);
    expect(allows(p, request('GET', '/', '', 'i', '{"iss":"i","sub":"s"}'))).toBe(true);
    expect(allows(p, request('GET', '/', '', '', ''))).toBe(false);
  });

  it("path templates as Envoy's uri_template runs what pilot writes", () => {
    const p = (v: string): string => '{"name":"t","rules":[{"to":[{"operation":{"paths":["' + v + '"]}}]}]}';
    const at = (v: string, path: string): bool => {
      const r = request('GET', path, '', '');
      return allows(p(v), r);
    };
    expect(at('/a/{*}', '/a/b')).toBe(true);
    expect(at('/a/{*}', '/a/b?x=/y')).toBe(true);
    expect(at('/a/{*}', '/a/')).toBe(false);
    expect(at('/a/{*}', '/a/b/c')).toBe(false);
    expect(at('/a/{*}/c', '/a/b/c')).toBe(true);
    expect(at('/a/{**}', '/a/')).toBe(true);
    expect(at('/a/{**}', '/a/b/c')).toBe(true);
    expect(at('/a/{**}', '/a')).toBe(false);
    expect(at('/{**}/x', '//x')).toBe(true);
    expect(at('/{**}/x', '/a/b/x')).toBe(true);
    expect(at('/a/{*}/', '/a/b/')).toBe(true);
    expect(at('/a/{*}/', '/a/b')).toBe(false);
    // `*`, `=`, spaces are not pchar for Envoy's template: they never match a segment.
    expect(at('/a/{*}', '/a/b=c')).toBe(false);
    expect(at('/a/{*}', '/a/b*')).toBe(false);
    expect(at('/a/{*}', "/a/-._~%!$&'()+,;:@")).toBe(true);
    const err = (v: string): string => configError('{"policies":[' + p(v) + ']}');
    expect(err('/a/{**}/{*}')).toBe('$.policies[0].rules[0].to[0].operation.paths[0]: path template: {**} must be the last operator');
    expect(err('/a{*}')).toBe(
      "$.policies[0].rules[0].to[0].operation.paths[0]: path template: '{' or '}' beyond a whole-segment {*} or {**}",
    );
    expect(err('/a/{*}/x*')).toBe('$.policies[0].rules[0].to[0].operation.paths[0]: path template: segment "x*" is not a valid literal');
    expect(err('a/{*}')).toBe('$.policies[0].rules[0].to[0].operation.paths[0]: path template: a path template must start with /');
    expect(err('/a=b/{*}')).toBe('$.policies[0].rules[0].to[0].operation.paths[0]: path template: Envoy refuses the literal "a=b"');
  });

  it('peer names as rbac tries them: any URI SAN, any DNS SAN, the subject; an unreadable certificate denies', () => {
    const allowFoo = '{"name":"a","rules":[{"from":[{"source":{"namespaces":["foo"]}}]}]}';
    const denyX = '{"name":"d","action":"DENY","rules":[{"from":[{"source":{"principals":["cluster.local/ns/foo/sa/x"]}}]}]}';
    const any = '{"name":"a","rules":[{"from":[{"source":{"principals":["*"]}}]}]}';
    const r = request('GET', '/', '', '');
    r.peerIds = ['spiffe://cluster.local/ns/bar/sa/z', 'spiffe://cluster.local/ns/foo/sa/x', ''];
    expect(allows(allowFoo, r)).toBe(true);
    expect(allows(denyX, r)).toBe(false);
    r.peerIds = ['x.foo.svc', 'CN=spiffe://cluster.local/ns/foo/sa/cn'];
    expect(allows(allowFoo, r)).toBe(true);
    expect(allows(any, r)).toBe(true);
    r.peerIds = [''];
    expect(allows(any, r)).toBe(false);
    r.peerIds = null;
    expect(allows('{"name":"a","rules":[{"from":[{"source":{"notPrincipals":["x"]}}]}]}', r)).toBe(false);
    expect(allows(denyX, r)).toBe(false);
  });

  it('the config says which connection properties the policies read', () => {
    const none = config(
      '{"policies":[{"name":"p","rules":[{"from":[{"source":{"requestPrincipals":["*"]}}],"to":[{"operation":{"paths":["/a"],"hosts":["h"]}}],"when":[{"key":"request.auth.claims[x]","values":["1"]}]}]}]}',
    );
    expect(none.needsSourceIp || none.needsDestIp || none.needsDestPort || none.needsSni || none.needsPeer || none.needsHeaders).toBe(
      false,
    );
    const from = config(
      '{"policies":[{"name":"p","rules":[{"from":[{"source":{"notIpBlocks":["10.0.0.0/8"]}},{"source":{"namespaces":["n"]}}],"to":[{"operation":{"notPorts":["81"]}}]}]}]}',
    );
    expect(from.needsSourceIp).toBe(true);
    expect(from.needsPeer).toBe(true);
    expect(from.needsDestPort).toBe(true);
    expect(from.needsDestIp || from.needsSni).toBe(false);
    const when = config(
      '{"policies":[{"name":"p","rules":[{"when":[{"key":"remote.ip","values":["1.2.3.4"]},{"key":"destination.ip","values":["1.2.3.4"]},{"key":"destination.port","values":["80"]},{"key":"connection.sni","values":["s"]},{"key":"source.principal","values":["p"]}]}]}]}',
    );
    expect(when.needsSourceIp && when.needsDestIp && when.needsDestPort && when.needsSni && when.needsPeer).toBe(true);
    expect(when.needsHeaders).toBe(false);
  });

  it('the connection address hidden by x-forwarded-for is unknown: a DENY that may match denies, an ALLOW must match', () => {
    const hidden = (): RequestInfo => {
      const r = request('GET', '/x', '', '');
      r.remoteIp = '192.168.3.4';
      r.sourceIpUnknown = true;
      return r;
    };
    const deny = '{"name":"d","action":"DENY","rules":[{"from":[{"source":{"ipBlocks":["127.0.0.1"]}}]}]}';
    const notDeny = '{"name":"d","action":"DENY","rules":[{"from":[{"source":{"notIpBlocks":["127.0.0.1"]}}]}]}';
    const allow = '{"name":"a","action":"ALLOW","rules":[{"from":[{"source":{"ipBlocks":["10.0.0.0/8"]}}]}]}';
    const allowRemote = '{"name":"a","action":"ALLOW","rules":[{"from":[{"source":{"remoteIpBlocks":["192.168.0.0/16"]}}]}]}';
    const allowEither =
      '{"name":"a","action":"ALLOW","rules":[{"from":[{"source":{"ipBlocks":["10.0.0.0/8"]}},{"source":{"remoteIpBlocks":["192.168.0.0/16"]}}]}]}';
    expect(allows(deny, hidden())).toBe(false);
    expect(allows(notDeny, hidden())).toBe(false);
    expect(allows(allow, hidden())).toBe(false);
    expect(allows(allowRemote, hidden())).toBe(true);
    expect(allows(allowEither, hidden())).toBe(true);
    // A DENY that cannot match whatever the address is (its other field is NO) does not deny.
    expect(
      allows(
        '{"name":"d","action":"DENY","rules":[{"from":[{"source":{"ipBlocks":["127.0.0.1"]}}],"to":[{"operation":{"paths":["/y"]}}]}]}',
        hidden(),
      ),
    ).toBe(true);
    const seen = hidden();
    seen.sourceIpUnknown = false;
    seen.sourceIp = '10.1.2.3';
    expect(allows(deny, seen)).toBe(true);
    expect(allows(allow, seen)).toBe(true);
  });

  it('DENY wins, AUDIT is reported, no ALLOW policy allows', () => {
    const c = config(
      '{"policies":[{"name":"a","action":"AUDIT","rules":[{}]},{"name":"d","action":"DENY","rules":[{"to":[{"operation":{"notMethods":["GET"]}}]}]}]}',
    );
    const get = evaluate(c.policies, request('GET', '/', '', ''));
    expect(get.allowed).toBe(true);
    expect(get.audited.length).toBe(1);
    const post = evaluate(c.policies, request('POST', '/', '', ''));
    expect(post.allowed).toBe(false);
    expect(post.policy).toBe('d');
  });

  it('configuration errors carry the JSON path', () => {
    expect(configError('{"policies":[{"name":"p","rules":[{"when":[{"key":"request.auth.claims","values":["x"]}]}]}]}')).toBe(
      '$.policies[0].rules[0].when[0].key: expected request.auth.claims[name] or [name][nested]',
    );
    expect(configError('{"policies":[{"name":"p","rules":[{"when":[{"key":"source.ip"}]}]}]}')).toBe(
      '$.policies[0].rules[0].when[0]: values or notValues is required',
    );
    expect(configError('{"jwtRules":[{"issuer":"i","jwksUri":"https://a/b"},{"issuer":"i","jwksUri":"https://a/c"}]}')).toBe(
      '$.jwtRules[1].issuer: issuer "i" is already used by $.jwtRules[0]',
    );
    expect(configError('nope')).toBe("$: invalid JSON: unexpected character 'n' at byte 0");
  });

  it('a JWT rule timeout is a duration string', () => {
    expect(config('{"jwtRules":[{"issuer":"i","jwksUri":"https://a/b","timeout":"1.5s"}]}').jwtRules[0].jwksTimeoutMs).toBe(1500);
    expect(config('{"jwtRules":[{"issuer":"i","jwksUri":"https://a/b","timeout":"250ms"}]}').jwtRules[0].jwksTimeoutMs).toBe(250);
    expect(configError('{"jwtRules":[{"issuer":"i","jwksUri":"https://a/b","timeout":"5"}]}')).toBe(
      '$.jwtRules[0].timeout: expected a duration such as "5s"',
    );
    expect(configError('{"jwtRules":[{"issuer":"i","jwksUri":"https://a/b","timeout":"1.2.3s"}]}')).toBe(
      '$.jwtRules[0].timeout: expected a duration such as "5s"',
    );
  });

  it('JWKS: RSA keys outside 2048..4096 bits or with an exponent over 32 bits, even or below 3 are dropped, with the reason', () => {
    const doc =
      '{"keys":[' +
      '{"kty":"RSA","kid":"small","n":"' +
      nOfBits(2047) +
      '","e":"AQAB"},' +
      '{"kty":"RSA","kid":"min","n":"' +
      nOfBits(2048) +
      '","e":"AQAB"},' +
      '{"kty":"RSA","kid":"max","n":"' +
      nOfBits(4096) +
      '","e":"AQAB"},' +
      '{"kty":"RSA","kid":"big","n":"' +
      nOfBits(4097) +
      '","e":"AQAB"},' +
      '{"kty":"RSA","kid":"lead0","n":"AA' +
      nOfBits(2048) +
      '","e":"AAEAAQ"},' +
      '{"kty":"RSA","kid":"e33","n":"' +
      nOfBits(2048) +
      '","e":"AQAAAAE"},' +
      '{"kty":"RSA","kid":"e32","n":"' +
      nOfBits(2048) +
      '","e":"_____w"},' +
      '{"kty":"RSA","kid":"even","n":"' +
      nOfBits(2048) +
      '","e":"AQAA"},' +
      '{"kty":"RSA","n":"' +
      nOfBits(2048) +
      '","e":"AQ"}]}';
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
  store<u8>(p + <usize>(len - 1), <u8>((<i32>load<u8>(p + <usize>(len - 1))) | 1));
  return base64UrlEncode(buf);
}
