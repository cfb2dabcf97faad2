/**
 * The tag must never break the host page: what can throw goes through `safe`, which swallows exceptions
 * (no console output either): the one function every public method ends in (`push` in tracker.ts), the tag's
 * start and its `cjm(command, …)` dispatcher. Listeners call only code that cannot throw.
 */
export const safe =
  <A extends unknown[], R>(f: (...args: A) => R) =>
  (...args: A): R | undefined => {
    try {
      return f(...args);
    } catch {
      // Swallowed on purpose: an analytics tag must not break the page, nor write to its console.
    }
  };

/** `addEventListener`, for handlers that cannot throw (wrap the others in `safe`). */
export const on = (target: EventTarget, type: string, listener: (e: Event) => unknown, capture?: boolean): void =>
  target.addEventListener(type, listener, capture);
