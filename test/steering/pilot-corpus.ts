// The seeded corpus of the steering differential test (pilot-diff.test.ts): Istio resources (a
// ServiceEntry per service, a DestinationRule with subsets, a VirtualService per service) and the
// requests sent to both sides. Every VirtualService field the filter supports is drawn, with the
// requests built to hit (and just miss) each match: case-varied and repeated headers, encoded paths,
// query strings, hosts and ports, header operations at route and destination level, faults.
import { stringify } from 'yaml';

/** A small fast PRNG (mulberry32): the same seed, the same corpus. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

export const NAMESPACE = 'default';
export const SERVICE_PORT = 80;
/** The request header whose numeric value both sides turn into the weighted pick (see bucketValues). */
export const BUCKET_HEADER = 'x-diff-bucket';

export interface Service {
  /** The name as the VirtualService writes it (short, FQDN or an external DNS name). */
  vsHost: string;
  fqdn: string;
  /** Short name (Kubernetes-style services only). */
  short: string | null;
  namespace: string;
}

export interface DiffRequest {
  /** The VirtualService whose listener the request goes to (its index in Corpus.virtualServices). */
  vs: number;
  method: string;
  path: string;
  authority: string;
  headers: [string, string][];
}

export interface Corpus {
  yaml: string;
  services: Service[];
  /** The spec of each VirtualService, in the order of Corpus.services (the first `virtualServices.length`). */
  virtualServices: Record<string, any>[];
  /** Per VirtualService, the total weight of its weighted routes (100 but for the weighted ones: weightedVirtualService). */
  totals: number[];
  requests: DiffRequest[];
}

type Obj = Record<string, any>;

const SUBSETS = ['v1', 'v2', 'v3'];
const HEADER_NAMES = ['x-a', 'x-b', 'end-user', 'x-version'];
const HEADER_VALUES = ['jason', 'Jason', 'beta-7', 'beta', 'b', '', 'v2', 'alpha-12'];
const QUERY_NAMES = ['v', 'debug', 'q%20x'];
const QUERY_VALUES = ['v2', 'V2', 'v3', '1', '', 'a+b', 'a%20b'];
const OP_HEADERS = ['x-op-a', 'x-op-b', 'x-op-c'];
const RESP_HEADERS = ['x-resp-a', 'x-resp-b'];
const PATHS = [
  '/api/v1',
  '/api/v2/users',
  '/API/v1',
  '/api',
  '/apix',
  '/items/12',
  '/items/1a',
  '/',
  '/reviews/0',
  '/api%2Fv1',
  '/api/./v1',
  '//api/v1',
  '/a/../api/v1',
  '/%61pi/v1',
  '/api/v1/',
  '/Items/7',
];

function stringMatch(r: Rng, kind: 'uri' | 'header' | 'query' | 'method' | 'authority', svc: Service): Obj {
  switch (kind) {
    case 'uri':
      return r.pick([
        { exact: r.pick(['/api/v1', '/', '/items/12']) },
        { prefix: r.pick(['/api', '/items/', '/reviews']) },
        { regex: r.pick(['/items/[0-9]+', '/api/v[0-9]+(/.*)?', '.*']) },
      ]);
    case 'method':
      return r.pick([{ exact: r.pick(['GET', 'POST']) }, { regex: 'GET|PUT' }, { prefix: 'P' }]);
    case 'authority': {
      const host = svc.short ?? svc.fqdn;
      return r.pick([{ exact: host }, { prefix: host }, { regex: `${host.replaceAll('.', '\\.')}(:[0-9]+)?` }, { exact: `${host}:80` }]);
    }
    case 'query':
      return r.pick([{ exact: r.pick(['v2', '1', 'a+b']) }, { regex: 'v[0-9]' }, {}]);
    default:
      return r.pick([
        { exact: r.pick(['jason', 'beta-7', 'v2']) },
        { prefix: r.pick(['beta', 'j']) },
        { regex: r.pick(['[a-z]+-[0-9]+', '(?i)jason', '.*', 'a*']) },
        {},
        { exact: '' },
      ]);
  }
}

function matchBlock(r: Rng, svc: Service): Obj {
  const m: Obj = {};
  const fields = r.int(3) + 1;
  for (let i = 0; i < fields; i++) {
    switch (r.int(9)) {
      case 0:
      case 1:
        m.uri = stringMatch(r, 'uri', svc);
        if (r.chance(0.3)) m.ignoreUriCase = true;
        break;
      case 2:
        m.method = stringMatch(r, 'method', svc);
        break;
      case 3:
        m.authority = stringMatch(r, 'authority', svc);
        break;
      case 4:
        m.scheme = { exact: r.pick(['http', 'https']) };
        break;
      case 5:
        (m.headers ??= {})[r.pick(HEADER_NAMES)] = stringMatch(r, 'header', svc);
        break;
      case 6:
        (m.withoutHeaders ??= {})[r.pick(HEADER_NAMES)] = stringMatch(r, 'header', svc);
        break;
      case 7:
        (m.queryParams ??= {})[r.pick(QUERY_NAMES)] = stringMatch(r, 'query', svc);
        break;
      default:
        m.port = r.chance(0.7) ? SERVICE_PORT : 9080;
    }
  }
  if (r.chance(0.2)) m.name = `m${r.int(100)}`;
  return m;
}

function headerOps(r: Rng, names: string[], level: string): Obj {
  const ops: Obj = {};
  if (r.chance(0.6)) ops.set = Object.fromEntries(names.filter(() => r.chance(0.5)).map((n) => [n, `${level}-set`]));
  if (r.chance(0.5)) ops.add = Object.fromEntries(names.filter(() => r.chance(0.4)).map((n) => [n, `${level}-add`]));
  if (r.chance(0.4)) ops.remove = names.filter(() => r.chance(0.4));
  for (const k of Object.keys(ops)) if (Object.keys(ops[k]).length === 0) delete ops[k];
  return ops;
}

function headers(r: Rng, level: string): Obj | undefined {
  if (!r.chance(0.45)) return undefined;
  const h: Obj = {};
  const req = headerOps(r, OP_HEADERS, level);
  const resp = headerOps(r, RESP_HEADERS, level);
  if (Object.keys(req).length) h.request = req;
  if (Object.keys(resp).length) h.response = resp;
  return Object.keys(h).length ? h : undefined;
}

function destinations(r: Rng, svc: Service, services: Service[]): Obj[] {
  const n = r.chance(0.55) ? 1 : r.int(2) + 2;
  const out: Obj[] = [];
  for (let i = 0; i < n; i++) {
    const target = r.chance(0.85) ? svc : r.pick(services);
    const d: Obj = { destination: { host: target === svc ? svc.vsHost : target.fqdn } };
    if (r.chance(0.85)) d.destination.subset = r.pick(SUBSETS);
    if (r.chance(0.1)) d.destination.port = { number: SERVICE_PORT };
    const h = headers(r, `d${i}`);
    if (h) d.headers = h;
    out.push(d);
  }
  if (n > 1) {
    // Weights summing to 100, sometimes with a zero.
    let left = 100;
    out.forEach((d, i) => {
      const w = i === n - 1 ? left : r.chance(0.2) ? 0 : r.int(left + 1);
      d.weight = w;
      left -= w;
    });
  } else if (r.chance(0.2)) out[0]!.weight = 100;
  return out;
}

function fault(r: Rng): Obj | undefined {
  if (!r.chance(0.15)) return undefined;
  const f: Obj = {};
  const pct = () => r.pick([{ percentage: { value: 100 } }, {}, { percentage: { value: 0 } }]);
  if (r.chance(0.6)) f.abort = { httpStatus: r.pick([503, 418, 429]), ...pct() };
  if (!f.abort || r.chance(0.3)) f.delay = { fixedDelay: '0.001s', ...pct() };
  return f;
}

function virtualService(r: Rng, svc: Service, services: Service[]): Obj {
  const http: Obj[] = [];
  // One in ten applies only to another port: pilot builds no virtual host from it for port 80.
  if (r.chance(0.1)) return { hosts: [svc.vsHost], http: [{ match: [{ port: 9080 }], route: destinations(r, svc, services) }] };
  const n = r.int(5) + 1;
  for (let i = 0; i < n; i++) {
    const route: Obj = {};
    if (r.chance(0.5)) route.name = `r${i}`;
    const last = i === n - 1;
    if (!(last && r.chance(0.6))) route.match = Array.from({ length: r.int(3) + 1 }, () => matchBlock(r, svc));
    route.route = destinations(r, svc, services);
    const h = headers(r, 'r');
    if (h) route.headers = h;
    const f = fault(r);
    if (f) route.fault = f;
    http.push(route);
  }
  return { hosts: [svc.vsHost], http };
}

/** Authorities for a request to `svc`'s VirtualService: its names (any port, any case) and near misses. */
function authority(r: Rng, svc: Service, services: Service[]): string {
  const names = svc.short
    ? [svc.short, `${svc.short}.${svc.namespace}`, `${svc.short}.${svc.namespace}.svc`, svc.fqdn, `${svc.fqdn}.`]
    : [svc.fqdn, `${svc.fqdn}.`];
  const port = r.pick(['', '', ':80', ':9080', ':1']);
  if (r.chance(0.75)) {
    const name = r.pick(names);
    return (r.chance(0.15) ? name.toUpperCase() : name) + port;
  }
  const base = svc.short ?? svc.fqdn;
  return (
    r.pick([
      `${base}.`,
      `${base}.evil.com`,
      `${base}.other`,
      `${base}.${svc.namespace}.`,
      `${base}.${svc.namespace}.svc.cluster`,
      `${base}x`,
      r.pick(services).short ?? r.pick(services).fqdn,
      'unknown.example',
      `${base}.other.svc.cluster.local`,
    ]) + port
  );
}

function request(r: Rng, vs: number, svc: Service, services: Service[]): DiffRequest {
  const headerList: [string, string][] = [];
  for (let i = r.int(4); i > 0; i--) {
    const name = r.pick(HEADER_NAMES);
    headerList.push([r.chance(0.1) ? name.toUpperCase() : name, r.pick(HEADER_VALUES)]);
    if (r.chance(0.15)) headerList.push([name, r.pick(HEADER_VALUES)]); // repeated
  }
  for (const name of [...OP_HEADERS, ...RESP_HEADERS]) if (r.chance(0.2)) headerList.push([name, 'client']);
  let path = r.pick(PATHS);
  if (r.chance(0.45)) {
    const params = Array.from({ length: r.int(3) + 1 }, () => {
      const name = r.pick(QUERY_NAMES);
      return r.chance(0.1) ? name : `${name}=${r.pick(QUERY_VALUES)}`;
    });
    path += `?${params.join('&')}`;
  }
  return { vs, method: r.pick(['GET', 'GET', 'POST', 'PUT', 'DELETE']), path, authority: authority(r, svc, services), headers: headerList };
}

function yamlOf(services: Service[], vss: Obj[]): string {
  const docs: Obj[] = [];
  services.forEach((s, i) => {
    docs.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: `se-${i}`, namespace: s.namespace },
      spec: {
        hosts: [s.fqdn],
        location: 'MESH_INTERNAL',
        resolution: 'STATIC',
        ports: [{ number: SERVICE_PORT, name: 'http', protocol: 'HTTP' }],
        endpoints: SUBSETS.map((v, j) => ({ address: `10.20.${i}.${j + 1}`, labels: { version: v } })),
      },
    });
    docs.push({
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: `dr-${i}`, namespace: s.namespace },
      spec: { host: s.fqdn, subsets: SUBSETS.map((v) => ({ name: v, labels: { version: v } })) },
    });
  });
  vss.forEach((spec, i) =>
    docs.push({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: `vs-${i}`, namespace: NAMESPACE }, spec }),
  );
  return docs.map((d) => stringify(d)).join('---\n');
}

// --- gRPC-shaped services: method-path and metadata matches, gRPC requests (POST, content-type
// application/grpc*, te: trailers, grpc-timeout), drawn from their own generator so the HTTP corpus of a
// seed stays what it was.

const GRPC_SERVICES = ['pkg.Svc', 'pkg.v1.Orders', 'grpc.health.v1.Health'];
const GRPC_METHODS = ['Get', 'List', 'Watch', 'Check'];
const GRPC_METADATA = ['x-tenant', 'x-user-id', 'content-type', 'grpc-timeout'];
const GRPC_METADATA_VALUES: Record<string, string[]> = {
  'x-tenant': ['acme', 'Acme', 'acme-2', 'beta', ''],
  'x-user-id': ['42', '7', 'u-42', ''],
  'content-type': ['application/grpc', 'application/grpc+proto', 'application/grpc-web', 'application/json'],
  'grpc-timeout': ['5S', '100m', '1H'],
};

function grpcMatch(r: Rng): Obj {
  const m: Obj = {};
  const svc = r.pick(GRPC_SERVICES);
  for (let i = r.int(2) + 1; i > 0; i--) {
    switch (r.int(6)) {
      case 0:
      case 1:
        m.uri = r.pick([
          { exact: `/${svc}/${r.pick(GRPC_METHODS)}` },
          { prefix: `/${svc}/` },
          { prefix: `/${svc}` },
          { regex: `/${svc.replaceAll('.', '\\.')}/(Get|List)` },
        ]);
        if (r.chance(0.2)) m.ignoreUriCase = true;
        break;
      case 2:
      case 3: {
        const name = r.pick(GRPC_METADATA);
        const values = GRPC_METADATA_VALUES[name]!;
        (m.headers ??= {})[name] = r.pick([
          { exact: r.pick(values.filter((v) => v !== '')) },
          { prefix: values[0]!.slice(0, 4) },
          { regex: '[a-z]+(-[0-9]+)?' },
          {},
        ]);
        break;
      }
      case 4:
        (m.withoutHeaders ??= {})[r.pick(['x-tenant', 'x-user-id'])] = r.pick([{}, { exact: 'beta' }]);
        break;
      default:
        m.method = { exact: r.pick(['POST', 'GET']) };
    }
  }
  return m;
}

function grpcVirtualService(r: Rng, svc: Service, services: Service[]): Obj {
  const http: Obj[] = [];
  const n = r.int(4) + 1;
  for (let i = 0; i < n; i++) {
    const route: Obj = {};
    if (r.chance(0.5)) route.name = `g${i}`;
    if (!(i === n - 1 && r.chance(0.5))) route.match = Array.from({ length: r.int(2) + 1 }, () => grpcMatch(r));
    route.route = destinations(r, svc, services);
    const h = headers(r, 'r');
    if (h) route.headers = h;
    if (r.chance(0.5)) route.fault = grpcFault(r);
    http.push(route);
  }
  return { hosts: [svc.vsHost], http };
}

/** An abort with a gRPC status (Envoy: HTTP 200 + grpc-status) or an HTTP status, sometimes after a delay. */
function grpcFault(r: Rng): Obj {
  const pct = r.pick([{ percentage: { value: 100 } }, { percentage: { value: 100 } }, {}, { percentage: { value: 0 } }]);
  const f: Obj = {
    abort: r.chance(0.7)
      ? { grpcStatus: r.pick(['UNAVAILABLE', 'PERMISSION_DENIED', 'OK', 'RESOURCE_EXHAUSTED', 'DEADLINE_EXCEEDED']), ...pct }
      : { httpStatus: r.pick([503, 429]), ...pct },
  };
  if (r.chance(0.3)) f.delay = { fixedDelay: '0.001s', percentage: { value: 100 } };
  return f;
}

function grpcRequest(r: Rng, vs: number, svc: Service, services: Service[]): DiffRequest {
  const svcName = r.pick([...GRPC_SERVICES, 'pkg.Other']);
  const path = r.pick([
    `/${svcName}/${r.pick(GRPC_METHODS)}`,
    `/${svcName}/${r.pick(GRPC_METHODS)}`,
    `/${svcName}/${r.pick(GRPC_METHODS).toLowerCase()}`,
    `/${svcName}/${r.pick(GRPC_METHODS)}X`,
    `/${svcName}`,
    `/${svcName}/`,
    `/${svcName.toUpperCase()}/Get`,
    `/${svcName}%2FGet`,
  ]);
  const h: [string, string][] = [];
  if (r.chance(0.85)) h.push(['content-type', r.pick(GRPC_METADATA_VALUES['content-type']!.slice(0, r.chance(0.8) ? 2 : 4))]);
  if (r.chance(0.7)) h.push(['te', 'trailers']);
  if (r.chance(0.3)) h.push(['grpc-timeout', r.pick(GRPC_METADATA_VALUES['grpc-timeout']!)]);
  for (const name of ['x-tenant', 'x-user-id']) {
    if (r.chance(0.6)) h.push([r.chance(0.1) ? name.toUpperCase() : name, r.pick(GRPC_METADATA_VALUES[name]!)]);
    if (r.chance(0.08)) h.push([name, r.pick(GRPC_METADATA_VALUES[name]!)]); // repeated
  }
  for (const name of [...OP_HEADERS, ...RESP_HEADERS]) if (r.chance(0.15)) h.push([name, 'client']);
  return { vs, method: r.chance(0.9) ? 'POST' : 'GET', path, authority: authority(r, svc, services), headers: h };
}

/**
 * The corpus for a seed: `vsCount` services with a VirtualService each (Kubernetes-style names, one in
 * five an external DNS name), two services without one (one the same name in another namespace), and
 * `requestsPerVs` requests to each VirtualService's listener.
 */
export function generateCorpus(seed: number, vsCount: number, requestsPerVs: number, grpcCount = 0, weightedCount = 0): Corpus {
  const r = new Rng(seed);
  const services: Service[] = [];
  for (let i = 0; i < vsCount; i++) {
    if (i % 5 === 4) {
      const fqdn = `api-${i}.example.com`;
      services.push({ vsHost: fqdn, fqdn, short: null, namespace: NAMESPACE });
    } else {
      const short = `svc-${i}`;
      const fqdn = `${short}.${NAMESPACE}.svc.cluster.local`;
      services.push({ vsHost: r.chance(0.5) ? short : fqdn, fqdn, short, namespace: NAMESPACE });
    }
  }
  // Services without a VirtualService: their own default routes (one shares svc-0's name in namespace other).
  services.push({ vsHost: 'svc-0.other.svc.cluster.local', fqdn: 'svc-0.other.svc.cluster.local', short: 'svc-0', namespace: 'other' });
  services.push({
    vsHost: 'plain.default.svc.cluster.local',
    fqdn: 'plain.default.svc.cluster.local',
    short: 'plain',
    namespace: NAMESPACE,
  });
  const vss = services.slice(0, vsCount).map((s) => virtualService(r, s, services));
  const requests: DiffRequest[] = [];
  for (let v = 0; v < vsCount; v++) {
    for (let k = 0; k < requestsPerVs; k++) requests.push(request(r, v, services[v]!, services));
  }
  // The gRPC services follow the HTTP ones (VirtualService i is services[i] for both), before the two without one.
  const g = new Rng(seed ^ 0x67727063);
  const grpcServices: Service[] = Array.from({ length: grpcCount }, (_, i) => {
    const short = `grpc-${i}`;
    const fqdn = `${short}.${NAMESPACE}.svc.cluster.local`;
    return { vsHost: g.chance(0.5) ? short : fqdn, fqdn, short, namespace: NAMESPACE };
  });
  // Then the weighted ones (totals other than 100), from their own generator too.
  const w = new Rng(seed ^ 0x77656967);
  const weightedServices: Service[] = Array.from({ length: weightedCount }, (_, i) => {
    const short = `w-${i}`;
    const fqdn = `${short}.${NAMESPACE}.svc.cluster.local`;
    return { vsHost: w.chance(0.5) ? short : fqdn, fqdn, short, namespace: NAMESPACE };
  });
  const all = [...services.slice(0, vsCount), ...grpcServices, ...weightedServices, ...services.slice(vsCount)];
  grpcServices.forEach((s) => vss.push(grpcVirtualService(g, s, all)));
  grpcServices.forEach((s, i) => {
    for (let k = 0; k < requestsPerVs; k++) requests.push(grpcRequest(g, vsCount + i, s, all));
  });
  const totals = vss.map(() => 100);
  weightedServices.forEach((s, i) => {
    const total = WEIGHT_TOTALS[i % WEIGHT_TOTALS.length]!;
    vss.push(weightedVirtualService(w, s, all, total));
    totals.push(total);
  });
  weightedServices.forEach((s, i) => {
    for (let k = 0; k < requestsPerVs; k++) requests.push(request(w, vsCount + grpcCount + i, s, all));
  });
  return { yaml: yamlOf(all, vss), services: all, virtualServices: vss, totals, requests };
}

// --- weights totalling other than 100: Istio accepts any total > 0 (unset = 0, a single destination's
// weight is never read); pilot emits weighted_clusters of the non-zero ones, Envoy picks value % total.

/** Totals of the weighted VirtualServices, one each in turn (all weighted routes of one VirtualService share it). */
const WEIGHT_TOTALS = [7, 250, 3, 1000, 60, 2, 101, 13];

/** `n` destinations of `svc` (subsets, sometimes another service) whose weights total `total`; a 0 is as often unset as written. */
function weightedDestinations(r: Rng, svc: Service, services: Service[], n: number, total: number): Obj[] {
  const out: Obj[] = [];
  let left = total;
  for (let i = 0; i < n; i++) {
    const target = r.chance(0.9) ? svc : r.pick(services);
    const d: Obj = { destination: { host: target === svc ? svc.vsHost : target.fqdn } };
    if (r.chance(0.9)) d.destination.subset = r.pick(SUBSETS);
    const h = headers(r, `d${i}`);
    if (h) d.headers = h;
    const w = n === 1 ? r.pick([0, total, 1]) : i === n - 1 ? left : r.chance(0.2) ? 0 : r.int(left + 1);
    if (w > 0 || (w === 0 && r.chance(0.5))) d.weight = w;
    if (w > 0) left -= w;
    out.push(d);
  }
  return out;
}

function weightedVirtualService(r: Rng, svc: Service, services: Service[], total: number): Obj {
  const http: Obj[] = [];
  const n = r.int(3) + 1;
  for (let i = 0; i < n; i++) {
    const route: Obj = {};
    if (i < n - 1 || r.chance(0.3)) route.match = [matchBlock(r, svc)];
    route.route = weightedDestinations(r, svc, services, r.chance(0.15) ? 1 : r.int(3) + 2, total);
    const h = headers(r, 'r');
    if (h) route.headers = h;
    http.push(route);
  }
  return { hosts: [svc.vsHost], http };
}

/** FNV-1a 64 of a string's UTF-8 bytes (the filter's sticky hash). */
function fnv1a64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

const bucketMemo = new Map<string, string>();

/**
 * For a total weight and a bucket b < total, the first decimal value v ≥ 1000 with v % total == b (Envoy's
 * weighted cluster pick from `header_name`: value % total weight) and FNV-1a-64(v) % total == b (the
 * filter's sticky pick), so both sides pick the same destination for one request.
 */
export function bucketValue(total: number, bucket: number): string {
  const key = `${total}/${bucket}`;
  let v = bucketMemo.get(key);
  if (v === undefined) {
    const t = BigInt(total);
    let n = 1000 + ((bucket - (1000 % total) + total) % total);
    while (Number(fnv1a64(String(n)) % t) !== bucket) n += total;
    v = String(n);
    bucketMemo.set(key, v);
  }
  return v;
}
