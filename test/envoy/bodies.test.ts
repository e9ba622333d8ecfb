// Large and streamed bodies through steering, authz and telemetry in stock Envoy: an 8 MiB upload and
// an 8 MiB download arrive intact (sha256 at the other end) where Envoy's buffer limit is 1 MiB, so no
// filter buffers them (a filter answering StopIterationAndBuffer would make Envoy answer 413, or reset
// the response); a chunked body, sent piece by piece, reaches the other side before it is complete, in
// both directions (each next piece is sent only once the previous one has come out of Envoy: a filter
// holding the body back would hang the exchange). Telemetry counts every byte. Steering's fault delay
// holds a request (and its body, under Envoy's flow control: no 413); a fixture that buffers the body
// gets the 413 (the control). Memory over body sizes: bench/bodies.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { join } from 'node:path';
import { connectionManagers, filterBootstrap } from '../../host/envoy/config.ts';
import { launchEnvoy, startEnvoy, type Envoy } from '../../host/envoy/launcher.ts';
import { compileAs, repoRoot } from '../harness/fixtures.ts';
import { until } from '../../host/until.ts';
import { ASMESH_CHAIN, BUFFER_LIMIT } from '../../bench/bodies.ts';

const MiB = 1 << 20;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const pattern = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 11)) & 0xff;
  return b;
};

let upstream: Server;
let envoy: Envoy;
/** What the upstream has received of the current request so far. */
let received = 0;
/** The streamed download: the upstream writes a piece when the test calls next(). */
let nextPiece: (() => void) | null = null;

before(async () => {
  upstream = createServer((req, res) => {
    const hash = createHash('sha256');
    received = 0;
    req.on('data', (c: Buffer) => {
      received += c.length;
      hash.update(c);
    });
    req.on('end', () => {
      const size = Number(req.headers['x-download'] ?? 0);
      const pieces = Number(req.headers['x-pieces'] ?? 0);
      res.setHeader('x-served-by', 'service_b');
      res.setHeader('x-upload-sha256', hash.digest('hex'));
      res.setHeader('x-upload-bytes', String(received));
      if (pieces > 0) {
        let sent = 0;
        const piece = pattern(64 * 1024);
        nextPiece = () => {
          if (sent++ < pieces) res.write(piece);
          else res.end();
        };
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        nextPiece();
        return;
      }
      res.end(pattern(size));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as { port: number }).port;
  envoy = await startEnvoy({
    // ASMESH_CHAIN, and one route whose fault delay holds the request (steering then buffers the body: the control).
    filters: ASMESH_CHAIN.map((f) =>
      f.name !== 'steering'
        ? f
        : {
            name: 'steering',
            config: {
              hosts: ['service_b'],
              http: [
                {
                  match: [{ uri: { prefix: '/delayed' } }],
                  fault: { delay: { fixedDelay: '0.5s', percentage: { value: 100 } } },
                  route: [{ destination: { host: 'service_b' } }],
                },
                ...(f.config as { http: unknown[] }).http,
              ],
            },
          },
    ),
    upstreams: { 'outbound|80||service_b': { port }, 'outbound|80|v1|service_b': { port }, jwks: { port } },
    edit: (b) => {
      // Envoy's default, stated: what a buffering filter could hold before Envoy answers 413.
      for (const l of b.static_resources.listeners) l.per_connection_buffer_limit_bytes = BUFFER_LIMIT;
      for (const c of b.static_resources.clusters) c.per_connection_buffer_limit_bytes = BUFFER_LIMIT;
      connectionManagers(b)[0]!.access_log = [];
    },
  });
});

after(async () => {
  await envoy?.stop();
  await new Promise<void>((r) => (upstream ? upstream.close(() => r()) : r()));
});

function post(headers: Record<string, string>, path = '/upload'): { req: ReturnType<typeof request>; reply: Promise<IncomingMessage> } {
  const url = new URL(envoy.listenerUrl);
  const req = request({ host: url.hostname, port: url.port, method: 'POST', path, headers: { host: 'service_b', ...headers } });
  const reply = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  return { req, reply };
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('8 MiB up and 8 MiB down through the three filters: intact, no 413, telemetry counts every byte', async () => {
  const body = pattern(8 * MiB);
  const { req, reply } = post({ 'content-length': String(body.length), 'x-download': String(8 * MiB) });
  req.end(body);
  const res = await reply;
  const down = await readAll(res);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-upload-bytes'], String(body.length));
  assert.equal(res.headers['x-upload-sha256'], sha(body));
  assert.equal(down.length, 8 * MiB);
  assert.equal(sha(down), sha(pattern(8 * MiB)));
  // The telemetry filter saw the whole body go by (its access log: Envoy's byte counts).
  const line = await envoy.waitForLog(/wasm log telemetry telemetry telemetry: \{.*"path":"\/upload".*\}/, 10_000);
  const log = JSON.parse(line.slice(line.indexOf('{'))) as { bytes_received: number; bytes_sent: number };
  assert.equal(log.bytes_received, 8 * MiB);
  assert.equal(log.bytes_sent, 8 * MiB);
});

test('a chunked upload, piece by piece: each piece reaches the upstream before the next is sent', async () => {
  const piece = pattern(64 * 1024);
  const pieces = 32;
  const { req, reply } = post({ 'transfer-encoding': 'chunked' });
  received = -1;
  const hash = createHash('sha256');
  for (let i = 0; i < pieces; i++) {
    const want = (i + 1) * piece.length;
    req.write(piece);
    hash.update(piece);
    // Envoy must pass the body on as it comes: the upstream has it before the request is complete.
    await until(() => received >= want, 10_000, `the upstream to receive ${want} bytes while the request is open`, 5);
  }
  req.end();
  const res = await reply;
  await readAll(res);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-upload-bytes'], String(pieces * piece.length));
  assert.equal(res.headers['x-upload-sha256'], hash.digest('hex'));
});

test('a chunked download, piece by piece: each piece reaches the client before the next is written', async () => {
  const pieces = 32;
  const { req, reply } = post({ 'content-length': '0', 'x-pieces': String(pieces) });
  req.end();
  const res = await reply;
  assert.equal(res.statusCode, 200);
  let got = 0;
  let ended = false;
  res.on('data', (c: Buffer) => (got += c.length));
  res.on('end', () => (ended = true));
  for (let i = 1; i <= pieces; i++) {
    await until(() => got >= i * 64 * 1024, 10_000, `the client to receive piece ${i} while the response is open`, 5);
    nextPiece!();
  }
  await until(() => ended, 10_000, 'the end of the response');
  assert.equal(got, pieces * 64 * 1024);
});

test("steering's fault delay holds the request: the body waits under Envoy's flow control (no 413) and arrives intact", async () => {
  // Measured: a filter stopping at the headers is StopAllIterationAndWatermark in Envoy (proxy-wasm-cpp-host),
  // so Envoy stops reading from the client at the buffer limit instead of answering 413.
  const body = pattern(8 * MiB);
  const { req, reply } = post({ 'content-length': String(body.length) }, '/delayed');
  req.end(body);
  const res = await reply;
  await readAll(res);
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['x-upload-sha256'], sha(body));
});

test('control: a filter that buffers the body (StopIterationAndBuffer) gets 413 from Envoy for the same 8 MiB', async () => {
  // What the tests above would see if one of the three filters buffered bodies.
  const out = '.tmp/envoy-fixtures/bufferer.wasm';
  await compileAs(['test/envoy/fixtures/bufferer.ts'], out, ['--config', 'asconfig.json', '--target', 'example']);
  const port = (upstream.address() as { port: number }).port;
  const boot = filterBootstrap({
    filters: [{ name: 'bufferer', wasm: join(repoRoot, out), config: '' }],
    upstream: { address: '127.0.0.1', port },
    port: 0,
    adminPort: 0,
  });
  boot.static_resources.listeners[0].per_connection_buffer_limit_bytes = BUFFER_LIMIT;
  const control = await launchEnvoy(boot);
  try {
    const url = new URL(control.listenerUrl);
    const body = pattern(8 * MiB);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, method: 'POST', path: '/', headers: { 'content-length': String(body.length) } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(status, 413);
  } finally {
    await control.stop();
  }
});
