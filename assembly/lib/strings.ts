// String helpers for hot paths. Pure: no host calls.

/**
 * Concatenates `parts` with one allocation. (Array<string>#join falls back to repeated
 * concatenation when the module is built with shrinkLevel >= 1, as ours are: quadratic.)
 */
export function joinStrings(parts: string[]): string {
  let total: usize = 0;
  for (let i = 0; i < parts.length; i++) total += <usize>parts[i].length;
  if (total == 0) return '';
  const out = changetype<string>(__new(total << 1, idof<string>()));
  let at = changetype<usize>(out);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const bytes = (<usize>p.length) << 1;
    memory.copy(at, changetype<usize>(p), bytes);
    at += bytes;
  }
  return out;
}
