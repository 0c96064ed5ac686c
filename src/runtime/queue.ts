/**
 * A keyed, de-duplicating, rate-limited work queue in the style of client-go's workqueue as used by
 * controller-runtime: an event only says *which* key to look at, the handler reads the latest state.
 *
 * Invariants (they are what the tests check):
 * - a key added N times before a worker takes it runs once;
 * - a key never runs twice at the same time: adding it while it runs marks it dirty and it runs once
 *   more after the current run ends;
 * - at most `workers` keys run at once;
 * - every timer belongs to the queue and is cleared by shutdown.
 */

/** What a handler returns; an empty object means "done until something changes". */
export interface ReconcileResult {
  /** Run the key again after this many milliseconds (a periodic re-check), without counting a failure. */
  readonly requeueAfterMs?: number;
}

/** Handles one key. Throwing (or rejecting) means "retry with back-off", unless it is a {@link TerminalError}. */
export type ReconcileHandler = (key: string, signal: AbortSignal) => Promise<ReconcileResult>;

/**
 * A failure that a retry cannot fix (e.g. an invalid spec): the key is not retried, the error is still
 * reported through `onError`. A new add (an edit of the object) runs the key again.
 */
export class TerminalError extends Error {
  /** Wraps `message`, keeping the underlying error as `cause`. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TerminalError";
  }
}

/** True when `err` or any error in its `cause` chain is a {@link TerminalError}. */
export function isTerminalError(err: unknown): boolean {
  // Bounded walk: a cyclic cause chain must not hang a worker.
  let current: unknown = err;
  for (let depth = 0; depth < 16 && current instanceof Error; depth++) {
    if (current instanceof TerminalError) return true;
    current = current.cause;
  }
  return false;
}

/** Receives queue metrics; the app layer binds it to prom-client so this module stays free of it. */
export interface QueueMetricsSink {
  /** Keys waiting to be processed, reported whenever it changes. */
  depth(n: number): void;
  /** A key entered the queue (a de-duplicated add is not counted). */
  added(): void;
  /** A key was scheduled for a rate-limited retry. */
  retried(): void;
  /** Seconds from a key's first add to the start of its processing. */
  queueLatencySeconds(s: number): void;
  /** Seconds a handler ran. */
  workDurationSeconds(s: number): void;
}

/** How one failure changes its key's retry delay. */
export interface RetryHint {
  /** Cap of the per-key delay for this failure (below the queue's maxDelayMs). */
  readonly maxDelayMs?: number;
  /** Wait at least this long (e.g. the server's Retry-After). */
  readonly minDelayMs?: number;
}

/** Options for {@link WorkQueue}. */
export interface WorkQueueOptions {
  /** Number of concurrent workers (at least 1). */
  readonly workers: number;
  /** First retry delay of a failing key, default 5 ms; it doubles per consecutive failure. */
  readonly baseDelayMs?: number;
  /** Cap of the per-key retry delay, default 300 000 ms (5 minutes). */
  readonly maxDelayMs?: number;
  /** Global retry budget: tokens per second of the shared token bucket, default 50. */
  readonly rateLimitPerSecond?: number;
  /** Size of the shared token bucket (retries allowed at once before the rate applies), default 300. */
  readonly burst?: number;
  /** Fraction of the per-key delay added at random so failing keys spread out, default 0.1. */
  readonly jitter?: number;
  /** Metrics sink, default none. */
  readonly onMetrics?: QueueMetricsSink;
  /**
   * Adjusts the retry delay of one failure, default none: a lower cap for errors that say the
   * server is unavailable (retry soon after it is back), a floor for the server's Retry-After.
   */
  readonly retryHint?: (err: unknown) => RetryHint | undefined;
  /** Called with every error a handler throws (terminal or not), default none. Only the app layer logs. */
  readonly onError?: (key: string, err: unknown) => void;
}

/**
 * The per-key retry delay: `baseMs * 2^failures`, plus `jitter` (a fraction of it, e.g.
 * `Math.random() * 0.1`), never more than `maxMs`. `failures` counts the failures *before* this one,
 * so the first retry waits about `baseMs`. Pure, so tests need no clock.
 */
export function backoffDelayMs(failures: number, baseMs: number, maxMs: number, jitter: number): number {
  if (baseMs <= 0 || maxMs <= 0) return 0;
  // 2^1024 is Infinity in IEEE doubles; stop early so the product never becomes NaN or Infinity.
  if (failures >= 1000) return maxMs;
  const exponential = baseMs * 2 ** Math.max(0, failures);
  return Math.min(maxMs, exponential * (1 + Math.max(0, jitter)));
}

/**
 * A token bucket that hands out reservations (like golang.org/x/time/rate's `Reserve`): each call takes
 * one token and returns how long the caller must wait for it. Tokens may go negative, so a burst of
 * callers queue up behind each other at `ratePerSecond` instead of all retrying at once.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /** Starts full (`burst` tokens); `now` is injectable for tests. */
  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.last = now();
  }

  /** Takes one token; returns the wait in ms before it may be used (0 when one was available). */
  reserve(): number {
    if (this.ratePerSecond <= 0) return 0; // no rate limit configured
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.ratePerSecond) * 1000;
  }
}

interface PendingTimer {
  readonly due: number;
  readonly timer: NodeJS.Timeout;
}

/** See the module comment. Create, add keys (before or after start), start, shutdown. */
export class WorkQueue {
  private readonly ready: string[] = [];
  /** Keys that need a run: queued in `ready`, or running and to be run again (client-go's "dirty"). */
  private readonly dirty = new Set<string>();
  private readonly running = new Set<string>();
  /** When each dirty key first entered the queue, for the latency metric. */
  private readonly addedAt = new Map<string, number>();
  private readonly timers = new Map<string, PendingTimer>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: Array<() => void> = [];
  private readonly bucket: TokenBucket;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly jitter: number;
  private workerLoops: Array<Promise<void>> = [];
  /** Aborted when the grace period of shutdown runs out, so slow handlers learn to give up. */
  private readonly graceExpired = new AbortController();
  private stopping = false;
  private started = false;
  private detachStartSignal: () => void = (): void => undefined;

  /** Validates options; nothing runs until {@link start}. */
  constructor(private readonly options: WorkQueueOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new Error(`workers must be a positive integer, got ${options.workers}`);
    }
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 300_000;
    this.jitter = options.jitter ?? 0.1;
    this.bucket = new TokenBucket(options.rateLimitPerSecond ?? 50, options.burst ?? 300);
  }

  /** Queues `key` unless it is already waiting; a running key is marked to run once more. */
  add(key: string): void {
    if (this.stopping || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, Date.now());
    this.metric((m) => m.added());
    // A running key goes back to `ready` when its run ends (see finish), never now: one run per key.
    if (this.running.has(key)) return;
    this.ready.push(key);
    this.reportDepth();
    this.waiters.shift()?.();
  }

  /** Queues `key` after `ms`; of several pending delays for one key only the earliest is kept. */
  addAfter(key: string, ms: number): void {
    if (this.stopping) return;
    const pending = this.timers.get(key);
    if (ms <= 0) {
      // Running now satisfies any later request too (level-triggered), so drop the pending timer.
      if (pending) clearTimeout(pending.timer);
      this.timers.delete(key);
      this.add(key);
      return;
    }
    const due = Date.now() + ms;
    if (pending) {
      if (pending.due <= due) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { due, timer });
  }

  /** Queues `key` after its per-key back-off, and no sooner than the global token bucket allows. */
  addRateLimited(key: string, hint: RetryHint = {}): void {
    if (this.stopping) return;
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const cap = Math.min(this.maxDelayMs, hint.maxDelayMs ?? this.maxDelayMs);
    const perKey = backoffDelayMs(failures, this.baseDelayMs, cap, Math.random() * this.jitter);
    // Like controller-runtime's default limiter: the larger of the per-key and the global delay.
    const delay = Math.max(perKey, this.bucket.reserve(), hint.minDelayMs ?? 0);
    this.metric((m) => m.retried());
    this.addAfter(key, delay);
  }

  /** Resets the failure count of `key`, so its next failure retries after the base delay again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Consecutive failures recorded for `key` (0 after success or forget). */
  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Keys waiting for a worker (not counting running or delayed ones). */
  len(): number {
    return this.ready.length;
  }

  /** Keys being handled right now. */
  processing(): number {
    return this.running.size;
  }

  /**
   * Starts the workers. Handlers get a signal that aborts when `signal` does or when the grace period
   * of {@link shutdown} runs out. Aborting `signal` stops taking new work (like {@link shutdown}
   * without waiting); call shutdown to wait for in-flight handlers.
   */
  start(handler: ReconcileHandler, signal: AbortSignal): void {
    if (this.started) throw new Error("work queue already started");
    this.started = true;
    const handlerSignal = AbortSignal.any([signal, this.graceExpired.signal]);
    const onAbort = (): void => this.stopTaking();
    if (signal.aborted) this.stopTaking();
    else {
      signal.addEventListener("abort", onAbort, { once: true });
      this.detachStartSignal = (): void => signal.removeEventListener("abort", onAbort);
    }
    for (let i = 0; i < this.options.workers; i++) {
      this.workerLoops.push(this.worker(handler, handlerSignal));
    }
  }

  /**
   * Stops taking work, clears every timer, and waits up to `graceMs` for running handlers. Resolves
   * true when they all finished in time; otherwise aborts their signal and resolves false (they may
   * still be running, but nothing they add is queued any more).
   */
  async shutdown(graceMs: number): Promise<boolean> {
    this.stopTaking();
    this.detachStartSignal();
    const loops = Promise.all(this.workerLoops);
    let graceTimer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<boolean>((resolve) => {
      graceTimer = setTimeout(() => resolve(false), Math.max(0, graceMs));
    });
    const finished = await Promise.race([loops.then(() => true), graceOver]);
    clearTimeout(graceTimer);
    if (!finished)
      this.graceExpired.abort(new Error(`work queue shutdown: grace period of ${graceMs} ms over`));
    return finished;
  }

  private stopTaking(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.ready.length = 0;
    this.dirty.clear();
    this.addedAt.clear();
    this.reportDepth();
    // Idle workers wait on these; waking them lets them see `stopping` and exit.
    for (const wake of this.waiters.splice(0)) wake();
  }

  private async worker(handler: ReconcileHandler, signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.next();
      if (key === undefined) return;
      await this.process(key, handler, signal);
    }
  }

  /** The next ready key, or undefined once the queue is stopping. */
  private async next(): Promise<string | undefined> {
    for (;;) {
      if (this.stopping) return undefined;
      const key = this.ready.shift();
      if (key !== undefined) {
        this.dirty.delete(key);
        this.running.add(key);
        this.reportDepth();
        const addedAt = this.addedAt.get(key);
        this.addedAt.delete(key);
        if (addedAt !== undefined) this.metric((m) => m.queueLatencySeconds((Date.now() - addedAt) / 1000));
        return key;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private async process(key: string, handler: ReconcileHandler, signal: AbortSignal): Promise<void> {
    const started = performance.now();
    try {
      // `await` inside try also catches a handler that throws synchronously instead of rejecting.
      const result = await handler(key, signal);
      this.forget(key);
      const after = result?.requeueAfterMs;
      if (after !== undefined && after >= 0) this.addAfter(key, after);
    } catch (err: unknown) {
      if (isTerminalError(err)) this.forget(key);
      else this.addRateLimited(key, this.options.retryHint?.(err) ?? {});
      this.report(key, err);
    } finally {
      this.metric((m) => m.workDurationSeconds((performance.now() - started) / 1000));
      this.finish(key);
    }
  }

  /** Ends a run; a key that was added while it ran goes back to the queue now. */
  private finish(key: string): void {
    this.running.delete(key);
    if (this.stopping || !this.dirty.has(key)) return;
    this.ready.push(key);
    this.reportDepth();
    this.waiters.shift()?.();
  }

  private report(key: string, err: unknown): void {
    try {
      this.options.onError?.(key, err);
    } catch {
      // The error callback is the only channel we have; if it throws there is nowhere left to report
      // to, and letting it escape would kill the worker, which is worse than losing one log line.
    }
  }

  private reportDepth(): void {
    const depth = this.ready.length;
    this.metric((m) => m.depth(depth));
  }

  private metric(record: (sink: QueueMetricsSink) => void): void {
    const sink = this.options.onMetrics;
    if (!sink) return;
    try {
      record(sink);
    } catch {
      // Metrics are best effort: a broken sink must not stop reconciliation.
    }
  }
}
