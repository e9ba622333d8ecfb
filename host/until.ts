// The one poll helper (tests, the Envoy launcher): waits until `predicate` returns a value (not
// null/undefined/false) and returns it. Polls, never sleeps a fixed time before asserting; the timeout
// only bounds a hung wait. `what` may be a function, to describe the state at the timeout.
export async function until<T>(
  predicate: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs: number,
  what: string | (() => string),
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
