import { Regex } from '../lib/regex';

function re(pattern: string): Regex {
  const r = Regex.compile(pattern);
  if (r.regex === null) throw new Error('compile failed: ' + pattern + ': ' + r.error);
  return r.regex as Regex;
}

function err(pattern: string): string {
  return Regex.compile(pattern).error;
}

describe('regex: full match semantics', () => {
  it('matches literals against the whole value only', () => {
    const r = re('jason');
    expect(r.matches('jason')).toBe(true);
    expect(r.matches('jason2')).toBe(false);
    expect(r.matches('xjason')).toBe(false);
    expect(r.matches('')).toBe(false);
    expect(re('').matches('')).toBe(true);
    expect(re('').matches('a')).toBe(false);
  });

  it('dot, star, plus, question', () => {
    expect(re('a.c').matches('abc')).toBe(true);
    expect(re('a.c').matches('a\nc')).toBe(false);
    expect(re('(?s)a.c').matches('a\nc')).toBe(true);
    expect(re('ab*c').matches('ac')).toBe(true);
    expect(re('ab*c').matches('abbbc')).toBe(true);
    expect(re('ab+c').matches('ac')).toBe(false);
    expect(re('ab+c').matches('abbc')).toBe(true);
    expect(re('ab?c').matches('abc')).toBe(true);
    expect(re('ab?c').matches('abbc')).toBe(false);
    expect(re('ab*?c').matches('abbc')).toBe(true);
    expect(re('/api/.*').matches('/api/v1/users')).toBe(true);
    expect(re('/api/.*').matches('/apix')).toBe(false);
  });

  it('counted repetition', () => {
    const r = re('a{2,3}');
    expect(r.matches('a')).toBe(false);
    expect(r.matches('aa')).toBe(true);
    expect(r.matches('aaa')).toBe(true);
    expect(r.matches('aaaa')).toBe(false);
    expect(re('a{2}').matches('aa')).toBe(true);
    expect(re('a{2}').matches('aaa')).toBe(false);
    expect(re('a{2,}').matches('aaaaaa')).toBe(true);
    expect(re('a{2,}').matches('a')).toBe(false);
    expect(re('a{,2}').matches('a{,2}')).toBe(true); // not a repetition: literal, as RE2
    expect(re('x{0}y').matches('y')).toBe(true);
  });

  it('alternation and groups', () => {
    const r = re('v1|v2|canary');
    expect(r.matches('v1')).toBe(true);
    expect(r.matches('v2')).toBe(true);
    expect(r.matches('canary')).toBe(true);
    expect(r.matches('v3')).toBe(false);
    expect(re('(ab|cd)+e').matches('abcdabe')).toBe(true);
    expect(re('(ab|cd)+e').matches('abce')).toBe(false);
    expect(re('(?:a|b)c').matches('bc')).toBe(true);
    expect(re('(?P<user>[a-z]+)-(?<id>\\d+)').matches('jason-42')).toBe(true);
    expect(re('a(|b)c').matches('ac')).toBe(true);
    expect(re('a()c').matches('ac')).toBe(true);
  });

  it('classes: ranges, negation, escapes, POSIX names', () => {
    expect(re('[a-c]+').matches('abcab')).toBe(true);
    expect(re('[a-c]+').matches('abd')).toBe(false);
    expect(re('[^a-c]+').matches('xyz')).toBe(true);
    expect(re('[^a-c]+').matches('xaz')).toBe(false);
    expect(re('[]a]+').matches(']a]')).toBe(true);
    expect(re('[a-]+').matches('a-a')).toBe(true);
    expect(re('[\\d.]+').matches('1.2.3')).toBe(true);
    expect(re('[[:alpha:]]+').matches('Jason')).toBe(true);
    expect(re('[[:alpha:]]+').matches('Jas0n')).toBe(false);
    expect(re('[[:^digit:]]+').matches('abc')).toBe(true);
    expect(re('[\\]]').matches(']')).toBe(true);
  });

  it('perl classes and escapes', () => {
    expect(re('\\d+').matches('12345')).toBe(true);
    expect(re('\\d+').matches('12a45')).toBe(false);
    expect(re('\\D+').matches('abc')).toBe(true);
    expect(re('\\w+').matches('a_Z9')).toBe(true);
    expect(re('\\w+').matches('a-b')).toBe(false);
    expect(re('\\W').matches('-')).toBe(true);
    expect(re('a\\sb').matches('a b')).toBe(true);
    expect(re('a\\Sb').matches('a b')).toBe(false);
    expect(re('a\\.b').matches('a.b')).toBe(true);
    expect(re('a\\.b').matches('axb')).toBe(false);
    expect(re('\\x41\\x{42}').matches('AB')).toBe(true);
    expect(re('a\\tb').matches('a\tb')).toBe(true);
    expect(re('\\Q.*\\E').matches('.*')).toBe(true);
    expect(re('\\Q.*\\E').matches('ab')).toBe(false);
  });

  it('anchors are empty assertions; \\b word boundaries', () => {
    expect(re('^abc$').matches('abc')).toBe(true);
    expect(re('^abc$').matches('abcd')).toBe(false);
    expect(re('a^b').matches('ab')).toBe(false);
    expect(re('\\Aa\\z').matches('a')).toBe(true);
    expect(re('.*\\bfoo\\b.*').matches('a foo b')).toBe(true);
    expect(re('.*\\bfoo\\b.*').matches('afoob')).toBe(false);
    expect(re('.*\\Bfoo.*').matches('afoo')).toBe(true);
    expect(re('(?m)a$\\n^b').matches('a\nb')).toBe(true);
  });

  it('case-insensitive flag', () => {
    expect(re('(?i)jason').matches('JaSoN')).toBe(true);
    expect(re('(?i:ja)son').matches('JAson')).toBe(true);
    expect(re('(?i:ja)son').matches('JASON')).toBe(false);
    expect(re('(?i)[a-c]+').matches('ABC')).toBe(true);
    expect(re('(?i)[^a]').matches('A')).toBe(false);
  });

  it('non-ASCII: dot matches one code point; UTF-8 bytes', () => {
    expect(re('caf.').matches('café')).toBe(true);
    expect(re('.').matches('😀')).toBe(true);
    expect(re('..').matches('😀')).toBe(false);
    expect(re('[à-ÿ]+').matches('éè')).toBe(true);
    expect(re('caf.').matchesBytes(String.UTF8.encode('café'))).toBe(true);
    expect(re('.').matchesBytes(String.UTF8.encode('😀'))).toBe(true);
    const bad = new ArrayBuffer(1);
    store<u8>(changetype<usize>(bad), 0xff);
    expect(re('\\x{FFFD}').matchesBytes(bad)).toBe(true);
    expect(re('a').matchesBytes(bad)).toBe(false);
  });
});

describe('regex: linear time', () => {
  it("(a*)*b over 10,000 a's finishes and does not match", () => {
    let s = '';
    for (let i = 0; i < 10000; i++) s += 'a';
    expect(re('(a*)*b').matches(s)).toBe(false);
    expect(re('(a*)*b').matches(s + 'b')).toBe(true);
    expect(re('(a|a)*c').matches(s)).toBe(false);
    expect(re('(a+)+$').matches(s + '!')).toBe(false);
    expect(re('(x+x+)+y').matches(s)).toBe(false);
  });

  it('a regex object is reusable across many inputs', () => {
    const r = re('[a-z]+-\\d{1,3}');
    for (let i = 0; i < 100; i++) {
      expect(r.matches('user-' + i.toString())).toBe(true);
      expect(r.matches('user-' + (i + 1000).toString())).toBe(false);
    }
  });
});

describe('regex: unsupported or invalid patterns are rejected with a reason', () => {
  it('backreferences and lookaround', () => {
    expect(err('(a)\\1').includes('backreferences are not supported')).toBe(true, err('(a)\\1'));
    expect(err('(?P<x>a)(?P=x)').includes('backreferences are not supported')).toBe(true, err('(?P<x>a)(?P=x)'));
    expect(err('a(?=b)').includes('lookahead is not supported')).toBe(true, err('a(?=b)'));
    expect(err('a(?!b)').includes('lookahead is not supported')).toBe(true, err('a(?!b)'));
    expect(err('(?<=a)b').includes('lookbehind is not supported')).toBe(true, err('(?<=a)b'));
    expect(err('(?<!a)b').includes('lookbehind is not supported')).toBe(true, err('(?<!a)b'));
    expect(err('\\p{Greek}').includes('unicode classes')).toBe(true, err('\\p{Greek}'));
  });

  it('syntax errors', () => {
    expect(err('(abc').includes('missing closing )')).toBe(true, err('(abc'));
    expect(err('abc)').includes('unexpected )')).toBe(true, err('abc)'));
    expect(err('[abc').includes('missing closing ]')).toBe(true, err('[abc'));
    expect(err('[z-a]').includes('invalid character class range')).toBe(true, err('[z-a]'));
    expect(err('*a').includes('missing argument to repetition operator')).toBe(true, err('*a'));
    expect(err('a**').includes('bad repetition operator')).toBe(true, err('a**'));
    expect(err('a{1001}').includes('bad repetition operator')).toBe(true, err('a{1001}'));
    expect(err('a{3,2}').includes('bad repetition operator')).toBe(true, err('a{3,2}'));
    expect(err('a\\').includes('trailing backslash')).toBe(true, err('a\\'));
    expect(err('\\y').includes('invalid escape sequence')).toBe(true, err('\\y'));
    expect(err('[[:foo:]]').includes('invalid character class range')).toBe(true, err('[[:foo:]]'));
    expect(err('(?z)a').includes('invalid or unsupported group flags')).toBe(true, err('(?z)a'));
    expect(err('((((a{1000}){1000}){1000}))').includes('pattern too large')).toBe(true, err('((((a{1000}){1000}){1000}))'));
  });

  it('valid patterns have no error', () => {
    expect(err('^/api/v[0-9]+/.*$')).toBe('');
  });
});
