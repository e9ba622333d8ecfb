// One poll helper for tests: waits until `predicate` returns a value (not null/undefined/false).
// Polls, never sleeps a fixed time before asserting; the timeout only bounds a hung wait.
export async function until<T>(predicate: () => T | null | undefined | false | Promise<T | null | undefined | false>, timeoutMs: number, what: string, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
