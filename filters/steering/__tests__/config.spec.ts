import { parseSteeringConfig, renderCluster, templateProblem, SteeringConfig } from '../config';
import { parseDurationMs } from '../../../assembly/lib/duration';

function ok(json: string): SteeringConfig {
  const r = parseSteeringConfig(String.UTF8.encode(json));
  if (r.config === null) throw new Error(r.error);
  return r.config as SteeringConfig;
}

function err(json: string): string {
  return parseSteeringConfig(String.UTF8.encode(json)).error;
}

const ROUTE = '"route":[{"destination":{"host":"service_b","subset":"v1"}}]';

describe('steering config', () => {
  it('asmesh.chained: off by default, a boolean (translate sets it on every steering filter after the first)', () => {
    expect(ok('{"hosts":["h"],"http":[{' + ROUTE + '}]}').chained).toBe(false);
    expect(ok('{"hosts":["h"],"http":[{' + ROUTE + '}],"asmesh":{"chained":true}}').chained).toBe(true);
    expect(err('{"hosts":["h"],"http":[{' + ROUTE + '}],"asmesh":{"chained":"yes"}}')).toBe(
      '$.asmesh.chained: expected boolean, got string',
    );
  });
  it('parses the Istio sample shape; renders cluster names', () => {
    const c = ok(
      '{"hosts":["service_b"],"http":[{"match":[{"headers":{"end-user":{"exact":"jason"}}}],"route":[{"destination":{"host":"service_b","subset":"v2"}}]},{' +
        ROUTE +
        '}]}',
    );
    expect(c.routes.length).toBe(2);
    expect(c.routes[0].label).toBe('0');
    expect(c.routes[0].matches[0].headers[0].name).toBe('end-user');
    expect(c.routes[0].destinations[0].weight).toBe(0); // absent: 0 (a single destination's is never read)
    expect(c.routes[1].destinations[0].cluster).toBe('outbound|80|v1|service_b');
    expect(c.routes[0].index).toBe(0);
    expect(c.routes[1].index).toBe(1);
  });

  it('port, template, default port', () => {
    const c = ok(
      '{"asmesh":{"clusterName":"{host}.{subset}:{port}","defaultPort":9080},"hosts":["h"],"http":[{"name":"r","route":[{"destination":{"host":"h","subset":"a"},"weight":50},{"destination":{"host":"h","port":{"number":7000}},"weight":50}]}]}',
    );
    expect(c.routes[0].label).toBe('r');
    expect(c.routes[0].destinations[0].cluster).toBe('h.a:9080');
    expect(c.routes[0].destinations[1].cluster).toBe('h.:7000');
  });

  it('weights as Istio validates them (pkg/config/validation) and Envoy accepts them', () => {
    const W = (ws: string[]): string =>
      '{"hosts":["h"],"http":[{"route":[' +
      ws
        .map<string>(
          (w, i) => '{"destination":{"host":"h","subset":"s' + i.toString() + '"}' + (w.length > 0 ? ',"weight":' + w : '') + '}',
        )
        .join(',') +
      ']}]}';
    // any positive total; absent = 0
    expect(ok(W(['60', '30'])).routes[0].totalWeight).toBe(90);
    expect(ok(W(['1', '2', '4'])).routes[0].totalWeight).toBe(7);
    expect(ok(W(['60', ''])).routes[0].totalWeight).toBe(60);
    expect(ok(W(['0', '250'])).routes[0].totalWeight).toBe(250);
    expect(ok(W(['2147483647', '2147483647', '1'])).routes[0].totalWeight).toBe(4294967295);
    // a single destination: any weight >= 0, never read
    expect(ok(W(['0'])).routes[0].totalWeight).toBe(0);
    expect(ok(W([''])).routes[0].totalWeight).toBe(0);
    expect(ok(W(['250'])).routes[0].totalWeight).toBe(250);
    // rejected: all zero (Istio), negative or past int32 (Istio), a total past uint32 (Envoy)
    expect(err(W(['', '']))).toBe('$.http[0].route: total destination weight = 0 (Istio rejects it)');
    expect(err(W(['0', '0', '0']))).toBe('$.http[0].route: total destination weight = 0 (Istio rejects it)');
    expect(err(W(['-5']))).toBe('$.http[0].route[0].weight: -5 is outside [0, 2147483647]');
    expect(err(W(['10', '-5']))).toBe('$.http[0].route[1].weight: -5 is outside [0, 2147483647]');
    expect(err(W(['2147483648', '1']))).toBe('$.http[0].route[0].weight: 2147483648 is outside [0, 2147483647]');
    expect(err(W(['1.5', '1']))).toBe('$.http[0].route[0].weight: expected an integer, got 1.5');
    expect(err(W(['2147483647', '2147483647', '2']))).toBe(
      '$.http[0].route: weights sum to 4294967296, more than 4294967295 (Envoy rejects the route)',
    );
  });

  it('errors name the JSON path', () => {
    expect(err('{"hosts":["h"],"http":[{"route":[{"destination":{"host":"h"},"weight":0},{"destination":{"host":"h"}}]}]}')).toBe(
      '$.http[0].route: total destination weight = 0 (Istio rejects it)',
    );
    expect(err('{"hosts":["h"],"http":[{"route":[{"destination":{"host":"h"},"weight":-1}]}]}')).toBe(
      '$.http[0].route[0].weight: -1 is outside [0, 2147483647]',
    );
    expect(err('{"hosts":[],"http":[]}')).toBe('$.hosts: must list at least one host');
    expect(err('{"hosts":["h"],"http":[{"match":[{"uri":{"exact":"/a","prefix":"/b"}}],' + ROUTE + '}]}')).toBe(
      '$.http[0].match[0].uri: set only one of exact, prefix, regex',
    );
    expect(err('{"hosts":["h"],"http":[{"match":[{"headers":{"x":{"prefix":""}}}],' + ROUTE + '}]}')).toBe(
      '$.http[0].match[0].headers.x.prefix: must not be empty (Istio rejects an empty prefix)',
    );
    expect(err('{"hosts":["h"],"http":[{"match":[{"uri":{"regex":""}}],' + ROUTE + '}]}')).toBe(
      '$.http[0].match[0].uri.regex: must not be empty (Istio rejects an empty regex)',
    );
    expect(err('{"hosts":["h"],"http":[{"match":[{"uri":{"exact":"/a","regex":"/b"}}],' + ROUTE + '}]}')).toBe(
      '$.http[0].match[0].uri: set only one of exact, prefix, regex',
    );
    expect(err('{"hosts":["h"],"http":[{"match":[{"headers":{"@request.auth.claims.group":{"exact":"a"}}}],' + ROUTE + '}]}')).toBe(
      '$.http[0].match[0].headers["@request.auth.claims.group"]: JWT claim matches are not supported by asmesh steering',
    );
    expect(err('{"hosts":["h"],"http":[{"match":[{"queryParams":{"v":{"prefix":"1"}}}],' + ROUTE + '}]}')).toBe(
      '$.http[0].match[0].queryParams.v.prefix: prefix is not supported for query parameters (Istio: exact or regex)',
    );
    expect(err('{"hosts":["h"],"http":[{"match":[{"sourceLabels":{"app":"a"}}],' + ROUTE + '}]}')).toBe(
      '$.http[0].match[0].sourceLabels: not supported by asmesh steering',
    );
    expect(err('{"hosts":["h"],"http":[{"match":[{"port":0}],' + ROUTE + '}]}')).toBe('$.http[0].match[0].port: 0 is outside [1, 65535]');
    expect(err('{"hosts":["h"],"http":[{' + ROUTE + ',"headers":{"request":{"set":{"x-asmesh-cluster":"x"}}}}]}')).toBe(
      '$.http[0].headers.request.set.x-asmesh-cluster: x-asmesh-cluster is written by the filter itself',
    );
    expect(err('{"hosts":["h"],"http":[{' + ROUTE + ',"headers":{"request":{"set":{"x":"a\\nb"}}}}]}')).toBe(
      '$.http[0].headers.request.set.x: header value contains NUL, CR or LF',
    );
    expect(err('{"hosts":["h"],"asmesh":{"clusterName":"{cluster}"}}')).toBe(
      '$.asmesh.clusterName: unknown placeholder {cluster} (use {host}, {fqdn}, {subset}, {port})',
    );
    expect(err('{"hosts":["h"],"asmesh":{"stickyKey":{"header":"a","cookie":"b"}}}')).toBe(
      '$.asmesh.stickyKey: set exactly one of header, cookie',
    );
    expect(err('{"hosts":["h"],"tcp":[{"route":[]}]}')).toBe('$.tcp: not supported by asmesh steering (HTTP routes only)');
    expect(err('{"hosts":["h"],"http":[{"fault":{},' + ROUTE + '}]}')).toBe('$.http[0].fault: set delay or abort');
    expect(err('{"hosts":["h"],"http":[{"fault":{"abort":{"httpStatus":503,"percentage":{"value":101}}},' + ROUTE + '}]}')).toBe(
      '$.http[0].fault.abort.percentage.value: 101 is outside [0.0, 100.0]',
    );
    expect(err('{"hosts":["h"],"http":[{"fault":{"abort":{"grpcStatus":"UNAVAIL"}},' + ROUTE + '}]}')).toBe(
      '$.http[0].fault.abort.grpcStatus: not a gRPC status name (e.g. UNAVAILABLE)',
    );
    expect(err('{"hosts":["h"],"http":[{"fault":{"abort":{"grpcStatus":"UNAVAILABLE","httpStatus":503}},' + ROUTE + '}]}')).toBe(
      '$.http[0].fault.abort: set one of httpStatus, grpcStatus',
    );
    expect(err('{"hosts":["h"],"http":[{"fault":{"abort":{"http2Error":"CANCEL"}},' + ROUTE + '}]}')).toBe(
      '$.http[0].fault.abort.http2Error: not supported by asmesh steering (use httpStatus or grpcStatus)',
    );
    expect(err('{"hosts":["h"],"http":[{"route":[]}]}')).toBe('$.http[0].route: must list at least one destination');
    expect(err('{"hosts":["h"],"http":[{"match":[]}]}')).toBe('$.http[0].route: required');
  });

  it("fault.abort.grpcStatus: HTTP 200 with the gRPC status (Envoy's fault filter)", () => {
    const f = ok('{"hosts":["h"],"http":[{"fault":{"abort":{"grpcStatus":"UNAVAILABLE"}},' + ROUTE + '}]}').routes[0].fault!;
    expect(f.abortStatus).toBe(200);
    expect(f.abortGrpcStatus).toBe(14);
    const h = ok('{"hosts":["h"],"http":[{"fault":{"abort":{"httpStatus":503}},' + ROUTE + '}]}').routes[0].fault!;
    expect(h.abortGrpcStatus).toBe(-1);
  });

  it('durations', () => {
    expect(parseDurationMs('5s')).toBe(5000);
    expect(parseDurationMs('0.5s')).toBe(500);
    expect(parseDurationMs('1.25s')).toBe(1250);
    expect(parseDurationMs('100ms')).toBe(100);
    expect(parseDurationMs('1m')).toBe(60000);
    expect(parseDurationMs('1500us')).toBe(2);
    expect(parseDurationMs('5')).toBe(-1);
    expect(parseDurationMs('s')).toBe(-1);
    expect(parseDurationMs('1.2.3s')).toBe(-1);
    expect(parseDurationMs('-1s')).toBe(-1);
  });

  it('templates', () => {
    expect(templateProblem('outbound|{port}|{subset}|{host}')).toBe('');
    expect(templateProblem('{host')).toBe('unclosed { in template');
    expect(renderCluster('outbound|{port}|{subset}|{host}', 'b', 'b.default.svc.cluster.local', '', 80)).toBe('outbound|80||b');
    expect(renderCluster('outbound|{port}|{subset}|{fqdn}', 'b', 'b.default.svc.cluster.local', 'v1', 80)).toBe(
      'outbound|80|v1|b.default.svc.cluster.local',
    );
  });

  it("header operations: what Istio's translation makes of host, pseudo-headers, empty values, %", () => {
    const ops = (h: string): string => err('{"hosts":["h"],"http":[{"headers":{"request":' + h + '},' + ROUTE + '}]}');
    expect(ops('{"set":{"host":"x"}}')).toBe(
      '$.http[0].headers.request.set.host: host (Istio: an authority rewrite) is not supported by asmesh steering',
    );
    expect(ops('{"add":{":authority":"x"}}')).toBe(
      '$.http[0].headers.request.add[":authority"]: :authority (Istio: an authority rewrite) is not supported by asmesh steering',
    );
    expect(ops('{"set":{"x":"100%"}}')).toBe(
      '$.http[0].headers.request.set.x: a % (an Envoy formatter) is not supported by asmesh steering',
    );
    const c = ok(
      '{"hosts":["h"],"http":[{"headers":{"request":{"set":{"a":"","b":"1"},"add":{"c":""},"remove":["host",":path","d"]}},' +
        ROUTE +
        '}]}',
    );
    const r = c.routes[0].requestOps!;
    expect(r.toSet.length).toBe(1); // Envoy drops a set/add with an empty value
    expect(r.toSet[0].name).toBe('b');
    expect(r.toAdd.length).toBe(0);
    expect(r.toRemove.length).toBe(1); // Istio drops removes of host and pseudo-headers
    expect(r.toRemove[0]).toBe('d');
  });
});
