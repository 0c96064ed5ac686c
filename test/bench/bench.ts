/**
 * `npm run bench -- --workspaces N --namespaces-per-workspace M`: the operator at scale, against the
 * API server's own floor, in one run on one cluster (issue 6 §1; method and numbers in README.md).
 *
 * Phases: cluster + CRD + RBAC → raw-SSA floor (fresh namespaces, plain parallel SSA client) →
 * operator (own process, ServiceAccount token, resync 1 h) → converge N workspaces → drift samples
 * at full scale → operator restarted with a short resync → one idle full resync, writes counted.
 * Progress goes to stderr; a human summary and, as the last line, one JSON object to stdout.
 */
import { execFileSync } from "node:child_process";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { mkdtempSync, writeFileSync } from "node:fs";
import path from "node:path";
import { operatorKubeConfig, installOperatorPrerequisites } from "../integration/support/operator.js";
import { setTestEnv } from "../harness/test-env.js";
import { sleep, waitFor } from "../support/wait.js";
import { ArgsError, parseArgs, usage, type BenchArgs } from "./args.js";
import {
  apiserverWrites,
  controlPlaneCpu,
  cpuDelta,
  formatCpu,
  formatServerTime,
  openCluster,
  serverTime,
  waitForQuiet,
  type BenchCluster,
  type ControlPlaneCpu,
  type ServerTime,
} from "./cluster.js";
import { applyWorkspaces, WorkspaceTracker } from "./converge.js";
import { DriftBench, latencySummary, type DriftSample } from "./drift.js";
import { runFloor, type FloorResult } from "./floor.js";
import { BenchOperator, killAllOperators, snapshotOperatorBuild } from "./operator.js";
import { delta, formatByVerb, formatMemory, snapshotOf, ZERO, type OperatorSnapshot } from "./snapshot.js";
import { percentile, round } from "./stats.js";
import { objectsPerWorkspace, type Naming } from "./workload.js";
import type { KubeObject } from "../../src/kube/client.js";

const started = performance.now();

/** A progress line on stderr, stamped with the time since start. */
function progress(line: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(1).padStart(7);
  process.stderr.write(`[${t}s] ${line}\n`);
}

/** Everything that must be undone on exit, failure or Ctrl-C. */
class Cleanup {
  cluster: BenchCluster | undefined;
  readonly operators = new Set<BenchOperator>();
  readonly stoppers = new Set<() => Promise<void>>();
  private done: Promise<void> | undefined;

  run(): Promise<void> {
    this.done ??= (async (): Promise<void> => {
      for (const stop of this.stoppers) await stop().catch(() => undefined);
      for (const op of this.operators) await op.stop(5000).catch(() => undefined);
      await this.cluster?.stop().catch(() => undefined);
    })();
    return this.done;
  }
}

const cleanup = new Cleanup();

function installSignalHandlers(): void {
  // The cluster harness exits at once on a signal; here the operator must go first.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.removeAllListeners(signal);
    process.once(signal, () => {
      progress(`${signal}: stopping the operator and the cluster`);
      void cleanup.run().finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
    });
  }
  process.on("exit", killAllOperators);
}

/** The results of the phases, for the summary. */
interface Results {
  floor: FloorResult;
  convergeSeconds: number;
  converge: OperatorSnapshot;
  trailing: OperatorSnapshot;
  drift: DriftSample[];
  duringDrift: OperatorSnapshot;
  restart: OperatorSnapshot;
  idle: OperatorSnapshot;
  idleApiserverWrites: number;
  /** Control-plane CPU over the idle window and its length: the background rate. */
  idleControlPlane: { cpu: ControlPlaneCpu; seconds: number };
  rss: { converge: number; idle: number };
  /** The API server's write time per verb and resource, in the floor and the converge phase. */
  server: { floor: ServerTime[]; converge: ServerTime[] };
  /** CPU seconds of the control plane, and of the client side, in the floor and the converge phase. */
  cpu: {
    floor: { server: ControlPlaneCpu; client: number };
    converge: { server: ControlPlaneCpu; operator: number; bench: number };
  };
  /** Average JSON size of cached objects, and the share of it that is metadata.managedFields. */
  sizes: Array<{ kind: string; bytes: number; managedFieldsShare: number }>;
  /** The operator's memory at points of the run. */
  memory: Array<[string, OperatorSnapshot["memory"]]>;
  load: { start: number[]; end: number[] };
  busyNotes: string[];
}

async function snapshot(op: BenchOperator): Promise<OperatorSnapshot> {
  return snapshotOf(await op.metrics());
}

/** Node flags that let the benchmark ask an operator for a heap snapshot. */
function heapSnapshotArgs(args: BenchArgs): string[] {
  return args.heapSnapshotDir
    ? ["--heapsnapshot-signal=SIGUSR2", "--diagnostic-dir", args.heapSnapshotDir]
    : [];
}

/** Waits until the operator's queue is empty and the API server sees no writes for a few seconds. */
async function settle(cluster: BenchCluster, op: BenchOperator, what: string): Promise<void> {
  await waitFor(async () => (await snapshot(op)).queueDepth === 0, {
    timeoutMs: 600_000,
    intervalMs: 250,
    message: `${what}: the operator's queue to drain`,
  });
  const waited = await waitForQuiet(cluster);
  progress(`${what}: settled (${(waited / 1000).toFixed(1)} s until the API server was quiet)`);
}

/** Phase: converge N workspaces; returns the seconds and the operator's counters over the phase. */
async function converge(
  args: BenchArgs,
  naming: Naming,
  cluster: BenchCluster,
  op: BenchOperator,
  tracker: WorkspaceTracker,
): Promise<{ seconds: number; counters: OperatorSnapshot }> {
  const before = await snapshot(op);
  let applied = 0;
  const tick = setInterval(() => {
    void snapshot(op)
      .then((s) =>
        progress(
          `converge: applied ${applied}/${args.workspaces}, Ready ${tracker.readyCount}/${args.workspaces}, ` +
            `operator queue ${s.queueDepth}, requests ${s.requests - before.requests}`,
        ),
      )
      .catch(() => undefined);
  }, 2000);
  const t0 = performance.now();
  try {
    await applyWorkspaces({
      naming,
      kc: cluster.kubeConfig(),
      concurrency: args.applyConcurrency,
      onApplied: (n) => (applied = n),
    });
    progress(
      `converge: all ${args.workspaces} applied after ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    const tReady = await tracker.allReady(args.convergeTimeoutSeconds * 1000);
    const after = await snapshot(op);
    return { seconds: (tReady - t0) / 1000, counters: delta(after, before) };
  } finally {
    clearInterval(tick);
  }
}

/** Phase: restart the operator with a short resync; count writes over one idle full resync. */
async function idleResync(
  args: BenchArgs,
  cluster: BenchCluster,
  kubeconfig: string,
  main: string,
  logFile: string,
): Promise<{
  restart: OperatorSnapshot;
  idle: OperatorSnapshot;
  apiserverWrites: number;
  controlPlane: { cpu: ControlPlaneCpu; seconds: number };
  rss: number;
  synced: { memory: OperatorSnapshot["memory"]; peakRss: number };
}> {
  const op = await BenchOperator.start({
    main,
    kubeconfig,
    workers: args.workers,
    resyncPeriod: `${args.idleResyncSeconds}s`,
    logFile,
    nodeArgs: heapSnapshotArgs(args),
  });
  cleanup.operators.add(op);
  // Peak so far = the initial lists of every kind, before any reconcile ran.
  const synced = { memory: (await snapshot(op)).memory, peakRss: op.peakRssMiB() };
  progress(
    `idle: restarted operator ready (caches synced; peak RSS so far ${synced.peakRss.toFixed(0)} MiB)`,
  );
  try {
    // A fresh process: its counters start at zero. The start-up pass (every workspace once)
    // must finish before the window opens.
    const initial = ZERO;
    await waitFor(
      async () => {
        const s = await snapshot(op);
        return s.reconciles - initial.reconciles >= args.workspaces && s.queueDepth === 0;
      },
      { timeoutMs: 600_000, intervalMs: 250, message: "the restarted operator's start-up pass" },
    );
    const waited = await waitForQuiet(cluster);
    progress(`idle: start-up pass finished; API server quiet after ${(waited / 1000).toFixed(1)} s`);
    const windowStart = await snapshot(op);
    const apiserverBefore = apiserverWrites(await cluster.apiserverMetrics());
    const cpuBefore = controlPlaneCpu();
    const windowStarted = performance.now();
    progress(
      `idle: start-up pass done (${windowStart.reconciles - initial.reconciles} reconciles, ` +
        `${windowStart.writes - initial.writes} writes); waiting for a full resync (period ${args.idleResyncSeconds} s)`,
    );
    await waitFor(
      async () => {
        const s = await snapshot(op);
        return s.reconciles - windowStart.reconciles >= args.workspaces && s.queueDepth === 0;
      },
      {
        timeoutMs: (3 * args.idleResyncSeconds + 600) * 1000,
        intervalMs: 250,
        message: "a full idle resync",
      },
    );
    // Writes a reconcile decided on land after the reconcile counter moves: give them time.
    await sleep(2000);
    const windowEnd = await snapshot(op);
    const apiserverAfter = apiserverWrites(await cluster.apiserverMetrics());
    const idleCpu = cpuDelta(controlPlaneCpu(), cpuBefore);
    const idleSeconds = (performance.now() - windowStarted) / 1000;
    // Before any heap snapshot: writing one inflates the resident set.
    const rss = op.peakRssMiB();
    if (args.heapSnapshotDir)
      progress(`heap snapshot (restarted operator): ${await op.heapSnapshot(args.heapSnapshotDir)}`);
    return {
      restart: delta(windowStart, initial),
      idle: delta(windowEnd, windowStart),
      apiserverWrites: apiserverAfter - apiserverBefore,
      controlPlane: { cpu: idleCpu, seconds: idleSeconds },
      rss,
      synced,
    };
  } finally {
    await op.stop();
    cleanup.operators.delete(op);
  }
}

/** The commit and whether src/ differs from it, for the record. */
function gitDescription(): string {
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

function machine(): string {
  const model = cpus()[0]?.model ?? "unknown CPU";
  return `${availableParallelism()} cores (${model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`;
}

/** Average JSON size of objects and the share of managedFields in it. */
function sizeOf(kind: string, objects: readonly KubeObject[]): Results["sizes"][number] {
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

const pct = (values: readonly number[], p: number): string => percentile(values, p).toFixed(0);

function summary(args: BenchArgs, naming: Naming, r: Results, objects: number): string {
  const n = args.workspaces;
  const floorRate = r.floor.objects / r.floor.seconds;
  const drift = latencySummary(r.drift);
  const byKind = (kind: DriftSample["kind"]): string => {
    const s = latencySummary(r.drift.filter((d) => d.kind === kind));
    return `${kind} p50 ${s.p50.toFixed(0)} / p95 ${s.p95.toFixed(0)} / p99 ${s.p99.toFixed(0)} ms (${s.samples})`;
  };
  const idealWrites = objects / n + 3;
  return [
    "",
    `== secure-workspace-operator benchmark: ${n} workspaces x ${naming.namespacesPerWorkspace} namespaces ` +
      `= ${n * naming.namespacesPerWorkspace} namespaces, ${objects} objects`,
    `machine: ${machine()}; load average at start ${r.load.start.map((x) => x.toFixed(2)).join(" ")}, ` +
      `at end ${r.load.end.map((x) => x.toFixed(2)).join(" ")}`,
    `raw SSA floor: ${r.floor.objects} objects in ${r.floor.seconds.toFixed(2)} s ` +
      `(${floorRate.toFixed(0)} objects/s, ${args.floorConcurrency} in flight, identity ${args.floorIdentity}, ` +
      `client CPU ${r.floor.clientCpuSeconds.toFixed(1)} s)`,
    `converge: ${r.convergeSeconds.toFixed(2)} s (ratio ${(r.convergeSeconds / r.floor.seconds).toFixed(2)}), ` +
      `${args.workers} workers, ${r.converge.reconciles} reconciles (${r.converge.reconcileErrors} errors), ` +
      `operator CPU ${r.converge.cpuSeconds.toFixed(1)} s`,
    `  operator requests: ${r.converge.requests} = ${(r.converge.requests / n).toFixed(2)} per workspace ` +
      `(writes ${(r.converge.writes / n).toFixed(2)}; minimum ${idealWrites}: ${objects / n} objects + ` +
      `finalizer + status + Event)`,
    `  per workspace by verb: ${formatByVerb(r.converge.requestsByVerb, n)}`,
    `  API server, floor: ${formatServerTime(r.server.floor)}`,
    `  API server, converge: ${formatServerTime(r.server.converge)}`,
    `  CPU, floor: control plane ${formatCpu(r.cpu.floor.server)}; client ${r.cpu.floor.client.toFixed(1)} s`,
    `  CPU, converge: control plane ${formatCpu(r.cpu.converge.server)}; operator ` +
      `${r.cpu.converge.operator.toFixed(1)} s; bench (user applies + status watch) ${r.cpu.converge.bench.toFixed(1)} s`,
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
    `cached object sizes (JSON): ${r.sizes
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

async function phases(args: BenchArgs, naming: Naming, logDir: string): Promise<Results> {
  const load = { start: loadavg(), end: [] as number[] };
  const main = snapshotOperatorBuild(path.join(logDir, "build"));
  progress(`operator build copied to ${main} (${gitDescription()})`);
  progress(`machine: ${machine()}; load average ${load.start.map((x) => x.toFixed(2)).join(" ")}`);
  const cluster = await openCluster((l) => progress(`cluster: ${l}`));
  cleanup.cluster = cluster;
  setTestEnv({
    kubeconfigPath: cluster.kubeconfigPath,
    ...(cluster.local ? { cluster: cluster.local } : {}),
  });
  progress("installing the CRD, the operator's namespace and RBAC (config/)");
  await installOperatorPrerequisites();
  const operatorKc = path.join(logDir, "operator.kubeconfig");
  writeFileSync(operatorKc, (await operatorKubeConfig()).exportConfig(), { mode: 0o600 });

  progress(`floor: applying the same objects for ${args.workspaces} fresh workspaces' namespaces`);
  const floorMetrics = await cluster.apiserverMetrics();
  const floorCpu = controlPlaneCpu();
  const floor = await runFloor({
    naming,
    adminKc: cluster.kubeConfig(),
    identity: args.floorIdentity,
    concurrency: args.floorConcurrency,
    progress,
  });
  progress(`floor: ${floor.objects} objects in ${floor.seconds.toFixed(2)} s`);
  const floorServer = serverTime(await cluster.apiserverMetrics(), floorMetrics);
  const floorServerCpu = cpuDelta(controlPlaneCpu(), floorCpu);
  await waitForQuiet(cluster);

  progress(`starting the operator (${args.workers} workers, resync 1h) as its own process`);
  const op = await BenchOperator.start({
    main,
    kubeconfig: operatorKc,
    workers: args.workers,
    resyncPeriod: "1h",
    logFile: path.join(logDir, "operator.log"),
    nodeArgs: [
      ...(args.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", args.cpuProfDir] : []),
      ...heapSnapshotArgs(args),
    ],
  });
  cleanup.operators.add(op);
  const tracker = new WorkspaceTracker(cluster.kubeConfig(), naming);
  cleanup.stoppers.add(() => tracker.stop());
  await tracker.start();
  await settle(cluster, op, "operator started");
  const memory: Results["memory"] = [["started", (await snapshot(op)).memory]];

  progress(`converge: applying ${args.workspaces} SecureWorkspaces, ${args.applyConcurrency} in parallel`);
  const convergeMetrics = await cluster.apiserverMetrics();
  const convergeCpu = controlPlaneCpu();
  const benchCpu = process.cpuUsage();
  const c = await converge(args, naming, cluster, op, tracker);
  const convergeServerCpu = cpuDelta(controlPlaneCpu(), convergeCpu);
  const benchUsed = process.cpuUsage(benchCpu);
  const convergeServer = serverTime(await cluster.apiserverMetrics(), convergeMetrics);
  progress(`converge: all Ready after ${c.seconds.toFixed(2)} s`);
  const readyAt = await snapshot(op);
  memory.push(["all Ready", readyAt.memory]);
  await settle(cluster, op, "after converge");
  const trailing = delta(await snapshot(op), readyAt);

  progress(`drift: ${args.driftSamples} samples, ${args.driftConcurrency} at a time`);
  const driftBench = new DriftBench({
    naming,
    kc: cluster.kubeConfig(),
    samples: args.driftSamples,
    concurrency: args.driftConcurrency,
    progress,
  });
  cleanup.stoppers.add(() => driftBench.stop());
  const beforeDrift = await snapshot(op);
  const drift = args.driftSamples > 0 ? await driftBench.run() : [];
  const cached = driftBench.cached();
  const sizes = [
    sizeOf("SecureWorkspace", tracker.workspaces()),
    sizeOf("Namespace", cached.namespaces),
    sizeOf("NetworkPolicy", cached.networkPolicies),
  ];
  await driftBench.stop();
  await tracker.allReady(120_000);
  await settle(cluster, op, "after drift");
  const duringDrift = delta(await snapshot(op), beforeDrift);
  memory.push(["after drift", duringDrift.memory]);
  await tracker.stop();
  const rssConverge = op.peakRssMiB();
  if (args.heapSnapshotDir) progress(`heap snapshot: ${await op.heapSnapshot(args.heapSnapshotDir)}`);
  await op.stop();
  cleanup.operators.delete(op);

  progress(`idle: restarting the operator with --resync-period ${args.idleResyncSeconds}s`);
  const idle = await idleResync(args, cluster, operatorKc, main, path.join(logDir, "operator-idle.log"));
  memory.push([`restarted, caches synced (peak RSS ${idle.synced.peakRss.toFixed(0)})`, idle.synced.memory]);
  memory.push(["restarted, after idle resync", idle.idle.memory]);
  load.end = loadavg();
  const busyNotes: string[] = [];
  // The end figure includes this benchmark's own load; only the start says what else was running.
  if ((load.start[0] ?? 0) > availableParallelism() * 0.5)
    busyNotes.push(
      `the machine was busy before the run (1-min load average ${(load.start[0] ?? 0).toFixed(2)})`,
    );
  return {
    floor,
    convergeSeconds: c.seconds,
    converge: c.counters,
    trailing,
    drift,
    duringDrift,
    restart: idle.restart,
    idle: idle.idle,
    idleApiserverWrites: idle.apiserverWrites,
    idleControlPlane: idle.controlPlane,
    rss: { converge: rssConverge, idle: idle.rss },
    server: { floor: floorServer, converge: convergeServer },
    cpu: {
      floor: { server: floorServerCpu, client: floor.clientCpuSeconds },
      converge: {
        server: convergeServerCpu,
        operator: c.counters.cpuSeconds,
        bench: (benchUsed.user + benchUsed.system) / 1e6,
      },
    },
    sizes,
    memory,
    load,
    busyNotes,
  };
}

async function main(): Promise<number> {
  let args: BenchArgs | "help";
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof ArgsError) {
      process.stderr.write(`bench: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (args === "help") {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const external = process.env["SWS_BENCH_KUBECONFIG"] !== undefined;
  const naming: Naming = {
    // On a shared cluster, a run tag keeps names from colliding with an earlier run's.
    prefix: external ? `bench-${Date.now().toString(36).slice(-4)}` : "bench",
    workspaces: args.workspaces,
    namespacesPerWorkspace: args.namespacesPerWorkspace,
  };
  const logDir = mkdtempSync(path.join(tmpdir(), "sws-bench-"));
  progress(`operator logs and kubeconfig in ${logDir}`);
  installSignalHandlers();
  try {
    const r = await phases(args, naming, logDir);
    const objects = objectsPerWorkspace(naming) * args.workspaces;
    const drift = latencySummary(r.drift);
    process.stdout.write(`${summary(args, naming, r, objects)}\n`);
    const result = {
      workspaces: args.workspaces,
      namespaces: args.workspaces * args.namespacesPerWorkspace,
      objects,
      converge_s: round(r.convergeSeconds),
      raw_ssa_floor_s: round(r.floor.seconds),
      converge_ratio: round(r.convergeSeconds / r.floor.seconds),
      drift_restore_ms: {
        p50: round(drift.p50, 1),
        p95: round(drift.p95, 1),
        p99: round(drift.p99, 1),
        samples: drift.samples,
      },
      idle_resync_writes: r.idle.writes,
      rss_mib: round(Math.max(r.rss.converge, r.rss.idle), 1),
      requests_per_workspace: round(r.converge.requests / args.workspaces),
    };
    await cleanup.run();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    progress(`failed: ${err instanceof Error ? err.message : String(err)}`);
    for (const op of cleanup.operators) progress(`operator log (tail):\n${op.logTail()}`);
    await cleanup.run();
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    void cleanup.run().finally(() => process.exit(1));
  },
);
