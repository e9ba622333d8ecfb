// RS256, PS256, ES256 and ES384 signature verification: our AssemblyScript (assembly/lib/crypto compiled -O3,
// run in node's V8 as Envoy's V8 runs it) beside node:crypto (OpenSSL), same keys and inputs.
// Run: node --import tsx bench/crypto.ts [seconds per case, default 1]
import * as crypto from 'node:crypto';
import { CryptoModule } from '../host/fixtures/crypto.ts';

const seconds = Number(process.argv[2] ?? 1);
const mod = await CryptoModule.load(3);

function rate(f: () => boolean): number {
  for (let i = 0; i < 5; i++) if (!f()) throw new Error('verification failed in warm-up');
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < end) {
    for (let i = 0; i < 10; i++) if (!f()) throw new Error('verification failed');
    n += 10;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

const message = new TextEncoder().encode(
  `${Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: 'https://issuer.test', sub: 'alice', aud: 'asmesh', exp: 2000000000 })).toString('base64url')}`,
);
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

const rows: [string, number, number][] = [];

{
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const jwk = publicKey.export({ format: 'jwk' });
  const n = b64(jwk.n!),
    e = b64(jwk.e!);
  const sig = new Uint8Array(crypto.sign('sha256', message, { key: privateKey, padding: crypto.constants.RSA_PKCS1_PADDING }));
  // Inputs pinned once so the loop times the verification itself, not the copies.
  const [np, ep, mp, sp] = [n, e, message, sig].map((b) => mod.buffer(b));
  const ours = rate(() => mod.x.rsaPkcs1(0, np!, ep!, mp!, sp!) === 1);
  const theirs = rate(() => crypto.verify('sha256', message, publicKey, sig));
  rows.push(['RS256 (RSA-2048, e=65537)', ours, theirs]);
}
{
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const jwk = publicKey.export({ format: 'jwk' });
  const n = b64(jwk.n!),
    e = b64(jwk.e!);
  const opts = { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  const sig = new Uint8Array(crypto.sign('sha256', message, { key: privateKey, ...opts }));
  const [np, ep, mp, sp] = [n, e, message, sig].map((b) => mod.buffer(b));
  const ours = rate(() => mod.x.rsaPss(0, np!, ep!, mp!, sp!) === 1);
  const theirs = rate(() => crypto.verify('sha256', message, { key: publicKey, ...opts }, sig));
  rows.push(['PS256 (RSA-2048, e=65537)', ours, theirs]);
}
{
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const x = b64(jwk.x!),
    y = b64(jwk.y!);
  const sig = new Uint8Array(crypto.sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
  const [xp, yp, mp, sp] = [x, y, message, sig].map((b) => mod.buffer(b));
  const ours = rate(() => mod.x.ecdsa(0, xp!, yp!, mp!, sp!, 0) === 1);
  const theirs = rate(() => crypto.verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig));
  rows.push(['ES256 (P-256)', ours, theirs]);
}
{
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const jwk = publicKey.export({ format: 'jwk' });
  const x = b64(jwk.x!),
    y = b64(jwk.y!);
  const sig = new Uint8Array(crypto.sign('sha384', message, { key: privateKey, dsaEncoding: 'ieee-p1363' }));
  const [xp, yp, mp, sp] = [x, y, message, sig].map((b) => mod.buffer(b));
  const ours = rate(() => mod.x.ecdsa(1, xp!, yp!, mp!, sp!, 1) === 1);
  const theirs = rate(() => crypto.verify('sha384', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig));
  rows.push(['ES384 (P-384)', ours, theirs]);
}

const memBefore = mod.memoryBytes();
console.log(`signature verification, ${seconds}s per case, message ${message.length} bytes, node ${process.version}`);
console.log('case                          asmesh AS ops/s   node:crypto ops/s   AS time/op   node/AS ratio');
for (const [name, ours, theirs] of rows) {
  console.log(
    `${name.padEnd(30)}${ours.toFixed(0).padStart(15)}${theirs.toFixed(0).padStart(20)}${(1e6 / ours).toFixed(1).padStart(10)} us${(theirs / ours).toFixed(1).padStart(14)}x`,
  );
}
console.log(`AS module linear memory after the runs: ${(memBefore / 1024).toFixed(0)} KiB`);
