// authz filter benchmarks, printed as numbers (no assertions):
// 1. Harness: cost per request with no token, a cached token, and an uncached token (each request
//    a new token, so each is verified), through verify_signature (node:crypto in the harness) and
//    through our AssemblyScript crypto (host without verify_signature).
// 2. Signature layer: RS256 and ES256 verification in our AssemblyScript (the filter's
//    HostSignatureChecker, looped inside the VM) beside node:crypto, same keys and inputs.
// 3. Envoy: requests per second with the authz filter (JWT rule + policy) against Envoy's native
//    jwt_authn + rbac doing the same, same upstreams, one short bounded run each.
// Run: npm run bench:authz   (needs npm run build and Envoy: npm run envoy:install)
import * as crypto from 'node:crypto';
import { join } from 'node:path';
import { connectionManagers } from '../host/envoy/config.ts';
import { startEnvoy, type Envoy } from '../host/envoy/launcher.ts';
import { loadPlugin, type Plugin } from '../host/harness/index.ts';
import { Upstreams } from '../host/upstream/echo.ts';
import { closedLoopLoad, type LoadResult } from './load.ts';
import { repoRoot } from '../host/paths.ts';
import { verifyProbe } from '../host/fixtures/verify-probe.ts';
import { ISSUER, jwks, jwtOnlyPolicy, makeKey, token } from '../host/fixtures/jwt.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? '3');
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? '16');
const nowSec = Math.floor(Date.now() / 1000);
const rsa = await makeKey('RS256', 'bench-rsa');
const ec = await makeKey('ES256', 'bench-ec');
const keys = jwks(rsa, ec);
const config = { jwtRules: [{ issuer: ISSUER, jwks: keys }], policies: [jwtOnlyPolicy()] };

// ------------------------------------------------------------------ 1. harness

async function perRequest(plugin: Plugin, headersFor: (i: number) => Record<string, string>, n: number): Promise<number> {
  const base = { ':method': 'GET', ':path': '/info', ':authority': 'httpbin' };
  for (let i = 0; i < 200; i++) await plugin.http({ headers: { ...base, ...headersFor(i) } });
  // Median of 5 rounds: the machine is shared, single rounds are noisy.
  const rounds: number[] = [];
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const r = await plugin.http({ headers: { ...base, ...headersFor(200 + round * n + i) } });
      if (r.response.status !== 200 && r.response.status !== 403) throw new Error(`status ${r.response.status}: ${r.response.bodyText}`);
    }
    rounds.push(Number(process.hrtime.bigint() - start) / 1e3 / n);
    plugin.clearLogs();
  }
  return rounds.sort((a, b) => a - b)[2]!;
}

console.log('harness: microseconds per request, median of 5 rounds (whole request lifecycle in the harness, authz filter only)');
for (const foreign of [true, false]) {
  for (const key of [rsa, ec]) {
    const plugin = await loadPlugin(join(repoRoot, 'build/authz.wasm'), {
      config,
      nowMs: Date.now(),
      foreignFunctions: { verifySignature: foreign },
    });
    const n = 150;
    const fresh = await Promise.all(Array.from({ length: 5 * n + 200 }, (_, i) => token(key, { nowSec, payload: { sub: `u${i}` } })));
    const cached = fresh[0]!;
    const none = await perRequest(plugin, () => ({}), n);
    const hit = await perRequest(plugin, () => ({ authorization: `Bearer ${cached}` }), n);
    const miss = await perRequest(plugin, (i) => ({ authorization: `Bearer ${fresh[i]}` }), n);
    const path = foreign ? 'verify_signature (node:crypto)' : 'AssemblyScript crypto';
    console.log(
      `  ${key.alg} via ${path.padEnd(30)} no token ${none.toFixed(1).padStart(7)}  cached ${hit.toFixed(1).padStart(7)}  uncached ${miss.toFixed(1).padStart(8)}`,
    );
  }
}

// ------------------------------------------------------------------ 2. signature layer

{
  const probe = await loadPlugin(await verifyProbe());
  const message = Buffer.from(
    `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: ISSUER, sub: 'alice', exp: 2e9 })).toString('base64url')}`,
  );
  const reps = 200;
  console.log(`signature verification, microseconds each (AssemblyScript: ${reps} in one VM call; node:crypto: same inputs):`);
  for (const [alg, curve] of [
    ['RS256', null],
    ['ES256', 'P-256'],
  ] as const) {
    const { publicKey, privateKey } =
      curve === null ? crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }) : crypto.generateKeyPairSync('ec', { namedCurve: curve });
    const sig =
      curve === null
        ? crypto.sign('sha256', message, privateKey)
        : crypto.sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    const jwk = publicKey.export({ format: 'jwk' });
    const keyHeaders: Record<string, string> =
      curve === null ? { 'x-n': jwk.n!, 'x-e': jwk.e! } : { 'x-crv': curve, 'x-x': jwk.x!, 'x-y': jwk.y! };
    const headers = {
      ':method': 'GET',
      ':path': '/',
      ':authority': 'p',
      'x-mode': 'software',
      'x-alg': alg,
      'x-msg': message.toString('base64url'),
      'x-sig': sig.toString('base64url'),
      ...keyHeaders,
    };
    const once = await probe.http({ headers });
    if (once.response.bodyText !== 'valid') throw new Error(`${alg}: ${once.response.bodyText}`);
    const t0 = process.hrtime.bigint();
    await probe.http({ headers: { ...headers, 'x-repeat': String(reps) } });
    const ours = Number(process.hrtime.bigint() - t0) / 1e3 / reps;
    const m = 2000;
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < m; i++) {
      const ok =
        curve === null
          ? crypto.verify('sha256', message, publicKey, sig)
          : crypto.verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig);
      if (!ok) throw new Error('node verify failed');
    }
    const node = Number(process.hrtime.bigint() - t1) / 1e3 / m;
    console.log(
      `  ${alg}  AssemblyScript ${ours.toFixed(1).padStart(8)} us   node:crypto ${node.toFixed(1).padStart(7)} us   ratio ${(ours / node).toFixed(1)}x`,
    );
  }
}

// ------------------------------------------------------------------ 3. envoy

function load(envoy: Envoy, tokens: string[]): Promise<LoadResult> {
  return closedLoopLoad({
    url: envoy.listenerUrl,
    path: '/info',
    seconds,
    concurrency,
    headers: (i) => ({ host: 'service_b', authorization: `Bearer ${tokens[i % tokens.length]}` }),
    check: (status) => status === 200,
  });
}

/** Envoy's jwt_authn (same issuer and inline JWKS) + rbac (same policy) instead of the wasm filter. */
function nativeFilters(bootstrap: any): void {
  const jwtAuthn = {
    name: 'envoy.filters.http.jwt_authn',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
      providers: { google: { issuer: ISSUER, local_jwks: { inline_string: keys }, payload_in_metadata: 'payload', forward: false } },
      rules: [
        { match: { prefix: '/' }, requires: { requires_any: { requirements: [{ provider_name: 'google' }, { allow_missing: {} }] } } },
      ],
    },
  };
  const issuerIs = {
    metadata: {
      filter: 'envoy.filters.http.jwt_authn',
      path: [{ key: 'payload' }, { key: 'iss' }],
      value: { string_match: { exact: ISSUER } },
    },
  };
  const rbac = {
    name: 'envoy.filters.http.rbac',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC',
      rules: {
        action: 'ALLOW',
        policies: {
          'jwt-only': {
            permissions: [
              {
                or_rules: {
                  rules: [
                    {
                      and_rules: {
                        rules: [
                          { header: { name: ':method', string_match: { exact: 'GET' } } },
                          { url_path: { path: { prefix: '/info' } } },
                        ],
                      },
                    },
                    {
                      and_rules: {
                        rules: [
                          { header: { name: ':method', string_match: { exact: 'POST' } } },
                          { url_path: { path: { exact: '/data' } } },
                        ],
                      },
                    },
                  ],
                },
              },
            ],
            // requestPrincipals "<iss>/*" and claims[iss] both come down to the verified payload's iss.
            principals: [issuerIs],
          },
        },
      },
    },
  };
  for (const hcm of connectionManagers(bootstrap)) {
    const filters = hcm.http_filters as { name: string }[];
    const at = filters.findIndex((x) => x.name === 'envoy.filters.http.router');
    filters.splice(at, 0, jwtAuthn, rbac);
  }
}

const tokenSets: [string, string[]][] = [
  ['one RS256 token (cached)', [await token(rsa, { nowSec })]],
  ['one ES256 token (cached)', [await token(ec, { nowSec })]],
];
const logArgs = ['-l', 'warn'];
const upstreams = await Upstreams.start();
const results: [string, Awaited<ReturnType<typeof load>>][] = [];
try {
  for (const [name, opts] of [
    ['authz filter (wasm, V8)', { filters: [{ name: 'authz', config }] }],
    ['native jwt_authn + rbac', { filters: [], edit: nativeFilters }],
  ] as const) {
    const envoy = await startEnvoy({ ...opts, upstreams: upstreams.endpoints(), logArgs });
    try {
      for (const [tname, tokens] of tokenSets) results.push([`${name}, ${tname}`, await load(envoy, tokens)]);
    } finally {
      await envoy.stop();
    }
  }
} finally {
  await upstreams.close();
}
console.log(
  `envoy (--concurrency 1, ${concurrency} keep-alive connections, ${seconds} s each, GET /info with a valid JWT, Node echo upstreams, load generator on the same 2 cores):`,
);
for (const [name, r] of results) {
  console.log(
    `  ${name.padEnd(52)} ${Math.round(r.rps).toLocaleString('en').padStart(7)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (${r.n} requests, ${r.wrong} not 200)`,
  );
}
