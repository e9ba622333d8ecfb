// `asmesh slo FILE.yaml [-o rules.yaml] [--check]`: the SLO file -> Prometheus rules.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../cli/errors.ts';
import { parseSloFile, type Objective } from './spec.ts';
import { sloRulesYaml } from './rules.ts';

export const SLO_USAGE = `Usage: asmesh slo FILE.yaml [-o rules.yaml] [--check]

Reads an SLO file (per service: availability target, latency threshold and target, window) and
writes Prometheus recording rules (slo:sli_error:ratio_rate<window>, slo:objective:ratio,
slo:error_budget_remaining:ratio) and multiwindow, multi-burn-rate alerts (SLOErrorBudgetBurn:
page at 1h/5m and 6h/30m, ticket at 1d/2h and 3d/6h), over Istio's istio_requests_total and
istio_request_duration_milliseconds (reporter="destination", or "source" where the file says so).
  -o, --out FILE   write the rules there (default: stdout)
  --check          also run 'promtool check rules' on them (Debian package prometheus)
  -h, --help       this help`;

/** Reads and validates an SLO file (InputError naming file and field). */
export function readSloFile(path: string): Objective[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${path}: cannot read SLO file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseSloFile(path, text);
}

/** promtool's path (PROMTOOL, else PATH's or /usr/bin's), or null. */
export function findPromtool(): string | null {
  if (process.env.PROMTOOL) return existsSync(process.env.PROMTOOL) ? process.env.PROMTOOL : null;
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/bin'])
    if (dir && existsSync(`${dir}/promtool`)) return `${dir}/promtool`;
  return null;
}

export function sloCommand(file: string, opts: { out?: string; check?: boolean }, write: (s: string) => void): number {
  const objectives = readSloFile(file);
  const yaml = sloRulesYaml(objectives, file);
  if (opts.out) writeFileSync(opts.out, yaml);
  else write(yaml);
  if (opts.check) {
    const tool = findPromtool();
    if (!tool) throw new Error('--check: promtool not found (apt-get install prometheus, or PROMTOOL=path)');
    const dir = mkdtempSync(join(tmpdir(), 'asmesh-slo-'));
    const path = opts.out ?? join(dir, 'rules.yaml');
    if (!opts.out) writeFileSync(path, yaml);
    const r = spawnSync(tool, ['check', 'rules', path], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(r.stdout + r.stderr);
    if (r.status !== 0) return 1;
  }
  process.stderr.write(
    `${objectives.length} objectives (${objectives.map((o) => o.name).join(', ')})${opts.out ? ` -> ${opts.out}` : ''}\n`,
  );
  return 0;
}
