import { StringMatcher, MatchKind, asciiLower } from '../lib/matchers';
import { Regex } from '../lib/regex';

describe('string matchers', () => {
  it('exact, prefix, suffix, contains', () => {
    expect(StringMatcher.exact('jason').matches('jason')).toBe(true);
    expect(StringMatcher.exact('jason').matches('Jason')).toBe(false);
    expect(StringMatcher.exact('jason').matches(null)).toBe(false);
    expect(StringMatcher.prefix('/api').matches('/api/x')).toBe(true);
    expect(StringMatcher.prefix('/api').matches('/ap')).toBe(false);
    expect(StringMatcher.suffix('.js').matches('/a.js')).toBe(true);
    expect(StringMatcher.suffix('.js').matches('/a.jsx')).toBe(false);
    expect(StringMatcher.contains('bc').matches('abcd')).toBe(true);
    expect(StringMatcher.contains('bc').matches('acbd')).toBe(false);
  });

  it('ignoreCase folds ASCII on exact and prefix', () => {
    expect(StringMatcher.exact('/Login', true).matches('/LOGIN')).toBe(true);
    expect(StringMatcher.prefix('/API', true).matches('/api/users')).toBe(true);
    expect(StringMatcher.prefix('/API', false).matches('/api/users')).toBe(false);
    expect(asciiLower('AbC-é')).toBe('abc-é');
    expect(asciiLower('abc')).toBe('abc');
  });

  it('regex is a full match; present matches any value but not absence', () => {
    const m = StringMatcher.regex(Regex.compile('v[12]').regex as Regex);
    expect(m.kind).toBe(MatchKind.Regex);
    expect(m.matches('v1')).toBe(true);
    expect(m.matches('v12')).toBe(false);
    expect(StringMatcher.present().matches('')).toBe(true);
    expect(StringMatcher.present().matches(null)).toBe(false);
    expect(m.describe()).toBe('regex:"v[12]"');
  });
});
