/** A pending timer, as setTimeout returns it (a test clock returns its own). */
export type Timer = ReturnType<typeof setTimeout>;

/**
 * Time as the outbox sees it: the page's clock and timers. A test replaces these functions with its own
 * (`useTestClock` in test/sdk/helpers.ts) and advances time instead of waiting for it; in the build, terser inlines
 * them, so the seam costs the tag a few bytes.
 */
export const clock = {
  /** Milliseconds since the epoch. */
  _now: (): number => Date.now(),
  /** Calls `f` in `ms` milliseconds, unless the returned timer is cancelled first. */
  _after: (ms: number, f: () => void): Timer => setTimeout(f, ms),
  _cancel: (timer: Timer | undefined): void => clearTimeout(timer),
};
