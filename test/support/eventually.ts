// The one way tests wait: for a state, never for a fixed time. A check that
// something did NOT happen waits for a later event that proves the system had
// its chance (a later write seen, a decision recorded), then asserts.

/** Generous: CI runs the suite on 2 shared cores, and Docker tests start containers. */
export const EVENTUALLY_TIMEOUT_MS = 20_000;

/**
 * Calls probe until it returns something truthy, and returns that. At the
 * deadline it fails naming what it waited for: `what`, or what `what()`
 * returns then (say, how far things got). An error the probe throws ends
 * the wait at once: a probe throws when the state can no longer come.
 *
 * Retries come quickly at first (in-process states are often a few event
 * loop turns away), then every 50 ms after the last probe ended. Waiting
 * as long as a slow probe took (a CLI process) before the next was tried,
 * and made the whole suite slower: each such wait ended a probe later.
 */
export async function eventually<T>(
  what: string | (() => string),
  probe: () => T | undefined | null | false | PromiseLike<T | undefined | null | false>,
  timeoutMs = EVENTUALLY_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let pause = 0;
  for (;;) {
    const started = Date.now();
    const v = await probe();
    if (v) return v;
    const now = Date.now();
    if (now > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`);
    pause = Math.min(50, pause * 2 || 1);
    await new Promise((r) => (pause > 1 ? setTimeout(r, pause) : setImmediate(r)));
  }
}
