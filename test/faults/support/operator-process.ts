/**
 * The operator as its own OS process (`node dist/src/main.js`), as it runs in a pod: under its
 * ServiceAccount token (a kubeconfig file), JSON logs on stdout, /metrics on a free port. Fault
 * tests SIGKILL it, run two replicas with leader election, and read its metrics.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, writeFileSync, type WriteStream } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { repoRoot } from "../../harness/control-plane-binaries.js";
import { operatorKubeConfig, OPERATOR_NAMESPACE } from "../../integration/support/operator.js";
import { waitFor } from "../../support/wait.js";

/** One parsed JSON log line of the operator. */
export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

const running = new Set<ChildProcess>();
let exitHook = false;

/** SIGKILLs every operator this test process started if it exits first (no strays). */
function installExitHook(): void {
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const child of running) child.kill("SIGKILL");
  });
}

/** A directory for kubeconfigs and operator logs of this run (kept: logs help a failure). */
export const FAULT_DIR = mkdtempSync(path.join(tmpdir(), "sws-faults-"));

/**
 * Writes a kubeconfig for the operator's ServiceAccount (a real TokenRequest token) and returns
 * its path. `server` replaces the API server URL (a fault proxy); the CA stays the cluster's.
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
  const target = path.join(FAULT_DIR, file);
  writeFileSync(target, out.exportConfig(), { mode: 0o600 });
  return target;
}

/** Options for {@link OperatorProcess.start}. */
export interface OperatorProcessOptions {
  /** Path of the kubeconfig the operator uses. */
  readonly kubeconfig: string;
  /** A name for its log file and messages, e.g. "replica-a". */
  readonly name: string;
  /** --leader-elect (default false). */
  readonly leaderElect?: boolean;
  /** --resync-period (default "0": off, so convergence must come from the watches). */
  readonly resyncPeriod?: string;
  /** --workers (default 4). */
  readonly workers?: number;
}

/** A running (or dead) operator process. */
export class OperatorProcess {
  readonly lines: LogLine[] = [];
  /** Settles when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  identity = "";
  healthPort = 0;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly logFile: string,
    log: WriteStream,
  ) {
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.exitInfo = { code, signal };
        running.delete(child);
        log.end();
        resolve({ code, signal });
      });
    });
    let partial = "";
    const onData = (chunk: Buffer): void => {
      log.write(chunk);
      const text = partial + chunk.toString("utf8");
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      for (const raw of parts) this.take(raw);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", (chunk: Buffer) => {
      log.write(chunk);
      for (const raw of chunk.toString("utf8").split("\n").filter(Boolean))
        this.lines.push({ level: "stderr", message: raw });
    });
  }

  /** Spawns the operator and waits for its "started" line (identity and health port). */
  static async start(options: OperatorProcessOptions): Promise<OperatorProcess> {
    installExitHook();
    const args = [
      path.join(repoRoot(), "dist", "src", "main.js"),
      "--kubeconfig",
      options.kubeconfig,
      "--health-port",
      "0",
      "--health-host",
      "127.0.0.1",
      "--log-format",
      "json",
      "--log-level",
      "info",
      "--namespace",
      OPERATOR_NAMESPACE,
      "--resync-period",
      options.resyncPeriod ?? "0",
      "--workers",
      String(options.workers ?? 4),
      "--leader-elect",
      options.leaderElect ? "true" : "false",
      "--shutdown-grace",
      "5s",
    ];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    const logFile = path.join(FAULT_DIR, `${options.name}-${child.pid ?? 0}.log`);
    const proc = new OperatorProcess(options.name, child, logFile, createWriteStream(logFile));
    const started = await waitFor(() => proc.lines.find((l) => l.message === "started") ?? proc.exitInfo, {
      timeoutMs: 60_000,
      message: `${options.name}: "started" log line`,
    });
    if (!("message" in started))
      throw new Error(`${options.name} exited at start (${JSON.stringify(started)}): ${proc.tail()}`);
    proc.identity = String(started["identity"]);
    proc.healthPort = Number(started["healthPort"]);
    return proc;
  }

  private take(raw: string): void {
    if (raw.trim() === "") return;
    try {
      this.lines.push(JSON.parse(raw) as LogLine);
    } catch {
      this.lines.push({ level: "raw", message: raw });
    }
    if (this.lines.length > 50_000) this.lines.splice(0, 10_000);
    if (process.env["SWS_TEST_VERBOSE"]) console.log(`      [${this.name}] ${raw}`);
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
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    return this.exitInfo;
  }

  /** The last log lines, for error messages. */
  tail(n = 15): string {
    return this.lines
      .slice(-n)
      .map((l) => JSON.stringify(l))
      .join("\n");
  }

  /** `kill -9`, and waits for the exit. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGTERM (graceful: drain, release the lease), SIGKILL after 20 s; waits for the exit. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  /** The raw /metrics text. */
  async metricsText(): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = get(
        { host: "127.0.0.1", port: this.healthPort, path: "/metrics", timeout: 5000 },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => resolve(body));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("metrics request timed out")));
      req.on("error", reject);
    });
  }

  /** The sum of a metric's samples whose labels include `labels` (0 when absent). */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sumMetric(await this.metricsText(), name, labels);
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

/** Log lines mentioning a 403: the least-privilege ClusterRole lacks a permission. */
export function forbiddenLines(proc: OperatorProcess): LogLine[] {
  return proc.lines.filter((l) => JSON.stringify(l).includes(": 403 "));
}
