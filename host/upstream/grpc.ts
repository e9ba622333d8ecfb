// A gRPC test server (HTTP/2 on loopback, no TLS) answering unary calls and streams with a handler
// once the client ended its side, for the Envoy half of the scenarios whose filters call gRPC.
import { createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { grpcReplyMessages, grpcTrailersOnly, joinedHeaders, headerList, type GrpcServer as ChainGrpcServer } from '../harness/index.ts';

/** The handler: the harness chain's gRPC server type, so one handler serves both hosts. */
export type GrpcHandler = ChainGrpcServer;

/** A gRPC length-prefixed message: flag 0 (uncompressed), u32 big-endian length, the bytes. */
function frame(message: string | Uint8Array): Buffer {
  const bytes = typeof message === 'string' ? Buffer.from(message) : message;
  const out = Buffer.alloc(5 + bytes.length);
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
}

/** The length-prefixed messages of a request body. */
function unframe(body: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at + 5 <= body.length;) {
    const length = body.readUInt32BE(at + 1);
    out.push(body.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
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
      // A filter's proxy_grpc_cancel resets the stream (RST_STREAM): nothing to answer.
      stream.on('error', () => {});
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
        const messages = unframe(body);
        const request = { service, method, metadata, message: messages[0] ?? new Uint8Array(0), messages };
        void Promise.resolve(handler(request)).then((reply) => {
          const status = reply.status ?? 0;
          const out = grpcReplyMessages(reply);
          const trailers = { 'grpc-status': String(status), ...(reply.statusMessage ? { 'grpc-message': reply.statusMessage } : {}) };
          if (grpcTrailersOnly(reply)) {
            // Trailers-only: the status in the headers, no message.
            stream.respond(
              { ':status': 200, 'content-type': 'application/grpc', ...trailers, ...joinedHeaders(headerList(reply.trailingMetadata)) },
              { endStream: true },
            );
            return;
          }
          stream.respond(
            { ':status': 200, 'content-type': 'application/grpc', ...joinedHeaders(headerList(reply.initialMetadata)) },
            { waitForTrailers: true },
          );
          stream.on('wantTrailers', () => stream.sendTrailers({ ...trailers, ...joinedHeaders(headerList(reply.trailingMetadata)) }));
          for (const m of out) stream.write(frame(m));
          stream.end();
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
