// Network (TCP) filter contexts: proxy_on_new_connection, proxy_on_downstream_data,
// proxy_on_upstream_data, proxy_on_downstream/upstream_connection_close, then proxy_on_log,
// proxy_on_done, proxy_on_delete. The test plays both peers, in the order it wants; each data
// callback sees its buffer (DownstreamData / UpstreamData) and may rewrite it. Measured in Envoy 1.40
// (test/harness/network.test.ts): a peer's end of stream is a data callback of size 0 with end=1.
import { toBytes } from './memory.ts';
import { createStream, endStream } from './phases.ts';
import type { HostState, PropertyValue, StreamState } from './state.ts';
import type { Vm } from './vm.ts';
import { VmFailure } from './vm.ts';

export const PeerType = { Unknown: 0, Local: 1, Remote: 2 } as const;
export type PeerType = (typeof PeerType)[keyof typeof PeerType];

export class TcpConnection {
  readonly state: StreamState;
  /** True once a callback trapped. */
  failed = false;

  constructor(
    private readonly vm: Vm,
    private readonly host: HostState,
    properties: Record<string, PropertyValue>,
  ) {
    this.state = createStream(vm, host, properties);
    this.call('proxy_on_new_connection');
  }

  /** True once the filter closed the connection: no more data reaches it (nor the upstream). */
  get closed(): boolean {
    return this.state.connectionClosed;
  }

  get contextId(): number {
    return this.state.id;
  }

  /** Bytes from the client (end = the client closed its side); answers the filter's status and the data as it let it through. */
  downstreamData(data: string | Uint8Array, end = false): { status: number; data: Uint8Array } {
    return this.data('downstreamData', 'proxy_on_downstream_data', data, end);
  }
  /** Bytes from the upstream (end = the upstream closed its side). */
  upstreamData(data: string | Uint8Array, end = false): { status: number; data: Uint8Array } {
    return this.data('upstreamData', 'proxy_on_upstream_data', data, end);
  }
  closeDownstream(peer: PeerType = PeerType.Remote): void {
    this.call('proxy_on_downstream_connection_close', peer);
  }
  closeUpstream(peer: PeerType = PeerType.Unknown): void {
    this.call('proxy_on_upstream_connection_close', peer);
  }
  /** proxy_on_log, proxy_on_done, proxy_on_delete. */
  complete(): void {
    endStream(this.vm, this.host, this.state);
  }

  private data(
    key: 'downstreamData' | 'upstreamData',
    name: string,
    data: string | Uint8Array,
    end: boolean,
  ): { status: number; data: Uint8Array } {
    const bytes = toBytes(data);
    if (this.closed) return { status: 1, data: new Uint8Array(0) };
    this.state[key] = bytes;
    const status = this.call(name, bytes.length, end ? 1 : 0);
    const out = this.state[key] ?? bytes;
    this.state[key] = null;
    return { status, data: out };
  }

  private call(name: string, ...args: number[]): number {
    if (this.vm.failed) {
      this.failed = true;
      return 0;
    }
    try {
      return this.vm.call(name, this.state.id, ...args) ?? 0;
    } catch (error) {
      if (!(error instanceof VmFailure)) throw error;
      this.failed = true;
      return 0;
    }
  }
}
