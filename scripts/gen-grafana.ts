// Writes the Grafana dashboards of host/observe/grafana.ts to envoy/grafana/<uid>.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DASHBOARDS, grafanaDashboard, grafanaFile } from '../host/observe/grafana.ts';
import { repoRoot } from '../host/paths.ts';

mkdirSync(join(repoRoot, 'envoy/grafana'), { recursive: true });
for (const d of DASHBOARDS) {
  writeFileSync(join(repoRoot, grafanaFile(d)), JSON.stringify(grafanaDashboard(d), null, 2) + '\n');
  console.log(`wrote ${grafanaFile(d)}`);
}
