/** A pending timer, as setTimeout returns it (a test clock returns its own). */
export type Timer = ReturnType<typeof setTimeout>;

/**
 * Time as the outbox sees it: the page's clock and timers, with the arguments of Date.now, setTimeout and
 * clearTimeout. A test replaces these functions with its own (`useTestClock` in test/sdk/helpers.ts) and advances
 * time instead of waiting for it. dist/ has no seam: the build (`pageClock` in rollup.config.mjs) writes every
 * `clock._now`, `clock._after` and `clock._cancel` as Date.now, setTimeout and clearTimeout.
 */
export const clock = {
  /** Milliseconds since the epoch. */
  _now: (): number => Date.now(),
  /** Calls `f` in `ms` milliseconds, unless the returned timer is cancelled first. */
  _after: (f: () => void, ms: number): Timer => setTimeout(f, ms),
  _cancel: (timer: Timer | undefined): void => clearTimeout(timer),
};
