import {
  DecodedQueryParams,
  cookieValue,
  hostOfAuthority,
  ipOfAddress,
  pathWithoutQuery,
  pathWithoutQueryOrFragment,
  percentDecode,
  queryOf,
  queryParams,
} from '../lib/http';
import { encodeMetricName, statLabelValue } from '../lib/stats';

describe('request parsing helpers', () => {
  it('takes the host of an authority without its port', () => {
    expect(hostOfAuthority('svc.ns:8080')).toBe('svc.ns');
    expect(hostOfAuthority('Svc')).toBe('Svc');
    expect(hostOfAuthority('[::1]:80')).toBe('[::1]');
    expect(hostOfAuthority('[::1')).toBe('[::1');
    expect(hostOfAuthority('[::1]')).toBe('[::1]');
    expect(hostOfAuthority('::1')).toBe('::1');
    expect(hostOfAuthority('fd00::1:8080')).toBe('fd00::1:8080');
    expect(hostOfAuthority('')).toBe('');
    expect(hostOfAuthority(':80')).toBe('');
    expect(hostOfAuthority('svc:')).toBe('svc');
  });
  it('takes the IP of an Envoy address without port or brackets', () => {
    expect(ipOfAddress('10.0.0.1:8080')).toBe('10.0.0.1');
    expect(ipOfAddress('10.0.0.1')).toBe('10.0.0.1');
    expect(ipOfAddress('[::1]:80')).toBe('::1');
    expect(ipOfAddress('[::1]')).toBe('::1');
    expect(ipOfAddress('::1')).toBe('::1');
    expect(ipOfAddress('[::1')).toBe('[::1');
    expect(ipOfAddress('[]:80')).toBe('');
    expect(ipOfAddress('')).toBe('');
    expect(ipOfAddress(':80')).toBe('');
  });
  it("reads a cookie as Envoy's parseCookieValue", () => {
    expect(cookieValue(['a=1; session=abc; b=2'], 'session')).toBe('abc');
    expect(cookieValue(['session="q"'], 'session')).toBe('q');
    expect(cookieValue(['session="'], 'session')).toBe('"');
    expect(cookieValue(['xsession=abc'], 'session')).toBeNull();
    expect(cookieValue([], 'session')).toBeNull();
    expect(cookieValue(['a=1', 'session=2', 'session=3'], 'session')).toBe('2');
    expect(cookieValue(['session=', 'session=3'], 'session')).toBe('');
    expect(cookieValue(['flag; ;session=x=y'], 'session')).toBe('x=y');
    // Only leading spaces are skipped; the name is not trimmed, the value kept as sent.
    expect(cookieValue(['a=1;\tsession=abc'], 'session')).toBeNull();
    expect(cookieValue(['session =abc'], 'session')).toBeNull();
    expect(cookieValue(['  session= abc '], 'session')).toBe(' abc ');
  });
  it('splits path and query', () => {
    expect(pathWithoutQuery('/a/b?c=1?d')).toBe('/a/b');
    expect(queryOf('/a/b?c=1?d')).toBe('c=1?d');
    expect(queryOf('/a')).toBe('');
  });
  it('drops query and fragment, whichever comes first', () => {
    expect(pathWithoutQueryOrFragment('/a#f?b')).toBe('/a');
    expect(pathWithoutQueryOrFragment('/a?b#f')).toBe('/a');
    expect(pathWithoutQueryOrFragment('/a')).toBe('/a');
  });
  it('percent-decodes valid escapes only', () => {
    expect(percentDecode('a%20b%2')).toBe('a b%2');
    expect(percentDecode('%zz+')).toBe('%zz+');
  });
  it('decodes and sorts query parameters as Envoy rebuilds them', () => {
    const q = DecodedQueryParams.parse('/p?b=2&t%6Fk=x%2Ey&a=1&b=3');
    expect(q.first('tok')).toBe('x.y');
    q.remove('tok');
    expect(q.replaceIn('/p?b=2&t%6Fk=x%2Ey&a=1&b=3')).toBe('/p?a=1&b=2&b=3');
    expect(DecodedQueryParams.parse('/p?tok=1').replaceIn('/p?tok=1')).toBe('/p?tok=1');
    const empty = DecodedQueryParams.parse('/p?tok=1');
    empty.remove('tok');
    expect(empty.replaceIn('/p?tok=1')).toBe('/p');
  });
  it('keeps the first raw value of each query parameter', () => {
    const p = queryParams('a=1&&b&a=2&c=x%20y+z&=e');
    expect(p.get('a')).toBe('1');
    expect(p.get('b')).toBe('');
    expect(p.get('c')).toBe('x%20y+z');
    expect(p.get('')).toBe('e');
    expect(p.has('d')).toBe(false);
  });
});

describe('stat names with labels', () => {
  it('makes label values safe and cuts them at 256 characters; empty stays empty', () => {
    expect(statLabelValue('a;b=c\nd')).toBe('a_b_c_d');
    expect(statLabelValue('')).toBe('');
    expect(statLabelValue('z'.repeat(300)).length).toBe(256);
  });
  it('encodes labels before the metric name', () => {
    expect(encodeMetricName('m', ['route', 'subset'], ['0', 'v2'])).toBe('route=0;subset=v2;m');
    expect(encodeMetricName('m', [], [])).toBe('m');
  });
});
