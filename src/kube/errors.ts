/** Errors from the API server, with the Status reason and message kept for callers to branch on. */

/** A non-2xx answer from the API server. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly reason: string,
    readonly serverMessage: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "ApiError";
  }
}

/** Whether an error is a confirmed 404 (never treat any other failure as "not found"). */
export function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 404;
}

/** Whether an error is a 409 Conflict (an optimistic-concurrency or apply conflict). */
export function isConflict(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 409;
}

/** Whether an error is a 403 Forbidden. */
export function isForbidden(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 403;
}

/** Whether the server refused the object itself (422 Invalid / 400 BadRequest): a retry will not help. */
export function isInvalid(err: unknown): boolean {
  return err instanceof ApiError && (err.statusCode === 422 || err.statusCode === 400);
}

/** The Status message of an ApiError, or the error's own message. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.serverMessage || err.message;
  return err instanceof Error ? err.message : String(err);
}
