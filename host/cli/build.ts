// `asmesh build`: compiles every filters/<name>/index.ts of a project to build/<name>.wasm with its
// asconfig.json's options (and its target <name>'s, when it has one), in this process with the
// project's AssemblyScript (the package's peer dependency). asmesh's own filters are the project at
// the package root (`npm run build`); a filter project (`asmesh init`) lays out the same.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from './errors.ts';
import { filterFolders, unknownFilter } from '../../filters/manifest.ts';
import { writeBeside } from '../write-beside.ts';

export interface BuildOptions {
  /** The project: asconfig.json and filters/<name>/index.ts. */
  dir: string;
  /** Only these filters (default: all). */
  names?: string[];
  /** Also write build/<name>.debug.wasm (unoptimized, with names). */
  debug?: boolean;
  log?: (line: string) => void;
  /** Where compile errors go (default stderr). */
  error?: (line: string) => void;
}

/**
 * The asconfig options the SDK needs: without them a module builds but Envoy cannot link or run it.
 * The runtime: `minimal` (collected at the SDK's safe points, assembly/proxy/gc.ts) or `incremental`.
 */
export const RUNTIME_HOOKS = {
  runtime: 'minimal',
  exportStart: '_initialize',
  use: ['abort', 'trace', 'seed'],
} as const;

/** The runtime hooks an asconfig.json lacks (empty when it has them all). */
export function missingRuntimeHooks(config: unknown): string[] {
  const o = ((config as { options?: Record<string, unknown> } | null)?.options ?? {}) as Record<string, unknown>;
  const use = Array.isArray(o.use) ? o.use.map(String) : [];
  const missing: string[] = RUNTIME_HOOKS.use.filter((h) => !use.some((u) => u.startsWith(`${h}=`))).map((h) => `use ${h}=`);
  if (o.exportStart !== RUNTIME_HOOKS.exportStart) missing.push(`exportStart: "${RUNTIME_HOOKS.exportStart}"`);
  if (o.runtime !== RUNTIME_HOOKS.runtime && o.runtime !== 'incremental') missing.push(`runtime: "${RUNTIME_HOOKS.runtime}"`);
  return missing;
}

/** Checks the project before compiling: asconfig.json with the runtime hooks, the named filters exist. */
export function checkProject(dir: string, names: string[]): void {
  const asconfig = join(dir, 'asconfig.json');
  if (!existsSync(asconfig))
    throw new InputError(
      `${dir}: no asconfig.json (a filter project has asconfig.json and filters/<name>/index.ts; asmesh init DIR makes one)`,
    );
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(asconfig, 'utf8'));
  } catch (e) {
    throw new InputError(`${asconfig}: not JSON: ${(e as Error).message}`);
  }
  const missing = missingRuntimeHooks(config);
  if (missing.length)
    throw new InputError(`${asconfig}: options lack the SDK runtime hooks: ${missing.join(', ')} (see README "Your own filter")`);
  const known = filterFolders(dir);
  const unknown = unknownFilter(names, known);
  if (unknown !== null) throw new InputError(unknown);
  if (!known.length) throw new InputError(`${dir}: no filters/<name>/index.ts`);
}

type Asc = (args: string[], options: object) => Promise<{ error: Error | null; stderr: { toString(): string } }>;

async function loadAsc(): Promise<Asc> {
  try {
    // The project's compiler: the SDK is AssemblyScript source, compiled by it (peer dependency).
    return ((await import('assemblyscript/asc')) as { main: Asc }).main;
  } catch (e) {
    throw new InputError(
      `cannot load the AssemblyScript compiler (npm install --save-dev assemblyscript@0.27): ${(e as Error).message.split('\n')[0]}`,
    );
  }
}

/** Compiles the project's filters; returns false when one failed (asc's messages are logged). */
export async function buildFilters(opts: BuildOptions): Promise<boolean> {
  const log = opts.log ?? ((l) => console.log(l));
  const error = opts.error ?? ((l) => console.error(l));
  const names = opts.names?.length ? opts.names : filterFolders(opts.dir);
  checkProject(opts.dir, names);
  const asc = await loadAsc();
  let ok = true;
  for (const name of names) {
    const variants: [string, string[]][] = [[`${name}.wasm`, ['--target', name]]];
    if (opts.debug) variants.push([`${name}.debug.wasm`, ['--target', name, '-O0', '--debug']]);
    for (const [file, flags] of variants) {
      const out = `build/${file}`;
      const built = await writeBeside(join(opts.dir, out), async (tmp) => {
        const r = await asc(
          [`filters/${name}/index.ts`, '--baseDir', opts.dir, '--config', 'asconfig.json', ...flags, '--outFile', tmp],
          {},
        );
        if (r.error) error(`build ${name} failed: ${r.error.message}\n${r.stderr.toString()}`);
        return r.error === null;
      });
      if (!built) {
        ok = false;
        continue;
      }
      log(`built ${out} (${statSync(join(opts.dir, out)).size} bytes)`);
    }
  }
  return ok;
}
