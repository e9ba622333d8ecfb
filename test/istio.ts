// Where tests read the Istio resources asmesh must accept verbatim: ../shared/istio (the source of
// truth beside the repository) when present, else the byte-identical copy in test/istio/, so a clone
// on its own (CI) runs the same tests. test/cli/translate.test.ts checks the copy against the source.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';

export const sharedIstioDir = resolve(import.meta.dirname, '../../shared/istio');
export const vendoredIstioDir = resolve(import.meta.dirname, 'istio');
export const istioDir = existsSync(sharedIstioDir) ? sharedIstioDir : vendoredIstioDir;

export function istioFile(name: string): string {
  return join(istioDir, name);
}

/** The `spec` of an Istio resource file, as the user wrote it. */
export function istioSpec(name: string): Record<string, unknown> {
  return (parse(readFileSync(istioFile(name), 'utf8')) as { spec: Record<string, unknown> }).spec;
}
