// TCP listeners: Istio's port-protocol rule (which Service ports are not HTTP) and the one renderer of a
// TCP filter chain: the asmesh network filters (envoy.filters.network.wasm), then tcp_proxy to a
// cluster. For translate (a Service port whose protocol is not HTTP gets such a listener), the test
// rig and the tests.
import { chainOrder, filterManifest } from '../../filters/manifest.ts';
import { NETWORK_WASM_TYPE, configString, type MountedFilter } from './config.ts';

type Obj = Record<string, any>;

const TCP_PROXY_TYPE = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

/** Istio's protocol of a Service port (istio.io/istio pkg/config/protocol Instance). */
export type PortProtocol =
  | 'HTTP'
  | 'HTTP2'
  | 'HTTP_PROXY'
  | 'GRPC'
  | 'GRPC-Web'
  | 'HTTPS'
  | 'TCP'
  | 'TLS'
  | 'Mongo'
  | 'Redis'
  | 'MySQL'
  | 'UDP'
  | 'UnsupportedProtocol';

const BY_NAME: Record<string, PortProtocol> = {
  tcp: 'TCP',
  udp: 'UDP',
  grpc: 'GRPC',
  'grpc-web': 'GRPC-Web',
  http: 'HTTP',
  http_proxy: 'HTTP_PROXY',
  http2: 'HTTP2',
  https: 'HTTPS',
  tls: 'TLS',
  mongo: 'Mongo',
  redis: 'Redis',
  mysql: 'MySQL',
};
/** Ports Istio never sniffs: TCP when the name says nothing (SMTP, DNS, MySQL, MongoDB). */
const WELL_KNOWN_TCP_PORTS = new Set([25, 53, 3306, 27017]);

export interface ServicePortSpec {
  port: number;
  name?: string;
  /** Kubernetes `protocol` (TCP default, UDP, SCTP). */
  protocol?: string;
  appProtocol?: string;
}

/**
 * A Service port's protocol as Istio's ConvertProtocol (pkg/config/kube/conversion.go) decides it: UDP
 * by `protocol`; else `appProtocol` when set (kubernetes.io/h2c = HTTP2, kubernetes.io/ws = HTTP,
 * kubernetes.io/wss = HTTPS), else the name; a `grpc-web` prefix, else the part before the first `-`,
 * case-insensitive; an unknown name is UnsupportedProtocol (Istio sniffs), but TCP on a well-known port.
 */
export function portProtocol(p: ServicePortSpec): PortProtocol {
  if (p.protocol?.toUpperCase() === 'UDP') return 'UDP';
  let name = p.name ?? '';
  if (p.appProtocol !== undefined) {
    name = p.appProtocol;
    if (name === 'kubernetes.io/h2c') return 'HTTP2';
    if (name === 'kubernetes.io/ws') return 'HTTP';
    if (name === 'kubernetes.io/wss') return 'HTTPS';
  }
  if (name.toLowerCase().startsWith('grpc-web')) return 'GRPC-Web';
  const dash = name.indexOf('-');
  const prefix = (dash >= 0 ? name.slice(0, dash) : name).toLowerCase();
  const parsed = BY_NAME[prefix] ?? 'UnsupportedProtocol';
  if (parsed === 'UnsupportedProtocol' && WELL_KNOWN_TCP_PORTS.has(p.port)) return 'TCP';
  return parsed;
}

/**
 * How Istio's sidecar serves the port: an HTTP connection manager (IsHTTP protocols), a TCP proxy (IsTCP:
 * TCP, HTTPS, TLS, Mongo, Redis, MySQL: the bytes pass through), protocol sniffing between the two
 * (UnsupportedProtocol). UDP: no outbound listener; inbound, pilot still passes TCP to that port through
 * (tcp_proxy). Checked against pilot's chains (test/envoy/tcp.test.ts).
 * asmesh cannot sniff (no http_inspector chains in translate): it serves `sniff` ports as HTTP (docs/DESIGN.md).
 */
export type ListenerKind = 'http' | 'tcp' | 'sniff' | 'none';

export function listenerKind(protocol: PortProtocol, side: 'inbound' | 'outbound' = 'inbound'): ListenerKind {
  switch (protocol) {
    case 'TCP':
    case 'HTTPS':
    case 'TLS':
    case 'Mongo':
    case 'Redis':
    case 'MySQL':
      return 'tcp';
    case 'UDP':
      return side === 'inbound' ? 'tcp' : 'none';
    case 'UnsupportedProtocol':
      return 'sniff';
    default:
      return 'http';
  }
}

/** An asmesh network filter entry (envoy.filters.network.wasm; vm_id = root_id = name, V8, fail_open false). */
export function networkWasmFilterEntry(name: string, filename: string, config: unknown): Obj {
  if (filterManifest(name)?.layer !== 'network') throw new Error(`${name} is not a network filter (filters/manifest.ts)`);
  return {
    name: `asmesh.${name}`,
    typed_config: {
      '@type': NETWORK_WASM_TYPE,
      config: {
        name,
        root_id: name,
        fail_open: false,
        configuration: { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: configString(config) },
        vm_config: { vm_id: name, runtime: 'envoy.wasm.runtime.v8', code: { local: { filename } } },
      },
    },
  };
}

export interface TcpChainOptions {
  /** The network filters, in any order (chained as filters/manifest.ts orders them). */
  filters: readonly MountedFilter[];
  /** Directory holding <filter>.wasm. */
  wasmDir: string;
  /** tcp_proxy's upstream cluster(s). */
  cluster: TcpUpstream;
  /** tcp_proxy's stat_prefix (its stats are `tcp.<prefix>.*`). */
  statPrefix: string;
  /** A downstream transport socket (e.g. mTLS), as Envoy's filter_chain.transport_socket. */
  transportSocket?: Obj;
  /** Native network filters after the asmesh ones, before tcp_proxy (e.g. denyAllFilter). */
  nativeFilters?: Obj[];
}

/** Istio's cluster with no endpoints: tcp_proxy to it never opens an upstream connection. */
export const BLACKHOLE_CLUSTER = 'BlackHoleCluster';
export function blackHoleCluster(): Obj {
  return { name: BLACKHOLE_CLUSTER, type: 'STATIC', connect_timeout: '10s' };
}

/** Envoy's network RBAC with an ALLOW action and no policy: every connection is denied (Istio's allow-nothing on TCP). */
export function denyAllFilter(statPrefix: string): Obj {
  return {
    name: 'envoy.filters.network.rbac',
    typed_config: {
      '@type': 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC',
      stat_prefix: statPrefix,
      rules: { action: 'ALLOW' },
    },
  };
}

/** tcp_proxy's upstream: one cluster, or weighted clusters (a VirtualService `tcp` route's destinations). */
export type TcpUpstream = string | { name: string; weight: number }[];

/** One filter chain: the asmesh network filters, then tcp_proxy (which must be last). */
export function tcpFilterChain(opts: TcpChainOptions): Obj {
  const chain: Obj = {
    filters: [
      ...chainOrder(opts.filters).map((f) => networkWasmFilterEntry(f.name, `${opts.wasmDir}/${f.name}.wasm`, f.config)),
      ...(opts.nativeFilters ?? []),
      {
        name: 'envoy.filters.network.tcp_proxy',
        typed_config: {
          '@type': TCP_PROXY_TYPE,
          stat_prefix: opts.statPrefix,
          ...(typeof opts.cluster === 'string' ? { cluster: opts.cluster } : { weighted_clusters: { clusters: opts.cluster } }),
        },
      },
    ],
  };
  if (opts.transportSocket !== undefined) chain.transport_socket = opts.transportSocket;
  return chain;
}

export interface TcpListenerOptions extends TcpChainOptions {
  name: string;
  address?: string;
  port: number;
}

/** A listener with one TCP filter chain (tcpFilterChain). */
export function tcpListener(opts: TcpListenerOptions): Obj {
  return {
    name: opts.name,
    address: { socket_address: { address: opts.address ?? '127.0.0.1', port_value: opts.port } },
    filter_chains: [tcpFilterChain(opts)],
  };
}
