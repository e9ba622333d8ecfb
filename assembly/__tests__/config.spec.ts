import { ConfigChecker } from '../lib/config';
import { JsonKind, JsonValue } from '../lib/json';

function load(c: ConfigChecker, text: string): JsonValue {
  return c.parse(String.UTF8.encode(text)) as JsonValue;
}

describe('config checker', () => {
  it('reads typed members with defaults', () => {
    const c = new ConfigChecker();
    const root = load(c, '{"name":"x","n":5,"on":true,"list":["a","b"]}');
    expect(c.object(root, ['name', 'n', 'on', 'list', 'absent'])).toBe(true);
    expect(c.str(root, 'name')).toBe('x');
    expect(c.int(root, 'n', 0, 0, 10)).toBe(5);
    expect(c.bool(root, 'on', false)).toBe(true);
    expect(c.strings(root, 'list').length).toBe(2);
    expect(c.str(root, 'absent', 'dflt')).toBe('dflt');
    expect(c.failed).toBe(false);
  });

  it('names the path of the first problem', () => {
    const c = new ConfigChecker();
    const root = load(c, '{"http":[{"weight":"95"}],"extra":1}');
    const item = c.items(root, 'http')[0];
    c.int(item, 'weight', 0, 0, 100);
    c.object(root, ['http']);
    expect(c.error).toBe('$.http[0].weight: expected number, got string');
  });

  it('reports unknown fields, missing required ones, ranges and bad JSON', () => {
    let c = new ConfigChecker();
    c.object(load(c, '{"a":1}'), ['b']);
    expect(c.error).toBe('$: unknown field "a"');
    c = new ConfigChecker();
    c.requiredStr(load(c, '{}'), 'header');
    expect(c.error).toBe('$.header: required');
    c = new ConfigChecker();
    c.int(load(c, '{"w":101}'), 'w', 0, 0, 100);
    expect(c.error).toBe('$.w: 101 is outside [0, 100]');
    c = new ConfigChecker();
    expect(c.parse(String.UTF8.encode('{'))).toBeNull();
    expect(c.error).toBe('$: invalid JSON: unexpected end of input in object at byte 1');
    c = new ConfigChecker();
    expect(c.required(load(c, '{"x":[]}'), 'x', JsonKind.Object)).toBeNull();
    expect(c.error).toBe('$.x: expected object, got array');
  });

  it('treats an empty configuration as {}', () => {
    const c = new ConfigChecker();
    expect(c.parse(new ArrayBuffer(0))!.isObject()).toBe(true);
  });
});
