// Writes the stats_tags rules of filters/manifest.ts into the shipped Envoy files: the
// `stats_config.stats_tags` block of envoy/sidecar.yaml and envoy/stats-tags.yaml.
// `npm run gen:envoy` writes them; `--check` only says whether they are current (test/manifest.test.ts
// checks the same by content).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../host/paths.ts';
import { statsTags } from '../filters/manifest.ts';

const MARK = '# generated from filters/manifest.ts by `npm run gen:envoy`: do not edit';

function rules(indent: string): string {
  return statsTags()
    .map((r) => `${indent}- tag_name: ${r.tag_name}\n${indent}  regex: '${r.regex}'\n`)
    .join('');
}

/** envoy/sidecar.yaml with its stats_tags block (the `stats_tags:` key under stats_config) regenerated. */
function sidecarYaml(text: string): string {
  const block = /^( *)(# generated from filters\/manifest\.ts[^\n]*\n\1)?stats_tags:\n(?:\1[- ] [^\n]*\n)*/m;
  const m = block.exec(text);
  if (m === null) throw new Error('envoy/sidecar.yaml: no stats_tags block');
  const indent = m[1]!;
  return text.slice(0, m.index) + `${indent}${MARK}\n${indent}stats_tags:\n${rules(indent)}` + text.slice(m.index + m[0].length);
}

function statsTagsYaml(): string {
  return `# stats_tags rules of the asmesh filters (${MARK.slice(2)}).
# The filters encode labels in Wasm metric names as \`l1=v1;l2=v2;...;<metric>\` (Envoy:
# \`wasmcustom.l1=v1;...\`); each rule removes \`<label>=<value>;\` and makes <value> the tag, so
# /stats/prometheus shows \`<metric>{l1="v1",...}\`. Goes under the bootstrap's \`stats_config.stats_tags\`.
# A custom dimension added by a Telemetry tagOverride needs one more rule of the same form
# (asmesh translate adds it).
stats_tags:
${rules('')}`;
}

export const FILES = {
  'envoy/sidecar.yaml': (old: string) => sidecarYaml(old),
  'envoy/stats-tags.yaml': () => statsTagsYaml(),
};

const isMain = process.argv[1]?.endsWith('gen-envoy.ts');
if (isMain) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const [file, render] of Object.entries(FILES)) {
    const path = join(repoRoot, file);
    const old = readFileSync(path, 'utf8');
    const text = render(old);
    if (text === old) continue;
    stale++;
    if (check) console.error(`${file}: stale (npm run gen:envoy)`);
    else {
      writeFileSync(path, text);
      console.log(`wrote ${file}`);
    }
  }
  process.exit(check && stale ? 1 : 0);
}
