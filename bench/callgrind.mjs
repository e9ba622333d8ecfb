// Instructions per request through one filter in the harness, for callgrind (repeatable on a loaded
// machine, unlike wall clock): run it twice under valgrind with N and 2N requests; the difference / N
// is one request's instructions (harness JS + the filter's Wasm + host calls).
// Plain JS on dist/harness (npm run build) so valgrind does not also run the TypeScript loader.
// Run: valgrind --tool=callgrind --smc-check=all-non-file --callgrind-out-file=/dev/null \
//        node --single-threaded bench/callgrind.mjs <example|telemetry|telemetry-log|steering|authz|authz-new> <N> [wasm dir]
// authz-new sends a new token on every request (each one verified), as bench:envoy's `new token` rows.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlugin } from '../dist/harness/index.js';

const [which = 'telemetry', nArg = '1000', dir = 'build'] = process.argv.slice(2);
const n = Number(nArg);
const peer = Buffer.from(
  JSON.stringify({
    workload: 'sleep',
    namespace: 'default',
    app: 'sleep',
    version: 'v1',
    cluster: 'Kubernetes',
    service: 'sleep',
    revision: 'v1',
  }),
).toString('base64');
const node = {
  id: 'bench',
  cluster: 'bench',
  metadata: {
    WORKLOAD_NAME: 'productpage-v1',
    NAMESPACE: 'default',
    CLUSTER_ID: 'Kubernetes',
    LABELS: { app: 'productpage', version: 'v1' },
  },
};
const ISSUER = 'https://accounts.google.com';
const headers = {
  ':method': 'GET',
  ':path': '/info',
  ':authority': 'service_b',
  ':scheme': 'http',
  'user-agent': 'bench',
  'x-asmesh-peer': peer,
};
let wasm;
let config;
const requests = [];
if (which.startsWith('telemetry')) {
  wasm = 'telemetry.wasm';
  config = which === 'telemetry-log' ? {} : { accessLog: { enabled: false } };
  requests.push({ headers });
} else if (which === 'example') {
  wasm = 'example.wasm';
  config = { header: 'x-asmesh-example', value: 'hello' };
  requests.push({ headers });
} else if (which === 'steering') {
  wasm = 'steering.wasm';
  config = {
    hosts: ['service_b'],
    http: [
      { match: [{ headers: { 'end-user': { exact: 'jason' } } }], route: [{ destination: { host: 'service_b', subset: 'v2' } }] },
      { route: [{ destination: { host: 'service_b', subset: 'v1' } }] },
    ],
  };
  requests.push({ headers: { ...headers, 'end-user': 'jason' } }, { headers: { ...headers, 'end-user': 'alice' } });
} else {
  wasm = 'authz.wasm';
  // One key kept across runs: generating an RSA key costs a varying number of instructions.
  const keyFile = join(tmpdir(), 'asmesh-callgrind-key.pem');
  if (!existsSync(keyFile)) {
    writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
  }
  const privateKey = createPrivateKey(readFileSync(keyFile));
  const publicKey = createPublicKey(privateKey);
  const jwks = JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k', alg: 'RS256', use: 'sig' }] });
  const b64 = (s) => Buffer.from(s).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const signed = (sub) => {
    const input = `${b64(JSON.stringify({ alg: 'RS256', kid: 'k', typ: 'JWT' }))}.${b64(JSON.stringify({ iss: ISSUER, sub, iat: now, exp: now + 3600 }))}`;
    return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
  };
  const tokens = which === 'authz-new' ? Array.from({ length: Math.min(n, 4096) }, (_, i) => signed(`u${i}`)) : [signed('u')];
  config = {
    jwtRules: [{ issuer: ISSUER, jwks }],
    policies: [
      {
        name: 'jwt-only',
        action: 'ALLOW',
        rules: [
          {
            from: [{ source: { requestPrincipals: [`${ISSUER}/*`] } }],
            to: [{ operation: { methods: ['GET'], paths: ['/info*'] } }],
            when: [{ key: 'request.auth.claims[iss]', values: [ISSUER] }],
          },
        ],
      },
    ],
  };
  for (const token of tokens) requests.push({ headers: { ...headers, authorization: `Bearer ${token}` } });
}
const plugin = await loadPlugin(join(dir, wasm), { config, pluginName: 'b', rootId: 'b', vmId: 'b', node });
for (let i = 0; i < n; i++) {
  const r = await plugin.http(requests[i % requests.length]);
  if (i === 0) console.log(`first request: ${r.upstreamRequest ? 'passed' : 'answered'} ${r.response?.status}`);
  if (i % 200 === 199) plugin.clearLogs();
}
console.log(`${which}: ${n} requests; wasm memory ${plugin.wasmMemoryBytes() / 1024} KiB`);
