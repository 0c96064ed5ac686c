/** Errors from the API server, with the Status reason and message kept for callers to branch on. */

/** A non-2xx answer from the API server, with what was asked (verb, path) and what it said. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
    readonly reason: string,
    readonly serverMessage: string,
    options?: { cause?: unknown; retryAfterSeconds?: number; verb?: string; path?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ApiError";
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
    if (options?.verb !== undefined) this.verb = options.verb;
    if (options?.path !== undefined) this.path = options.path;
  }

  /** The server's Retry-After (seconds), sent with 429 and some 5xx answers. */
  readonly retryAfterSeconds?: number;
  /** The request's verb, e.g. "apply" (set by KubeClient). */
  readonly verb?: string;
  /** The request's path: resource, namespace and name (set by KubeClient). */
  readonly path?: string;
}

/** No answer within a deadline (a request's timeout, a leader-election attempt's budget). */
export class TimeoutError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/**
 * A request that got no answer (refused, reset, DNS, TLS, timed out): what was asked and of whom,
 * with the socket's error as the cause.
 */
export class RequestError extends Error {
  constructor(
    message: string,
    /** The verb, e.g. "apply". */
    readonly verb: string,
    /** The request's path. */
    readonly path: string,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = "RequestError";
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

/**
 * client-go's RetryOnConflict: runs `attempt` (1, 2, …) until it ends without a 409 Conflict, at
 * most `times` times, then rethrows the last conflict. Each attempt after the first gets that
 * conflict, to rethrow itself when a fresh read shows there is nothing it may write.
 */
export async function retryOnConflict<T>(
  times: number,
  attempt: (n: number, conflict: unknown) => Promise<T>,
): Promise<T> {
  let conflict: unknown;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n, conflict);
    } catch (err) {
      if (!isConflict(err) || n >= times) throw err;
      conflict = err;
    }
  }
}

/** Whether an error is a 403 Forbidden. */
export function isForbidden(err: unknown): boolean {
  return err instanceof ApiError && err.statusCode === 403;
}

/** An error's message with its cause chain (`apply x: 409 Conflict: ...`), since JSON.stringify(err) is `{}`. */
export function describeError(err: Error): string {
  const parts: string[] = [err.message];
  let cause: unknown = err.cause;
  // Bounded walk: a cyclic cause chain must not hang the logger.
  for (let depth = 0; depth < 8 && cause !== undefined; depth++) {
    parts.push(
      cause instanceof Error ? cause.message : typeof cause === "string" ? cause : JSON.stringify(cause),
    );
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join(": ");
}

/** The Status message of an ApiError, or the error's own message. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.serverMessage || err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The errors inside `err`: itself, its cause chain and the members of an AggregateError. */
function errorsIn(err: unknown, depth = 0): unknown[] {
  if (depth > 8 || err === undefined || err === null) return [];
  const inner = err instanceof AggregateError ? err.errors.flatMap((e) => errorsIn(e, depth + 1)) : [];
  const cause = err instanceof Error && err.cause !== undefined ? errorsIn(err.cause, depth + 1) : [];
  return [err, ...inner, ...cause];
}

/** A 429 or 5xx answer, or no answer at all (refused, reset, timed out): the server, not the request. */
function isServerSide(err: unknown): boolean {
  if (err instanceof ApiError) return err.statusCode === 429 || err.statusCode >= 500;
  if (err instanceof TimeoutError) return true;
  // Node's socket errors carry a system error code (ECONNREFUSED, ECONNRESET, ENOTFOUND, EPIPE...).
  return err instanceof Error && "code" in err && /^E[A-Z]+$/.test(String(err.code));
}

/**
 * Whether a failure says "the API server is unavailable or overloaded" (every error inside it
 * does), so a retry soon after it recovers is the right answer, not a long back-off.
 */
export function isTransient(err: unknown): boolean {
  // The root causes: a wrapper ("status write failed", cause: 503) is as transient as its cause.
  const leaves = errorsIn(err).filter(
    (e) => !(e instanceof AggregateError) && !(e instanceof Error && e.cause !== undefined),
  );
  return leaves.length > 0 && leaves.every(isServerSide);
}

/** The longest Retry-After (in ms) the server sent in any error inside `err`, or undefined. */
export function retryAfterMs(err: unknown): number | undefined {
  const seconds = errorsIn(err)
    .map((e) => (e instanceof ApiError ? e.retryAfterSeconds : undefined))
    .filter((s): s is number => s !== undefined);
  return seconds.length > 0 ? Math.max(...seconds) * 1000 : undefined;
}

/** Why a write failed, as a condition reason: what an operator's user can act on. */
export type WriteFailureReason =
  /** RBAC said no (403 without an admission policy's message). */
  | "Forbidden"
  /** An admission policy or webhook refused the request. */
  | "AdmissionRefused"
  /** The object itself was refused (422/400). */
  | "Invalid"
  /** Someone else changed or created the object meanwhile (409). */
  | "Conflict"
  /** The object (or its namespace) is gone (404). */
  | "NotFound"
  /** The API server did not answer, or answered 429/5xx, after the client's retries. */
  | "Unavailable"
  /** Anything else. */
  | "WriteFailed";

/** Whether the server's message says an admission plugin (a policy or a webhook) refused the request. */
function refusedByAdmission(message: string): boolean {
  return /ValidatingAdmissionPolicy|admission webhook|denied (the )?request/i.test(message);
}

/** Classifies a failed write for status (see {@link WriteFailureReason}). */
export function writeFailureReason(err: unknown): WriteFailureReason {
  if (isTransient(err)) return "Unavailable";
  if (!(err instanceof ApiError)) return "WriteFailed";
  const admission = refusedByAdmission(err.serverMessage);
  if (err.statusCode === 403) return admission ? "AdmissionRefused" : "Forbidden";
  if (err.statusCode === 422 || err.statusCode === 400) return admission ? "AdmissionRefused" : "Invalid";
  if (err.statusCode === 409) return "Conflict";
  if (err.statusCode === 404) return "NotFound";
  return "WriteFailed";
}
