/**
 * What the benchmark reads from the operator's /metrics at a point in time, and the differences
 * between two such points.
 */
import { diffBy, sumBy, sumOf, type Sample } from "./stats.js";

/** Verbs of secureworkspace_api_requests_total that change something on the server. */
export const WRITE_VERBS: ReadonlySet<string> = new Set([
  "apply",
  "apply-status",
  "create",
  "delete",
  "patch",
  "update",
]);

/** Counters of the operator at one moment. */
export interface OperatorSnapshot {
  /** API requests by verb (every status code, "error" = no answer). */
  readonly requestsByVerb: Readonly<Record<string, number>>;
  readonly requests: number;
  readonly writes: number;
  /** controller_runtime_reconcile_total, every result. */
  readonly reconciles: number;
  readonly reconcileErrors: number;
  /** workqueue_depth now (a gauge). */
  readonly queueDepth: number;
  readonly driftCorrections: number;
  /** process_cpu_seconds_total. */
  readonly cpuSeconds: number;
  /** Memory now (gauges, MiB): resident, V8 heap used and total, external (Buffers). */
  readonly memory: {
    readonly rss: number;
    readonly heapUsed: number;
    readonly heapTotal: number;
    readonly external: number;
  };
}

/** A snapshot of a process that has done nothing yet (every counter 0). */
export const ZERO: OperatorSnapshot = {
  requestsByVerb: {},
  requests: 0,
  writes: 0,
  reconciles: 0,
  reconcileErrors: 0,
  queueDepth: 0,
  driftCorrections: 0,
  cpuSeconds: 0,
  memory: { rss: 0, heapUsed: 0, heapTotal: 0, external: 0 },
};

/** Reads a snapshot from parsed /metrics. */
export function snapshotOf(samples: readonly Sample[]): OperatorSnapshot {
  const requestsByVerb = sumBy(samples, "secureworkspace_api_requests_total", "verb");
  const values = Object.entries(requestsByVerb);
  return {
    requestsByVerb,
    requests: values.reduce((acc, [, v]) => acc + v, 0),
    writes: values.filter(([verb]) => WRITE_VERBS.has(verb)).reduce((acc, [, v]) => acc + v, 0),
    reconciles: sumOf(samples, "controller_runtime_reconcile_total"),
    reconcileErrors: sumOf(samples, "controller_runtime_reconcile_errors_total"),
    queueDepth: sumOf(samples, "workqueue_depth"),
    driftCorrections: sumOf(samples, "secureworkspace_drift_corrections_total"),
    cpuSeconds: sumOf(samples, "process_cpu_seconds_total"),
    memory: {
      rss: sumOf(samples, "process_resident_memory_bytes") / MiB,
      heapUsed: sumOf(samples, "nodejs_heap_size_used_bytes") / MiB,
      heapTotal: sumOf(samples, "nodejs_heap_size_total_bytes") / MiB,
      external: sumOf(samples, "nodejs_external_memory_bytes") / MiB,
    },
  };
}

const MiB = 2 ** 20;

/** "rss 120 / heap 40 of 60 / external 3 MiB". */
export function formatMemory(m: OperatorSnapshot["memory"]): string {
  return `rss ${m.rss.toFixed(0)}, heap ${m.heapUsed.toFixed(0)} used of ${m.heapTotal.toFixed(0)}, external ${m.external.toFixed(0)} MiB`;
}

/** after - before, counter by counter (queueDepth and memory are after's). */
export function delta(after: OperatorSnapshot, before: OperatorSnapshot): OperatorSnapshot {
  return {
    requestsByVerb: diffBy(after.requestsByVerb, before.requestsByVerb),
    requests: after.requests - before.requests,
    writes: after.writes - before.writes,
    reconciles: after.reconciles - before.reconciles,
    reconcileErrors: after.reconcileErrors - before.reconcileErrors,
    queueDepth: after.queueDepth,
    driftCorrections: after.driftCorrections - before.driftCorrections,
    cpuSeconds: after.cpuSeconds - before.cpuSeconds,
    memory: after.memory,
  };
}

/** "apply 16000, get 3, list 7" (largest first). */
export function formatByVerb(byVerb: Readonly<Record<string, number>>, divisor = 1): string {
  return Object.entries(byVerb)
    .sort(([, a], [, b]) => b - a)
    .map(([verb, n]) => `${verb} ${divisor === 1 ? n : (n / divisor).toFixed(2)}`)
    .join(", ");
}
