// The one place the live watcher calls `asmesh translate` (issue #14 re-points this adapter when
// translate is scoped per workload): every *.yaml/*.yml file under a directory, translated for one sidecar.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { translate, type TranslateOptions, type TranslateResult } from '../cli/translate.ts';

export type { TranslateOptions, TranslateResult };

/** The Istio files under `dir` (recursively, sorted), named relative to it. */
export function istioFiles(dir: string): { name: string; text: string }[] {
  const walk = (d: string): string[] =>
    readdirSync(d)
      .filter((n) => !n.startsWith('.'))
      .flatMap((n) => {
        const p = join(d, n);
        return statSync(p).isDirectory() ? walk(p) : /\.ya?ml$/.test(n) ? [p] : [];
      });
  return walk(dir)
    .sort()
    .map((p) => ({ name: relative(dir, p), text: readFileSync(p, 'utf8') }));
}

/** `dir` and its subdirectories (the watcher watches each). */
export function istioDirs(dir: string): string[] {
  return [
    dir,
    ...readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .map((n) => join(dir, n))
      .filter((p) => statSync(p).isDirectory())
      .flatMap(istioDirs),
  ];
}

/** Translates the Istio files under `dir`; throws translate's InputErrors (each "file: field: problem"). */
export function translateDir(dir: string, opts: TranslateOptions): TranslateResult {
  return translate(istioFiles(dir), opts);
}
