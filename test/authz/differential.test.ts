// The authz filter against Istio's own translation: a seeded corpus of RequestAuthentication +
// AuthorizationPolicy sets (every JWTRule and AuthorizationPolicy field, several rules and issuers) goes
// through Istio's pilot (tools/istio-pilot), and ONE stock Envoy 1.40 runs, per set, pilot's inbound
// HTTP connection manager (jwt_authn + rbac, pilot's HCM settings) and the same manager with the
// asmesh authz filter in place of jwt_authn + rbac. The same raw HTTP requests (paths byte for byte;
// repeated headers, several tokens, odd schemes, ports in hosts, typed claims, path tricks, CORS
// preflights) go to both; status, body, www-authenticate, and the path and headers the upstream
// received must be equal. The only accepted differences are the stricter-by-choice ones listed in
// docs/DESIGN.md ("authz: accepted differences from Istio"); any other difference fails the test.
// AUTHZ_DIFF_SEED / AUTHZ_DIFF_SETS / AUTHZ_DIFF_REQUESTS change the corpus (defaults below);
// AUTHZ_DIFF_WASM_DIR runs another build of the filter (e.g. an older one, to count what it got wrong;
// AUTHZ_DIFF_LEGACY=1 leaves out the JWTRule fields it may not know).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { repoRoot } from '../../host/envoy/install.ts';
import { wasmFilterEntry } from '../../host/envoy/config.ts';
import { PilotInputError, inboundHttpManager, istioPilot, pilotBootstrap, workloadDocs, type PilotConfig } from '../../host/envoy/pilot.ts';
import { makePeerCerts, type Cert, type CertSet } from './certs.ts';
import {
  CONDITIONS,
  ISSUERS,
  PEERS,
  PEER_NAMESPACES,
  PEER_PICKS,
  PEER_PRINCIPALS,
  PRINCIPALS,
  TD_MESHES,
  TD_PEER_PICKS,
  TD_PRINCIPALS,
  VALUES,
  field,
  meshYaml,
  prng,
  securityDocs,
  type Rng,
} from './corpus.ts';
import { b64url, jwks, makeKey, rawToken, token, type TestKey } from '../../host/fixtures/jwt.ts';

type Obj = Record<string, any>;
const SEED = Number(process.env.AUTHZ_DIFF_SEED ?? 20261202);
const SETS = Number(process.env.AUTHZ_DIFF_SETS ?? 24);
const REQUESTS = Number(process.env.AUTHZ_DIFF_REQUESTS ?? 160);
/** Extra sets whose listeners are pilot's mTLS chain (PeerAuthentication STRICT/PERMISSIVE), requests from several SPIFFE peers. */
const MTLS_SETS = Number(process.env.AUTHZ_DIFF_MTLS_SETS ?? 10);
/** Extra mTLS sets under a MeshConfig trustDomain td2.example with aliases (their own generator, SEED + 1). */
const TD_SETS = Number(process.env.AUTHZ_DIFF_TD_SETS ?? 6);
const LEGACY = process.env.AUTHZ_DIFF_LEGACY !== undefined;
const WASM_DIR = process.env.AUTHZ_DIFF_WASM_DIR ?? join(repoRoot, 'build');
const PROXY = { namespace: 'foo', labels: { app: 'httpbin' }, ip: '10.0.0.10', serviceAccount: 'httpbin' };

const HEADER_LOCATIONS = [
  [{ name: 'x-jwt', prefix: 'Bearer ' }],
  [{ name: 'x-token' }],
  [{ name: 'authorization', prefix: 'Token ' }],
  [{ name: 'Authorization', prefix: 'Bearer ' }],
];

// ---- The policy corpus -------------------------------------------------------------------------------

/** Remote JWKS: pilot runs with PILOT_JWT_ENABLE_REMOTE_JWKS=envoy (Envoy fetches: remote_jwks on the
 * cluster of the jwks.example ServiceEntry); both sides fetch from one loopback server. */
const JWKS_HOST = 'jwks.example:8081';
const JWKS_CLUSTER = 'outbound|8081||jwks.example';
const PILOT_ENV = { PILOT_JWT_ENABLE_REMOTE_JWKS: 'envoy' };

function jwtRule(r: Rng, issuer: string, key: TestKey): Obj {
  // The JWKS server serves /keys/<kid> for each test key; /missing answers 404 (a failed fetch).
  const rule: Obj = r.chance(0.35)
    ? { issuer, jwksUri: `http://${JWKS_HOST}${r.chance(0.1) ? '/missing' : `/keys/${key.kid}`}` }
    : { issuer, jwks: jwks(key) };
  if (r.chance(0.3)) rule.audiences = r.some(['aud-1', 'https://aud-2.example/', 'aud-3']);
  if (r.chance(0.4)) rule.fromHeaders = r.pick(HEADER_LOCATIONS);
  if (r.chance(0.3)) rule.fromParams = r.some(['token', 'access_token'], 2);
  // AUTHZ_DIFF_LEGACY: without the JWTRule fields an older build refuses (fromCookies, spaceDelimitedClaims).
  if (r.chance(0.2) && !LEGACY) rule.fromCookies = ['session'];
  if (r.chance(0.4)) rule.forwardOriginalToken = true;
  if (r.chance(0.4)) rule.outputPayloadToHeader = r.pick(['x-jwt-payload', 'x-payload-' + issuer.length]);
  if (r.chance(0.5))
    rule.outputClaimToHeaders = r.some(
      [
        { header: 'x-sub', claim: 'sub' },
        { header: 'x-num', claim: 'num' },
        { header: 'x-flag', claim: 'flag' },
        { header: 'x-role', claim: 'realm.role' },
        { header: 'x-groups', claim: 'groups' },
      ],
      3,
    );
  if (r.chance(0.15) && !LEGACY) rule.spaceDelimitedClaims = ['perms'];
  return rule;
}

const PEER_CONDITIONS: [string, string[]][] = [
  ['source.principal', PEER_PRINCIPALS],
  ['source.namespace', PEER_NAMESPACES],
  ['connection.sni', ['*', 'svc.example', 'svc*']],
];

function policyRule(r: Rng, mtls: boolean, principals = PEER_PRINCIPALS): Obj {
  const peerConditions = PEER_CONDITIONS.map(([k, v]): [string, string[]] => [k, k === 'source.principal' ? principals : v]);
  const rule: Obj = {};
  if (r.chance(mtls ? 0.8 : 0.6)) {
    rule.from = Array.from({ length: 1 + r.int(2) }, () => {
      const source: Obj = {};
      const names = ['requestPrincipals', 'ipBlocks', 'remoteIpBlocks', 'principals', 'namespaces'];
      const fields = r.some(mtls ? [...names, 'principals', 'namespaces', 'principals'] : names, 2);
      for (const f of new Set(fields)) {
        if (f === 'requestPrincipals') field(r, source, f, PRINCIPALS);
        else if (f === 'principals') field(r, source, f, mtls ? principals : ['*', 'cluster.local/ns/foo/sa/x']);
        else if (f === 'namespaces') field(r, source, f, mtls ? PEER_NAMESPACES : ['foo', '*']);
        else field(r, source, f, VALUES.ipBlocks!);
      }
      return { source };
    });
  }
  if (r.chance(0.7)) {
    rule.to = Array.from({ length: 1 + r.int(2) }, () => {
      const operation: Obj = {};
      for (const f of r.some(['hosts', 'methods', 'paths', 'ports'], 3)) field(r, operation, f, VALUES[f]!);
      return { operation };
    });
  }
  if (r.chance(0.6)) {
    rule.when = r
      .some(mtls ? [...CONDITIONS, ...peerConditions, ...peerConditions] : CONDITIONS, 2)
      .map(([key, values]) => (r.chance(0.75) ? { key, values: r.some(values, 2) } : { key, notValues: r.some(values, 2) }));
  }
  return rule;
}

interface PolicySet {
  index: number;
  jwtRules: Obj[];
  policies: Obj[];
  /** PeerAuthentication mode of an mTLS set (its listeners run pilot's tls chain). */
  mtls?: 'STRICT' | 'PERMISSIVE';
  /** MeshConfig trust domains of a trust domain set (pilot's --mesh; the filter's asmesh options). */
  mesh?: { trustDomain: string; trustDomainAliases: string[] };
}

function policySet(r: Rng, index: number, keys: TestKey[], mtls = false, mesh?: PolicySet['mesh']): PolicySet {
  const issuers = r.some([0, 1, 2], 3).sort();
  const jwtRules = r.chance(0.9) ? issuers.map((i) => jwtRule(r, ISSUERS[i]!, keys[i]!)) : [];
  // Trust domain sets: 1-2 policies, each with a rule on principals / source.principal alone.
  const count = mesh === undefined ? r.int(3) + (jwtRules.length === 0 ? 1 : 0) : 1 + r.int(2);
  const policies = Array.from({ length: count }, (_, i) => ({
    name: `p${i}`,
    action: r.pick(['ALLOW', 'ALLOW', 'DENY']),
    rules: [
      ...(mesh === undefined ? [] : [principalRule(r)]),
      ...Array.from({ length: mesh === undefined ? 1 + r.int(2) : r.int(2) }, () =>
        policyRule(r, mtls, mesh === undefined ? PEER_PRINCIPALS : TD_PRINCIPALS),
      ),
    ],
  }));
  if (!mtls) return { index, jwtRules, policies };
  return { index, jwtRules, policies, mtls: r.pick(['STRICT', 'PERMISSIVE'] as const), ...(mesh === undefined ? {} : { mesh }) };
}

/** A rule that only looks at the peer's principal or trust domain (trust domain sets). */
function principalRule(r: Rng): Obj {
  if (r.chance(0.15)) {
    const source: Obj = {};
    field(r, source, 'trustDomains', ['td2.example', 'old.example', 'cluster.local', 'other.td']);
    return { from: [{ source }] };
  }
  if (r.chance(0.7)) {
    const source: Obj = {};
    field(r, source, 'principals', TD_PRINCIPALS);
    return { from: [{ source }] };
  }
  const key = 'source.principal';
  return { when: [r.chance(0.5) ? { key, values: r.some(TD_PRINCIPALS, 2) } : { key, notValues: r.some(TD_PRINCIPALS, 2) }] };
}

function istioYaml(set: PolicySet): string {
  const docs: Obj[] = [
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'jwks', namespace: 'foo' },
      spec: {
        hosts: ['jwks.example'],
        location: 'MESH_EXTERNAL',
        resolution: 'STATIC',
        ports: [{ number: 8081, name: 'http', protocol: 'HTTP' }],
        endpoints: [{ address: '127.0.0.1' }],
      },
    },
    ...workloadDocs({ ...PROXY, name: 'httpbin', host: 'svc.example', port: { number: 80, name: 'http', protocol: 'HTTP' } }),
  ];
  if (set.jwtRules.length > 0) {
    docs.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: { name: 'ra', namespace: 'foo' },
      spec: { selector: { matchLabels: { app: 'httpbin' } }, jwtRules: set.jwtRules },
    });
  }
  docs.push(...securityDocs('httpbin', set.mtls, set.policies));
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
}

// ---- Tokens and requests ------------------------------------------------------------------------------

interface Tokens {
  valid: string[];
  invalid: string[];
  crit: string[];
}

async function makeTokens(r: Rng, keys: TestKey[], other: TestKey): Promise<Tokens> {
  const now = Math.floor(Date.now() / 1000);
  const claims = (): Obj => {
    const c: Obj = {};
    if (r.chance(0.8)) c.sub = r.pick(['alice', 'bob', 'carol', '']);
    if (r.chance(0.5)) c.aud = r.pick<unknown>(['aud-1', 'https://aud-2.example', 'aud-2.example/', ['x', 'aud-1'], 'other']);
    if (r.chance(0.4)) c.role = r.pick(['admin', 'user', '']);
    if (r.chance(0.3)) c.groups = r.pick<unknown>([['ops', 'dev'], ['qa'], 'ops', [1, 'ops']]);
    if (r.chance(0.4)) c.scope = r.pick(['read write', 'read', 'write  read', '']);
    if (r.chance(0.2)) c.perms = r.pick(['a b', 'a']);
    if (r.chance(0.3)) c.num = r.pick([1, 1.5, -2, 0]);
    if (r.chance(0.2)) c.flag = r.pick([true, false, 'true']);
    if (r.chance(0.3)) c.realm = { role: r.pick(['admin', 'user']) };
    if (r.chance(0.2)) c.azp = r.pick(['cli', 'web']);
    return c;
  };
  const valid: string[] = [];
  for (let i = 0; i < 30; i++) {
    const k = i % 3;
    valid.push(await token(keys[k]!, { nowSec: now, payload: { iss: ISSUERS[k], ...claims() } }));
  }
  const invalid = [
    await token(keys[0]!, { nowSec: now - 7200, expSeconds: 3600, payload: { iss: ISSUERS[0] } }),
    await token(keys[1]!, { nowSec: now, payload: { iss: ISSUERS[1], nbf: now + 3600 } }),
    await token(keys[0]!, { nowSec: now, payload: { iss: 'https://unknown.example', sub: 'x' } }),
    await token(other, { nowSec: now, payload: { iss: ISSUERS[0], sub: 'mallory' } }),
    await token(keys[2]!, { nowSec: now, payload: { iss: ISSUERS[0], sub: 'wrong-key' } }),
    rawToken({ alg: 'none' }, { iss: ISSUERS[0], sub: 'alice' }, ''),
    rawToken({ alg: 'none' }, { iss: ISSUERS[0], sub: 'alice' }),
    rawToken({ alg: 'HS256', kid: 'a' }, { iss: ISSUERS[0] }, b64url('k'.repeat(32))),
    'e30!.e30.c2ln',
    'abc.def',
    'a.b.c.d',
    `${b64url('{"alg":"RS256"}')}.%%%.c2ln`,
    `${b64url('{"alg":')}.e30.c2ln`,
    '',
    'garbage',
  ];
  const v0 = valid[0]!;
  invalid.push(v0.slice(0, -4) + 'AAAA', v0 + '.', ` ${v0}`, v0.replace('.', '..'));
  // jose refuses to sign an unknown crit extension: sign header.payload with WebCrypto.
  const critInput = `${b64url(JSON.stringify({ alg: 'RS256', kid: 'a', crit: ['x-ext'], 'x-ext': 1 }))}.${b64url(JSON.stringify({ iss: ISSUERS[0], sub: 'alice', exp: now + 3600 }))}`;
  const critSig = Buffer.from(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', keys[0]!.privateKey, Buffer.from(critInput)));
  const crit = [`${critInput}.${critSig.toString('base64url')}`];
  return { valid, invalid, crit };
}

interface Req {
  raw: string;
  crit: boolean;
  label: string;
  /** The request has x-forwarded-for and a policy of its set looks at the connection's address (ipBlocks, source.ip). */
  xff: boolean;
  directIp: boolean;
  /** A rule of its set uses jwksUri. */
  remoteJwks: boolean;
  /** The mTLS peer (PEERS) the request is sent as, in an mTLS set. */
  peer?: string;
}

const PATHS = [
  '/info',
  '/info/x',
  '/info/../admin',
  '/admin',
  '//admin',
  '/data',
  '/a/b/x',
  '/info%2F..%2Fadmin',
  '/%61dmin',
  '/x.png',
  '/info/./x',
  '/INFO',
  '/a/b',
  '/info?x=1',
  '/x?a=1&b=%41',
];

function request(r: Rng, set: PolicySet, tokens: Tokens): Req {
  let crit = false;
  const pickToken = () => {
    if (r.chance(0.04)) {
      crit = true;
      return r.pick(tokens.crit);
    }
    return r.chance(0.7) ? r.pick(tokens.valid) : r.pick(tokens.invalid);
  };
  const peer = set.mtls !== undefined ? r.pick(set.mesh === undefined ? PEER_PICKS : TD_PEER_PICKS) : undefined;
  const method = r.pick(['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE', 'OPTIONS']);
  let path = r.pick(PATHS);
  const headers: [string, string][] = [['host', r.pick(['svc.example', 'SVC.example:8080', 'other.example', 'svc.example:80'])]];
  const query: string[] = [];
  const n = r.pick([0, 1, 1, 1, 2, 2, 3]);
  for (let i = 0; i < n; i++) {
    const t = pickToken();
    switch (r.int(9)) {
      case 0:
      case 1:
        headers.push(['authorization', `Bearer ${t}`]);
        break;
      case 2:
        headers.push(['authorization', r.pick([`bearer ${t}`, `Token ${t}`, `Basic ${t}`, `Bearer  ${t}`, `x Bearer ${t}`])]);
        break;
      case 3:
        headers.push(['x-jwt', `Bearer ${t}`]);
        break;
      case 4:
        headers.push(['x-token', t]);
        break;
      case 5:
        query.push(`${r.pick(['token', 'access_token'])}=${t}`);
        break;
      case 6:
        headers.push(['cookie', `session=${t}; other=1`]);
        break;
      case 7:
        headers.push(['x-jwt', `Bearer ${t}`], ['x-jwt', `Bearer ${pickToken()}`]);
        break;
      default:
        headers.push(['authorization', `Token ${t}`]);
    }
  }
  if (r.chance(0.25)) headers.push([r.pick(['x-sub', 'x-jwt-payload', 'x-role', 'x-num']), 'forged']);
  if (r.chance(0.3)) for (const v of r.some(['prod', 'dev-b', 'x,prod', ''], 2)) headers.push(['x-env', v]);
  if (r.chance(0.15)) headers.push(['user-agent', r.pick(['curl/8', 'x'])]);
  // remote.ip / remoteIpBlocks are the address Envoy takes from x-forwarded-for (use_remote_address: false), ipBlocks the connection's.
  if (r.chance(0.2)) headers.push(['x-forwarded-for', r.pick(['10.1.2.3', '192.168.1.1, 127.0.0.1', '127.0.0.1, 192.168.3.4', 'garbage'])]);
  if (method === 'OPTIONS' && r.chance(0.7)) {
    headers.push(['origin', r.pick(['https://a.example', ''])]);
    if (r.chance(0.8)) headers.push(['access-control-request-method', 'GET']);
  }
  if (query.length > 0) path += (path.includes('?') ? '&' : '?') + query.join('&');
  const lines = [`${method} ${path} HTTP/1.1`, ...headers.map(([k, v]) => `${k}: ${v}`)];
  const label = `set ${set.index}${peer === undefined ? '' : ` (mTLS ${set.mtls}${set.mesh ? ` in ${set.mesh.trustDomain} + ${set.mesh.trustDomainAliases.join(',')}` : ''} as ${peer})`}: ${method} ${path.slice(0, 80)}`;
  const xff = headers.some(([k]) => k === 'x-forwarded-for');
  const directIp = /"(ipBlocks|notIpBlocks|source\.ip)"/.test(JSON.stringify(set.policies));
  const remoteJwks = set.jwtRules.some((j) => j.jwksUri !== undefined);
  return { raw: `${lines.join('\r\n')}\r\ncontent-length: 0\r\n\r\n`, crit, label, peer, xff, directIp, remoteJwks };
}

// ---- Raw HTTP over kept-alive connections ------------------------------------------------------------

interface Reply {
  status: number;
  headers: [string, string][];
  body: string;
}

class RawClient {
  private socket: Socket | null = null;
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  private closed = false;
  /** `tls`: connect with TLS as this client (certificate or none, SNI); the server's certificate is not checked. */
  constructor(
    private host: string,
    private port: number,
    private tls?: { cert?: Cert; sni?: string },
  ) {}

  private async open(): Promise<Socket> {
    if (this.socket !== null && !this.closed) return this.socket;
    this.buf = Buffer.alloc(0);
    this.closed = false;
    const t = this.tls;
    const s =
      t === undefined
        ? connect(this.port, this.host)
        : tlsConnect({
            host: this.host,
            port: this.port,
            servername: t.sni,
            rejectUnauthorized: false,
            ...(t.cert ? { cert: t.cert.certPem, key: t.cert.keyPem } : {}),
          });
    s.setNoDelay(true);
    await new Promise<void>((res, rej) => {
      s.once(t === undefined ? 'connect' : 'secureConnect', res);
      s.once('error', rej);
    });
    s.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    s.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    s.on('error', () => {});
    this.socket = s;
    return s;
  }

  private async need(pred: () => boolean): Promise<void> {
    while (!pred()) {
      if (this.closed) throw new Error('connection closed');
      await new Promise<void>((res) => {
        this.waiter = res;
      });
      this.waiter = null;
    }
  }

  async send(raw: string): Promise<Reply> {
    const s = await this.open();
    s.write(raw);
    await this.need(() => this.buf.indexOf('\r\n\r\n') >= 0);
    const end = this.buf.indexOf('\r\n\r\n');
    const head = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(head[0]!.split(' ')[1]);
    const headers = head.slice(1).map((l) => {
      const i = l.indexOf(':');
      return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as [string, string];
    });
    const get = (k: string) => headers.find(([n]) => n === k)?.[1];
    let rest = this.buf.subarray(end + 4);
    let body: Buffer;
    if (get('transfer-encoding') === 'chunked') {
      const chunks: Buffer[] = [];
      for (;;) {
        await this.need(() => this.buf.subarray(end + 4).indexOf('0\r\n\r\n') >= 0 || this.closed);
        rest = this.buf.subarray(end + 4);
        let at = 0;
        let done = false;
        while (at < rest.length) {
          const nl = rest.indexOf('\r\n', at);
          if (nl < 0) break;
          const size = parseInt(rest.subarray(at, nl).toString(), 16);
          if (size === 0) {
            done = true;
            at = nl + 4;
            break;
          }
          chunks.push(rest.subarray(nl + 2, nl + 2 + size));
          at = nl + 2 + size + 2;
        }
        if (done) {
          this.buf = rest.subarray(at);
          break;
        }
        if (this.closed) {
          this.buf = Buffer.alloc(0);
          break;
        }
      }
      body = Buffer.concat(chunks);
    } else {
      const len = Number(get('content-length') ?? 0);
      await this.need(() => this.buf.length >= end + 4 + len);
      body = this.buf.subarray(end + 4, end + 4 + len);
      this.buf = this.buf.subarray(end + 4 + len);
    }
    if (get('connection') === 'close') {
      s.destroy();
      this.closed = true;
      this.socket = null;
    }
    return { status, headers, body: body.toString('utf8') };
  }

  close(): void {
    this.socket?.destroy();
  }
}

/** What is compared: status, body (for an upstream answer: the path and headers it received), www-authenticate, content-type. */
function observed(reply: Reply, dedupe = false): string {
  const h = (k: string) => reply.headers.filter(([n]) => n === k).map(([, v]) => v);
  let body = reply.body;
  if (h('x-upstream').length > 0) {
    const up = JSON.parse(reply.body) as { path: string; headers: string[] };
    const pairs: [string, string][] = [];
    for (let i = 0; i < up.headers.length; i += 2) {
      const k = up.headers[i]!.toLowerCase();
      if (k === 'x-request-id' || k === 'x-forwarded-client-cert') continue;
      pairs.push([k, up.headers[i + 1]!]);
    }
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const kept = dedupe ? pairs.filter((p, i) => i === 0 || p[0] !== pairs[i - 1]![0] || p[1] !== pairs[i - 1]![1]) : pairs;
    body = JSON.stringify({ path: up.path, headers: kept });
  }
  return JSON.stringify({ status: reply.status, body, wwwAuthenticate: h('www-authenticate'), contentType: h('content-type') });
}

/**
 * The accepted differences (docs/DESIGN.md, "authz: accepted differences from Istio"), each a stricter
 * choice: the reason, or null when this difference is not one of them.
 */
function acceptedDifference(req: Req, native: Reply, ours: Reply): string | null {
  // Envoy, while a remote JWKS fetch is pending, verifies the same token in more than one branch of
  // pilot's requires_any (the provider, then requires_all of allow_missing) and each success adds the
  // output headers: the same header twice with the same value. asmesh writes each once.
  if (req.remoteJwks && observed(native, true) === observed(ours, true)) return 'remote-jwks-duplicate-output-header';
  // A token with a `crit` header: Envoy ignores `crit`; asmesh refuses what it cannot understand
  // (asmesh.rejectCrit). The request is refused, or (another rule's token passing) goes on without that
  // token's effects; never allowed where Envoy refuses it.
  if (req.crit && ((ours.status === 401 && ours.body === 'Jwt verification fails') || ours.status === native.status)) return 'crit';
  // x-forwarded-for with ipBlocks / source.ip (rbac's direct_remote_ip): Envoy puts the client address
  // from XFF in source.address, so a Wasm filter cannot see the connection's address; such a match is
  // UNKNOWN, a DENY that may match denies, an ALLOW must match without it. Only ever a 403 where Envoy allows.
  if (req.xff && req.directIp && ours.status === 403 && ours.body === 'RBAC: access denied' && native.status !== 403)
    return 'xff-direct-ip';
  return null;
}

// ---- The run ------------------------------------------------------------------------------------------

let envoy: Envoy;
let upstream: Server;
let jwksServer: Server;
const jwksFetches = new Map<string, number>();
const sets: { set: PolicySet; requests: Req[] }[] = [];
let pilotRefused = 0;
let certs: CertSet;

before(async () => {
  const r = prng(SEED);
  const keys = await Promise.all([makeKey('RS256', 'a'), makeKey('ES256', 'b'), makeKey('RS256', 'c')]);
  const other = await makeKey('RS256', 'a');
  const tokens = await makeTokens(r, keys, other);
  upstream = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({ path: req.url, headers: req.rawHeaders });
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': '1', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((res) => upstream.listen(0, '127.0.0.1', res));
  const port = (upstream.address() as { port: number }).port;
  const listeners: Record<string, Obj> = {};
  const transportSockets: Record<string, Obj> = {};
  certs = makePeerCerts(
    Object.fromEntries(Object.entries(PEERS).flatMap(([n, p]) => (p.san === null ? [] : [[n, { san: p.san, subject: p.subject }]]))),
  );
  const files = { cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert };
  let first: PilotConfig | null = null;
  const plain = Array.from({ length: SETS * 2 }, (_, i) => policySet(r, i, keys));
  const mtls = Array.from({ length: MTLS_SETS * 2 }, (_, i) => policySet(r, SETS * 2 + i, keys, true));
  // Their own generator, so the other sets' corpus stays as it was.
  const rt = prng(SEED + 1);
  const td = Array.from({ length: TD_SETS * 2 }, (_, i) =>
    policySet(rt, (SETS + MTLS_SETS) * 2 + i, keys, true, TD_MESHES[Math.floor(i / 2) % TD_MESHES.length]),
  );
  for (const [generated, want, rng] of [
    [plain, SETS, r],
    [mtls, SETS + MTLS_SETS, r],
    [td, SETS + MTLS_SETS + TD_SETS, rt],
  ] as const)
    for (let i = 0; i < generated.length && sets.length < want; i += 2) {
      const batch = generated.slice(i, i + 2);
      const pilots = await Promise.all(
        batch.map((s) =>
          istioPilot(istioYaml(s), PROXY, { env: PILOT_ENV, ...(s.mesh === undefined ? {} : { meshConfig: meshYaml(s.mesh) }) }).catch(
            (e: unknown) => {
              if (e instanceof PilotInputError) {
                pilotRefused++;
                return null;
              }
              throw e;
            },
          ),
        ),
      );
      for (const [j, pilot] of pilots.entries()) {
        if (pilot === null || sets.length >= want) continue;
        const set = batch[j]!;
        first ??= pilot;
        const inbound = inboundHttpManager(pilot, 80, set.mtls === undefined ? undefined : files);
        const native = inbound.config;
        if (inbound.transportSocket !== undefined) {
          transportSockets[`native-${set.index}`] = inbound.transportSocket;
          transportSockets[`wasm-${set.index}`] = inbound.transportSocket;
        }
        const filters = native.http_filters as Obj[];
        const wasm = structuredClone(native);
        // The filter fetches a jwksUri on pilot's cluster for it (asmesh.jwksCluster).
        const jwtRules = set.jwtRules.map((j) => (j.jwksUri === undefined ? j : { ...j, asmesh: { jwksCluster: JWKS_CLUSTER } }));
        const entry = wasmFilterEntry('authz', join(WASM_DIR, 'authz.wasm'), {
          jwtRules,
          policies: set.policies,
          ...(set.mesh === undefined ? {} : { asmesh: set.mesh }),
        });
        entry.typed_config.config.vm_config.vm_id = `authz-${set.index}`;
        const at = filters.findIndex((f) => f.name === 'envoy.filters.http.jwt_authn' || f.name === 'envoy.filters.http.rbac');
        wasm.http_filters = filters.filter((f) => f.name !== 'envoy.filters.http.jwt_authn' && f.name !== 'envoy.filters.http.rbac');
        wasm.http_filters.splice(at < 0 ? 0 : at, 0, entry);
        listeners[`native-${set.index}`] = native;
        listeners[`wasm-${set.index}`] = wasm;
        sets.push({ set, requests: Array.from({ length: REQUESTS }, () => request(rng, set, tokens)) });
      }
    }
  assert.ok(first !== null, 'pilot accepted no policy set');
  jwksServer = createServer((req, res) => {
    jwksFetches.set(req.url ?? '', (jwksFetches.get(req.url ?? '') ?? 0) + 1);
    const key = keys.find((k) => req.url === `/keys/${k.kid}`);
    if (key === undefined) {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
      return;
    }
    const body = jwks(key);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((res) => jwksServer.listen(0, '127.0.0.1', res));
  const jwksPort = (jwksServer.address() as { port: number }).port;
  const upstreams = { 'inbound|80||': { host: '127.0.0.1', port }, [JWKS_CLUSTER]: { host: '127.0.0.1', port: jwksPort } };
  const boot = pilotBootstrap(first, { listeners, transportSockets, upstreams });
  envoy = await startEnvoy({
    config: boot.config,
    wasmDir: WASM_DIR,
    upstreams,
    timeoutMs: 60_000,
  });
});

after(async () => {
  await envoy?.stop();
  await new Promise<void>((res) => (upstream ? upstream.close(() => res()) : res()));
  await new Promise<void>((res) => (jwksServer ? jwksServer.close(() => res()) : res()));
});

test(`authz and pilot's jwt_authn + rbac decide and forward alike (seed ${SEED}, ${SETS} + ${MTLS_SETS} mTLS policy sets x ${REQUESTS} requests)`, async () => {
  const unlisted: string[] = [];
  const accepted = new Map<string, number>();
  const peerReplies = new Map<string, number>();
  let total = 0;
  await Promise.all(
    sets.map(async ({ set, requests }) => {
      const url = (name: string) => new URL(envoy.listeners[name]!);
      const n = url(`native-${set.index}`);
      const w = url(`wasm-${set.index}`);
      // One kept-alive connection per side and peer (a connection has one client certificate).
      const clients = new Map<string, [RawClient, RawClient]>();
      const pair = (peer: string | undefined): [RawClient, RawClient] => {
        const key = peer ?? '';
        let p = clients.get(key);
        if (p === undefined) {
          const tls = peer === undefined ? undefined : { cert: certs.clients[peer], sni: PEERS[peer]!.sni };
          p = [new RawClient(n.hostname, Number(n.port), tls), new RawClient(w.hostname, Number(w.port), tls)];
          clients.set(key, p);
        }
        return p;
      };
      // A connection refused (TLS handshake or certificate check) is compared as status 0.
      const send = (c: RawClient, raw: string): Promise<Reply> =>
        c.send(raw).catch(() => ({ status: 0, headers: [], body: 'no HTTP response' }));
      try {
        for (const req of requests) {
          const [native, ours] = pair(req.peer);
          const [a, b] = [await send(native, req.raw), await send(ours, req.raw)];
          if (req.peer !== undefined) peerReplies.set(`${req.peer} ${a.status}`, (peerReplies.get(`${req.peer} ${a.status}`) ?? 0) + 1);
          total++;
          const [oa, ob] = [observed(a), observed(b)];
          if (oa === ob) continue;
          const why = acceptedDifference(req, a, b);
          if (why !== null) {
            accepted.set(why, (accepted.get(why) ?? 0) + 1);
            continue;
          }
          if (unlisted.length < 30) {
            unlisted.push(
              `${req.label}\n  request: ${JSON.stringify(req.raw.slice(0, 600))}\n  config: ${JSON.stringify({ jwtRules: set.jwtRules.map(({ jwks: _, ...x }) => x), policies: set.policies })}\n  pilot : ${oa}\n  asmesh: ${ob}`,
            );
          } else unlisted.push('');
        }
      } finally {
        for (const [a, b] of clients.values()) {
          a.close();
          b.close();
        }
      }
    }),
  );
  console.log(
    `authz differential (${WASM_DIR}): ${total} requests x 2 listeners over ${sets.length} policy sets (${MTLS_SETS} over mTLS; ${sets.filter((s) => s.set.jwtRules.some((j) => j.jwksUri)).length} with a remote JWKS, fetches ${JSON.stringify(Object.fromEntries(jwksFetches))}; pilot refused ${pilotRefused}); mTLS peer -> pilot's status ${JSON.stringify(Object.fromEntries([...peerReplies].sort()))}; accepted differences ${JSON.stringify(Object.fromEntries(accepted))}; unlisted ${unlisted.length}`,
  );
  assert.ok(
    (jwksFetches.get('/keys/a') ?? 0) + (jwksFetches.get('/keys/b') ?? 0) + (jwksFetches.get('/keys/c') ?? 0) > 0,
    'no remote JWKS was fetched',
  );
  assert.equal(
    unlisted.length,
    0,
    `${unlisted.length} differences from Istio not listed in docs/DESIGN.md:\n${unlisted.filter((u) => u).join('\n')}`,
  );
});
