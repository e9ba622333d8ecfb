// as-pect tests of MeshConfig trust domains: pilot's own ReplaceTrustDomainAliases cases
// (pilot/pkg/security/trustdomain/bundle_test.go), the config's validation, and a DENY with
// notPrincipals that must cover every alias. No host calls.
import { TrustDomains } from '../trustdomain';
import { parseAuthzConfig, AuthzConfig } from '../config';
import { RequestInfo, evaluate } from '../policy';

function bundle(td: string, aliases: string[]): TrustDomains {
  const d = [td];
  for (let i = 0; i < aliases.length; i++) d.push(aliases[i]);
  return new TrustDomains(d);
}

function expand(td: string, aliases: string[], principals: string[]): string {
  return bundle(td, aliases).expand(principals).join(',');
}

function parse(json: string): AuthzConfig {
  const r = parseAuthzConfig(String.UTF8.encode(json));
  if (r.config === null) throw new Error(r.error);
  return r.config as AuthzConfig;
}

function error(json: string): string {
  return parseAuthzConfig(String.UTF8.encode(json)).error;
}

function peer(san: string): RequestInfo {
  const r = new RequestInfo();
  r.method = 'GET';
  r.path = '/';
  r.host = 'x';
  r.peerIds = [san];
  return r;
}

describe("pilot's ReplaceTrustDomainAliases cases", () => {
  it('no aliases: unchanged', () => {
    expect(expand('cluster.local', [], ['cluster.local/ns/foo/sa/bar'])).toBe('cluster.local/ns/foo/sa/bar');
    expect(expand('cluster.local', [], ['*'])).toBe('*');
    expect(expand('cluster.local', [], ['*/ns/foo/sa/bar'])).toBe('*/ns/foo/sa/bar');
  });
  it('one alias', () => {
    expect(expand('td2', ['td1'], ['td1/ns/foo/sa/bar'])).toBe('td2/ns/foo/sa/bar,td1/ns/foo/sa/bar');
    expect(expand('td1', ['cluster.local'], ['cluster.local/ns/foo/sa/bar', 'cluster.local/ns/yyy/sa/zzz'])).toBe(
      'td1/ns/foo/sa/bar,cluster.local/ns/foo/sa/bar,td1/ns/yyy/sa/zzz,cluster.local/ns/yyy/sa/zzz',
    );
    expect(expand('td1', ['cluster.local'], ['*/ns/foo/sa/bar', '*sa/zzz', '*'])).toBe('*/ns/foo/sa/bar,*sa/zzz,*');
  });
  it('two aliases', () => {
    expect(expand('td2', ['td1', 'cluster.local'], ['cluster.local/ns/foo/sa/bar', 'td1/ns/yyy/sa/zzz'])).toBe(
      'td2/ns/foo/sa/bar,td1/ns/foo/sa/bar,cluster.local/ns/foo/sa/bar,td2/ns/yyy/sa/zzz,td1/ns/yyy/sa/zzz,cluster.local/ns/yyy/sa/zzz',
    );
    expect(expand('td2', ['foo-td1', 'cluster.local'], ['*-td1/ns/foo/sa/bar'])).toBe(
      'td2/ns/foo/sa/bar,*-td1/ns/foo/sa/bar,cluster.local/ns/foo/sa/bar',
    );
  });
  it('other trust domains are kept as written', () => {
    expect(expand('td1', ['td2'], ['some-td/ns/foo/sa/bar'])).toBe('some-td/ns/foo/sa/bar');
    expect(expand('td1', ['td2', 'some-td'], ['some-td/ns/foo/sa/bar'])).toBe('td1/ns/foo/sa/bar,td2/ns/foo/sa/bar,some-td/ns/foo/sa/bar');
    expect(expand('new-td', ['td2', 'td3'], ['td1/ns/some-ns/sa/some-sa', 'td2/ns/foo/sa/bar'])).toBe(
      'td1/ns/some-ns/sa/some-sa,new-td/ns/foo/sa/bar,td2/ns/foo/sa/bar,td3/ns/foo/sa/bar',
    );
    expect(expand('new-td', ['td2', 'td3'], ['/ns/some-ns/sa/some-sa'])).toBe('/ns/some-ns/sa/some-sa');
  });
  it('a * trust domain covering several is kept once', () => {
    expect(expand('new-td', ['old-td'], ['*-td/ns/some-ns/sa/some-sa'])).toBe('*-td/ns/some-ns/sa/some-sa');
  });
  it('cluster.local means the mesh trust domain even without aliases', () => {
    expect(expand('td2.example', [], ['cluster.local/ns/a/sa/b'])).toBe('td2.example/ns/a/sa/b');
  });
});

describe('trust domain config', () => {
  it('rejects bad values naming the JSON path', () => {
    expect(error('{"asmesh":{"trustDomain":""}}')).toBe('$.asmesh.trustDomain: empty trust domain');
    expect(error('{"asmesh":{"trustDomain":7}}')).toBe('$.asmesh.trustDomain: expected string, got number');
    expect(error('{"asmesh":{"trustDomainAliases":["ok.example","Bad/td"]}}')).toBe(
      '$.asmesh.trustDomainAliases[1]: "Bad/td" is not a trust domain (lowercase letters, digits, ".", "-", "_")',
    );
    expect(error('{"asmesh":{"trustDomainAliases":"td1"}}')).toBe('$.asmesh.trustDomainAliases: expected array, got string');
  });
  it('a DENY on notPrincipals spares the principal in every alias, and only there', () => {
    const c = parse(
      '{"asmesh":{"trustDomain":"td2.example","trustDomainAliases":["old.example"]},' +
        '"policies":[{"name":"d","action":"DENY","rules":[{"from":[{"source":{"notPrincipals":["cluster.local/ns/a/sa/ok"]}}]}]}]}',
    );
    expect(evaluate(c.policies, peer('spiffe://td2.example/ns/a/sa/ok')).allowed).toBe(true);
    expect(evaluate(c.policies, peer('spiffe://old.example/ns/a/sa/ok')).allowed).toBe(true);
    expect(evaluate(c.policies, peer('spiffe://cluster.local/ns/a/sa/ok')).allowed).toBe(false);
    expect(evaluate(c.policies, peer('spiffe://other.example/ns/a/sa/ok')).allowed).toBe(false);
    expect(evaluate(c.policies, peer('spiffe://td2.example/ns/a/sa/bad')).allowed).toBe(false);
  });
  it('source.principal conditions are expanded too', () => {
    const c = parse(
      '{"asmesh":{"trustDomain":"td2.example","trustDomainAliases":["old.example"]},' +
        '"policies":[{"name":"a","action":"ALLOW","rules":[{"when":[{"key":"source.principal","values":["old.example/ns/a/sa/x"]}]}]}]}',
    );
    expect(evaluate(c.policies, peer('spiffe://td2.example/ns/a/sa/x')).allowed).toBe(true);
    expect(evaluate(c.policies, peer('spiffe://old.example/ns/a/sa/x')).allowed).toBe(true);
    expect(evaluate(c.policies, peer('spiffe://cluster.local/ns/a/sa/x')).allowed).toBe(false);
  });
});
