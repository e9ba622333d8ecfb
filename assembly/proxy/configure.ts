// The one configure-or-fail step of every filter's onConfigure.
import { ConfigResult } from '../lib/config';
import { pluginConfiguration } from './buffers';
import { logError } from './log';

// A composite filter (filters/mesh) configures each part from its member of the configuration.
let partBytes: ArrayBuffer | null = null;
let partPrefix: string = '';

/**
 * Until endPart, configureOrFail reads `bytes` (the member `part` of `composite`'s configuration) and
 * logs its problems as `<composite>: config $.<part>...`.
 */
export function beginPart(composite: string, part: string, bytes: ArrayBuffer): void {
  partBytes = bytes;
  partPrefix = composite + ': config $.' + part;
}

export function endPart(): void {
  partBytes = null;
  partPrefix = '';
}

/**
 * The plugin configuration parsed by `parse`, or null after logging `<filter>: config <json-path>: <what>`
 * (onConfigure then returns false and Envoy refuses the plugin).
 */
export function configureOrFail<T>(filter: string, configurationSize: u32, parse: (bytes: ArrayBuffer) => ConfigResult<T>): T | null {
  const part = partBytes;
  const result = parse(part !== null ? part : pluginConfiguration(configurationSize));
  if (result.config !== null) return result.config;
  const error = result.error;
  if (part === null) logError(filter + ': config ' + error);
  // A part's paths start at its member: `$.http[0]` is `$.steering.http[0]`.
  else logError(partPrefix + (error.startsWith('$') ? error.substring(1) : ': ' + error));
  return null;
}
