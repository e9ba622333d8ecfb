import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import { decodeMessage, encodeMessage } from '../../host/harness/protobuf.ts';
import { line, probe, request } from './fixtures.ts';

test('clear_route_cache is recorded per request; an unknown function is NotFound', async () => {
  const plugin = await probe();
  const r = await plugin.http(request('foreign'));
  assert.equal(line(r.logs, 'clear_route_cache rc='), 'clear_route_cache rc=0');
  assert.equal(line(r.logs, 'unknown rc='), 'unknown rc=1');
  assert.equal(r.routeCacheClears, 1);
  assert.equal((await plugin.http(request('none'))).routeCacheClears, 0);
});

function verifyArgs(hash: string, publicKeyDer: Uint8Array, signature: Uint8Array, text: string): string {
  const enc = new TextEncoder();
  return Buffer.from(
    encodeMessage([
      [1, enc.encode(hash)],
      [2, publicKeyDer],
      [3, signature],
      [4, enc.encode(text)],
    ]),
  ).toString('hex');
}

async function verify(args: string, opts = {}) {
  const plugin = await probe(opts);
  const r = await plugin.http(request('verify', { 'x-args': args }, { body: 'x', bodyFrames: 'last-chunk' }));
  const [, rc, hex] = /verify rc=(\d+) hex=(.*)/.exec(line(r.logs, 'verify rc='))!;
  const fields = decodeMessage(Buffer.from(hex!, 'hex'))!;
  return { rc: Number(rc), ok: fields.get(1) === 1n, error: Buffer.from((fields.get(2) as Uint8Array | undefined) ?? []).toString() };
}

test('verify_signature: VerifySignatureArguments in, VerifySignatureResult out', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const signature = new Uint8Array(sign('sha256', Buffer.from('hello'), privateKey));
  assert.deepEqual(await verify(verifyArgs('sha256', der, signature, 'hello')), { rc: 0, ok: true, error: '' });
  const bad = await verify(verifyArgs('sha256', der, signature, 'tampered'));
  assert.equal(bad.ok, false);
  assert.match(bad.error, /Failed to verify/);
  const hash = await verify(verifyArgs('md5', der, signature, 'hello'));
  assert.deepEqual(hash, { rc: 0, ok: false, error: 'md5 is not supported.' });
});

test('verify_signature can be left unregistered: NotFound', async () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const plugin = await probe({ foreignFunctions: { verifySignature: false } });
  const r = await plugin.http(
    request('verify', { 'x-args': verifyArgs('sha256', der, new Uint8Array(64), 'x') }, { body: 'x', bodyFrames: 'last-chunk' }),
  );
  assert.equal(line(r.logs, 'verify rc='), 'verify rc=1 hex=');
});

test('a test registers a foreign function by name: the module gets its result', async () => {
  const seen: string[] = [];
  const plugin = await probe({
    foreignFunctions: {
      functions: {
        no_such_function: (args) => {
          seen.push(Buffer.from(args).toString('hex'));
          return Uint8Array.of(1, 2);
        },
      },
    },
  });
  const r = await plugin.http(request('foreign'));
  assert.equal(line(r.logs, 'unknown rc='), 'unknown rc=0');
  assert.equal(seen.length, 1);
});
