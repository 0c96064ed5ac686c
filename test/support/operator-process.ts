/**
 * The operator as its own OS process (`node dist/src/main.js`), the way it runs in a Pod: under
 * its ServiceAccount token (a kubeconfig file), JSON logs on stdout, /healthz, /readyz and
 * /metrics on a free loopback port. Integration tests read its logs and health endpoints, fault
 * tests SIGKILL it and run two replicas, the benchmark measures its memory. Its output goes to a
 * log file (kept: it explains a failure) and, parsed, into `lines`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { freePort } from "../harness/local-cluster.js";
import { OPERATOR_NAMESPACE, operatorKubeConfig } from "../integration/support/operator.js";
import { waitFor } from "./wait.js";

/** One parsed JSON log line of the operator (stderr and non-JSON lines get level "stderr"/"raw"). */
export interface LogLine {
  readonly level?: string;
  readonly message?: string;
  readonly [field: string]: unknown;
}

/** How the process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Writes a kubeconfig for the operator's ServiceAccount (a real TokenRequest token) to `file` and
 * returns its path. `server` replaces the API server URL (a fault proxy); the CA stays the cluster's.
 */
export async function writeOperatorKubeconfig(file: string, server?: string): Promise<string> {
  const kc = await operatorKubeConfig();
  let out = kc;
  if (server) {
    const cluster = kc.getCurrentCluster();
    const user = kc.getCurrentUser();
    if (!cluster || !user) throw new Error("operator kubeconfig lacks a cluster or user");
    out = new KubeConfig();
    out.loadFromOptions({
      clusters: [{ ...cluster, server }],
      users: [user],
      contexts: [{ name: "operator", cluster: cluster.name, user: user.name }],
      currentContext: "operator",
    });
  }
  writeFileSync(file, out.exportConfig(), { mode: 0o600 });
  return file;
}

/** Options for {@link OperatorProcess.start}. */
export interface OperatorProcessOptions {
  /** Path of the kubeconfig the operator uses (its ServiceAccount token). */
  readonly kubeconfig: string;
  /** The operator's log file (appended). */
  readonly logFile: string;
  /** A name for messages, e.g. "replica-a". */
  readonly name?: string;
  /** The main.js to run, default this checkout's dist/src/main.js. */
  readonly main?: string;
  /** Node flags before main.js, e.g. ["--cpu-prof"]. */
  readonly nodeArgs?: readonly string[];
  /** --log-level, default "info". */
  readonly logLevel?: string;
  /** --leader-elect, default false. */
  readonly leaderElect?: boolean;
  /** --resync-period, default "0" (off: convergence must come from the watches). */
  readonly resyncPeriod?: string;
  /** --workers, default 4. */
  readonly workers?: number;
  /** More flags, appended last. */
  readonly flags?: readonly string[];
  /** Resolve once /healthz answers (default) or once /readyz does (the caches have synced). */
  readonly waitFor?: "healthz" | "readyz";
  /** Echo every log line to this process's console (default: when SWS_TEST_VERBOSE is set). */
  readonly echo?: boolean;
}

/** Every operator still running, so an exit of this process kills them (no strays). */
const running = new Set<ChildProcess>();
let exitHook = false;

/** SIGKILLs every operator this process started. */
export function killAllOperators(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** Lines kept in memory; older ones are only in the log file. */
const MAX_LINES = 50_000;

/** A running (or exited) operator process. */
export class OperatorProcess {
  readonly lines: LogLine[] = [];
  /** Settles when the process exits. */
  readonly exited: Promise<ProcessExit>;
  private exitInfo: ProcessExit | undefined;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly port: number,
    readonly logFile: string,
    echo: boolean,
  ) {
    const log = createWriteStream(logFile, { flags: "a" });
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        running.delete(child);
        log.end();
        resolve({ code, signal });
      });
    });
    let partial = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      log.write(chunk);
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      for (const raw of parts) this.take(raw, echo);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      log.write(chunk);
      for (const raw of chunk.toString("utf8").split("\n").filter(Boolean))
        this.push({ level: "stderr", message: raw });
    });
  }

  /** Spawns the operator and resolves once /healthz (or /readyz) answers 200. */
  static async start(options: OperatorProcessOptions): Promise<OperatorProcess> {
    if (!exitHook) {
      exitHook = true;
      process.on("exit", killAllOperators);
    }
    const port = await freePort();
    const args = [
      ...(options.nodeArgs ?? []),
      options.main ?? path.join(repoRoot(), "dist", "src", "main.js"),
      ...["--kubeconfig", options.kubeconfig, "--namespace", OPERATOR_NAMESPACE],
      ...["--health-port", String(port), "--health-host", "127.0.0.1"],
      ...["--log-format", "json", "--log-level", options.logLevel ?? "info"],
      ...["--resync-period", options.resyncPeriod ?? "0", "--workers", String(options.workers ?? 4)],
      ...["--leader-elect", options.leaderElect ? "true" : "false", "--shutdown-grace", "5s"],
      ...(options.flags ?? []),
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    const name = options.name ?? `operator-${child.pid ?? 0}`;
    const echo = options.echo ?? Boolean(process.env["SWS_TEST_VERBOSE"]);
    const op = new OperatorProcess(name, child, port, options.logFile, echo);
    const endpoint = `/${options.waitFor ?? "healthz"}`;
    try {
      await waitFor(
        async () => {
          if (!op.alive)
            throw new Error(`${name} exited at start (${JSON.stringify(op.exit)}): ${op.tail()}`);
          return (await op.http(endpoint).catch(() => ({ status: 0 }))).status === 200;
        },
        { timeoutMs: 120_000, intervalMs: 100, message: `${name}: ${endpoint}` },
      );
    } catch (err) {
      await op.stop();
      throw err;
    }
    return op;
  }

  private take(raw: string, echo: boolean): void {
    if (raw.trim() === "") return;
    try {
      this.push(JSON.parse(raw) as LogLine);
    } catch {
      this.push({ level: "raw", message: raw });
    }
    if (echo) console.log(`      [${this.name}] ${raw}`);
  }

  private push(line: LogLine): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, MAX_LINES / 5);
  }

  /** The OS process id. */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** True until the process exits. */
  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** How it exited (undefined while it runs). */
  get exit(): ProcessExit | undefined {
    return this.exitInfo;
  }

  /** Its leader-election identity, from the "started" log line (needs --log-level info or lower). */
  async identity(): Promise<string> {
    return waitFor(
      () => this.lines.find((l) => l.message === "started")?.["identity"] as string | undefined,
      {
        message: `${this.name}: the "started" log line`,
      },
    );
  }

  /** A GET on its health server: status and body. */
  async http(pathname: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.port}${pathname}`, {
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: await res.text() };
  }

  /** The raw /metrics text. */
  async metricsText(): Promise<string> {
    const { status, body } = await this.http("/metrics");
    if (status !== 200) throw new Error(`${this.name}: /metrics answered ${status}`);
    return body;
  }

  /** The sum of a metric's samples whose labels include `labels` (0 when absent). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sumMetric(await this.metricsText(), name, labels);
  }

  /** Peak resident set size so far (VmHWM from /proc), in MiB. */
  peakRssMiB(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, "utf8");
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  }

  /** The last log lines, for error messages. */
  tail(n = 15): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join("\n");
  }

  /**
   * Asks for a heap snapshot (the process must run with --heapsnapshot-signal=SIGUSR2 and
   * --diagnostic-dir) and waits until a new .heapsnapshot file in `dir` stops growing.
   */
  async heapSnapshot(dir: string): Promise<string> {
    const before = new Set(readdirSync(dir));
    this.child.kill("SIGUSR2");
    let last = -1;
    return waitFor(
      () => {
        const file = readdirSync(dir).find((f) => f.endsWith(".heapsnapshot") && !before.has(f));
        if (!file) return undefined;
        const size = statSync(path.join(dir, file)).size;
        const stable = size > 0 && size === last;
        last = size;
        return stable ? path.join(dir, file) : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 1000, message: `${this.name}: heap snapshot` },
    );
  }

  /** Sends `signal` (default SIGKILL) if it still runs, and waits for the exit. */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<ProcessExit> {
    if (this.alive) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM (graceful: drain, release the Lease), SIGKILL after `graceMs`; waits for the exit. */
  async stop(graceMs = 20_000): Promise<ProcessExit> {
    if (!this.alive) return this.exited;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

/** Sums the samples of `name` (exact name, no _bucket/_sum suffix) that carry every given label. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = new Map<string, string>();
    for (const pair of (m[2] ?? "").slice(1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      got.set(pair[1] ?? "", pair[2] ?? "");
    if (Object.entries(labels).every(([k, v]) => got.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}
