// Pure TCP telemetry logic: the label set of a connection, principal namespaces, byte deltas, the config.
import { PeerInfo } from '../../telemetry/peer';
import { Reporter } from '../../telemetry/logic';
import {
  L_SOURCE_PRINCIPAL,
  L_SOURCE_WORKLOAD_NAMESPACE,
  L_DESTINATION_SERVICE,
  L_DESTINATION_SERVICE_NAME,
  L_DESTINATION_WORKLOAD_NAMESPACE,
  L_CONNECTION_SECURITY_POLICY,
  L_REQUEST_PROTOCOL,
} from '../../telemetry/labels';
import {
  ByteMeter,
  ConnectionFacts,
  TCP_LABEL_NAMES,
  namespaceOfPrincipal,
  tcpLabelKey,
  tcpOverflowKey,
  tcpStandardLabels,
} from '../logic';
import { parseTcpTelemetryConfig } from '../config';

function local(): PeerInfo {
  const p = new PeerInfo();
  p.workload = 'ratings-v1';
  p.namespace = 'shop';
  p.app = 'ratings';
  p.version = 'v1';
  p.canonicalService = 'ratings';
  p.canonicalRevision = 'v1';
  return p;
}

describe('tcp labels', () => {
  it('has the standard labels but response_code and grpc_response_status', () => {
    expect(TCP_LABEL_NAMES.length).toBe(23);
    expect(TCP_LABEL_NAMES.includes('response_code')).toBe(false);
    expect(TCP_LABEL_NAMES.includes('grpc_response_status')).toBe(false);
    expect(TCP_LABEL_NAMES[0]).toBe('reporter');
  });

  it('destination: the peer by its certificate, the service is our canonical service', () => {
    const f = new ConnectionFacts();
    f.mtls = true;
    f.peerPrincipal = 'spiffe://cluster.local/ns/front/sa/web';
    f.localPrincipal = 'spiffe://cluster.local/ns/shop/sa/ratings';
    const v = tcpStandardLabels(Reporter.Destination, local(), f);
    expect(v[L_REQUEST_PROTOCOL]).toBe('tcp');
    expect(v[L_SOURCE_PRINCIPAL]).toBe('spiffe://cluster.local/ns/front/sa/web');
    expect(v[L_SOURCE_WORKLOAD_NAMESPACE]).toBe('front');
    expect(v[L_DESTINATION_SERVICE]).toBe('ratings');
    expect(v[L_DESTINATION_SERVICE_NAME]).toBe('ratings');
    expect(v[L_CONNECTION_SECURITY_POLICY]).toBe('mutual_tls');
  });

  it('destination without mTLS: unknown peer, policy none', () => {
    const v = tcpStandardLabels(Reporter.Destination, local(), new ConnectionFacts());
    expect(v[L_SOURCE_PRINCIPAL]).toBe('unknown');
    expect(v[L_SOURCE_WORKLOAD_NAMESPACE]).toBe('unknown');
    expect(v[L_CONNECTION_SECURITY_POLICY]).toBe('none');
  });

  it('source: the service from the cluster name, the peer namespace from its certificate', () => {
    const f = new ConnectionFacts();
    f.upstreamCluster = 'outbound|5432||db.data.svc.cluster.local';
    f.mtls = true;
    f.peerPrincipal = 'spiffe://cluster.local/ns/data/sa/db';
    const v = tcpStandardLabels(Reporter.Source, local(), f);
    expect(v[L_DESTINATION_SERVICE]).toBe('db.data.svc.cluster.local');
    expect(v[L_DESTINATION_SERVICE_NAME]).toBe('db');
    expect(v[L_DESTINATION_WORKLOAD_NAMESPACE]).toBe('data');
    expect(v[L_CONNECTION_SECURITY_POLICY]).toBe('unknown');
  });

  it('encodes keys and folds to other past the cap', () => {
    const v = tcpStandardLabels(Reporter.Destination, local(), new ConnectionFacts());
    expect(tcpLabelKey(v).startsWith('reporter=destination;source_workload=unknown;')).toBe(true);
    expect(tcpLabelKey(v).endsWith(';connection_security_policy=none;')).toBe(true);
    expect(tcpOverflowKey(v).startsWith('reporter=destination;source_workload=other;')).toBe(true);
  });
});

describe('namespaceOfPrincipal', () => {
  it('reads /ns/<namespace>/ as Istio', () => {
    expect(namespaceOfPrincipal('spiffe://td/ns/a/sa/b')).toBe('a');
    expect(namespaceOfPrincipal('spiffe://td/ns/a')).toBe('a');
    expect(namespaceOfPrincipal('spiffe://td/sa/b')).toBe('');
    expect(namespaceOfPrincipal('')).toBe('');
  });
});

describe('ByteMeter', () => {
  it('reports deltas', () => {
    const m = new ByteMeter();
    m.received += 10;
    m.sent += 3;
    expect(m.takeReceived()).toBe(10);
    expect(m.takeReceived()).toBe(0);
    m.received += 5;
    expect(m.takeReceived()).toBe(5);
    expect(m.takeSent()).toBe(3);
  });
});

describe('tcp config', () => {
  it('defaults and bounds', () => {
    const ok = parseTcpTelemetryConfig(String.UTF8.encode('{}'));
    expect(ok.config!.reportingIntervalMs).toBe(5000);
    expect(ok.config!.reporter).toBe(Reporter.Destination);
    const bad = parseTcpTelemetryConfig(String.UTF8.encode('{"reporter":"client"}'));
    expect(bad.config).toBeNull();
    expect(bad.error).toBe('$.reporter: expected "source" or "destination", got "client"');
    const unknown = parseTcpTelemetryConfig(String.UTF8.encode('{"interval":1}'));
    expect(unknown.error).toBe('$: unknown field "interval"');
    const range = parseTcpTelemetryConfig(String.UTF8.encode('{"reportingIntervalMs":-1}'));
    expect(range.config).toBeNull();
  });
});
