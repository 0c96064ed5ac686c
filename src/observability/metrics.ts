/**
 * Prometheus metrics under controller-runtime's names, so the dashboards and alerts people already
 * have for Go operators work unchanged, plus a few of the operator's own.
 *
 * Every label has a bounded set of values (controller, result, verb, code, control, queue name):
 * never a workspace or namespace name, which would grow a series per tenant.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** controller-runtime's reconcile results (`controller_runtime_reconcile_total{result}`). */
export type ReconcileOutcome = "success" | "error" | "requeue" | "requeue_after";

const RECONCILE_OUTCOMES: readonly ReconcileOutcome[] = ["success", "error", "requeue", "requeue_after"];

/** controller-runtime's buckets for reconcile_time_seconds: fine below 1 s, coarse up to a minute. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25,
  1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** controller-runtime's workqueue buckets: ExponentialBuckets(10e-9, 10, 12), 10 ns to 1000 s. */
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

/** Options for {@link Metrics}; each default is given. */
export interface MetricsOptions {
  /** The `controller` label of the reconcile and queue metrics. */
  readonly controller: string;
  /** The `name` label of leader_election_master_status (the Lease name). */
  readonly leaseName: string;
  /** Also collect Node.js process metrics (process_resident_memory_bytes, ...), default true. */
  readonly processMetrics?: boolean;
}

/**
 * The work-queue series of one queue, as callbacks. It has the shape of the runtime queue's metrics
 * sink, which the manager passes it as (a compile-time check), so this folder need not import the
 * runtime: observability sits beside it, not above or below.
 */
export interface QueueSeries {
  /** Sets the queue's depth. */
  depth(n: number): void;
  /** Counts one add. */
  added(): void;
  /** Counts one rate-limited retry. */
  retried(): void;
  /** Observes a key's wait in the queue, in seconds. */
  queueLatencySeconds(s: number): void;
  /** Observes a handler's run, in seconds. */
  workDurationSeconds(s: number): void;
}

/**
 * The operator's metrics on a registry of its own (not prom-client's global one), so a test can create
 * several and nothing is registered at import.
 */
export class Metrics {
  /** The registry all of these metrics live in. */
  readonly registry: Registry;
  private readonly controller: string;
  private readonly leaseName: string;
  private readonly reconcileTotal: Counter<"controller" | "result">;
  private readonly reconcileErrors: Counter<"controller">;
  private readonly reconcileTime: Histogram<"controller">;
  private readonly queueDepth: Gauge<"name">;
  private readonly queueAdds: Counter<"name">;
  private readonly queueRetries: Counter<"name">;
  private readonly queueDuration: Histogram<"name">;
  private readonly workDuration: Histogram<"name">;
  private readonly leader: Gauge<"name">;
  private readonly drift: Counter<"control">;
  private readonly managedObjects: Gauge;
  private readonly workspaces: Gauge<"ready">;
  private readonly apiRequests: Counter<"verb" | "code">;
  private readonly informerRestarts: Counter<"kind" | "reason">;

  /** Registers every metric; known label combinations start at 0 so dashboards see them before the first event. */
  constructor(options: MetricsOptions) {
    this.registry = new Registry();
    this.controller = options.controller;
    this.leaseName = options.leaseName;
    const registers = [this.registry];
    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: "controller_runtime_reconcile_errors_total",
      help: "Total number of reconciliation errors per controller",
      labelNames: ["controller"],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: RECONCILE_BUCKETS,
      registers,
    });
    this.queueDepth = new Gauge({
      name: "workqueue_depth",
      help: "Current depth of workqueue",
      labelNames: ["name"],
      registers,
    });
    this.queueAdds = new Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by workqueue",
      labelNames: ["name"],
      registers,
    });
    this.queueRetries = new Counter({
      name: "workqueue_retries_total",
      help: "Total number of retries handled by workqueue",
      labelNames: ["name"],
      registers,
    });
    this.queueDuration = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested",
      labelNames: ["name"],
      buckets: WORKQUEUE_BUCKETS,
      registers,
    });
    this.workDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes",
      labelNames: ["name"],
      buckets: WORKQUEUE_BUCKETS,
      registers,
    });
    this.leader = new Gauge({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master",
      labelNames: ["name"],
      registers,
    });
    this.drift = new Counter({
      name: "secureworkspace_drift_corrections_total",
      help: "Managed objects put back to their desired state after drifting, per control",
      labelNames: ["control"],
      registers,
    });
    this.managedObjects = new Gauge({
      name: "secureworkspace_managed_objects",
      help: "Objects the operator currently manages across all workspaces",
      registers,
    });
    this.workspaces = new Gauge({
      name: "secureworkspace_workspaces",
      help: "SecureWorkspaces by readiness",
      labelNames: ["ready"],
      registers,
    });
    this.apiRequests = new Counter({
      name: "secureworkspace_api_requests_total",
      help: "Requests to the Kubernetes API server by verb and HTTP status code (0: no answer)",
      labelNames: ["verb", "code"],
      registers,
    });
    this.informerRestarts = new Counter({
      name: "secureworkspace_informer_restarts_total",
      help: "List/watch restarts of the operator's informers by kind and reason (error, watchdog, expired, closed-early)",
      labelNames: ["kind", "reason"],
      registers,
    });
    this.initialise();
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Content-Type of {@link render}'s output (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** A sink for the work queue called `name` (the `name` label; use a fixed name, e.g. the controller's). */
  queueSink(name: string): QueueSeries {
    this.queueDepth.set({ name }, 0);
    this.queueAdds.inc({ name }, 0);
    this.queueRetries.inc({ name }, 0);
    this.queueDuration.zero({ name });
    this.workDuration.zero({ name });
    return {
      depth: (n: number): void => this.queueDepth.set({ name }, n),
      added: (): void => this.queueAdds.inc({ name }),
      retried: (): void => this.queueRetries.inc({ name }),
      queueLatencySeconds: (s: number): void => this.queueDuration.observe({ name }, s),
      workDurationSeconds: (s: number): void => this.workDuration.observe({ name }, s),
    };
  }

  /** Records one reconcile: its duration and outcome; an error also counts in reconcile_errors_total. */
  observeReconcile(seconds: number, result: ReconcileOutcome): void {
    const controller = this.controller;
    this.reconcileTotal.inc({ controller, result });
    if (result === "error") this.reconcileErrors.inc({ controller });
    this.reconcileTime.observe({ controller }, seconds);
  }

  /** Counts one drifted object put back, by the control id it evidences (e.g. "default-deny-ingress"). */
  driftCorrected(control: string): void {
    this.drift.inc({ control });
  }

  /** Counts one API request; matches KubeClient's `onRequest(verb, statusCode)`. */
  apiRequest(verb: string, code: number): void {
    this.apiRequests.inc({ verb, code: String(code) });
  }

  /** Counts one list/watch restart of the informer for `kind`. */
  informerRestarted(kind: string, reason: string): void {
    this.informerRestarts.inc({ kind, reason });
  }

  /** Whether this replica holds the lease. */
  setLeader(leading: boolean): void {
    this.leader.set({ name: this.leaseName }, leading ? 1 : 0);
  }

  /** Workspaces whose Ready condition is True, and the rest. */
  setWorkspaces(ready: number, notReady: number): void {
    this.workspaces.set({ ready: "true" }, ready);
    this.workspaces.set({ ready: "false" }, notReady);
  }

  /** Objects the operator manages across all workspaces. */
  setManagedObjects(n: number): void {
    this.managedObjects.set(n);
  }

  /** Everything in the Prometheus text format, for the /metrics endpoint. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Series that exist before any event, so `rate()` and absence alerts work from the first scrape. */
  private initialise(): void {
    const controller = this.controller;
    for (const result of RECONCILE_OUTCOMES) this.reconcileTotal.inc({ controller, result }, 0);
    this.reconcileErrors.inc({ controller }, 0);
    this.reconcileTime.zero({ controller });
    this.setLeader(false);
    this.setWorkspaces(0, 0);
    this.managedObjects.set(0);
  }
}
