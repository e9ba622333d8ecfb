// The example filter's configuration: {"header": "x-asmesh-example", "value": "hello"}.
// Validated once at configure time; immutable afterwards. Pure: no host calls.

export class ExampleConfig {
  constructor(public readonly header: ArrayBuffer, public readonly value: ArrayBuffer) {}
}

/** Parse result: a config, or an error naming the JSON path. */
export class ExampleConfigResult {
  constructor(public readonly config: ExampleConfig | null, public readonly error: string) {}
}

// TEMPORARY until assembly/lib/json.ts lands: accepts only the exact two-key shape.
export function parseExampleConfig(bytes: ArrayBuffer): ExampleConfigResult {
  const text = String.UTF8.decode(bytes);
  const h = text.indexOf('"header"');
  const v = text.indexOf('"value"');
  if (h < 0) return new ExampleConfigResult(null, '$.header: required');
  if (v < 0) return new ExampleConfigResult(null, '$.value: required');
  const hs = text.indexOf('"', text.indexOf(':', h) + 1);
  const he = text.indexOf('"', hs + 1);
  const vs = text.indexOf('"', text.indexOf(':', v) + 1);
  const ve = text.indexOf('"', vs + 1);
  return new ExampleConfigResult(new ExampleConfig(
    String.UTF8.encode(text.substring(hs + 1, he).toLowerCase()),
    String.UTF8.encode(text.substring(vs + 1, ve)),
  ), '');
}
