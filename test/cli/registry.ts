// A real OCI registry for tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1:<ephemeral port>,
// its config and storage in a temporary directory, stopped and removed by stop(). With `auth`, the registry asks
// for credentials as real ones do: htpasswd (HTTP Basic, bcrypt file), or Docker's token protocol (Bearer:
// a token server here, the registry verifying its ES256 tokens against a certificate in rootcertbundle).
import { spawn, spawnSync } from 'node:child_process';
import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { until } from '../../host/until.ts';

export const REGISTRY_USER = { username: 'pusher', password: 'p:ss word' };

/** What the token server saw: one entry per token request (Authorization user or '-', scope). */
export interface TokenLog {
  requests: { user: string; scope: string }[];
}

export interface Registry {
  /** host:port */
  host: string;
  logs(): string;
  stop(): Promise<void>;
}

/** The path of a Debian tool, or null (`docker-registry`, `skopeo`). */
export function debianTool(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export async function startRegistry(auth?: 'htpasswd' | 'token', tokens: TokenLog = { requests: [] }): Promise<Registry> {
  const bin = debianTool('docker-registry');
  if (!bin) throw new Error('docker-registry is not installed (apt-get install docker-registry; .ci/run installs it)');
  const dir = mkdtempSync(join(tmpdir(), 'asmesh-registry-'));
  let tokenServer: Server | undefined;
  const authConfig: string[] = [];
  if (auth === 'htpasswd') {
    writeFileSync(join(dir, 'htpasswd'), `${REGISTRY_USER.username}:${bcrypt(REGISTRY_USER.password)}\n`);
    authConfig.push(`auth: { htpasswd: { realm: asmesh-test, path: ${join(dir, 'htpasswd')} } }`);
  } else if (auth === 'token') {
    const realm = await startTokenServer(dir, tokens);
    tokenServer = realm.server;
    authConfig.push(
      `auth: { token: { realm: "${realm.url}", service: asmesh-registry, issuer: asmesh-token-server, rootcertbundle: ${join(dir, 'token.crt')} } }`,
    );
  }
  writeFileSync(
    join(dir, 'config.yml'),
    [
      'version: 0.1',
      'log: { level: info }',
      `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }`,
      'http: { addr: "127.0.0.1:0", secret: asmesh-test }',
      ...authConfig,
      '',
    ].join('\n'),
  );
  const child = spawn(bin, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  child.stdout!.on('data', (d) => log.push(String(d)));
  child.stderr!.on('data', (d) => log.push(String(d)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((res) => child.once('exit', res));
      child.kill('SIGTERM');
      await exited;
    }
    await new Promise((res) => (tokenServer ? tokenServer.close(res) : res(undefined)));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // distribution logs the bound address ("listening on 127.0.0.1:PORT") once it accepts connections.
    const host = await until(
      () => {
        if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}:\n${log.join('')}`);
        return /listening on (127\.0\.0\.1:\d+)/.exec(log.join(''))?.[1];
      },
      20_000,
      () => `docker-registry to listen:\n${log.join('')}`,
    );
    await until(
      () =>
        fetch(`http://${host}/v2/`).then(
          (r) => r.status === (auth ? 401 : 200),
          () => false,
        ),
      10_000,
      'the registry to answer /v2/',
    );
    return { host, logs: () => log.join(''), stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A bcrypt hash for htpasswd (distribution reads only bcrypt): Python's crypt (libxcrypt) makes it. */
function bcrypt(password: string): string {
  const r = spawnSync(
    'python3',
    ['-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))', password],
    {
      encoding: 'utf8',
    },
  );
  const hash = r.stdout?.trim() ?? '';
  if (r.status !== 0 || !hash.startsWith('$2')) throw new Error(`python3 crypt could not make a bcrypt hash: ${r.stderr}`);
  return hash;
}

/**
 * Docker's token server: GET ?service=&scope=repository:NAME:ACTIONS with HTTP Basic REGISTRY_USER gets an ES256
 * JWT (x5c = its self-signed certificate, which the registry trusts) granting the asked actions; anonymous gets
 * a token granting nothing, wrong credentials 401 (as Docker Hub's auth.docker.io does).
 */
async function startTokenServer(dir: string, log: TokenLog): Promise<{ server: Server; url: string }> {
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=asmesh-token-server',
      '-keyout',
      join(dir, 'token.key'),
      '-out',
      join(dir, 'token.crt'),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr}`);
  const key = createPrivateKey(readFileSync(join(dir, 'token.key')));
  const x5c = [new X509Certificate(readFileSync(join(dir, 'token.crt'))).raw.toString('base64')];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const user = basic ? Buffer.from(basic, 'base64').toString('utf8') : '';
    const scope = url.searchParams.get('scope') ?? '';
    log.requests.push({ user: user ? user.split(':')[0] : '-', scope });
    if (basic && user !== `${REGISTRY_USER.username}:${REGISTRY_USER.password}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
      return;
    }
    const [type, name, actions] = scope.split(':');
    const access = basic && type === 'repository' ? [{ type, name, actions: (actions ?? '').split(',') }] : [];
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: 'ES256', x5c })
      .setIssuer('asmesh-token-server')
      .setSubject(basic ? REGISTRY_USER.username : '')
      .setAudience(url.searchParams.get('service') ?? '')
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(key);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/token` };
}
