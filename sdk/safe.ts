/**
 * The tag must never break the host page: every public method and every listener goes through `safe`,
 * which swallows exceptions (no console output either).
 */
export const safe =
  <A extends unknown[], R>(f: (...a: A) => R) =>
  (...a: A): R | undefined => {
    try {
      return f(...a);
    } catch {}
  };

/** `addEventListener`, for handlers that cannot throw (wrap the others in `safe`). */
export const on = (target: EventTarget, type: string, f: (e: Event) => unknown, capture?: boolean): void =>
  target.addEventListener(type, f, capture);
