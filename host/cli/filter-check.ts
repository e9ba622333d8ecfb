// translate's check of each filter's configuration by the filter itself: every asmesh wasm filter of a
// translated bootstrap is loaded in the host harness with its plugin configuration, node metadata and
// clusters, as Envoy would at start-up; a configuration the filter rejects is an input error (exit 2)
// naming the listener, the filter and the filter's own log line, not an Envoy start-up failure.
// Network filters (TCP listeners) too: the harness configures them the same way.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlugin } from '../harness/index.ts';
import { NETWORK_WASM_TYPE, asmeshFilterName, wasmPluginOptions } from '../envoy/config.ts';

type Obj = Record<string, any>;

/** Problems (one line each) and the filters that could not be checked (no build/<name>.wasm). */
export async function checkFilterConfigs(bootstrap: Obj, wasmDir: string): Promise<{ errors: string[]; unchecked: string[] }> {
  const errors: string[] = [];
  const unchecked = new Set<string>();
  const clusters = (bootstrap.static_resources?.clusters ?? []).map((c: Obj) => String(c.name));
  for (const listener of bootstrap.static_resources?.listeners ?? []) {
    const seen = new Set<string>();
    for (const chain of listener.filter_chains ?? []) {
      for (const f of chain.filters ?? []) {
        // An HCM's http filters, or the network filter itself (TCP chains: envoy.filters.network.wasm).
        for (const entry of [...(f.typed_config?.http_filters ?? []), f]) {
          const name = asmeshFilterName(entry) ?? asmeshNetworkFilterName(entry);
          if (name === null || seen.has(entry.name)) continue;
          seen.add(entry.name);
          const base = name.split('.')[0];
          const wasm = join(wasmDir, `${base}.wasm`);
          if (!existsSync(wasm)) {
            unchecked.add(base);
            continue;
          }
          try {
            const plugin = await loadPlugin(wasm, {
              ...wasmPluginOptions(entry.typed_config.config),
              node: bootstrap.node,
              clusters,
            });
            plugin.close();
          } catch (e) {
            const lines = (e as Error).message.split('\n');
            const why = lines.find((l) => /^\[(error|critical|warn)\]/.test(l))?.replace(/^\[\w+\] /, '') ?? lines[0];
            errors.push(`listener ${listener.name}: ${entry.name}: the filter rejects its configuration: ${why}`);
          }
        }
      }
    }
  }
  return { errors, unchecked: [...unchecked] };
}

function asmeshNetworkFilterName(entry: Obj): string | null {
  if (typeof entry.name !== 'string' || !entry.name.startsWith('asmesh.')) return null;
  return entry.typed_config?.['@type'] === NETWORK_WASM_TYPE ? entry.name.slice('asmesh.'.length) : null;
}
