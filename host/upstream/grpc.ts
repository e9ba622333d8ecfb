// A gRPC test server (HTTP/2 on loopback, no TLS) answering unary calls with a handler, for the
// Envoy half of the scenarios whose filters make gRPC calls.
import { createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface GrpcUnaryRequest {
  service: string;
  method: string;
  metadata: [string, string][];
  message: Uint8Array;
}
export interface GrpcUnaryReply {
  status?: number;
  message?: string | Uint8Array;
  statusMessage?: string;
}
export type GrpcHandler = (req: GrpcUnaryRequest) => GrpcUnaryReply | Promise<GrpcUnaryReply>;

/** A gRPC length-prefixed message: flag 0 (uncompressed), u32 big-endian length, the bytes. */
function frame(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

export class GrpcServer {
  private constructor(
    private readonly server: Http2Server,
    readonly port: number,
    private readonly sessions: Set<{ destroy(): void }>,
  ) {}

  static async start(handler: GrpcHandler): Promise<GrpcServer> {
    const server = createServer();
    const sessions = new Set<{ destroy(): void }>();
    server.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
    server.on('stream', (stream: ServerHttp2Stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = Buffer.concat(chunks);
        const [service = '', method = ''] = String(headers[':path'] ?? '')
          .slice(1)
          .split('/');
        const metadata = Object.entries(headers)
          .filter(([k]) => !k.startsWith(':'))
          .map(([k, v]) => [k, String(v)] as [string, string]);
        Promise.resolve(handler({ service, method, metadata, message: body.subarray(5) })).then((reply) => {
          const status = reply.status ?? 0;
          if (status !== 0) {
            // Trailers-only: the status in the headers, no message.
            stream.respond(
              {
                ':status': 200,
                'content-type': 'application/grpc',
                'grpc-status': String(status),
                ...(reply.statusMessage ? { 'grpc-message': reply.statusMessage } : {}),
              },
              { endStream: true },
            );
            return;
          }
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
          stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
          stream.end(frame(typeof reply.message === 'string' ? Buffer.from(reply.message) : (reply.message ?? new Uint8Array(0))));
        });
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new GrpcServer(server, (server.address() as AddressInfo).port, sessions);
  }

  async close(): Promise<void> {
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** An Envoy cluster for a GrpcServer: HTTP/2 to loopback. */
export function grpcCluster(name: string, port: number): Record<string, unknown> {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }],
    },
  };
}
