/**
 * Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection package
 * (which controller-runtime uses): candidates read the Lease, take it when it is absent, released or
 * expired, and the leader renews it every retryPeriod. Writes carry the resourceVersion that was read,
 * so of two candidates racing for the same Lease the API server lets exactly one win (409 for the other).
 *
 * Expiry is judged on the *local* clock, as client-go does: a Lease is expired when its record has not
 * changed for leaseDurationSeconds since this process first saw that record. Comparing the Lease's
 * renewTime with our own clock instead would let a candidate whose clock runs ahead steal a live Lease.
 * The price: a candidate that starts while a dead leader's Lease is still recorded waits one full
 * lease duration before taking over.
 *
 * Safety margin: the leader gives up leadership when it has not renewed within renewDeadline of sending
 * its last successful renewal, and other candidates wait leaseDuration (> renewDeadline) after seeing that
 * renewal, so two replicas never both believe they lead, unless the process stalls longer than the
 * difference (5 s by default) between a timer check and its work.
 */
import { sleep } from "./sleep.js";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { KubeClient, KubeObject } from "./client.js";
import { isConflict, isNotFound, TimeoutError } from "./errors.js";
import { KUBERNETES } from "./resources.js";

/** The fields of a Lease's spec that leader election reads and writes. */
export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  /** MicroTime, e.g. "2026-01-01T00:00:00.000000Z". */
  readonly acquireTime?: string;
  /** MicroTime of the holder's last renewal. */
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

/** A coordination.k8s.io/v1 Lease. */
export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** The part of {@link KubeClient} the elector uses (a KubeClient fits). */
export interface LeaseClient {
  readonly get: KubeClient["get"];
  readonly create: KubeClient["create"];
  readonly replace: KubeClient["replace"];
  /** The same client with every request bound to `signal` (see KubeClient.withSignal). */
  withSignal(signal: AbortSignal): LeaseClient;
}

/** Why leadership ended: `lost` (renewal failed or another replica took over), `stopped` (run ended). */
export type StopReason = "lost" | "stopped";

/** Timing of leader election; see {@link resolveTimings} for the defaults and constraints. */
export interface LeaderElectionTimings {
  /** How long candidates wait after the Lease last changed before taking it over, default 15 000 ms. */
  readonly leaseDurationMs: number;
  /** How long the leader keeps trying to renew before it gives up leadership, default 10 000 ms. */
  readonly renewDeadlineMs: number;
  /** Pause between attempts to acquire or renew, default 2 000 ms. */
  readonly retryPeriodMs: number;
}

/** Options for {@link LeaderElector}. */
export interface LeaderElectorOptions extends Partial<LeaderElectionTimings> {
  readonly kube: LeaseClient;
  /** Namespace of the Lease (the operator's own). */
  readonly namespace: string;
  /** Name of the Lease. */
  readonly name: string;
  /** This candidate's identity, default `<hostname>_<random UUID>` (unique per process, like client-go). */
  readonly identity?: string;
  /**
   * Release the Lease when run() is stopped while leading, so a standby takes over at once instead of
   * after leaseDuration, default true. Only safe when the app has stopped its work by then (stop workers
   * before the leader elector). false is also how tests simulate a crashed leader.
   */
  readonly releaseOnCancel?: boolean;
  /** Called when this replica becomes leader; `leadership` aborts when that ends (for whatever reason). */
  readonly onStartedLeading: (leadership: AbortSignal) => void;
  /**
   * Called when leadership ends: `lost` means the Lease could not be renewed in time or another replica
   * holds it (controller-runtime exits the process then), `stopped` that run() was ended on purpose.
   */
  readonly onStoppedLeading: (reason: StopReason) => void;
  /** Called with the holder's identity whenever a different one is observed (this replica's included). */
  readonly onNewLeader?: (identity: string) => void;
  /** Told about failed API requests (not about lost races, which are normal), default none. */
  readonly onError?: (err: unknown) => void;
  /** Milliseconds since the epoch, default Date.now (timestamps and deadlines; timers stay real). */
  readonly clock?: () => number;
}

/** client-go's JitterFactor: a candidate waits retryPeriod × (1 + random × 1.2) between attempts. */
const JITTER_FACTOR = 1.2;

const LEASE = KUBERNETES.of("coordination.k8s.io/v1", "Lease");

/**
 * The timings with defaults applied; throws unless leaseDuration > renewDeadline > 1.2 × retryPeriod > 0
 * (client-go's checks: otherwise the leader could lose its Lease before it gives up leadership).
 */
export function resolveTimings(options: Partial<LeaderElectionTimings>): LeaderElectionTimings {
  const t: LeaderElectionTimings = {
    leaseDurationMs: options.leaseDurationMs ?? 15_000,
    renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
    retryPeriodMs: options.retryPeriodMs ?? 2_000,
  };
  if (!(t.retryPeriodMs > 0)) throw new Error(`retryPeriodMs must be positive, got ${t.retryPeriodMs}`);
  if (!(t.leaseDurationMs > t.renewDeadlineMs)) {
    throw new Error(
      `leaseDurationMs (${t.leaseDurationMs}) must be greater than renewDeadlineMs (${t.renewDeadlineMs})`,
    );
  }
  if (!(t.renewDeadlineMs > JITTER_FACTOR * t.retryPeriodMs)) {
    throw new Error(
      `renewDeadlineMs (${t.renewDeadlineMs}) must be greater than ${JITTER_FACTOR} × retryPeriodMs (${t.retryPeriodMs})`,
    );
  }
  return t;
}

/** A Kubernetes MicroTime: RFC 3339 in UTC with microseconds, "2026-01-01T00:00:00.000000Z". */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}

/** A Lease record as this candidate saw it, and when (local clock) it first saw exactly this record. */
export interface LeaseObservation {
  readonly spec: LeaseSpec;
  readonly sinceMs: number;
}

/**
 * Whether another candidate holds the Lease and its term has not run out: the holder is set, is not
 * `identity`, and the record has not changed for less than its leaseDurationSeconds (our own duration
 * when the record lacks one, to stay on the safe side). A released Lease (empty holder) is free.
 */
export function isHeldByAnother(
  observation: LeaseObservation,
  identity: string,
  nowMs: number,
  fallbackDurationSeconds: number,
): boolean {
  const holder = observation.spec.holderIdentity ?? "";
  if (holder === "" || holder === identity) return false;
  const seconds = observation.spec.leaseDurationSeconds ?? fallbackDurationSeconds;
  return nowMs < observation.sinceMs + seconds * 1000;
}

/**
 * The record `identity` writes to take or renew the Lease. Renewing keeps acquireTime and the
 * transition count; taking it from someone else (or from nobody, after a release) counts a transition.
 */
export function claimSpec(
  current: LeaseSpec | undefined,
  identity: string,
  nowMs: number,
  leaseDurationSeconds: number,
): LeaseSpec {
  const now = microTime(nowMs);
  const renewing = current?.holderIdentity === identity;
  const transitions = current?.leaseTransitions ?? 0;
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: renewing ? (current?.acquireTime ?? now) : now,
    renewTime: now,
    leaseTransitions: current === undefined || renewing ? transitions : transitions + 1,
  };
}

/**
 * The record that gives the Lease up (client-go's ReleaseOnCancel): no holder and a 1 s duration, so
 * candidates take it at once, and candidates that only look at the duration still wait just a second.
 */
export function releaseSpec(current: LeaseSpec, nowMs: number): LeaseSpec {
  const now = microTime(nowMs);
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: current.leaseTransitions ?? 0,
  };
}

/**
 * Runs `fn`, rejecting after `ms`. The signal passed to `fn` aborts then, so an abandoned attempt never
 * writes after its deadline (a late write would renew a Lease we already stopped counting on).
 */
async function withTimeout<T>(fn: (signal: AbortSignal) => Promise<T>, ms: number, what: string): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new TimeoutError(`${what} timed out after ${Math.round(ms)} ms`);
      controller.abort(err);
      reject(err);
    }, ms);
  });
  try {
    // race() subscribes to both, so a late rejection of fn's promise is handled, not "unhandled".
    return await Promise.race([fn(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** One try at acquiring or renewing. */
type Attempt =
  | { readonly kind: "acquired"; readonly sentAtMs: number }
  | { readonly kind: "held" }
  | { readonly kind: "failed" };

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/**
 * Campaigns for a Lease and keeps it. One leadership term per {@link run}: like client-go's Run, run()
 * resolves when leadership is lost (after onStoppedLeading("lost")), and the app decides what that
 * means — controller-runtime exits the process. Create with options, then run(signal).
 */
export class LeaderElector {
  /** This candidate's identity, as written to holderIdentity. */
  readonly identity: string;
  private readonly timings: LeaderElectionTimings;
  /** What we write to leaseDurationSeconds; rounded up so others never wait less than we assume. */
  private readonly leaseDurationSeconds: number;
  private readonly clock: () => number;
  private observed: LeaseObservation | undefined;
  private observedKey = "";
  private reportedLeader = "";
  /** Present while leading; aborted when leadership ends. */
  private leadership: AbortController | undefined;
  /** Our last write took the Lease and nothing since showed otherwise (so shutdown should release it). */
  private holding = false;
  /** Local time just before our last successful write: the renewDeadline counts from here. */
  private renewedAtMs = 0;
  private running = false;
  /** Ends the current run early when a callback fails. */
  private interrupt = new AbortController();
  private failure: Error | undefined;

  /** Validates the timings (see {@link resolveTimings}); nothing runs until {@link run}. */
  constructor(private readonly options: LeaderElectorOptions) {
    if (!options.name || !options.namespace)
      throw new Error("leader election needs a Lease name and namespace");
    this.timings = resolveTimings(options);
    this.leaseDurationSeconds = Math.ceil(this.timings.leaseDurationMs / 1000);
    this.identity = options.identity ?? `${hostname()}_${randomUUID()}`;
    this.clock = options.clock ?? Date.now;
  }

  /** True while this replica leads (between onStartedLeading and onStoppedLeading). */
  isLeader(): boolean {
    return this.leadership !== undefined;
  }

  /**
   * Campaigns until `signal` aborts or leadership is lost. On abort while leading it calls
   * onStoppedLeading("stopped") and then releases the Lease (unless releaseOnCancel is false), so
   * stop the work that needs leadership before aborting. A callback that throws ends the run the same
   * way, and run() rejects with that error. Failed API requests never reject: they are retried, and
   * reported to onError. A finished elector may run again.
   */
  async run(signal: AbortSignal): Promise<void> {
    if (this.running) throw new Error("leader elector already running");
    this.running = true;
    this.failure = undefined;
    this.interrupt = new AbortController();
    const stop = AbortSignal.any([signal, this.interrupt.signal]);
    try {
      await this.campaign(stop);
    } finally {
      this.stopLeading("stopped");
      if (this.holding && (this.options.releaseOnCancel ?? true)) await this.release();
      this.holding = false;
      this.running = false;
    }
    // Read through a method: TypeScript narrowed the field to `undefined` at the reset above and cannot
    // see that callbacks set it meanwhile.
    const failure = this.callbackFailure();
    if (failure) throw failure;
  }

  private callbackFailure(): Error | undefined {
    return this.failure;
  }

  /** The acquire/renew loop; returns on `stop` or when leadership is lost. */
  private async campaign(stop: AbortSignal): Promise<void> {
    const { renewDeadlineMs, retryPeriodMs } = this.timings;
    while (!stop.aborted) {
      const leading = this.isLeader();
      // The leader's attempt may only take as long as is left of its renew deadline.
      const budgetMs = leading ? this.renewedAtMs + renewDeadlineMs - this.clock() : renewDeadlineMs;
      if (budgetMs <= 0) return this.lose();
      const result = await this.attempt(budgetMs);
      this.reportLeader();
      if (result.kind === "acquired") {
        this.holding = true;
        this.renewedAtMs = result.sentAtMs;
        if (!leading && !stop.aborted) this.startLeading();
      } else if (result.kind === "held") {
        this.holding = false;
        // Someone else holds it, so they judged our term over: stop now, not at the renew deadline.
        if (leading) return this.lose();
      }
      const delayMs = this.isLeader()
        ? Math.min(retryPeriodMs, Math.max(0, this.renewedAtMs + renewDeadlineMs - this.clock()))
        : retryPeriodMs * (1 + Math.random() * JITTER_FACTOR);
      await sleep(delayMs, stop);
    }
  }

  /** One bounded try; errors become a "failed" result (reported unless it was a lost race). */
  private async attempt(budgetMs: number): Promise<Attempt> {
    try {
      return await withTimeout((signal) => this.tryAcquireOrRenew(signal), budgetMs, "lease acquire/renew");
    } catch (err: unknown) {
      if (!isConflict(err)) this.options.onError?.(err);
      return { kind: "failed" };
    }
  }

  /** client-go's tryAcquireOrRenew: read, decide, write with the read resourceVersion. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const { name, namespace } = this.options;
    // Every request of the attempt carries its deadline: one still in flight when it passes is
    // destroyed, so an abandoned renewal cannot land after this replica has stopped leading.
    const kube = this.options.kube.withSignal(signal);
    let current: Lease | undefined;
    try {
      current = await kube.get<Lease>(LEASE, name, namespace);
    } catch (err: unknown) {
      // Only a confirmed 404 means "no Lease": any other failure must not lead to a create.
      if (!isNotFound(err)) throw err;
    }
    signal.throwIfAborted();
    const now = this.clock();
    if (current === undefined) {
      const spec = claimSpec(undefined, this.identity, now, this.leaseDurationSeconds);
      // A 409 here means another candidate created it first: a lost race, retried by the loop.
      await kube.create<Lease>({
        apiVersion: LEASE.apiVersion,
        kind: LEASE.kind,
        metadata: { name, namespace },
        spec,
      });
      this.observe(spec, now);
      return { kind: "acquired", sentAtMs: now };
    }
    const observation = this.observe(current.spec ?? {}, now);
    if (isHeldByAnother(observation, this.identity, now, this.leaseDurationSeconds)) return { kind: "held" };
    const spec = claimSpec(current.spec, this.identity, now, this.leaseDurationSeconds);
    signal.throwIfAborted();
    // PUT with the resourceVersion we read: a 409 means someone wrote in between and we lost the race.
    await kube.replace<Lease>({ ...current, apiVersion: LEASE.apiVersion, kind: LEASE.kind, spec });
    this.observe(spec, now);
    return { kind: "acquired", sentAtMs: now };
  }

  /** Records the Lease as seen; the expiry clock restarts only when the record changed. */
  private observe(spec: LeaseSpec, nowMs: number): LeaseObservation {
    const key = JSON.stringify([
      spec.holderIdentity ?? "",
      spec.leaseDurationSeconds ?? null,
      spec.acquireTime ?? null,
      spec.renewTime ?? null,
      spec.leaseTransitions ?? null,
    ]);
    if (this.observed === undefined || key !== this.observedKey) {
      this.observed = { spec, sinceMs: nowMs };
      this.observedKey = key;
    }
    return this.observed;
  }

  /** Tells onNewLeader about a holder not reported before (a released Lease has none: not reported). */
  private reportLeader(): void {
    const holder = this.observed?.spec.holderIdentity ?? "";
    if (holder === "" || holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    const onNewLeader = this.options.onNewLeader;
    if (onNewLeader) this.callback("onNewLeader", () => onNewLeader(holder));
  }

  /** Releases the Lease if we still hold it; bounded by renewDeadline; failures go to onError. */
  private async release(): Promise<void> {
    const { name, namespace } = this.options;
    const releaseOnce = async (signal: AbortSignal): Promise<void> => {
      const kube = this.options.kube.withSignal(signal);
      // A renewal may have landed between our read and write: re-read and retry a couple of times.
      for (let tries = 0; tries < 3; tries++) {
        let current: Lease;
        try {
          current = await kube.get<Lease>(LEASE, name, namespace);
        } catch (err: unknown) {
          if (isNotFound(err)) return;
          throw err;
        }
        // Someone else already took it over: releasing would clobber their term.
        if (current.spec?.holderIdentity !== this.identity) return;
        signal.throwIfAborted();
        try {
          await kube.replace<Lease>({ ...current, spec: releaseSpec(current.spec, this.clock()) });
          return;
        } catch (err: unknown) {
          if (!isConflict(err)) throw err;
        }
      }
      throw new Error(`lease ${namespace}/${name} release: conflicts on every try`);
    };
    try {
      await withTimeout(releaseOnce, this.timings.renewDeadlineMs, "lease release");
    } catch (err: unknown) {
      // The Lease then simply expires after leaseDuration: slower failover, still correct.
      this.options.onError?.(err);
    }
  }

  private startLeading(): void {
    const leadership = new AbortController();
    this.leadership = leadership;
    this.callback("onStartedLeading", () => this.options.onStartedLeading(leadership.signal));
  }

  /** Ends leadership (if any): isLeader() turns false before the callback runs. */
  private stopLeading(reason: StopReason): void {
    const leadership = this.leadership;
    if (!leadership) return;
    this.leadership = undefined;
    leadership.abort(new Error(`leadership ${reason}`));
    this.callback("onStoppedLeading", () => this.options.onStoppedLeading(reason));
  }

  /** Renewal failed or someone else took over: the term ends and so does run(). */
  private lose(): void {
    this.holding = false;
    this.stopLeading("lost");
  }

  /** Runs an app callback; a throw (or a rejected promise) ends the run and becomes run()'s rejection. */
  private callback(what: string, fn: () => unknown): void {
    const fail = (err: unknown): void => {
      this.failure ??= new Error(`leader election: ${what} failed`, { cause: err });
      this.interrupt.abort(this.failure);
    };
    try {
      const result = fn();
      if (isPromiseLike(result)) result.then(undefined, fail);
    } catch (err: unknown) {
      fail(err);
    }
  }
}
