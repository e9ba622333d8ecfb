// The example filter's configuration: {"header": "x-asmesh-example", "value": "hello"}.
// Validated once at configure time; immutable afterwards. Pure: no host calls.
import { ConfigChecker, ConfigResult } from '../../assembly/lib/config';

export class ExampleConfig {
  constructor(
    public readonly header: ArrayBuffer,
    public readonly value: ArrayBuffer,
  ) {}
}

export function parseExampleConfig(bytes: ArrayBuffer): ConfigResult<ExampleConfig> {
  const check = new ConfigChecker();
  const root = check.parse(bytes);
  if (root === null || !check.object(root, ['header', 'value'])) return new ConfigResult<ExampleConfig>(null, check.error);
  const header = check.requiredStr(root, 'header');
  const value = check.requiredStr(root, 'value');
  if (check.failed) return new ConfigResult<ExampleConfig>(null, check.error);
  return new ConfigResult<ExampleConfig>(new ExampleConfig(String.UTF8.encode(header.toLowerCase()), String.UTF8.encode(value)), '');
}
