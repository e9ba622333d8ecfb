// The example filter's configuration: {"header": "x-asmesh-example", "value": "hello"}.
// Validated once at configure time; immutable afterwards. Pure: no host calls.
import { ConfigChecker } from '../../assembly/lib/config';

export class ExampleConfig {
  constructor(public readonly header: ArrayBuffer, public readonly value: ArrayBuffer) {}
}

/** Parse result: a config, or an error `<json-path>: <what>`. */
export class ExampleConfigResult {
  constructor(public readonly config: ExampleConfig | null, public readonly error: string) {}
}

export function parseExampleConfig(bytes: ArrayBuffer): ExampleConfigResult {
  const check = new ConfigChecker();
  const root = check.parse(bytes);
  if (root === null || !check.object(root, ['header', 'value'])) return new ExampleConfigResult(null, check.error);
  const header = check.requiredStr(root, 'header');
  const value = check.requiredStr(root, 'value');
  if (check.failed) return new ExampleConfigResult(null, check.error);
  return new ExampleConfigResult(new ExampleConfig(String.UTF8.encode(header.toLowerCase()), String.UTF8.encode(value)), '');
}
