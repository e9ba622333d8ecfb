// Workload identity exchanged between sidecars in the `x-asmesh-peer` header:
// base64 (standard) of a JSON object {"workload","namespace","app","version","cluster","service","revision"}
// (service/revision: Istio's canonical service and revision; a peer that sends none has Istio's
// defaults for a peer without them, unknown and latest).
// A source-mode (outbound) sidecar adds it to requests and reads + strips it from responses;
// a destination-mode (inbound) sidecar reads + strips it from requests and answers with its own
// when the request carried one. Pure: no host calls.
import { base64Decode, base64Encode } from '../../assembly/lib/base64';
import { JsonKind, parseJson, quote } from '../../assembly/lib/json';

export const PEER_HEADER = 'x-asmesh-peer';
/** A longer header is ignored (not decoded). */
export const MAX_PEER_HEADER: i32 = 4096;

export class PeerInfo {
  workload: string = '';
  namespace: string = '';
  app: string = '';
  version: string = '';
  cluster: string = '';
  /** Istio's canonical service (service.istio.io/canonical-name, with Istio's fallbacks). */
  canonicalService: string = '';
  /** Istio's canonical revision (service.istio.io/canonical-revision, with Istio's fallbacks). */
  canonicalRevision: string = '';

  toJson(): string {
    return (
      '{"workload":' +
      quote(this.workload) +
      ',"namespace":' +
      quote(this.namespace) +
      ',"app":' +
      quote(this.app) +
      ',"version":' +
      quote(this.version) +
      ',"cluster":' +
      quote(this.cluster) +
      ',"service":' +
      quote(this.canonicalService) +
      ',"revision":' +
      quote(this.canonicalRevision) +
      '}'
    );
  }

  /** The header value announcing this workload. */
  encode(): string {
    return base64Encode(String.UTF8.encode(this.toJson()));
  }
}

/** Decodes a peer header; null when it is too long, not base64, not a JSON object, or has non-string fields. */
export function decodePeer(header: string): PeerInfo | null {
  if (header.length == 0 || header.length > MAX_PEER_HEADER) return null;
  const bytes = base64Decode(header);
  if (bytes === null) return null;
  const parsed = parseJson(bytes);
  const root = parsed.value;
  if (root === null || root.kind != JsonKind.Object) return null;
  const peer = new PeerInfo();
  for (let i = 0; i < root.keys.length; i++) {
    const key = root.keys[i];
    const v = root.get(key)!;
    if (v.kind != JsonKind.String) {
      if (v.kind == JsonKind.Null) continue;
      return null;
    }
    if (key == 'workload') peer.workload = v.str;
    else if (key == 'namespace') peer.namespace = v.str;
    else if (key == 'app') peer.app = v.str;
    else if (key == 'version') peer.version = v.str;
    else if (key == 'cluster') peer.cluster = v.str;
    else if (key == 'service') peer.canonicalService = v.str;
    else if (key == 'revision') peer.canonicalRevision = v.str;
    // Unknown keys are ignored: newer sidecars may send more.
  }
  return peer;
}

/** Workload labels Istio derives the canonical service from, in its order of preference. */
export const CANONICAL_NAME_LABELS: string[] = ['service.istio.io/canonical-name', 'app.kubernetes.io/name', 'app'];
/** Workload labels Istio derives the canonical revision from, in its order of preference. */
export const CANONICAL_REVISION_LABELS: string[] = ['service.istio.io/canonical-revision', 'app.kubernetes.io/version', 'version'];

/**
 * The first present value (null = label absent), else `fallback`: Istio's CanonicalService
 * (istio/istio pkg/config/labels) over CANONICAL_NAME_LABELS with the workload name as fallback,
 * and over CANONICAL_REVISION_LABELS with "latest". A label present with an empty value wins, as there.
 */
export function firstPresent(values: (string | null)[], fallback: string): string {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null) return v;
  }
  return fallback;
}
