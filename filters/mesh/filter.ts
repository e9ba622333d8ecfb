// The mesh filter: steering, authz and telemetry in one VM and one Envoy filter entry, for sidecars
// that mount all three (one VM entry and one set of callbacks per request instead of three). Its
// root holds each configured filter's own root; its stream runs their contexts as Envoy's filter
// chain runs separate filters (test/mesh): chain order on the request, reverse on the response; a
// paused part pauses the parts after it until it resumes; a local reply ends the request path (the
// parts after the replying one never see the request, its response goes back through the parts
// that did); every part logs.
import {
  RootContext,
  HttpContext,
  HttpChain,
  useHttpChain,
  httpContext,
  FilterHeadersStatus,
  FilterDataStatus,
  FilterTrailersStatus,
  StreamType,
  WasmResult,
  beginPart,
  endPart,
  continueStream,
  logError,
  pluginConfiguration,
  shareHeaderReads,
} from '../../assembly/proxy';
import { ConfigChecker } from '../../assembly/lib/config';
import { JsonKind, JsonValue } from '../../assembly/lib/json';
import { SteeringRoot } from '../steering/filter';
import { AuthzRoot } from '../authz/filter';
import { TelemetryRoot } from '../telemetry/filter';

/** The parts, in chain order (filters/manifest.ts); each one's member of the configuration is that filter's configuration. */
export const PARTS: string[] = ['steering', 'authz', 'telemetry'];

function newPart(name: string, contextId: u32): RootContext {
  if (name == 'steering') return new SteeringRoot(contextId);
  if (name == 'authz') return new AuthzRoot(contextId);
  return new TelemetryRoot(contextId);
}

export class MeshRoot extends RootContext {
  /** The configured parts, in chain order (an absent member: that filter is not active). */
  parts: RootContext[] = [];

  onConfigure(configurationSize: u32): bool {
    const bytes = pluginConfiguration(configurationSize);
    const checker = new ConfigChecker();
    const config = checker.parse(bytes);
    if (config !== null) checker.object(config, PARTS);
    if (checker.failed) {
      logError('mesh: config ' + checker.error);
      return false;
    }
    useHttpChain(LINK);
    const parts = new Array<RootContext>();
    for (let i = 0; i < PARTS.length; i++) {
      const member = (config as JsonValue).get(PARTS[i]);
      if (member === null) continue;
      if (!checker.kind(member, JsonKind.Object)) {
        logError('mesh: config ' + checker.error);
        return false;
      }
      const part = newPart(PARTS[i], this.contextId);
      // The part's own configure check, on its member's text; its errors name `$.<part>...`.
      beginPart('mesh', PARTS[i], bytes.slice(member.start, member.end));
      const ok = part.onConfigure(<u32>(member.end - member.start));
      endPart();
      if (!ok) return false;
      parts.push(part);
    }
    this.parts = parts;
    return true;
  }

  onTick(): void {
    for (let i = 0; i < this.parts.length; i++) this.parts[i].onTick();
  }

  // No part implements onQueueReady or onDone (root or stream), so mesh.wasm exports neither: a part that
  // does needs its forwarding here and the export in index.ts (scripts/check-imports.ts asks for the export).

  onDelete(): void {
    for (let i = 0; i < this.parts.length; i++) this.parts[i].onDelete();
  }

  createHttpContext(contextId: u32): HttpContext | null {
    const http = new MeshHttp(contextId, this);
    for (let i = 0; i < this.parts.length; i++) {
      const part = this.parts[i].createHttpContext(contextId);
      if (part !== null) http.parts.push(part);
    }
    return http.parts.length == 0 ? null : http;
  }
}

/** Where the parts' resume and local reply calls go: the composite stream of the part's context id. */
class MeshLink extends HttpChain {
  resumeRequest(part: HttpContext): WasmResult {
    const http = streamOf(part);
    return http === null ? continueStream(StreamType.HttpRequest) : http.resumeRequestFrom(part);
  }
  resumeResponse(part: HttpContext): WasmResult {
    const http = streamOf(part);
    return http === null ? continueStream(StreamType.HttpResponse) : http.resumeResponseFrom(part);
  }
  localReply(part: HttpContext): void {
    const http = streamOf(part);
    if (http !== null) http.replied = true;
  }
}

const LINK = new MeshLink();

/** The composite stream `part` belongs to (every HTTP context this module registers is a MeshHttp). */
function streamOf(part: HttpContext): MeshHttp | null {
  const http = httpContext(part.contextId);
  return http === null || http === part ? null : changetype<MeshHttp>(http);
}

export class MeshHttp extends HttpContext {
  parts: HttpContext[] = [];
  /** How many parts got the request headers: parts[seen] runs next; parts[0..seen-1] get the response. */
  seen: i32 = 0;
  /** A part sent a local reply: no later part runs on the request. */
  replied: bool = false;
  /** The part the response headers run next (downwards), -1 when every one ran. */
  responseNext: i32 = -1;
  private requestHeaderCount: u32 = 0;
  private requestEnd: bool = false;
  private responseHeaderCount: u32 = 0;
  private responseEnd: bool = false;

  partOf(root: RootContext): HttpContext | null {
    if (root === this.root) return this;
    for (let i = 0; i < this.parts.length; i++) if (this.parts[i].root === root) return this.parts[i];
    return null;
  }

  onRequestHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    this.requestHeaderCount = headerCount;
    this.requestEnd = endOfStream;
    return this.runRequest();
  }

  /**
   * Runs the parts that have not seen the request headers until one pauses or replies. They share
   * one read of the request headers (the SDK keeps it, with their writes applied, for this loop).
   */
  private runRequest(): FilterHeadersStatus {
    const parts = this.parts;
    let status = FilterHeadersStatus.Continue;
    shareHeaderReads(true);
    while (this.seen < parts.length && !this.replied && status == FilterHeadersStatus.Continue) {
      const part = unchecked(parts[this.seen]);
      this.seen++;
      status = part.onRequestHeaders(this.requestHeaderCount, this.requestEnd);
    }
    shareHeaderReads(false);
    if (status != FilterHeadersStatus.Continue) return status;
    return this.replied ? FilterHeadersStatus.StopIteration : FilterHeadersStatus.Continue;
  }

  /** The part that paused the request headers resumes: the parts after it run, then Envoy continues. */
  resumeRequestFrom(part: HttpContext): WasmResult {
    if (this.replied) return WasmResult.Ok;
    // Not the part the headers wait for (one that paused a body or trailers): Envoy continues the stream.
    if (this.seen == 0 || this.parts[this.seen - 1] !== part) return continueStream(StreamType.HttpRequest);
    return this.runRequest() == FilterHeadersStatus.Continue ? continueStream(StreamType.HttpRequest) : WasmResult.Ok;
  }

  onRequestBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    for (let i = 0; i < this.seen; i++) {
      const status = unchecked(this.parts[i]).onRequestBody(bodySize, endOfStream);
      if (status != FilterDataStatus.Continue) return status;
    }
    return FilterDataStatus.Continue;
  }

  onRequestTrailers(trailerCount: u32): FilterTrailersStatus {
    for (let i = 0; i < this.seen; i++) {
      const status = unchecked(this.parts[i]).onRequestTrailers(trailerCount);
      if (status != FilterTrailersStatus.Continue) return status;
    }
    return FilterTrailersStatus.Continue;
  }

  onResponseHeaders(headerCount: u32, endOfStream: bool): FilterHeadersStatus {
    this.responseHeaderCount = headerCount;
    this.responseEnd = endOfStream;
    this.responseNext = this.seen - 1;
    return this.runResponse();
  }

  private runResponse(): FilterHeadersStatus {
    while (this.responseNext >= 0) {
      const part = unchecked(this.parts[this.responseNext]);
      this.responseNext--;
      const status = part.onResponseHeaders(this.responseHeaderCount, this.responseEnd);
      if (status != FilterHeadersStatus.Continue) return status;
    }
    return FilterHeadersStatus.Continue;
  }

  resumeResponseFrom(part: HttpContext): WasmResult {
    const paused = this.responseNext + 1;
    if (paused >= this.seen || this.parts[paused] !== part) return continueStream(StreamType.HttpResponse);
    return this.runResponse() == FilterHeadersStatus.Continue ? continueStream(StreamType.HttpResponse) : WasmResult.Ok;
  }

  onResponseBody(bodySize: u32, endOfStream: bool): FilterDataStatus {
    for (let i = this.seen - 1; i >= 0; i--) {
      const status = unchecked(this.parts[i]).onResponseBody(bodySize, endOfStream);
      if (status != FilterDataStatus.Continue) return status;
    }
    return FilterDataStatus.Continue;
  }

  onResponseTrailers(trailerCount: u32): FilterTrailersStatus {
    for (let i = this.seen - 1; i >= 0; i--) {
      const status = unchecked(this.parts[i]).onResponseTrailers(trailerCount);
      if (status != FilterTrailersStatus.Continue) return status;
    }
    return FilterTrailersStatus.Continue;
  }

  /** Every part logs, those that never saw the request too (Envoy logs every filter of the chain), in chain order. */
  onLog(): void {
    for (let i = 0; i < this.parts.length; i++) unchecked(this.parts[i]).onLog();
  }

  onDelete(): void {
    for (let i = 0; i < this.parts.length; i++) unchecked(this.parts[i]).onDelete();
  }
}
