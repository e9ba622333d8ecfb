// The demo mesh on loopback: service_a (Node) -> sidecar_a (Envoy) -mTLS-> sidecar_b_v1 / sidecar_b_v2
// (Envoy) -> service_b v1 / v2 (Node echo servers). Each sidecar is a live one (host/live/sidecar.ts,
// as `asmesh envoy --istio DIR --watch` runs it): its listeners, clusters, filter configurations
// (ECDS) and certificates (SDS, issued by the demo's mesh CA) come from `asmesh translate` of the
// demo's Istio YAML in one watched directory, so an edit there reaches every sidecar without a restart.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { initCa, issueWorkloadCert, spiffeId, trustBundle, type Identity } from '../cli/certs.ts';
import type { Envoy } from '../envoy/launcher.ts';
import { LiveSidecar } from '../live/sidecar.ts';
import { parseExposition, select, type Sample } from '../envoy/prometheus.ts';
import { translate, type TranslateOptions } from '../cli/translate.ts';
import { MESH_FILTERS, type MeshFilterName } from '../../filters/manifest.ts';
import { EchoServer } from '../upstream/echo.ts';
import { Issuer } from './jwt.ts';

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  ms: number;
  error?: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

/** One HTTP request; network errors come back as status 0 with `error`. */
export function send(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; tls?: { cert: string; key: string; ca: string } } = {},
): Promise<Reply> {
  const started = performance.now();
  return new Promise((resolve) => {
    const u = new URL(url);
    const common = {
      method: opts.method ?? 'GET',
      host: u.hostname,
      port: u.port,
      path: u.pathname + u.search,
      headers: opts.headers ?? {},
    };
    const req = opts.tls
      ? httpsRequest({
          ...common,
          cert: opts.tls.cert,
          key: opts.tls.key,
          ca: opts.tls.ca,
          checkServerIdentity: () => undefined,
          agent: false,
        })
      : httpRequest({ ...common, agent });
    req.setTimeout(15_000, () => req.destroy(new Error('client timeout')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - started,
        }),
      );
    });
    req.on('error', (e) => resolve({ status: 0, headers: {}, body: '', ms: performance.now() - started, error: e.message }));
    req.end(opts.body);
  });
}

/** service_a: forwards every request to its sidecar's outbound listener, for host service_b. */
export async function startServiceA(
  port: number,
  sidecarOutbound: () => number,
  sidecarHost = '127.0.0.1',
  listenOn = '127.0.0.1',
): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined && k !== 'connection' && k !== 'host') headers[k] = Array.isArray(v) ? v.join(',') : v;
      headers.host = 'service_b';
      const up = httpRequest({ host: sidecarHost, port: sidecarOutbound(), method: req.method, path: req.url, headers, agent }, (r) => {
        res.writeHead(r.statusCode ?? 502, { ...r.headers, 'x-demo-caller': 'service_a' });
        r.pipe(res);
      });
      up.on('error', (e) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`service_a: sidecar unreachable: ${e.message}`);
      });
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((res) => server.listen(port, listenOn, () => res()));
  return server;
}

export interface Sidecar {
  name: string;
  /** The watcher serving this Envoy its configuration and certificate. */
  live: LiveSidecar;
  envoy: Envoy;
  admin: string;
  outbound: number;
  inbound: number;
}

export interface Mesh {
  work: string;
  /** The Istio YAML every sidecar watches (edit it: the sidecars apply it live). */
  istioDir: string;
  /** The mesh CA (asmesh ca): every workload certificate is issued by it. */
  caDir: string;
  issuer: Issuer;
  filters: MeshFilterName[];
  missing: MeshFilterName[];
  serviceA: string;
  sidecars: { a: Sidecar; v1: Sidecar; v2: Sidecar };
  echo: { v1: EchoServer; v2: EchoServer };
  identities: Record<string, { cert: string; key: string; ca: string; spiffe: string }>;
  stop(): Promise<void>;
}

export const IDENTITIES: Identity[] = [
  { name: 'service_a', namespace: 'default', serviceAccount: 'sleep' },
  { name: 'service_b-v1', namespace: 'default', serviceAccount: 'service_b' },
  { name: 'service_b-v2', namespace: 'default', serviceAccount: 'service_b' },
  { name: 'intruder', namespace: 'evil', serviceAccount: 'intruder' },
];

/** The demo's Istio resources (envoy/demo/istio/), with the issuer's JWKS in place of DEMO_JWKS. */
export function demoResources(root: string, jwks: string): { name: string; text: string }[] {
  const dir = join(root, 'envoy/demo/istio');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({
      name: `envoy/demo/istio/${f}`,
      text: readFileSync(join(dir, f), 'utf8').replace('jwks: DEMO_JWKS', `jwks: ${JSON.stringify(jwks)}`),
    }));
}

/** The demo's three sidecars: whose workload they front. */
export interface SidecarSpec {
  name: string;
  app: string;
  version: string;
  sa: string;
}
export const SIDECARS: Record<'sidecar_a' | 'sidecar_b_v1' | 'sidecar_b_v2', SidecarSpec> = {
  sidecar_a: { name: 'service_a', app: 'service_a', version: 'v1', sa: 'sleep' },
  sidecar_b_v1: { name: 'service_b-v1', app: 'service_b', version: 'v1', sa: 'service_b' },
  sidecar_b_v2: { name: 'service_b-v2', app: 'service_b', version: 'v2', sa: 'service_b' },
};

/** One sidecar's Envoy config: `asmesh translate` of the demo's resources for that workload. */
export function translateSidecar(resources: { name: string; text: string }[], wl: SidecarSpec, net: TranslateOptions) {
  return translate(resources, {
    ...net,
    workload: { name: wl.name, namespace: 'default', app: wl.app, version: wl.version, serviceAccount: wl.sa },
  });
}

export async function startMesh(opts: { root: string; work: string; progress: (s: string) => void }): Promise<Mesh> {
  const { root, work, progress } = opts;
  const present = MESH_FILTERS.filter((f) => existsSync(join(root, 'build', `${f}.wasm`)));
  const missing = MESH_FILTERS.filter((f) => !present.includes(f));
  for (const f of missing) progress(`${f} filter not built (build/${f}.wasm missing): its sidecars run without it`);
  progress('making the mesh CA (asmesh ca init) and the client certificates of the checks (openssl)');
  const caDir = join(work, 'ca');
  initCa(caDir);
  const identities: Mesh['identities'] = {};
  for (const id of IDENTITIES) {
    const c = issueWorkloadCert(caDir, spiffeId(id), 3600);
    identities[id.name] = { cert: c.cert, key: c.key, ca: trustBundle(caDir), spiffe: spiffeId(id) };
  }
  const issuer = new Issuer('https://accounts.google.com');
  const istioDir = join(work, 'istio');
  mkdirSync(istioDir, { recursive: true });
  for (const r of demoResources(root, issuer.jwks)) writeFileSync(join(istioDir, r.name.replace(/^.*\//, '')), r.text);

  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stoppers.reverse()) await s().catch(() => {});
  };
  try {
    progress('starting service_b v1 and v2 (Node echo servers)');
    const v1 = await EchoServer.start('service_b/v1');
    stoppers.push(() => v1.close());
    const v2 = await EchoServer.start('service_b/v2');
    stoppers.push(() => v2.close());

    // Every listener binds port 0; the ports are read back from each Envoy, so callees start first.
    const loopback = (port: number) => ({ address: '127.0.0.1', port });
    const sidecar = async (
      name: string,
      wl: SidecarSpec,
      app: number,
      endpoints: Record<string, { address: string; port: number }>,
    ): Promise<Sidecar> => {
      const live = await LiveSidecar.start({
        istioDir,
        xdsDir: join(work, 'xds', name),
        wasmDir: join(root, 'build'),
        // Loopback only: the demo's listeners are not for the network.
        loopback: true,
        caDir,
        translate: {
          adminPort: 0,
          outboundPort: 0,
          inboundPort: 0,
          app: loopback(app),
          endpoints,
          filters: present,
          workload: { name: wl.name, namespace: 'default', app: wl.app, version: wl.version, serviceAccount: wl.sa },
        },
        launch: { logArgs: ['-l', 'warning', '--component-log-level', 'wasm:info'] },
        // Histograms as fresh as the counters for the demo's Prometheus (it scrapes every second).
        statsFlushMs: 1000,
        log: (l) => progress(`${name}: ${l}`),
      });
      stoppers.push(() => live.stop());
      const envoy = live.envoy;
      const port = (listener: string) => Number(new URL(envoy.listeners[listener]!).port);
      const s = { name, live, envoy, admin: envoy.adminUrl, outbound: port('outbound'), inbound: port('inbound') };
      const mtls = translateSidecar(demoResources(root, issuer.jwks), wl, {}).mtls;
      progress(
        `started ${name} (Envoy: outbound :${s.outbound}, inbound :${s.inbound} mTLS ${mtls}, live from ${istioDir}, certificate serial ${live.certificate?.serial}, admin :${new URL(s.admin).port})`,
      );
      return s;
    };
    // service_b's sidecars send nothing outbound in the demo: their outbound clusters point at their own app.
    const own = (port: number) =>
      Object.fromEntries(
        ['outbound|80|v1|service_b', 'outbound|80|v2|service_b', 'outbound|80||service_b'].map((c) => [c, loopback(port)]),
      );
    const sv1 = await sidecar('sidecar_b_v1', SIDECARS.sidecar_b_v1, v1.port, own(v1.port));
    const sv2 = await sidecar('sidecar_b_v2', SIDECARS.sidecar_b_v2, v2.port, own(v2.port));
    progress('starting service_a (Node: forwards to its sidecar for host service_b)');
    let aOutbound = 0;
    const serviceA = await startServiceA(0, () => aOutbound);
    stoppers.push(
      () =>
        new Promise<void>((res) => {
          serviceA.closeAllConnections();
          serviceA.close(() => res());
        }),
    );
    stoppers.push(async () => {
      agent.destroy();
    });
    const aPort = (serviceA.address() as AddressInfo).port;
    const sa = await sidecar('sidecar_a', SIDECARS.sidecar_a, aPort, {
      'outbound|80|v1|service_b': loopback(sv1.inbound),
      'outbound|80|v2|service_b': loopback(sv2.inbound),
      'outbound|80||service_b': loopback(sv1.inbound),
    });
    aOutbound = sa.outbound;
    return {
      work,
      istioDir,
      caDir,
      issuer,
      filters: present,
      missing,
      serviceA: `http://127.0.0.1:${aPort}`,
      sidecars: { a: sa, v1: sv1, v2: sv2 },
      echo: { v1, v2 },
      identities,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Envoy counters and gauges from /stats whose names match `filter` (a regex), summed by name. */
export async function stats(admin: string, filter: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${admin}/stats?filter=${encodeURIComponent(filter)}`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(.+): (\d+)$/.exec(line.trim());
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

export function sum(m: Map<string, number>, re: RegExp): number {
  let n = 0;
  for (const [k, v] of m) if (re.test(k)) n += v;
  return n;
}

/** Samples of one metric on a sidecar's `/stats/prometheus`. */
export async function prometheus(envoy: Envoy, metric: string): Promise<Sample[]> {
  return select(parseExposition(await envoy.prometheus()), metric);
}
