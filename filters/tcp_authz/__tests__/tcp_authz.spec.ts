// as-pect tests of tcp_authz's configuration: authz's policies as pilot builds them for a TCP chain
// (pilot/pkg/security/authz/model Generate forTCP + checkError). No host calls.
import { AuthzConfig } from '../../authz/config';
import { RequestInfo, evaluate } from '../../authz/policy';
import { parseTcpAuthzConfig } from '../config';

function config(policies: string): AuthzConfig {
  const r = parseTcpAuthzConfig(String.UTF8.encode('{"policies":' + policies + '}'));
  if (r.config === null) throw new Error(r.error);
  return r.config as AuthzConfig;
}

function conn(san: string, port: i32 = 5432, ip: string = '127.0.0.1'): RequestInfo {
  const r = new RequestInfo();
  r.peerIds = san.length > 0 ? [san, ''] : [];
  r.destPort = port;
  r.sourceIp = ip;
  r.remoteIp = ip;
  return r;
}

function allows(policies: string, r: RequestInfo): bool {
  return evaluate(config(policies).policies, r).allowed;
}

const FOO = 'spiffe://cluster.local/ns/foo/sa/x';
const BAR = 'spiffe://cluster.local/ns/bar/sa/y';

describe('tcp_authz: ALLOW rules with an HTTP-only field are skipped', () => {
  it('a rule on methods is dropped; the rule on principals stays', () => {
    const p =
      '[{"name":"a","rules":[{"to":[{"operation":{"methods":["GET"]}}]},{"from":[{"source":{"principals":["cluster.local/ns/foo/sa/x"]}}]}]}]';
    expect(allows(p, conn(FOO))).toBe(true);
    expect(allows(p, conn(BAR))).toBe(false);
    expect(config(p).policies[0].rules.length).toBe(1);
  });
  it('an ALLOW whose every rule is HTTP-only allows nothing (pilot: an ALLOW rbac without policies)', () => {
    const fields: string[] = [
      '{"to":[{"operation":{"paths":["/x"]}}]}',
      '{"to":[{"operation":{"hosts":["*"]}}]}',
      '{"from":[{"source":{"requestPrincipals":["*"]}}]}',
      '{"from":[{"source":{"notRequestPrincipals":["x/y"]}}]}',
      '{"when":[{"key":"request.headers[x]","notValues":["a"]}]}',
      '{"when":[{"key":"request.auth.claims[iss]","values":["a"]}]}',
      '{"when":[{"key":"request.auth.audiences","values":["a"]}]}',
      '{"when":[{"key":"request.auth.principal","values":["a/b"]}]}',
      '{"when":[{"key":"request.auth.presenter","values":["a"]}]}',
      '{"to":[{"operation":{"ports":["5432"],"notMethods":["GET"]}}]}',
    ];
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      expect(allows('[{"name":"a","rules":[' + f + ']}]', conn(FOO))).toBe(false, f);
    }
  });
  it('a second ALLOW still allows', () => {
    const p =
      '[{"name":"a","rules":[{"to":[{"operation":{"methods":["GET"]}}]}]},{"name":"b","rules":[{"to":[{"operation":{"ports":["5432"]}}]}]}]';
    expect(allows(p, conn(FOO, 5432))).toBe(true);
    expect(allows(p, conn(FOO, 5433))).toBe(false);
  });
});

describe('tcp_authz: DENY rules lose their HTTP-only fields (a wider deny)', () => {
  it('DENY requestPrincipals * denies every connection', () => {
    expect(allows('[{"name":"d","action":"DENY","rules":[{"from":[{"source":{"requestPrincipals":["*"]}}]}]}]', conn(FOO))).toBe(false);
  });
  it('DENY paths + ports: only the port is left', () => {
    const p = '[{"name":"d","action":"DENY","rules":[{"to":[{"operation":{"paths":["/x"],"ports":["5432"]}}]}]}]';
    expect(allows(p, conn(FOO, 5432))).toBe(false);
    expect(allows(p, conn(FOO, 5433))).toBe(true);
  });
  it('DENY notValues of a header condition are dropped, not negated; namespaces kept', () => {
    const p =
      '[{"name":"d","action":"DENY","rules":[{"from":[{"source":{"namespaces":["bar"]}}],"when":[{"key":"request.headers[x]","notValues":["a"]}]}]}]';
    expect(allows(p, conn(BAR))).toBe(false);
    expect(allows(p, conn(FOO))).toBe(true);
    expect(allows(p, conn(''))).toBe(true);
  });
  it('AUDIT is reported, never decides', () => {
    const d = evaluate(config('[{"name":"au","action":"AUDIT","rules":[{"to":[{"operation":{"methods":["GET"]}}]}]}]').policies, conn(FOO));
    expect(d.allowed).toBe(true);
    expect(d.audited.length).toBe(1);
  });
  it('ipBlocks and notPrincipals keep their meaning', () => {
    const p =
      '[{"name":"d","action":"DENY","rules":[{"from":[{"source":{"ipBlocks":["10.0.0.0/8"],"notPrincipals":["cluster.local/ns/foo/*"]}}]}]}]';
    expect(allows(p, conn(BAR, 5432, '10.1.2.3'))).toBe(false);
    expect(allows(p, conn(FOO, 5432, '10.1.2.3'))).toBe(true);
    expect(allows(p, conn(BAR, 5432, '127.0.0.1'))).toBe(true);
  });
});

describe('tcp_authz: asmesh.port is the port policies see', () => {
  it('parsed, range-checked', () => {
    const r = parseTcpAuthzConfig(String.UTF8.encode('{"policies":[],"asmesh":{"port":9000}}'));
    expect((r.config as AuthzConfig).port).toBe(9000);
    expect(parseTcpAuthzConfig(String.UTF8.encode('{"policies":[],"asmesh":{"port":0}}')).config).toBeNull();
    expect((config('[]') as AuthzConfig).port).toBe(-1);
  });
});

describe('tcp_authz: configuration errors as authz', () => {
  it('names the JSON path', () => {
    const r = parseTcpAuthzConfig(String.UTF8.encode('{"policies":[{"name":"a","rules":[{"from":[{"source":{"ipBlocks":["nope"]}}]}]}]}'));
    expect(r.config).toBeNull();
    expect(r.error).toBe('$.policies[0].rules[0].from[0].source.ipBlocks[0]: "nope" is not an IP address or CIDR block');
    const c = parseTcpAuthzConfig(String.UTF8.encode('{"policies":[{"name":"a","action":"CUSTOM","provider":{"name":"x"}}]}'));
    expect(c.config).toBeNull();
  });
});
