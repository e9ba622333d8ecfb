// The shared scenarios of steering, authz and telemetry as filters/mesh runs them: the same filters'
// configurations as members of one mesh configuration, the same expectations (a part's log lines and
// configuration errors under the mesh plugin's name, its JSON paths under `$.<part>`).
import { chainOrder } from '../../filters/manifest.ts';
import type { Scenario } from '../scenarios/types.ts';

/** filters/mesh's parts, in chain order. */
export const PARTS = ['steering', 'authz', 'telemetry'] as const;
const PART = `(${PARTS.join('|')})`;

function meshPattern(re: RegExp): RegExp {
  const source = re.source
    // `<part>: config $.x` (the filter's own check) is `mesh: config $.<part>.x`.
    .replace(new RegExp(`${PART}: config \\\\\\$`, 'g'), 'mesh: config \\$\\.$1')
    // Envoy's `wasm log <plugin> <root_id> <vm_id>: ` names the one plugin.
    .replace(new RegExp(`wasm log ${PART} \\1 \\1: `, 'g'), 'wasm log mesh mesh mesh: ');
  return new RegExp(source, re.flags);
}

/** The scenario with filters/mesh in place of its filters, or why it has no such form. */
export function asMesh(s: Scenario): Scenario | string {
  const names = s.filters.map((f) => f.name);
  if (s.wasmDir !== undefined) return 'fixture modules';
  if (names.length === 0 || !names.every((n) => (PARTS as readonly string[]).includes(n))) return 'not only mesh parts';
  if (new Set(names).size !== names.length) return 'a part mounted twice';
  const config: Record<string, unknown> = {};
  for (const f of chainOrder(s.filters)) {
    if (typeof f.config === 'string') {
      try {
        config[f.name] = JSON.parse(f.config === '' ? '{}' : f.config);
      } catch {
        return 'a configuration that is not JSON';
      }
    } else config[f.name] = f.config ?? {};
  }
  return {
    ...s,
    filters: [{ name: 'mesh', config }],
    configError: s.configError === undefined ? undefined : meshPattern(s.configError),
    logs: s.logs?.map(meshPattern),
    logLines:
      s.logLines === undefined
        ? undefined
        : {
            ...s.logLines,
            match: s.logLines.match,
            expect: s.logLines.expect.map((l) => l.replace(new RegExp(`^${PART}: `), 'mesh: ')),
            unordered: s.logLines.unordered ?? names.length > 1,
          },
  };
}
