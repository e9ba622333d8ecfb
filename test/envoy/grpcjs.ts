// A real gRPC server and client (@grpc/grpc-js) for the Envoy tests, with raw-bytes messages (no
// protobuf schema: the filters never parse messages). Service `pkg.Svc`: Unary, ServerStream
// (replies `n` messages, n = the request's length), ClientStream and Bidi (one reply per request message).
import * as grpc from '@grpc/grpc-js';

const bytes = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
export const SERVICE = {
  Unary: { path: '/pkg.Svc/Unary', requestStream: false, responseStream: false, ...bytes },
  Other: { path: '/pkg.Svc/Other', requestStream: false, responseStream: false, ...bytes },
  ServerStream: { path: '/pkg.Svc/ServerStream', requestStream: false, responseStream: true, ...bytes },
  ClientStream: { path: '/pkg.Svc/ClientStream', requestStream: true, responseStream: false, ...bytes },
  Bidi: { path: '/pkg.Svc/Bidi', requestStream: true, responseStream: true, ...bytes },
} satisfies grpc.ServiceDefinition;

export interface Seen {
  path: string;
  metadata: Record<string, string>;
}

/** Answers with `<identity>:<request>`; metadata `x-fail: <code>` fails the call with that status (before any message: trailers-only). */
export async function startGrpcServer(identity: string): Promise<{ port: number; seen: Seen[]; close(): Promise<void> }> {
  const server = new grpc.Server();
  const seen: Seen[] = [];
  const record = (path: string, md: grpc.Metadata): number => {
    const metadata = Object.fromEntries(Object.entries(md.getMap()).map(([k, v]) => [k, String(v)]));
    seen.push({ path, metadata });
    return Number(metadata['x-fail'] ?? 0);
  };
  const fail = (code: number): grpc.ServiceError =>
    Object.assign(new Error('failed on purpose'), { code, details: 'failed on purpose', metadata: new grpc.Metadata() });
  const unary = (path: string) => (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
    const code = record(path, call.metadata);
    if (code !== 0) return cb(fail(code));
    cb(null, Buffer.from(`${identity}:${call.request.toString()}`));
  };
  server.addService(SERVICE, {
    Unary: unary(SERVICE.Unary.path),
    Other: unary(SERVICE.Other.path),
    ServerStream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const code = record(SERVICE.ServerStream.path, call.metadata);
      if (code !== 0) return call.emit('error', fail(code));
      for (let i = 0; i < call.request.length; i++) call.write(Buffer.from(`${identity}:${i}`));
      call.end();
    },
    ClientStream: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const code = record(SERVICE.ClientStream.path, call.metadata);
      if (code !== 0) return cb(fail(code));
      let n = 0;
      call.on('data', () => n++);
      call.on('end', () => cb(null, Buffer.from(`${identity}:${n}`)));
    },
    Bidi: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      record(SERVICE.Bidi.path, call.metadata);
      call.on('data', (m: Buffer) => call.write(Buffer.from(`${identity}:${m.toString()}`)));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, seen, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

export interface CallResult {
  code: number;
  details: string;
  messages: string[];
}

function metadataOf(headers: Record<string, string>): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k, v);
  return md;
}

/** A client to `host:port` speaking h2c (or h2 over TLS with TLS `credentials`); `authority` as the :authority. */
export class GrpcClient {
  private readonly client: grpc.Client;
  constructor(address: string, authority: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}) {
    this.client = new grpc.Client(address, credentials, { 'grpc.default_authority': authority, ...options });
  }

  unary(path: string, message: string, headers: Record<string, string> = {}): Promise<CallResult> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(message),
        metadataOf(headers),
        (err, reply) => {
          if (err) resolve({ code: err.code, details: err.details, messages: [] });
          else resolve({ code: 0, details: '', messages: [reply!.toString()] });
        },
      );
    });
  }

  serverStream(message: string, headers: Record<string, string> = {}): Promise<CallResult> {
    const call = this.client.makeServerStreamRequest(
      SERVICE.ServerStream.path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(message),
      metadataOf(headers),
    );
    return collect(call);
  }

  clientStream(messages: string[], headers: Record<string, string> = {}): Promise<CallResult> {
    return new Promise((resolve) => {
      const call = this.client.makeClientStreamRequest(
        SERVICE.ClientStream.path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        metadataOf(headers),
        (err, reply) => {
          if (err) resolve({ code: err.code, details: err.details, messages: [] });
          else resolve({ code: 0, details: '', messages: [reply!.toString()] });
        },
      );
      for (const m of messages) call.write(Buffer.from(m));
      call.end();
    });
  }

  bidi(messages: string[], headers: Record<string, string> = {}): Promise<CallResult> {
    const call = this.client.makeBidiStreamRequest(
      SERVICE.Bidi.path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      metadataOf(headers),
    );
    const done = collect(call);
    for (const m of messages) call.write(Buffer.from(m));
    call.end();
    return done;
  }

  close(): void {
    this.client.close();
  }
}

function collect(call: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>): Promise<CallResult> {
  return new Promise((resolve) => {
    const messages: string[] = [];
    call.on('data', (m: Buffer) => messages.push(m.toString()));
    call.on('error', (err: grpc.ServiceError) => resolve({ code: err.code, details: err.details, messages }));
    call.on('status', (s: grpc.StatusObject) => {
      if (s.code === 0) resolve({ code: 0, details: '', messages });
    });
  });
}
