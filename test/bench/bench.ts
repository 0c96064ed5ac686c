/**
 * `npm run bench -- --workspaces N --namespaces-per-workspace M`: the operator at scale, against the
 * API server's own floor, in one run on one cluster (issue 6 §1; method and numbers in README.md).
 *
 * Phases: cluster + CRD + RBAC → raw-SSA floor (fresh namespaces, plain parallel SSA client) →
 * fair floor (+ the N SecureWorkspaces as the user applies them, then deleted and confirmed gone) →
 * operator (own process, ServiceAccount token, resync 1 h) → converge N workspaces → drift samples
 * at full scale → operator restarted with a short resync → one idle full resync, writes counted.
 * Progress goes to stderr; a human summary and, as the last line, one JSON object to stdout.
 */
import { availableParallelism, loadavg, tmpdir } from "node:os";
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
  openCluster,
  serverTime,
  untilQuiet,
  waitForQuiet,
  type BenchCluster,
  type ControlPlaneCpu,
  type Quiet,
} from "./cluster.js";
import { applyWorkspaces, WorkspaceTracker } from "./converge.js";
import { DriftBench, latencySummary } from "./drift.js";
import { applyFloorWorkspaces, removeFloorWorkspaces, runFloor } from "./floor.js";
import { addForeignPolicies } from "./posture.js";
import {
  killAllOperators,
  OperatorProcess,
  type OperatorProcessOptions,
} from "../support/operator-process.js";
import { deployedNodeOptions, snapshotOperatorBuild } from "./operator-build.js";
import { controlPlaneCpuRatio, gitDescription, machine, sizeOf, summary, type Results } from "./report.js";
import { delta, snapshotOf, ZERO, type OperatorSnapshot } from "./snapshot.js";
import { parseMetrics, round } from "./stats.js";
import { objectsPerWorkspace, type Naming } from "./workload.js";

const started = performance.now();

/** A progress line on stderr, stamped with the time since start. */
function progress(line: string): void {
  const t = ((performance.now() - started) / 1000).toFixed(1).padStart(7);
  process.stderr.write(`[${t}s] ${line}\n`);
}

/** Everything that must be undone on exit, failure or Ctrl-C. */
class Cleanup {
  cluster: BenchCluster | undefined;
  readonly operators = new Set<OperatorProcess>();
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

/** The operator as the benchmark runs it: quiet logs, ready once its caches have synced. */
function startBenchOperator(
  options: Pick<
    OperatorProcessOptions,
    "main" | "kubeconfig" | "workers" | "resyncPeriod" | "logFile" | "nodeArgs" | "flags"
  >,
): Promise<OperatorProcess> {
  return OperatorProcess.start({ ...options, logLevel: "warn", waitFor: "readyz", echo: false });
}

async function snapshot(op: OperatorProcess): Promise<OperatorSnapshot> {
  return snapshotOf(parseMetrics(await op.metricsText()));
}

/** The operator's node flags: --operator-node-args, else those the Deployment sets (NODE_OPTIONS). */
function operatorNodeArgs(args: BenchArgs): readonly string[] {
  return args.operatorNodeArgs ?? deployedNodeOptions();
}

/** Node flags that let the benchmark ask an operator for a heap snapshot. */
function heapSnapshotArgs(args: BenchArgs): string[] {
  return args.heapSnapshotDir
    ? ["--heapsnapshot-signal=SIGUSR2", "--diagnostic-dir", args.heapSnapshotDir]
    : [];
}

/**
 * Waits until the operator's queue is empty and the API server sees no writes for a few seconds;
 * returns when (and at what control-plane CPU) the server went quiet.
 */
async function settle(cluster: BenchCluster, op: OperatorProcess, what: string): Promise<Quiet> {
  await waitFor(async () => (await snapshot(op)).queueDepth === 0, {
    timeoutMs: 600_000,
    intervalMs: 250,
    message: `${what}: the operator's queue to drain`,
  });
  const quiet = await untilQuiet(cluster);
  progress(`${what}: settled (${(quiet.waitedMs / 1000).toFixed(1)} s until the API server was quiet)`);
  return quiet;
}

/** Phase: converge N workspaces; returns the seconds and the operator's counters over the phase. */
async function converge(
  args: BenchArgs,
  naming: Naming,
  cluster: BenchCluster,
  op: OperatorProcess,
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
  const op = await startBenchOperator({
    main,
    kubeconfig,
    workers: args.workers,
    resyncPeriod: `${args.idleResyncSeconds}s`,
    logFile,
    nodeArgs: [...operatorNodeArgs(args), ...heapSnapshotArgs(args)],
    flags: args.operatorFlags,
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
  const floorServerCpu = cpuDelta(controlPlaneCpu(), floorCpu);
  progress(`floor: ${floor.objects} objects in ${floor.seconds.toFixed(2)} s`);
  // Back to back with the raw floor (no quiet wait between): the user's own applies complete the
  // fair floor, as they overlap the children's writes in converge.
  const floorWorkspaces = await applyFloorWorkspaces({
    naming,
    adminKc: cluster.kubeConfig(),
    concurrency: args.floorConcurrency,
    progress,
  });
  const fairServerCpu = cpuDelta(controlPlaneCpu(), floorCpu);
  const fairSeconds = floor.seconds + floorWorkspaces.seconds;
  progress(
    `fair floor: + ${floorWorkspaces.applied} SecureWorkspaces in ${floorWorkspaces.seconds.toFixed(2)} s ` +
      `= ${fairSeconds.toFixed(2)} s`,
  );
  const floorServer = serverTime(await cluster.apiserverMetrics(), floorMetrics);
  const fairQuiet = await untilQuiet(cluster);
  const fairUntilQuiet = cpuDelta(fairQuiet.cpu, floorCpu);
  // Before the operator exists: it must never see them (checked again when it has started).
  const removeSeconds = await removeFloorWorkspaces({
    adminKc: cluster.kubeConfig(),
    applied: floorWorkspaces,
    concurrency: args.floorConcurrency,
  });
  progress(
    `fair floor: its ${floorWorkspaces.applied} SecureWorkspaces checked untouched, deleted and gone ` +
      `(${removeSeconds.toFixed(1)} s)`,
  );
  await waitForQuiet(cluster);

  progress(`starting the operator (${args.workers} workers, resync 1h) as its own process`);
  const op = await startBenchOperator({
    main,
    kubeconfig: operatorKc,
    workers: args.workers,
    resyncPeriod: "1h",
    logFile: path.join(logDir, "operator.log"),
    flags: args.operatorFlags,
    nodeArgs: [
      ...operatorNodeArgs(args),
      ...(args.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", args.cpuProfDir] : []),
      ...heapSnapshotArgs(args),
    ],
  });
  cleanup.operators.add(op);
  const tracker = new WorkspaceTracker(cluster.kubeConfig(), naming);
  cleanup.stoppers.add(() => tracker.stop());
  await tracker.start();
  await settle(cluster, op, "operator started");
  const atStart = await snapshot(op);
  // On a fresh cluster there is nothing to reconcile before the first apply: a reconcile here
  // means something of the floor (its SecureWorkspaces) leaked into the converge phase.
  if (cluster.local && atStart.reconciles > 0)
    throw new Error(
      `the operator ran ${atStart.reconciles} reconciles before the first SecureWorkspace was applied ` +
        "on a fresh cluster: the fair floor's workspaces leaked into the converge phase",
    );
  const memory: Results["memory"] = [["started", atStart.memory]];

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
  const convergeQuiet = await settle(cluster, op, "after converge");
  const convergeUntilQuiet = cpuDelta(convergeQuiet.cpu, convergeCpu);
  const trailing = delta(await snapshot(op), readyAt);
  // Before anyone touches a workspace's objects: what the statuses said that was not so.
  const truth = { readyFlaps: tracker.flaps, driftCounted: tracker.driftCounted() };
  progress(
    `converge: ${truth.readyFlaps} Ready -> not Ready flaps, ${truth.driftCounted} drift corrections counted (both should be 0)`,
  );

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
  let foreign: { policies: number; seconds: number } | undefined;
  if (args.foreignPolicies > 0) {
    progress(`posture: a foreign allow-all NetworkPolicy in each namespace`);
    foreign = await addForeignPolicies({
      kc: cluster.kubeConfig(),
      naming,
      concurrency: args.applyConcurrency,
      tracker,
      timeoutMs: args.convergeTimeoutSeconds * 1000,
    });
    await settle(cluster, op, "after foreign policies");
    progress(
      `posture: ${foreign.policies} foreign policies, every workspace reported after ${foreign.seconds.toFixed(2)} s`,
    );
    memory.push([`with ${foreign.policies} foreign policies (all reported)`, (await snapshot(op)).memory]);
  }
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
    fairFloor: {
      seconds: fairSeconds,
      workspaces: floorWorkspaces.applied,
      workspacesSeconds: floorWorkspaces.seconds,
      removeSeconds,
    },
    operatorAtStart: atStart,
    convergeSeconds: c.seconds,
    converge: c.counters,
    trailing,
    truth,
    drift,
    duringDrift,
    restart: idle.restart,
    idle: idle.idle,
    idleApiserverWrites: idle.apiserverWrites,
    idleControlPlane: idle.controlPlane,
    rss: { converge: rssConverge, idle: idle.rss },
    foreignPolicies: foreign?.policies ?? 0,
    server: { floor: floorServer, converge: convergeServer },
    cpu: {
      floor: { server: floorServerCpu, client: floor.clientCpuSeconds },
      fairFloor: {
        server: fairServerCpu,
        untilQuiet: fairUntilQuiet,
        client: floor.clientCpuSeconds + floorWorkspaces.clientCpuSeconds,
      },
      converge: {
        server: convergeServerCpu,
        untilQuiet: convergeUntilQuiet,
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
    const cpuRatio = controlPlaneCpuRatio(r);
    process.stdout.write(`${summary(args, naming, r, objects)}\n`);
    const result = {
      workspaces: args.workspaces,
      namespaces: args.workspaces * args.namespacesPerWorkspace,
      objects,
      converge_s: round(r.convergeSeconds),
      raw_ssa_floor_s: round(r.floor.seconds),
      converge_ratio: round(r.convergeSeconds / r.floor.seconds),
      fair_floor_s: round(r.fairFloor.seconds),
      converge_ratio_fair: round(r.convergeSeconds / r.fairFloor.seconds),
      // null when the control plane's CPU cannot be read (an external cluster).
      control_plane_cpu_ratio: cpuRatio === undefined ? null : round(cpuRatio),
      drift_restore_ms: {
        p50: round(drift.p50, 1),
        p95: round(drift.p95, 1),
        p99: round(drift.p99, 1),
        samples: drift.samples,
      },
      idle_resync_writes: r.idle.writes,
      rss_mib: round(Math.max(r.rss.converge, r.rss.idle), 1),
      // Both peaks (VmHWM): the converging operator's and the restarted one's.
      rss_converge_mib: round(r.rss.converge, 1),
      rss_restart_mib: round(r.rss.idle, 1),
      operator_node_args: operatorNodeArgs(args).join(" "),
      foreign_policies: r.foreignPolicies,
      requests_per_workspace: round(r.converge.requests / args.workspaces),
      // Untrue statuses in converge (nobody touched the objects): both should be 0.
      converge_ready_flaps: r.truth.readyFlaps,
      converge_drift_counted: r.truth.driftCounted,
    };
    await cleanup.run();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (err) {
    progress(`failed: ${err instanceof Error ? err.message : String(err)}`);
    for (const op of cleanup.operators) progress(`operator log (tail):\n${op.tail(20)}`);
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
