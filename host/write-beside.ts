// One way to replace a file other processes may be reading (tests run in parallel): written beside, renamed.
import { renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * Makes `path` by `write(tmp)` into a file beside it (same directory, so the rename is atomic; the name keeps
 * `path`'s extension, which asc reads), then renames it over `path`: a reader never sees half a file. When
 * `write` returns false or throws, the temporary file goes and `path` is left as it was.
 */
export async function writeBeside(path: string, write: (tmp: string) => Promise<boolean>): Promise<boolean> {
  const tmp = join(dirname(path), `.${process.pid}-${basename(path)}`);
  let ok = false;
  try {
    ok = await write(tmp);
  } finally {
    if (ok) renameSync(tmp, path);
    else rmSync(tmp, { force: true });
  }
  return ok;
}
