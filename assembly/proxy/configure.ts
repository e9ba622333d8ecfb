// The one configure-or-fail step of every filter's onConfigure.
import { ConfigResult } from '../lib/config';
import { pluginConfiguration } from './buffers';
import { logError } from './log';

/**
 * The plugin configuration parsed by `parse`, or null after logging `<filter>: config <json-path>: <what>`
 * (onConfigure then returns false and Envoy refuses the plugin).
 */
export function configureOrFail<T>(filter: string, configurationSize: u32, parse: (bytes: ArrayBuffer) => ConfigResult<T>): T | null {
  const result = parse(pluginConfiguration(configurationSize));
  if (result.config === null) logError(filter + ': config ' + result.error);
  return result.config;
}
