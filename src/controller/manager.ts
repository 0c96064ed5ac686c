/**
 * Wires the loop: caches → event routing → work queue → reconciler, with a periodic resync,
 * optional leader election and one AbortSignal for start and stop.
 * Start order: identity check (the installed admission policies must exempt who we run as),
 * caches, wait for sync, leader election, workers. Stop in reverse.
 */
import type { ClusterAccess } from "../runtime/kubeconfig.js";
import {
  DEFAULT_LEASE_NAME,
  DEFAULT_OPERATOR_NAMESPACE,
  DEFAULT_PROTECTED_NAMESPACES,
  RESERVED_NAME_PREFIX,
  WORKSPACE_LABEL,
  FIELD_MANAGER,
  API_VERSION,
  KIND,
  REPORTING_CONTROLLER,
  CONTROLLER_NAME,
} from "../api/constants.js";
import { asSecureWorkspace, type SecureWorkspace } from "../api/types.js";
import { controlOf } from "../baseline/index.js";
import { isAbortError, KubeClient, type KubeObject } from "../runtime/client.js";
import { isTransient, retryAfterMs } from "../runtime/errors.js";
import { InformerError } from "../runtime/informer.js";
import { checkIdentity, IdentityError } from "./identity.js";
import { EventRecorder } from "../observability/events.js";
import type { Metrics } from "../observability/metrics.js";
import { ClusterCache, POSTURE_KINDS, type CacheEventType } from "./cache.js";
import type { LeaderElectionTimings } from "../runtime/leader-election.js";
import type { Logger } from "../runtime/log.js";
import { Lifecycle, type RunResult } from "../runtime/manager.js";
import { MeshDetector } from "./mesh-detector.js";
import { WorkQueue, type ReconcileResult, type RetryHint } from "../runtime/queue.js";
import { Reconciler, type ReconcileReport } from "./reconciler.js";
import { RESOURCES } from "../api/resources.js";

/** Longest wait before retrying a workspace whose failure says the API server was unavailable. */
const TRANSIENT_RETRY_CAP_MS = 30_000;

/**
 * Unavailable or overloaded server (5xx, 429, no answer): retry within 30 s of its recovery, not
 * after the 5-minute cap meant for errors a retry rarely fixes (403, a refused object); never
 * sooner than its Retry-After.
 */
function retryHintOf(err: unknown): RetryHint {
  const after = retryAfterMs(err);
  return {
    ...(isTransient(err) ? { maxDelayMs: TRANSIENT_RETRY_CAP_MS } : {}),
    ...(after !== undefined ? { minDelayMs: after } : {}),
  };
}

/** The one owner of the manager's defaults: config.ts's flags take theirs from here. */
export const MANAGER_DEFAULTS = {
  workers: 4,
  resyncPeriodMs: 600_000,
  shutdownGraceMs: 10_000,
  operatorNamespace: DEFAULT_OPERATOR_NAMESPACE,
  leaseName: DEFAULT_LEASE_NAME,
} as const;

/** Manager settings; each default is given. */
export interface ManagerOptions {
  readonly kc: ClusterAccess;
  readonly log: Logger;
  readonly metrics?: Metrics;
  /** Parallel reconciles (default 4). */
  readonly workers?: number;
  /** Full resync period in ms, the safety net (default 10 min; 0 disables). */
  readonly resyncPeriodMs?: number;
  /** The operator's namespace: never owned by a workspace (default secure-workspace-system). */
  readonly operatorNamespace?: string;
  /** Leader election on a Lease in operatorNamespace (default off). */
  readonly leaderElection?: {
    readonly enabled: boolean;
    readonly leaseName?: string;
    readonly identity?: string;
    /** Lease timings (client-go's defaults: 15 s lease, 10 s renew deadline, 2 s retry). */
    readonly timings?: Partial<LeaderElectionTimings>;
  };
  /** Server-side watch timeout in seconds (default 300). */
  readonly watchTimeoutSeconds?: number;
  /** How long shutdown waits for in-flight reconciles (default 10 s). */
  readonly shutdownGraceMs?: number;
  /**
   * Patterns (`*` = any run of characters) of namespaces never created or adopted, besides the
   * system namespaces and operatorNamespace, which always are (default kube-*, default, *-system).
   */
  readonly protectedNamespaces?: readonly string[];
  /**
   * Check at start that the installed admission policies exempt the identity the operator runs as
   * (default true); a tamper policy that exempts someone else fails the start.
   */
  readonly checkIdentity?: boolean;
}

/** The running operator. */
export class Manager {
  readonly kube: KubeClient;
  readonly cache: ClusterCache;
  readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private readonly versions = new Map<string, { version: string; generation: string }>();
  /** namespace name → workspaces that list it (to wake them when it appears or is released). */
  private readonly listedBy = new Map<string, Set<string>>();
  /** workspace → the namespace names its spec lists (to undo listedBy without a scan). */
  private readonly namespacesOf = new Map<string, string[]>();
  private readonly lifecycle: Lifecycle;
  private gaugesAt = 0;

  constructor(private readonly options: ManagerOptions) {
    const metrics = options.metrics;
    this.kube = new KubeClient(options.kc, {
      fieldManager: FIELD_MANAGER,
      resources: RESOURCES,
      ...(metrics ? { onRequest: (verb: string, code: number): void => metrics.apiRequest(verb, code) } : {}),
    });
    this.cache = new ClusterCache(options.kc, this.kube, {
      ...(options.watchTimeoutSeconds ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
      onInformerRestart: (kind, info) => {
        metrics?.informerRestarted(kind, info.reason);
        // A watch that ends at its timeout re-watches without a restart; a 410 (history compacted) is routine.
        const level = info.reason === "expired" ? "info" : "warn";
        options.log[level]("informer restarting its list/watch", {
          kind,
          reason: info.reason,
          attempt: info.attempt,
          delayMs: Math.round(info.delayMs),
          relist: info.relist,
          ...(info.error ? { error: info.error } : {}),
        });
      },
      // List and watch failures are logged with their restart (above); a handler that threw has no restart.
      onInformerError: (kind, err) => {
        if (err instanceof InformerError && err.phase === "handler")
          options.log.error("informer event handler threw", { kind, error: err });
      },
    });
    this.queue = new WorkQueue({
      workers: options.workers ?? MANAGER_DEFAULTS.workers,
      ...(metrics ? { onMetrics: metrics.queueSink(CONTROLLER_NAME) } : {}),
      retryHint: retryHintOf,
      onError: (key, err) =>
        isAbortError(err)
          ? options.log.debug("reconcile cancelled", { workspace: key })
          : options.log.warn("reconcile failed; retrying with back-off", {
              workspace: key,
              error: err,
            }),
    });
    const events = new EventRecorder(
      this.kube,
      {
        controller: REPORTING_CONTROLLER,
        instance: options.leaderElection?.identity ?? DEFAULT_LEASE_NAME,
        regarding: { apiVersion: API_VERSION, kind: KIND },
      },
      (err) => options.log.warn("event not recorded", { error: err }),
    );
    this.reconciler = new Reconciler({
      kube: this.kube,
      cache: this.cache,
      mesh: new MeshDetector(this.kube),
      events,
      operatorNamespace: options.operatorNamespace ?? MANAGER_DEFAULTS.operatorNamespace,
      protectedNamespaces: options.protectedNamespaces ?? DEFAULT_PROTECTED_NAMESPACES,
      onReport: (r) => this.onReport(r),
    });
    this.cache.onChange((kind, type, obj, routine) => this.route(kind, type, obj, routine));
    const le = options.leaderElection;
    this.lifecycle = new Lifecycle({
      kube: this.kube,
      caches: this.cache,
      queue: this.queue,
      log: options.log,
      reconcile: (key, signal) => this.timedReconcile(key, signal),
      keys: () => this.workspaceKeys(),
      workers: options.workers ?? MANAGER_DEFAULTS.workers,
      resyncPeriodMs: options.resyncPeriodMs ?? MANAGER_DEFAULTS.resyncPeriodMs,
      shutdownGraceMs: options.shutdownGraceMs ?? MANAGER_DEFAULTS.shutdownGraceMs,
      preflight: (signal) => this.checkIdentity(signal),
      ...(le?.enabled
        ? {
            leaderElection: {
              namespace: options.operatorNamespace ?? MANAGER_DEFAULTS.operatorNamespace,
              name: le.leaseName ?? MANAGER_DEFAULTS.leaseName,
              ...(le.identity ? { identity: le.identity } : {}),
              ...(le.timings ? { timings: le.timings } : {}),
            },
          }
        : {}),
      onLeading: (leading) => metrics?.setLeader(leading),
    });
  }

  /** True once the caches have synced (readiness). */
  get synced(): boolean {
    return this.lifecycle.synced;
  }

  /**
   * Runs until `signal` aborts (resolves "stopped") or, with leader election, until the lease
   * is lost (resolves "lost": the process should exit non-zero, as controller-runtime does).
   * The order of start and stop, and the cancellation of in-flight work on a lost Lease, are the
   * runtime's ({@link Lifecycle}).
   */
  async run(signal: AbortSignal): Promise<RunResult> {
    return this.lifecycle.run(signal);
  }

  /**
   * Before any informer: learn who we run as and whether the installed admission policies let
   * that identity write. Throws {@link IdentityError} when the tamper policy exempts someone else.
   */
  private async checkIdentity(signal: AbortSignal): Promise<void> {
    if (this.options.checkIdentity === false) return;
    const { log } = this.options;
    const check = await checkIdentity(this.kube, signal);
    for (const warning of check.warnings) log.warn("admission policy check", { warning });
    if (check.error !== undefined) throw new IdentityError(check.error);
    log.info("identity", { username: check.username, policies: check.policies });
  }

  /** Every workspace's key. */
  private *workspaceKeys(): Iterable<string> {
    for (const ws of this.cache.list("SecureWorkspace")) yield ws.metadata.name;
  }

  private async timedReconcile(key: string, signal: AbortSignal): Promise<ReconcileResult> {
    const started = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await this.reconciler.reconcile(key, signal);
      this.options.metrics?.observeReconcile(seconds(), result.requeueAfterMs ? "requeue_after" : "success");
      return result;
    } catch (err) {
      this.options.metrics?.observeReconcile(seconds(), "error");
      throw err;
    }
  }

  /** Maps a cache change to the workspace keys it concerns. */
  private route(kind: string, type: CacheEventType, obj: KubeObject, routine: boolean): void {
    if (kind === "SecureWorkspace") {
      const ws = asSecureWorkspace(obj);
      return ws ? this.routeWorkspace(type, ws) : undefined;
    }
    const owner = obj.metadata.labels?.[WORKSPACE_LABEL];
    // A status-only change (the quota controller filling in usage) needs no pass of the owner;
    // other workspaces listing a namespace still hear of it (a release frees it for them).
    if (owner && !routine) this.queue.add(owner);
    // Someone else's object at one of the operator's names (it carries no workspace label), or one
    // that may widen access (a tenant's NetworkPolicy or RoleBinding): the workspace that holds
    // the namespace reports it (and creates its own object once the one in the way is gone).
    if (
      !owner &&
      kind !== "Namespace" &&
      (obj.metadata.name.startsWith(RESERVED_NAME_PREFIX) || POSTURE_KINDS.includes(kind))
    ) {
      const holder = this.cache.get("Namespace", undefined, obj.metadata.namespace ?? "")?.metadata.labels?.[
        WORKSPACE_LABEL
      ];
      if (holder) this.queue.add(holder);
    }
    if (kind === "Namespace")
      for (const ws of this.listedBy.get(obj.metadata.name) ?? []) if (ws !== owner) this.queue.add(ws);
  }

  /**
   * Every change of a workspace wakes it, its own status writes included (controller-runtime's
   * default): a pass that ran before the cache saw the last status write decided from an old
   * status (and may have found nothing to write); the pass the write's watch event starts decides
   * again from the status as stored. In sync, that pass writes nothing. A relist's unchanged
   * objects (same resourceVersion) wake nothing, nor does a status-only change while the
   * workspace waits out a back-off.
   */
  private routeWorkspace(type: CacheEventType, ws: SecureWorkspace): void {
    const name = ws.metadata.name;
    for (const ns of this.namespacesOf.get(name) ?? []) this.listedBy.get(ns)?.delete(name);
    this.namespacesOf.delete(name);
    if (type === "delete") {
      this.versions.delete(name);
      this.queue.add(name);
      return;
    }
    const listed: string[] = [];
    for (const ns of Array.isArray(ws.spec?.namespaces) ? ws.spec.namespaces : []) {
      if (typeof ns?.name !== "string") continue;
      let set = this.listedBy.get(ns.name);
      if (!set) this.listedBy.set(ns.name, (set = new Set()));
      set.add(name);
      listed.push(ns.name);
    }
    this.namespacesOf.set(name, listed);
    const seen = this.versions.get(name);
    const version = ws.metadata.resourceVersion ?? "";
    if (seen?.version === version) return;
    const generation = `${ws.metadata.generation ?? 0}/${ws.metadata.deletionTimestamp ?? ""}`;
    this.versions.set(name, { version, generation });
    // A status-only change of a workspace in back-off waits for its retry (which decides from the
    // cache as it is then): a failing pass's own status write must not skip the back-off.
    if (seen?.generation === generation && this.queue.failureCount(name) > 0) return;
    this.queue.add(name);
  }

  private onReport(r: ReconcileReport): void {
    const { log, metrics } = this.options;
    for (const d of r.corrected) metrics?.driftCorrected(controlOf(d.object));
    if (r.writes > 0 || r.outcome !== "enforced")
      log.info("reconciled", {
        workspace: r.workspace,
        outcome: r.outcome,
        writes: r.writes,
        corrected: r.corrected.length,
        pruned: r.pruned,
        ...(r.applied && r.applied.length > 0 ? { applied: r.applied.slice(0, 10) } : {}),
      });
    else log.debug("in sync", { workspace: r.workspace });
    // Gauges summarise the whole cache: refresh them at most once a second, not per reconcile.
    if (metrics && Date.now() - this.gaugesAt >= 1000) {
      this.gaugesAt = Date.now();
      metrics.setManagedObjects(this.cache.managedCount());
      const all = this.cache.list("SecureWorkspace");
      const ready = all.filter((w) =>
        asSecureWorkspace(w)?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      ).length;
      metrics.setWorkspaces(ready, all.length - ready);
    }
  }
}
