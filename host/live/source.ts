// The one place the live watcher calls `asmesh translate` (issue #14 re-points this adapter when
// translate is scoped per workload): every *.yaml/*.yml file under a directory, translated for one sidecar.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { InputError } from '../cli/errors.ts';
import { translate, type TranslateOptions, type TranslateResult } from '../cli/translate.ts';

export type { TranslateOptions, TranslateResult };

/** `fn()`, a file system error turned into an InputError naming `path` (one line). */
function reading<T>(path: string, what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file or directory' : code === 'ENOTDIR' ? 'not a directory' : (code ?? (e as Error).message);
    throw new InputError(`${path}: cannot read ${what}: ${why}`);
  }
}

function entries(dir: string): string[] {
  return reading(dir, 'the Istio directory', () => readdirSync(dir)).filter((n) => !n.startsWith('.'));
}

const isDir = (p: string) => reading(p, 'the Istio file', () => statSync(p).isDirectory());

/** The Istio files under `dir` (recursively, sorted), named relative to it; an InputError names one that cannot be read. */
export function istioFiles(dir: string): { name: string; text: string }[] {
  const walk = (d: string): string[] =>
    entries(d).flatMap((n) => {
      const p = join(d, n);
      return isDir(p) ? walk(p) : /\.ya?ml$/.test(n) ? [p] : [];
    });
  return walk(dir)
    .sort()
    .map((p) => ({ name: relative(dir, p), text: reading(p, 'the Istio file', () => readFileSync(p, 'utf8')) }));
}

/** `dir` and its subdirectories (the watcher watches each). */
export function istioDirs(dir: string): string[] {
  return [
    dir,
    ...entries(dir)
      .map((n) => join(dir, n))
      .filter(isDir)
      .flatMap(istioDirs),
  ];
}

/** Translates the Istio files under `dir`; throws translate's InputErrors (each "file: field: problem"). */
export function translateDir(dir: string, opts: TranslateOptions): TranslateResult {
  return translate(istioFiles(dir), opts);
}
