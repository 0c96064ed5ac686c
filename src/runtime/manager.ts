/**
 * The lifecycle of one controller, knowing nothing of what it controls (controller-runtime's
 * manager): start in a fixed order (preflight → caches → wait for sync → leader election → workers),
 * stop in reverse, exception-safe, under one AbortSignal. With leader election, the workers run under
 * the leadership's own signal: a lost Lease cancels the reconciles in flight at once (their requests
 * are destroyed, none is sent after), so the renew deadline, which ends before the Lease expires for
 * the others, is a real deadline for this replica's writes.
 */
import type { KubeClient } from "./client.js";
import type { Logger } from "./log.js";
import { LeaderElector, type LeaderElectionTimings } from "./leader-election.js";
import type { ReconcileHandler, WorkQueue } from "./queue.js";

/** The caches a controller reads: started before the workers, stopped after them. */
export interface Caches {
  /** Starts every informer; resolves early, without error, when `signal` aborts. */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves when every informer has listed once; rejects on a failure (or resolves on abort). */
  waitForSync(signal: AbortSignal): Promise<void>;
  /** Stops every informer. */
  stop(): Promise<void>;
  /** Whether every informer has synced. */
  readonly synced: boolean;
}

/** Leader election on a Lease; each default is client-go's (see {@link LeaderElectionTimings}). */
export interface LifecycleLeaderElection {
  readonly namespace: string;
  readonly name: string;
  /** This replica's holder identity (default hostname_uuid). */
  readonly identity?: string;
  readonly timings?: Partial<LeaderElectionTimings>;
}

/** What the lifecycle runs; no defaults here: the app owns them. */
export interface LifecycleOptions {
  /** The client everything shares: its sockets are closed last. */
  readonly kube: KubeClient;
  readonly caches: Caches;
  readonly queue: WorkQueue;
  readonly log: Logger;
  /** Handles one key, under a signal that aborts when the work must stop. */
  readonly reconcile: ReconcileHandler;
  /** Every key there is: queued when the workers start and at each resync. */
  readonly keys: () => Iterable<string>;
  /** For the log line at start. */
  readonly workers: number;
  /** Period of the full resync (every key queued again) in ms; 0 disables it. */
  readonly resyncPeriodMs: number;
  /** How long a stop waits for in-flight reconciles. */
  readonly shutdownGraceMs: number;
  /** Runs before any informer (e.g. an identity check); a throw fails the start. */
  readonly preflight?: (signal: AbortSignal) => Promise<void>;
  /** Leader election; without it the workers start once the caches have synced. */
  readonly leaderElection?: LifecycleLeaderElection;
  /** Told when this replica starts (true) and stops (false) running workers. */
  readonly onLeading?: (leading: boolean) => void;
}

/** Why {@link Lifecycle.run} returned: stopped by its signal, or leadership lost (exit non-zero). */
export type RunResult = "stopped" | "lost";

/** Runs a controller: see the module comment for the order. One run per instance. */
export class Lifecycle {
  private resyncTimer: NodeJS.Timeout | undefined;
  private leading = false;
  private started = false;

  constructor(private readonly options: LifecycleOptions) {}

  /** True once the caches have synced (readiness). */
  get synced(): boolean {
    return this.started && this.options.caches.synced;
  }

  /**
   * Runs until `signal` aborts (resolves "stopped") or, with leader election, until the lease is lost
   * (resolves "lost": the process should exit non-zero, as controller-runtime does). Stop order:
   * workers drain first, then the lease is released, then the caches stop, so a standby never starts
   * while this replica still writes.
   */
  async run(signal: AbortSignal): Promise<RunResult> {
    const { caches, kube, log, preflight } = this.options;
    try {
      if (preflight) await preflight(signal);
    } catch (err) {
      // Nothing has started yet: only the client's sockets to free.
      kube.close();
      throw err;
    }
    if (signal.aborted) {
      kube.close();
      return "stopped";
    }
    try {
      await caches.start(signal);
      this.started = true;
      await caches.waitForSync(signal);
    } catch (err) {
      // An informer that cannot start or sync (e.g. no permission to list) fails the start, but
      // never leaves watches or sockets behind.
      if (!signal.aborted) {
        await this.stop();
        throw err;
      }
    }
    if (signal.aborted) {
      await this.stop();
      return "stopped";
    }
    log.info("caches synced");
    const le = this.options.leaderElection;
    return le ? this.runElected(le, signal) : this.runAlone(signal);
  }

  private async runAlone(signal: AbortSignal): Promise<RunResult> {
    // Not the process signal: a stop lets in-flight reconciles finish within the shutdown grace.
    const workers = new AbortController();
    this.startWorkers(workers.signal);
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    try {
      await this.stop();
    } finally {
      workers.abort();
    }
    return "stopped";
  }

  private async runElected(le: LifecycleLeaderElection, signal: AbortSignal): Promise<RunResult> {
    const { log, queue } = this.options;
    let lost = false;
    const leadership = new AbortController();
    const workers = new AbortController();
    const drainThenRelease = async (): Promise<void> => {
      await this.drain();
      leadership.abort();
    };
    const onAbort = (): void => void drainThenRelease();
    try {
      signal.addEventListener("abort", onAbort, { once: true });
      // Inside the try: the elector checks its timings and throws on bad ones, and the caches
      // started before it must stop then too.
      const elector = new LeaderElector({
        kube: this.options.kube,
        namespace: le.namespace,
        name: le.name,
        ...(le.identity ? { identity: le.identity } : {}),
        ...le.timings,
        // Work runs under the leadership's own signal too: whatever ends the term cancels it.
        onStartedLeading: (term) => this.startWorkers(AbortSignal.any([workers.signal, term])),
        onStoppedLeading: (reason) => {
          this.setLeading(false);
          if (reason === "lost") {
            lost = true;
            log.error("lost leadership; stopping");
            workers.abort();
            void queue.shutdown(0);
          }
        },
        onNewLeader: (identity) => log.info("leader", { identity }),
        onError: (err) => log.warn("leader election", { error: err }),
      });
      if (signal.aborted) leadership.abort();
      await elector.run(leadership.signal);
    } finally {
      // Also when run() rejects (a callback threw) or the elector could not be built: nothing may
      // keep writing or watching.
      signal.removeEventListener("abort", onAbort);
      workers.abort();
      await this.stop();
    }
    return lost ? "lost" : "stopped";
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.options.onLeading?.(leading);
  }

  private startWorkers(signal: AbortSignal): void {
    if (this.leading) return;
    this.setLeading(true);
    const { queue, keys, log, resyncPeriodMs } = this.options;
    log.info("starting workers", { workers: this.options.workers });
    queue.start(this.options.reconcile, signal);
    for (const key of keys()) queue.add(key);
    if (resyncPeriodMs > 0) {
      this.resyncTimer = setInterval(() => {
        for (const key of keys()) queue.add(key);
      }, resyncPeriodMs);
      this.resyncTimer.unref();
    }
  }

  /** Stops taking work and waits (bounded) for in-flight reconciles. Idempotent. */
  private async drain(): Promise<void> {
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    const finished = await this.options.queue.shutdown(this.options.shutdownGraceMs);
    if (!finished) this.options.log.warn("shutdown: in-flight reconciles did not finish in time");
  }

  private async stop(): Promise<void> {
    await this.drain();
    await this.options.caches.stop();
    this.options.kube.close();
    this.leading = false;
    this.options.log.info("stopped");
  }
}
