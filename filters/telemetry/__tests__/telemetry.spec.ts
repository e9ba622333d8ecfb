// Pure telemetry logic: label encoding and sanitizing, response flags, service names, trace ids,
// peer headers, the access log writer and time format, the config parser, the series cap.
import {
  sanitizeValue,
  encodeMetricName,
  responseFlagsString,
  hostOfAuthority,
  serviceOfCluster,
  serviceName,
  serviceNamespace,
  isValidLabelName,
  requestProtocol,
  L_SOURCE_WORKLOAD,
  L_DESTINATION_SERVICE_NAMESPACE,
  L_CONNECTION_SECURITY_POLICY,
  L_DESTINATION_PRINCIPAL,
  L_REPORTER,
  L_SOURCE_CANONICAL_SERVICE,
  L_SOURCE_CANONICAL_REVISION,
  L_DESTINATION_CANONICAL_SERVICE,
  L_DESTINATION_CANONICAL_REVISION,
  STANDARD_LABELS,
  grpcStatusOf,
  isGrpcContentType,
} from '../labels';
import { GrpcFrames } from '../grpc';
import { parseTraceparent, parseB3, parseB3Single, traceIds } from '../trace';
import { PeerInfo, decodePeer, firstPresent } from '../peer';
import { formatTime, accessLogLine } from '../accesslog';
import { parseTelemetryConfig, parseValueExpression } from '../config';
import {
  Reporter,
  RequestFacts,
  ValueContext,
  SeriesTable,
  LabelSets,
  hashValue,
  MetricKind,
  SourceKind,
  standardLabels,
  claimValue,
  sameLabelFacts,
} from '../logic';
import { parseJson } from '../../../assembly/lib/json';
import { parseClaimPath } from '../config';

function cfg(text: string): string {
  const r = parseTelemetryConfig(String.UTF8.encode(text));
  return r.config === null ? r.error : 'ok';
}

/** Facts with every field set; `change` >= 0 alters that one field (15 fields), as a later request might. */
function factsWith(change: i32, peer: PeerInfo): RequestFacts {
  const f = new RequestFacts();
  f.authority = 'reviews.default.svc.cluster.local:9080';
  f.method = 'GET';
  f.path = '/a';
  f.protocol = 'HTTP/1.1';
  f.contentType = 'text/plain';
  f.responseCode = 200;
  f.grpc = false;
  f.grpcStatus = '';
  f.responseFlags = 0;
  f.upstreamCluster = 'outbound|9080|v1|reviews.default.svc.cluster.local';
  f.mtls = true;
  f.peerPrincipal = 'spiffe://cluster.local/ns/default/sa/a';
  f.localPrincipal = 'spiffe://cluster.local/ns/default/sa/b';
  f.upstreamPeerPrincipal = 'spiffe://cluster.local/ns/default/sa/c';
  f.peer = peer;
  if (change == 0) f.authority = 'ratings:9080';
  else if (change == 1) f.method = 'POST';
  else if (change == 2) f.path = '/b';
  else if (change == 3) f.protocol = 'HTTP/2';
  else if (change == 4) f.responseCode = 503;
  else if (change == 5) f.grpc = true;
  else if (change == 6) f.grpcStatus = '14';
  else if (change == 7) f.responseFlags = 1 << 14;
  else if (change == 8) f.upstreamCluster = 'outbound|9080|v2|ratings.default.svc.cluster.local';
  else if (change == 9) f.mtls = false;
  else if (change == 10) f.peerPrincipal = 'spiffe://cluster.local/ns/default/sa/x';
  else if (change == 11) f.localPrincipal = 'spiffe://cluster.local/ns/default/sa/y';
  else if (change == 12) f.upstreamPeerPrincipal = 'spiffe://cluster.local/ns/default/sa/z';
  else if (change == 13) f.peer = decodePeer(peer.encode());
  else if (change == 14) f.peer = null;
  return f;
}

class Headers extends ValueContext {
  requestHeader(name: string): string | null {
    return name == 'x-tier' ? 'gold' : null;
  }
}

describe('labels', () => {
  it('sanitizes values so they cannot break the encoding', () => {
    expect(sanitizeValue('')).toBe('unknown');
    expect(sanitizeValue('sleep')).toBe('sleep');
    expect(sanitizeValue('a;b=c')).toBe('a_b_c');
    expect(sanitizeValue('x\ny')).toBe('x_y');
    expect(sanitizeValue('svc.ns.svc.cluster.local')).toBe('svc.ns.svc.cluster.local');
    expect(sanitizeValue('z'.repeat(300)).length).toBe(256);
  });
  it('encodes labels before the metric name, and names the stats_tags regex', () => {
    expect(encodeMetricName('m', ['a', 'b'], ['1', '2'])).toBe('a=1;b=2;m');
  });
  it('prints response flags as Istio does', () => {
    expect(responseFlagsString(0)).toBe('-');
    expect(responseFlagsString(2)).toBe('UH');
    expect(responseFlagsString(2 | 32 | 256)).toBe('UH,UF,NR');
    // Envoy sets URX before the failure of the last try and prints in set order.
    expect(responseFlagsString((1 << 15) | (1 << 5))).toBe('URX,UF');
    expect(responseFlagsString((1 << 15) | (1 << 2))).toBe('URX,UT');
    expect(responseFlagsString(1 << 15)).toBe('URX');
    expect(responseFlagsString((1 << 9) | (1 << 10))).toBe('DI,FI');
    expect(responseFlagsString((1 << 24) | (1 << 23))).toBe('UPE,NC');
    expect(responseFlagsString((<u64>1) << 40)).toBe('-');
  });
  it('derives services from authorities and Istio cluster names', () => {
    expect(hostOfAuthority('reviews.bookinfo:9080')).toBe('reviews.bookinfo');
    expect(hostOfAuthority('[::1]:80')).toBe('[::1]');
    expect(serviceOfCluster('outbound|9080|v1|reviews.bookinfo.svc.cluster.local')).toBe('reviews.bookinfo.svc.cluster.local');
    expect(serviceOfCluster('jwks')).toBe('');
    expect(serviceName('reviews.bookinfo.svc.cluster.local')).toBe('reviews');
    expect(serviceNamespace('reviews.bookinfo.svc.cluster.local')).toBe('bookinfo');
    expect(serviceNamespace('reviews.bookinfo')).toBe('bookinfo');
    expect(serviceNamespace('example.com.au')).toBe('');
    expect(serviceNamespace('10.0.0.1')).toBe('');
    expect(serviceNamespace('service_b')).toBe('');
  });
  it('validates label names and the protocol', () => {
    expect(isValidLabelName('user_tier')).toBe(true);
    expect(isValidLabelName('9x')).toBe(false);
    expect(isValidLabelName('a-b')).toBe(false);
    expect(isValidLabelName('__name')).toBe(false);
    expect(requestProtocol('application/grpc+proto')).toBe('grpc');
    expect(requestProtocol(null)).toBe('http');
    // Envoy's hasGrpcContentType: grpc-web and parameters are not gRPC.
    expect(isGrpcContentType('application/grpc')).toBe(true);
    expect(isGrpcContentType('application/grpc-web')).toBe(false);
    expect(isGrpcContentType('application/grpc;charset=utf-8')).toBe(false);
    expect(isGrpcContentType('application/json')).toBe(false);
  });
  it("has Istio's 25 standard labels", () => {
    expect(STANDARD_LABELS.length).toBe(25);
    expect(STANDARD_LABELS[L_SOURCE_CANONICAL_SERVICE]).toBe('source_canonical_service');
    expect(STANDARD_LABELS[L_DESTINATION_CANONICAL_REVISION]).toBe('destination_canonical_revision');
    expect(STANDARD_LABELS[L_CONNECTION_SECURITY_POLICY]).toBe('connection_security_policy');
  });
  it("takes the gRPC status as Envoy's getGrpcStatus: trailers, headers, then the HTTP status", () => {
    expect(grpcStatusOf('0', '7', 200)).toBe('0');
    expect(grpcStatusOf(null, '7', 200)).toBe('7');
    expect(grpcStatusOf('', '16', 200)).toBe('16');
    expect(grpcStatusOf(null, null, 403)).toBe('7');
    expect(grpcStatusOf(null, null, 401)).toBe('16');
    expect(grpcStatusOf(null, null, 503)).toBe('14');
    expect(grpcStatusOf(null, null, 404)).toBe('12');
    expect(grpcStatusOf(null, null, 400)).toBe('13');
    expect(grpcStatusOf(null, null, 200)).toBe('2');
    expect(grpcStatusOf(null, null, 0)).toBe('');
    expect(grpcStatusOf('17', null, 200)).toBe('-1');
    expect(grpcStatusOf('x', null, 200)).toBe('-1');
  });
});

describe('gRPC messages', () => {
  it('counts messages whose 5-byte prefix starts, across chunk boundaries', () => {
    // Two messages: 3-byte payload, then 0-byte payload, fed 1..n bytes at a time.
    const body: u8[] = [0, 0, 0, 0, 3, 9, 9, 9, 0, 0, 0, 0, 0];
    for (let step = 1; step <= body.length; step++) {
      const frames = new GrpcFrames();
      for (let start = 0; start < body.length; start += step) {
        const size = <u32>min(step, body.length - start);
        let pos: u32 = 0;
        for (;;) {
          pos = frames.skip(pos, size);
          if (pos >= size) break;
          const n = min<u32>(<u32>frames.prefixWanted, size - pos);
          const bytes = new Uint8Array(n);
          for (let i: u32 = 0; i < n; i++) bytes[i] = body[start + <i32>(pos + i)];
          pos = frames.prefix(bytes, pos);
        }
      }
      expect(frames.messages).toBe(2);
    }
    // A large payload is skipped without reading it.
    const big = new GrpcFrames();
    const prefix = new Uint8Array(5);
    prefix[2] = 1; // 65536 bytes
    expect(big.prefix(prefix, 0)).toBe(5);
    expect(big.skip(5, 1000)).toBe(1000);
    expect(big.skip(0, 65536 - 995)).toBe(65536 - 995);
    expect(big.skip(0, 10)).toBe(0);
    expect(big.messages).toBe(1);
  });
});

describe('standard labels', () => {
  it('fills source from the peer and destination from the node for a destination reporter', () => {
    const local = new PeerInfo();
    local.workload = 'productpage-v1';
    local.namespace = 'default';
    const f = new RequestFacts();
    f.authority = 'productpage:9080';
    f.responseCode = 200;
    const peer = new PeerInfo();
    peer.workload = 'sleep';
    f.peer = peer;
    const v = standardLabels(Reporter.Destination, local, f);
    expect(v[L_REPORTER]).toBe('destination');
    expect(v[L_SOURCE_WORKLOAD]).toBe('sleep');
    expect(v[L_DESTINATION_SERVICE_NAMESPACE]).toBe('default');
    expect(v[L_CONNECTION_SECURITY_POLICY]).toBe('none');
    f.mtls = true;
    expect(standardLabels(Reporter.Destination, local, f)[L_CONNECTION_SECURITY_POLICY]).toBe('mutual_tls');
    expect(standardLabels(Reporter.Source, local, f)[L_SOURCE_WORKLOAD]).toBe('productpage-v1');
  });
  it('sees every fact the standard labels read: equal facts (sameLabelFacts) give equal labels', () => {
    const local = new PeerInfo();
    local.workload = 'reviews-v1';
    const peer = new PeerInfo();
    peer.workload = 'productpage-v1';
    peer.namespace = 'default';
    for (let r = 0; r < 2; r++) {
      const reporter = r == 0 ? Reporter.Destination : Reporter.Source;
      const base = factsWith(-1, peer);
      const labels = standardLabels(reporter, local, base).join('|');
      expect(sameLabelFacts(base, factsWith(-1, peer))).toBe(true);
      let unseen = 0;
      for (let c = 0; c < 15; c++) {
        const f = factsWith(c, peer);
        const changed = standardLabels(reporter, local, f).join('|') != labels;
        // A fact that changes a label must make the facts differ (a cache hit would keep stale labels).
        if (changed && sameLabelFacts(base, f)) unseen++;
      }
      expect(unseen).toBe(0);
      // Conservative, not blind: a new peer object with the same content, a new code, no mTLS all differ.
      expect(sameLabelFacts(base, factsWith(13, peer))).toBe(false);
      expect(sameLabelFacts(base, factsWith(4, peer))).toBe(false);
      expect(sameLabelFacts(base, factsWith(9, peer))).toBe(false);
      // The request line is not a standard label's input.
      expect(sameLabelFacts(base, factsWith(2, peer))).toBe(true);
    }
  });
  it('takes the destination principal of a source reporter from the upstream peer certificate only', () => {
    const f = new RequestFacts();
    // Downstream mTLS (the app's connection) says nothing about the server's identity.
    f.mtls = true;
    f.peerPrincipal = 'spiffe://cluster.local/ns/default/sa/app-client';
    expect(standardLabels(Reporter.Source, new PeerInfo(), f)[L_DESTINATION_PRINCIPAL]).toBe('unknown');
    f.upstreamPeerPrincipal = 'spiffe://cluster.local/ns/default/sa/reviews';
    const v = standardLabels(Reporter.Source, new PeerInfo(), f);
    expect(v[L_DESTINATION_PRINCIPAL]).toBe('spiffe://cluster.local/ns/default/sa/reviews');
    expect(v[L_CONNECTION_SECURITY_POLICY]).toBe('unknown');
    // A destination reporter keeps its own certificate's identity.
    f.localPrincipal = 'spiffe://cluster.local/ns/default/sa/productpage';
    expect(standardLabels(Reporter.Destination, new PeerInfo(), f)[L_DESTINATION_PRINCIPAL]).toBe(
      'spiffe://cluster.local/ns/default/sa/productpage',
    );
  });
  it("has Istio's canonical service and revision, with its defaults for a peer without them", () => {
    const local = new PeerInfo();
    local.canonicalService = 'productpage';
    local.canonicalRevision = 'v1';
    const f = new RequestFacts();
    const peer = new PeerInfo();
    f.peer = peer;
    let v = standardLabels(Reporter.Destination, local, f);
    expect(v[L_SOURCE_CANONICAL_SERVICE]).toBe('unknown');
    expect(v[L_SOURCE_CANONICAL_REVISION]).toBe('latest');
    expect(v[L_DESTINATION_CANONICAL_SERVICE]).toBe('productpage');
    expect(v[L_DESTINATION_CANONICAL_REVISION]).toBe('v1');
    peer.canonicalService = 'sleep';
    peer.canonicalRevision = 'v2';
    v = standardLabels(Reporter.Source, local, f);
    expect(v[L_SOURCE_CANONICAL_SERVICE]).toBe('productpage');
    expect(v[L_DESTINATION_CANONICAL_SERVICE]).toBe('sleep');
    expect(v[L_DESTINATION_CANONICAL_REVISION]).toBe('v2');
    f.peer = null;
    expect(standardLabels(Reporter.Source, local, f)[L_DESTINATION_CANONICAL_REVISION]).toBe('latest');
  });
  it("falls back as Istio's CanonicalService: first label present, else the fallback", () => {
    expect(firstPresent([null, 'reviews', 'rv'], 'w')).toBe('reviews');
    expect(firstPresent([null, null, null], 'w')).toBe('w');
    expect(firstPresent(['', 'x'], 'w')).toBe('');
  });
});

describe('trace ids', () => {
  it('parses traceparent and rejects malformed ones', () => {
    const t = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')!;
    expect(t.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(t.spanId).toBe('00f067aa0ba902b7');
    expect(parseTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBeNull();
    expect(parseTraceparent('00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01')).toBeNull();
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01')).toBeNull();
    expect(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra')).toBeNull();
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra')).not.toBeNull();
    expect(parseTraceparent('short')).toBeNull();
  });
  it('parses B3 in both forms, traceparent first', () => {
    expect(parseB3('80F198EE56343BA8', 'e457b5a2e4d86bd1')!.traceId).toBe('80f198ee56343ba8');
    expect(parseB3('80f198ee56343ba8', 'e457b5a2')).toBeNull();
    expect(parseB3Single('80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1')!.spanId).toBe('e457b5a2e4d86bd1');
    expect(parseB3Single('garbage')).toBeNull();
    expect(traceIds('bad', '80f198ee56343ba8', 'e457b5a2e4d86bd1', null)!.traceId).toBe('80f198ee56343ba8');
    expect(traceIds(null, null, null, null)).toBeNull();
  });
});

describe('peer header', () => {
  it('round-trips and rejects malformed input', () => {
    const p = new PeerInfo();
    p.workload = 'sleep';
    p.namespace = 'de"fault';
    p.app = 'sleep';
    const back = decodePeer(p.encode())!;
    expect(back.workload).toBe('sleep');
    expect(back.namespace).toBe('de"fault');
    p.canonicalService = 'sleep';
    p.canonicalRevision = 'v1';
    expect(decodePeer(p.encode())!.canonicalRevision).toBe('v1');
    expect(decodePeer('%%%')).toBeNull();
    expect(decodePeer('')).toBeNull();
    expect(decodePeer('WzEsMl0=')).toBeNull(); // [1,2]
    expect(decodePeer('eyJ3b3JrbG9hZCI6MX0=')).toBeNull(); // {"workload":1}
    expect(decodePeer('e30=')!.workload).toBe(''); // {}
    expect(decodePeer('A'.repeat(5000))).toBeNull();
  });
});

describe('access log', () => {
  it('formats RFC 3339 UTC times', () => {
    expect(formatTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(formatTime(<u64>1795608027123 * 1_000_000)).toBe('2026-11-25T12:00:27.123Z');
    expect(formatTime(<u64>951782400000 * 1_000_000)).toBe('2000-02-29T00:00:00.000Z');
  });
  it('writes the chosen fields as one JSON object', () => {
    const f = new RequestFacts();
    f.method = 'GET';
    f.path = '/a"b';
    f.responseCode = 503;
    f.durationNs = 42_900_000;
    const labels = standardLabels(Reporter.Destination, new PeerInfo(), f);
    expect(accessLogLine([1, 2, 4, 8, 16, 9], f, labels)).toBe(
      '{"method":"GET","path":"/a\\"b","response_code":503,"duration":42,"request_id":null,"upstream_cluster":null}',
    );
  });
});

describe('config', () => {
  it('accepts defaults and Istio Telemetry overrides', () => {
    expect(cfg('')).toBe('ok');
    expect(cfg('{"reporter":"source","maxLabelSets":5,"accessLog":{"enabled":false}}')).toBe('ok');
    const grpc = parseTelemetryConfig(
      String.UTF8.encode('{"metrics":[{"overrides":[{"match":{"metric":"GRPC_RESPONSE_MESSAGES"},"disabled":true}]}]}'),
    ).config!;
    expect(grpc.metrics[<i32>MetricKind.ResponseMessages].enabled).toBe(false);
    expect(grpc.metrics[<i32>MetricKind.RequestMessages].enabled).toBe(true);
    const r = parseTelemetryConfig(
      String.UTF8.encode(
        '{"metrics":[{"overrides":[{"match":{"metric":"REQUEST_SIZE"},"disabled":true},{"tagOverrides":{"tier":{"value":"request.headers[\'x-tier\']"},"source_app":{"operation":"REMOVE"}}}]}]}',
      ),
    );
    const c = r.config!;
    expect(c.metrics[<i32>MetricKind.RequestSize].enabled).toBe(false);
    expect(c.metrics[<i32>MetricKind.RequestCount].enabled).toBe(true);
    const spec = c.metrics[<i32>MetricKind.RequestCount];
    expect(spec.labelNames.includes('source_app')).toBe(false);
    expect(spec.labelNames[spec.labelNames.length - 1]).toBe('tier');
    const labels = standardLabels(Reporter.Destination, new PeerInfo(), new RequestFacts());
    expect(spec.statName(labels, new RequestFacts(), new Headers()).includes(';tier=gold;istio_requests_total')).toBe(true);
  });
  it('names the JSON path of errors', () => {
    expect(cfg('{"reporter":1}')).toBe('$.reporter: expected string, got number');
    expect(cfg('{"metrics":[{"overrides":[{"match":{"customMetric":"x"}}]}]}')).toBe(
      '$.metrics[0].overrides[0].match.customMetric: custom metrics are not supported',
    );
    expect(cfg('{"accessLog":{"fields":["method","method"]}}')).toBe('$.accessLog.fields[1]: duplicate access log field "method"');
  });
  it('parses value expressions', () => {
    expect(parseValueExpression("request.headers['X-Tier']")!.name).toBe('x-tier');
    expect(parseValueExpression('response.headers["x-cache"]')!.kind).toBe(SourceKind.ResponseHeader);
    expect(parseValueExpression("request.auth.claims['sub']")!.kind).toBe(SourceKind.Claim);
    expect(parseValueExpression('request.auth.claims.group')!.name).toBe('group');
    expect(parseValueExpression("'const'")!.name).toBe('const');
    expect(parseValueExpression('request.method')!.kind).toBe(SourceKind.Attribute);
    expect(parseValueExpression("request.headers['a']+'b'")).toBeNull();
    expect(parseValueExpression("'a'b'")).toBeNull();
    expect(parseValueExpression('')).toBeNull();
  });
  it("parses nested claim paths in Istio's forms", () => {
    expect(parseClaimPath('[a][b]')!.join('/')).toBe('a/b');
    expect(parseClaimPath("['a']['b.c']")!.join('/')).toBe('a/b.c');
    expect(parseClaimPath('["a"].b[c]')!.join('/')).toBe('a/b/c');
    expect(parseClaimPath('.group')!.join('/')).toBe('group');
    expect(parseClaimPath('[https://example.com/roles]')!.join('/')).toBe('https://example.com/roles');
    expect(parseValueExpression('request.auth.claims[org][team]')!.path.join('/')).toBe('org/team');
    expect(parseValueExpression('request.auth.claims.org.team')!.path.join('/')).toBe('org/team');
    expect(parseClaimPath('')).toBeNull();
    expect(parseClaimPath('[]')).toBeNull();
    expect(parseClaimPath("['']")).toBeNull();
    expect(parseClaimPath('[a')).toBeNull();
    expect(parseClaimPath("['a]")).toBeNull();
    expect(parseClaimPath("['a'x]")).toBeNull();
    expect(parseClaimPath('.')).toBeNull();
    expect(parseClaimPath('.1a')).toBeNull();
    expect(parseClaimPath('[a]b')).toBeNull();
    expect(parseClaimPath('[a][b][c][d][e][f][g][h][i]')).toBeNull();
    expect(parseValueExpression('request.auth.claimsx')).toBeNull();
    expect(cfg('{"metrics":[{"overrides":[{"tagOverrides":{"t":{"value":"request.auth.claims[a]["}}}]}]}')).toBe(
      '$.metrics[0].overrides[0].tagOverrides.t.value: unsupported expression "request.auth.claims[a]["',
    );
  });
  it('reads nested and list claims from a JWT payload', () => {
    const p = parseJson(
      String.UTF8.encode(
        '{"sub":"alice","n":3,"ok":true,"org":{"team":"pay","tier":{"level":2},"x":null},' +
          '"groups":["admins","ops"],"mixed":["a",1,{"o":1},false],"empty":[],"objs":[{"a":1}]}',
      ),
    ).value;
    expect(claimValue(p, ['sub'])).toBe('alice');
    expect(claimValue(p, ['n'])).toBe('3');
    expect(claimValue(p, ['ok'])).toBe('true');
    expect(claimValue(p, ['org', 'team'])).toBe('pay');
    expect(claimValue(p, ['org', 'tier', 'level'])).toBe('2');
    expect(claimValue(p, ['groups'])).toBe('admins,ops');
    expect(claimValue(p, ['mixed'])).toBe('a,1,false');
    expect(claimValue(p, ['org'])).toBeNull();
    expect(claimValue(p, ['org', 'x'])).toBeNull();
    expect(claimValue(p, ['org', 'nope'])).toBeNull();
    expect(claimValue(p, ['sub', 'deeper'])).toBeNull();
    expect(claimValue(p, ['empty'])).toBeNull();
    expect(claimValue(p, ['objs'])).toBeNull();
    expect(claimValue(null, ['sub'])).toBeNull();
    expect(claimValue(parseJson(String.UTF8.encode('[1]')).value, ['sub'])).toBeNull();
  });
});

describe('series cap', () => {
  it('counts series up to the cap', () => {
    const t = new SeriesTable(2);
    expect(t.take()).toBe(true);
    expect(t.take()).toBe(true);
    expect(t.take()).toBe(false);
    expect(t.size).toBe(2);
  });
  it('finds label sets by hash and compares their values', () => {
    const sets = new LabelSets();
    const a = ['destination', 'sleep'];
    const b = ['destination', 'other'];
    expect(hashValue(hashValue(1, 'ab'), 'c')).not.toBe(hashValue(hashValue(1, 'a'), 'bc'));
    expect(sets.find(7, a)).toBeNull();
    const sa = sets.add(7, a);
    // A colliding hash with other values is another set; equal values in a new array are the same.
    expect(sets.find(7, b)).toBeNull();
    const sb = sets.add(7, b);
    expect(sets.find(7, ['destination', 'sleep'])).toBe(sa);
    expect(sets.find(7, b)).toBe(sb);
    expect(sets.find(8, a)).toBeNull();
    a[1] = 'changed';
    expect(sets.find(7, ['destination', 'sleep'])).toBe(sa);
  });
});
