/**
 * Polling helpers for tests. Tests wait for a condition with a generous deadline instead of asserting
 * how long something took: CI machines are noisy, and a deadline only has to catch a hang.
 */

/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this long, default 60 000 ms. */
  readonly timeoutMs?: number;
  /** Pause between checks, default 50 ms. */
  readonly intervalMs?: number;
  /** What was awaited, for the timeout error (a function is evaluated only on timeout). */
  readonly message?: string | (() => string);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `predicate` until it returns a truthy value and resolves with that value. A predicate that
 * throws counts as "not yet" (the last error is quoted if the wait times out), so assertions can be
 * polled too: `await waitFor(() => { expect(x).to.equal(1); return true; })`.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value !== undefined && value !== null && value !== false && value !== 0 && value !== "") {
        return value;
      }
    } catch (err: unknown) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await sleep(intervalMs);
  }
  const what = typeof options.message === "function" ? options.message() : (options.message ?? "condition");
  const detail = lastError instanceof Error ? `: last error: ${lastError.message}` : "";
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`, { cause: lastError });
}
