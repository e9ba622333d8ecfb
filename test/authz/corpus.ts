// The seeded corpus pieces the authz differentials share (HTTP: differential.test.ts, TCP:
// tcp-differential.test.ts): the generator, AuthorizationPolicy values, and the mTLS peers (their client
// certificates come from certs.ts makePeerCerts).
type Obj = Record<string, any>;
/** mulberry32: a small seeded generator, so a failing corpus can be replayed by its seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick<T>(xs: readonly T[]): T {
      return xs[Math.floor(next() * xs.length)]!;
    },
    some<T>(xs: readonly T[], max = 3): T[] {
      const n = 1 + Math.floor(next() * Math.min(max, xs.length));
      const out: T[] = [];
      while (out.length < n) {
        const x = xs[Math.floor(next() * xs.length)]!;
        if (!out.includes(x)) out.push(x);
      }
      return out;
    },
  };
}
export type Rng = ReturnType<typeof prng>;

export const ISSUERS = ['https://issuer-a.example', 'https://issuer-b.example', 'issuer-c'] as const;
export const PRINCIPALS = [
  '*',
  `${ISSUERS[0]}/*`,
  `${ISSUERS[0]}/alice`,
  '*/bob',
  'issuer-c/*',
  `${ISSUERS[1]}/carol`,
  'https://issuer-*',
  '*alice',
];

export const VALUES: Record<string, string[]> = {
  hosts: ['svc.example', 'svc.example:8080', '*.example', 'SVC.EXAMPLE', 'svc*', '*', '*:8080'],
  methods: ['GET', 'POST', 'PU*', '*T', '*', 'OPTIONS'],
  paths: ['/info*', '/admin', '/admin*', '/data', '*/x', '*', '/a/b', '/info', '*.png'],
  ports: ['80', '8080'],
  ipBlocks: ['127.0.0.1', '10.0.0.0/8', '127.0.0.0/8', '192.168.0.0/16'],
};

export const CONDITIONS: [string, string[]][] = [
  ['request.headers[x-env]', ['prod', 'dev*', '*', '*-b']],
  ['request.headers[User-Agent]', ['curl*', 'x']],
  ['request.auth.claims[role]', ['admin', 'user', '*']],
  ['request.auth.claims[groups]', ['ops', 'dev', 'o*']],
  ['request.auth.claims[scope]', ['read', 'write', 'read write', '*']],
  ['request.auth.claims[perms]', ['a', 'a b']],
  ['request.auth.claims[num]', ['1', '1.5']],
  ['request.auth.claims[flag]', ['true']],
  ['request.auth.claims[realm][role]', ['admin', 'adm*']],
  ['request.auth.claims[iss]', [...ISSUERS]],
  ['request.auth.principal', PRINCIPALS],
  ['request.auth.audiences', ['aud-1', 'aud*', '*']],
  ['request.auth.presenter', ['cli', '*']],
  ['source.ip', ['127.0.0.1', '10.0.0.0/8']],
  ['remote.ip', ['127.0.0.1', '192.168.0.0/16']],
  ['destination.ip', ['127.0.0.1']],
  ['destination.port', ['80']],
  ['connection.sni', ['*', 'svc.example']],
];

export function field(r: Rng, o: Obj, name: string, values: string[]): void {
  if (r.chance(0.5)) o[name] = r.some(values);
  else o[`not${name[0]!.toUpperCase()}${name.slice(1)}`] = r.some(values, 2);
}

// Peer identities (mTLS sets): Istio's principal forms (exact, prefix, suffix, `*`) and namespaces.
export const PEER_PRINCIPALS = [
  '*',
  'cluster.local/ns/foo/sa/x',
  'cluster.local/ns/foo/*',
  '*/sa/x',
  'cluster.local/ns/bar/sa/y',
  '*svc.example',
  'cluster.local/*',
  'other.td/ns/foo/sa/x',
  '*/ns/ns1/sa/x',
];

export const PEER_NAMESPACES = ['foo', 'bar', '*', 'f*', '*o', 'ns1'];

/**
 * The client certificates of mTLS sets (openssl SAN syntax): SPIFFE identities of several namespaces,
 * service accounts and trust domains, extra DNS SANs, several URI SANs, a subject that looks like an
 * identity; and peers pilot's chain refuses (another trust domain only, DNS only, no certificate),
 * which must be refused alike. `sni`: the server name the client sends.
 */
export const PEERS: Record<string, { san: string | null; subject?: string; sni?: string }> = {
  fooX: { san: 'URI:spiffe://cluster.local/ns/foo/sa/x', sni: 'svc.example' },
  barY: { san: 'URI:spiffe://cluster.local/ns/bar/sa/y' },
  fooYdns: { san: 'URI:spiffe://cluster.local/ns/foo/sa/y,DNS:svc.example,DNS:a.svc.example', sni: 'svc.example.other' },
  twoUris: { san: 'URI:spiffe://other.td/ns/foo/sa/x,URI:spiffe://cluster.local/ns/ns1/sa/x' },
  dnsFirst: {
    san: 'DNS:peer.svc.example,URI:spiffe://cluster.local/ns/foo/sa/z',
    subject: '/O=asmesh/CN=spiffe:\\/\\/cluster.local\\/ns\\/foo\\/sa\\/x',
  },
  otherTd: { san: 'URI:spiffe://other.td/ns/foo/sa/x' },
  dnsOnly: { san: 'DNS:svc.example' },
  td2X: { san: 'URI:spiffe://td2.example/ns/foo/sa/x' },
  td2BarY: { san: 'URI:spiffe://td2.example/ns/bar/sa/y' },
  oldX: { san: 'URI:spiffe://old.example/ns/foo/sa/x' },
  oldBarY: { san: 'URI:spiffe://old.example/ns/bar/sa/y' },
  none: { san: null },
};

export const PEER_PICKS = [
  'fooX',
  'fooX',
  'barY',
  'barY',
  'fooYdns',
  'fooYdns',
  'twoUris',
  'twoUris',
  'dnsFirst',
  'dnsFirst',
  'otherTd',
  'dnsOnly',
  'none',
];

// Trust domain sets: principals in the mesh's trust domain, an alias, cluster.local (= the local one),
// another trust domain, and `*` trust domain patterns pilot keeps as written.
export const TD_PRINCIPALS = [
  'cluster.local/ns/foo/sa/x',
  'td2.example/ns/foo/sa/x',
  'old.example/ns/foo/sa/x',
  'cluster.local/ns/bar/sa/y',
  'old.example/ns/bar/sa/y',
  'td2.example/ns/bar/sa/y',
  'other.td/ns/foo/sa/x',
  '*',
  '*/ns/foo/sa/x',
  '*.example/ns/bar/sa/y',
  'td2.example/*',
];
/** The MeshConfigs of trust domain sets, taken in turn. */
export const TD_MESHES = [
  { trustDomain: 'td2.example', trustDomainAliases: ['old.example'] },
  { trustDomain: 'td2.example', trustDomainAliases: ['old.example', 'cluster.local'] },
];

/** Peers of trust domain sets: the mesh's trust domain, an alias, cluster.local, another. */
export const TD_PEER_PICKS = ['td2X', 'td2X', 'td2BarY', 'oldX', 'oldX', 'oldBarY', 'fooX', 'barY', 'otherTd', 'none'];

/** The MeshConfig (trust domain and aliases) pilot gets for a TD_MESHES set. */
export function meshYaml(m: { trustDomain: string; trustDomainAliases: readonly string[] }): string {
  return `trustDomain: ${m.trustDomain}\ntrustDomainAliases: [${m.trustDomainAliases.join(', ')}]\n`;
}

/**
 * The workload's security resources in namespace foo, selecting `app`: a PeerAuthentication when `mtls`
 * is given, then each AuthorizationPolicy (`name` plus its spec).
 */
export function securityDocs(app: string, mtls: string | undefined, policies: readonly Obj[]): Obj[] {
  const selector = { matchLabels: { app } };
  const docs: Obj[] = [];
  if (mtls !== undefined)
    docs.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'pa', namespace: 'foo' },
      spec: { selector, mtls: { mode: mtls } },
    });
  for (const p of policies) {
    const { name, ...spec } = p;
    docs.push({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name, namespace: 'foo' },
      spec: { selector, ...spec },
    });
  }
  return docs;
}
