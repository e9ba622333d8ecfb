// The callbacks a filter implements and its module must export: Envoy never calls a callback a module
// does not export (assembly/proxy/callbacks.ts), so without the export the code would be dead with no
// error anywhere. Read from the filter's sources: its index.ts and every file it imports outside the SDK
// (other filters' too, as mesh.wasm's parts). scripts/check-imports.ts runs it on build/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../paths.ts';

/** A context method, or an SDK call whose answer comes through a callback, and the export Envoy calls for it. */
const NEEDS: readonly [RegExp, string][] = [
  [/^\s+onRequestHeaders\(/m, 'proxy_on_request_headers'],
  [/^\s+onRequestBody\(/m, 'proxy_on_request_body'],
  [/^\s+onRequestTrailers\(/m, 'proxy_on_request_trailers'],
  [/^\s+onResponseHeaders\(/m, 'proxy_on_response_headers'],
  [/^\s+onResponseBody\(/m, 'proxy_on_response_body'],
  [/^\s+onResponseTrailers\(/m, 'proxy_on_response_trailers'],
  [/^\s+onLog\(/m, 'proxy_on_log'],
  [/^\s+onDone\(/m, 'proxy_on_done'],
  [/^\s+onTick\(/m, 'proxy_on_tick'],
  [/^\s+onQueueReady\(/m, 'proxy_on_queue_ready'],
  [/^\s+onNewConnection\(/m, 'proxy_on_new_connection'],
  [/^\s+onDownstreamData\(/m, 'proxy_on_downstream_data'],
  [/^\s+onUpstreamData\(/m, 'proxy_on_upstream_data'],
  [/^\s+onDownstreamConnectionClose\(/m, 'proxy_on_downstream_connection_close'],
  [/^\s+onUpstreamConnectionClose\(/m, 'proxy_on_upstream_connection_close'],
  [/\bsetTimer\(/, 'proxy_on_tick'],
  [/\bsetTickPeriod\(/, 'proxy_on_tick'],
  [/\bhttpCall\(/, 'proxy_on_http_call_response'],
];

const sdk = join(repoRoot, 'assembly');

/** `entry` and the files it imports, transitively, outside assembly/ (the SDK's defaults implement nothing), with their text. */
function sources(entry: string): Map<string, string> {
  const texts = new Map<string, string>();
  const visit = (file: string): void => {
    if (texts.has(file) || file.startsWith(sdk + '/') || !existsSync(file)) return;
    const text = readFileSync(file, 'utf8');
    texts.set(file, text);
    for (const m of text.matchAll(/from '(\.[^']+)'/g)) visit(resolve(dirname(file), m[1]!) + '.ts');
  };
  visit(entry);
  return texts;
}

/** The callbacks filter `name` implements that its compiled `module` does not export, each with the file that needs it. */
export function missingExports(name: string, module: WebAssembly.Module): string[] {
  const entry = join(repoRoot, 'filters', name, 'index.ts');
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing: string[] = [];
  for (const [file, text] of sources(entry)) {
    for (const [pattern, callback] of NEEDS) {
      if (pattern.test(text) && !exported.has(callback)) missing.push(`${callback} (needed by ${relative(repoRoot, file)})`);
    }
  }
  return [...new Set(missing)];
}
