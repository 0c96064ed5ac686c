/**
 * The benchmark's human summary: what each phase measured, and the figures that explain them
 * (server time per request kind, CPU seconds, memory, object sizes).
 */
import { execFileSync } from "node:child_process";
import { availableParallelism, cpus, totalmem } from "node:os";
import type { KubeObject } from "../../src/runtime/client.js";
import type { BenchArgs } from "./args.js";
import { formatCpu, formatServerTime, type ControlPlaneCpu, type ServerTime } from "./cluster.js";
import { latencySummary, type DriftSample } from "./drift.js";
import type { FloorResult } from "./floor.js";
import { formatByVerb, formatMemory, WRITE_VERBS, type OperatorSnapshot } from "./snapshot.js";
import { percentile } from "./stats.js";
import type { Naming } from "./workload.js";

/** The results of the phases, for the summary. */
export interface Results {
  /** The raw floor: the workspaces' children only. */
  floor: FloorResult;
  /**
   * The fair floor: the raw floor and, back to back, the N SecureWorkspaces as the user applies
   * them (`seconds` = the raw floor's + `workspacesSeconds`); then deleted in `removeSeconds`.
   */
  fairFloor: { seconds: number; workspaces: number; workspacesSeconds: number; removeSeconds: number };
  /** The first operator's counters once started, before the first workspace was applied. */
  operatorAtStart: OperatorSnapshot;
  convergeSeconds: number;
  converge: OperatorSnapshot;
  trailing: OperatorSnapshot;
  /**
   * Untrue statuses in converge, read once the queue drained after it: Ready -> not Ready flaps
   * at the same generation, and the drift corrections the statuses count (both should be 0).
   */
  truth: { readyFlaps: number; driftCounted: number };
  drift: DriftSample[];
  duringDrift: OperatorSnapshot;
  restart: OperatorSnapshot;
  idle: OperatorSnapshot;
  idleApiserverWrites: number;
  /** Control-plane CPU over the idle window and its length: the background rate. */
  idleControlPlane: { cpu: ControlPlaneCpu; seconds: number };
  rss: { converge: number; idle: number };
  /** Foreign allow-all NetworkPolicies in place from the posture phase on (0: phase skipped). */
  foreignPolicies: number;
  /** The API server's write time per verb and resource, in the floor and the converge phase. */
  server: { floor: ServerTime[]; converge: ServerTime[] };
  /**
   * CPU seconds of the control plane, and of the client side, in the floor and the converge phase.
   * `server`: from the phase's first request to its end (the raw floor's or the fair floor's last
   * answer; the watch event of the last Ready). `untilQuiet`: from the same start until the API
   * server went quiet after the phase, so the controller-manager's follow-ups count in both.
   */
  cpu: {
    floor: { server: ControlPlaneCpu; client: number };
    fairFloor: { server: ControlPlaneCpu; untilQuiet: ControlPlaneCpu; client: number };
    converge: { server: ControlPlaneCpu; untilQuiet: ControlPlaneCpu; operator: number; bench: number };
  };
  /** Average JSON size of cached objects, and the share of it that is metadata.managedFields. */
  sizes: Array<{ kind: string; bytes: number; managedFieldsShare: number }>;
  /** The operator's memory at points of the run. */
  memory: Array<[string, OperatorSnapshot["memory"]]>;
  load: { start: number[]; end: number[] };
  busyNotes: string[];
}

/** The commit and whether src/ differs from it, for the record. */
export function gitDescription(): string {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["--no-optional-locks", "status", "--porcelain", "--", "src"], {
      encoding: "utf8",
    }).trim();
    return `commit ${head}${dirty ? `, src/ modified: ${dirty.split("\n").length} files` : ""}`;
  } catch {
    return "commit unknown";
  }
}

/** Cores, CPU model and memory, for the record. */
export function machine(): string {
  const model = cpus()[0]?.model ?? "unknown CPU";
  return `${availableParallelism()} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`;
}

/** Average JSON size of objects and the share of managedFields in it. */
export function sizeOf(kind: string, objects: readonly KubeObject[]): Results["sizes"][number] {
  let total = 0;
  let managed = 0;
  for (const o of objects) {
    total += JSON.stringify(o).length;
    managed += JSON.stringify(o.metadata["managedFields"] ?? []).length;
  }
  const n = Math.max(1, objects.length);
  return { kind, bytes: total / n, managedFieldsShare: total > 0 ? managed / total : 0 };
}

const total = (c: ControlPlaneCpu): number => c.apiserver + c.etcd + c.controllerManager;

/**
 * control_plane_cpu_ratio: CPU seconds of kube-apiserver + etcd + kube-controller-manager from
 * converge's first SecureWorkspace apply until the API server went quiet after every workspace was
 * Ready, divided by the same from the fair floor's first request until the API server went quiet
 * after its last SecureWorkspace apply. Undefined when no control-plane CPU was read (an external
 * cluster).
 */
export function controlPlaneCpuRatio(r: Results): number | undefined {
  const floor = total(r.cpu.fairFloor.untilQuiet);
  return floor > 0 ? total(r.cpu.converge.untilQuiet) / floor : undefined;
}

/** ": create 1, ..." for the write verbs of a snapshot, or "" when it wrote nothing. */
function writesByVerb(s: OperatorSnapshot): string {
  const writes = Object.fromEntries(
    Object.entries(s.requestsByVerb).filter(([verb]) => WRITE_VERBS.has(verb)),
  );
  return s.writes > 0 ? `: ${formatByVerb(writes)}` : "";
}

const pct = (values: readonly number[], p: number): string => percentile(values, p).toFixed(0);

/** The human summary printed before the JSON line. */
export function summary(args: BenchArgs, naming: Naming, r: Results, objects: number): string {
  const n = args.workspaces;
  const floorRate = r.floor.objects / r.floor.seconds;
  const drift = latencySummary(r.drift);
  const byKind = (kind: DriftSample["kind"]): string => {
    const s = latencySummary(r.drift.filter((d) => d.kind === kind));
    return `${kind} p50 ${s.p50.toFixed(0)} / p95 ${s.p95.toFixed(0)} / p99 ${s.p99.toFixed(0)} ms (${s.samples})`;
  };
  const idealWrites = objects / n + 3;
  const cpuRatio = controlPlaneCpuRatio(r);
  return [
    "",
    `== secure-workspace-operator benchmark: ${n} workspaces x ${naming.namespacesPerWorkspace} namespaces ` +
      `= ${n * naming.namespacesPerWorkspace} namespaces, ${objects} objects`,
    `machine: ${machine()}; load average at start ${r.load.start.map((x) => x.toFixed(2)).join(" ")}, ` +
      `at end ${r.load.end.map((x) => x.toFixed(2)).join(" ")}`,
    `raw SSA floor: ${r.floor.objects} objects in ${r.floor.seconds.toFixed(2)} s ` +
      `(${floorRate.toFixed(0)} objects/s, ${args.floorConcurrency} in flight, identity ${args.floorIdentity}, ` +
      `client CPU ${r.floor.clientCpuSeconds.toFixed(1)} s)`,
    `fair floor: ${r.fairFloor.seconds.toFixed(2)} s = raw floor + ${r.fairFloor.workspaces} SecureWorkspaces ` +
      `applied as the user does in ${r.fairFloor.workspacesSeconds.toFixed(2)} s (no finalizer, no status; ` +
      `deleted and confirmed gone in ${r.fairFloor.removeSeconds.toFixed(1)} s before the operator started, ` +
      `which then had ${r.operatorAtStart.reconciles} reconciles and ${r.operatorAtStart.writes} writes ` +
      `before the first apply${writesByVerb(r.operatorAtStart)})`,
    `converge: ${r.convergeSeconds.toFixed(2)} s (ratio ${(r.convergeSeconds / r.floor.seconds).toFixed(2)} ` +
      `against the raw floor, ${(r.convergeSeconds / r.fairFloor.seconds).toFixed(2)} against the fair floor), ` +
      `${args.workers} workers, ${r.converge.reconciles} reconciles (${r.converge.reconcileErrors} errors), ` +
      `operator CPU ${r.converge.cpuSeconds.toFixed(1)} s`,
    `  control-plane CPU, first request until the API server was quiet: fair floor ` +
      `${total(r.cpu.fairFloor.untilQuiet).toFixed(1)} s, converge ${total(r.cpu.converge.untilQuiet).toFixed(1)} s: ` +
      `ratio ${cpuRatio === undefined ? "n/a (no control-plane CPU read)" : cpuRatio.toFixed(2)} ` +
      `(wall-clock ratio against the fair floor ${(r.convergeSeconds / r.fairFloor.seconds).toFixed(2)})`,
    `  operator requests: ${r.converge.requests} = ${(r.converge.requests / n).toFixed(2)} per workspace ` +
      `(writes ${(r.converge.writes / n).toFixed(2)}; minimum ${idealWrites}: ${objects / n} objects + ` +
      `finalizer + status + Event)`,
    `  per workspace by verb: ${formatByVerb(r.converge.requestsByVerb, n)}`,
    `  API server, fair floor: ${formatServerTime(r.server.floor)}`,
    `  API server, converge: ${formatServerTime(r.server.converge)}`,
    `  CPU, raw floor (to its last answer): control plane ${formatCpu(r.cpu.floor.server)}; client ${r.cpu.floor.client.toFixed(1)} s`,
    `  CPU, fair floor (to its last answer): control plane ${formatCpu(r.cpu.fairFloor.server)}; ` +
      `client ${r.cpu.fairFloor.client.toFixed(1)} s; until quiet: control plane ${formatCpu(r.cpu.fairFloor.untilQuiet)}`,
    `  CPU, converge (to the last Ready): control plane ${formatCpu(r.cpu.converge.server)}; operator ` +
      `${r.cpu.converge.operator.toFixed(1)} s; bench (user applies + status watch) ${r.cpu.converge.bench.toFixed(1)} s; ` +
      `until quiet: control plane ${formatCpu(r.cpu.converge.untilQuiet)}`,
    `  after Ready until the queue drained: ${r.trailing.requests} requests, ${r.trailing.reconciles} reconciles`,
    `drift restore: p50 ${drift.p50.toFixed(0)} / p95 ${drift.p95.toFixed(0)} / p99 ${drift.p99.toFixed(0)} ms ` +
      `over ${drift.samples} samples (${args.driftConcurrency} at a time; ` +
      `${r.drift.filter((d) => d.timedOut).length} not restored in 30 s)`,
    `  ${byKind("delete-networkpolicy")}`,
    `  ${byKind("remove-psa-label")}`,
    `  same load, server side: mutation round trip p50 ${pct(
      r.drift.map((d) => d.requestMs),
      50,
    )} / ` +
      `p99 ${pct(
        r.drift.map((d) => d.requestMs),
        99,
      )} ms; watch echo of the mutation p50 ` +
      `${pct(
        r.drift.map((d) => d.echoMs),
        50,
      )} / p99 ${pct(
        r.drift.map((d) => d.echoMs),
        99,
      )} ms`,
    `  operator during drift: ${r.duringDrift.driftCorrections} drift corrections counted, ` +
      `${r.duringDrift.writes} writes (${formatByVerb(r.duringDrift.requestsByVerb)})`,
    `idle full resync: ${r.idle.writes} writes by the operator over ${r.idle.reconciles} reconciles ` +
      `(API server saw ${r.idleApiserverWrites} writes from all clients in the window)`,
    `  control plane CPU in the idle window: ${formatCpu(r.idleControlPlane.cpu)} over ` +
      `${r.idleControlPlane.seconds.toFixed(0)} s (background rate ${(total(r.idleControlPlane.cpu) / r.idleControlPlane.seconds).toFixed(2)} cores)`,
    `  operator restart pass before it: ${r.restart.reconciles} reconciles, ${r.restart.writes} writes`,
    `operator memory: ${r.memory.map(([at, m]) => `${at}: ${formatMemory(m)}`).join("\n                 ")}`,
    `object sizes as served by the API (JSON, from the bench's watches): ${r.sizes
      .map(
        (z) =>
          `${z.kind} ${z.bytes.toFixed(0)} B (managedFields ${(100 * z.managedFieldsShare).toFixed(0)}%)`,
      )
      .join(", ")}`,
    `peak RSS: ${r.rss.converge.toFixed(1)} MiB (converge + drift operator), ` +
      `${r.rss.idle.toFixed(1)} MiB (restarted operator)`,
    ...(r.busyNotes.length > 0 ? [`notes: ${r.busyNotes.join("; ")}`] : []),
  ].join("\n");
}
