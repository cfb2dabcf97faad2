/**
 * The one error a request's input can cause. Every validator and service throws it; `app.onError` turns it into the
 * JSON error body once (`{ error, path }` with `status`). It imports nothing, so any module may throw it.
 *
 * @example
 * throw new InputError(400, 'events[3].ts must be a non-negative integer (milliseconds)', 'events[3].ts')
 * throw new InputError(404, '[cjm] unknown site "shop"', 'site')
 */
export type InputStatus = 400 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

export class InputError extends Error {
  constructor(
    readonly status: InputStatus,
    message: string,
    /** The offending field (`events[3].ts`, `action.url`), when there is one. */
    readonly path?: string,
  ) {
    super(message);
    this.name = 'InputError';
  }
}

/** A 400 naming the field: the common case. */
export const badInput = (message: string, path?: string): InputError => new InputError(400, message, path);
