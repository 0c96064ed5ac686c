/**
 * The operator under test as its own process (`node dist/src/main.js`), under its ServiceAccount
 * token, with /metrics on a free loopback port. Its logs go to a file, not into this process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  createWriteStream,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from "node:fs";
import path from "node:path";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { freePort } from "../harness/local-cluster.js";
import { OPERATOR_NAMESPACE } from "../integration/support/operator.js";
import { waitFor } from "../support/wait.js";
import { parseMetrics, type Sample } from "./stats.js";

/**
 * Copies the built operator (dist/src, crds/, package.json; node_modules linked) into `dir` and
 * returns its main.js. Other engineers rebuild the shared dist/ at any time: with a private copy,
 * every operator process of one run executes the same code.
 */
export function snapshotOperatorBuild(dir: string): string {
  const root = repoRoot();
  cpSync(path.join(root, "dist", "src"), path.join(dir, "dist", "src"), { recursive: true });
  cpSync(path.join(root, "crds"), path.join(dir, "crds"), { recursive: true });
  copyFileSync(path.join(root, "package.json"), path.join(dir, "package.json"));
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  return path.join(dir, "dist", "src", "main.js");
}

/** Options for {@link BenchOperator.start}. */
export interface BenchOperatorOptions {
  /** The operator's main.js (see {@link snapshotOperatorBuild}). */
  readonly main: string;
  /** A kubeconfig file holding the operator's ServiceAccount token. */
  readonly kubeconfig: string;
  readonly workers: number;
  /** e.g. "1h" or "20s". */
  readonly resyncPeriod: string;
  /** Where stdout and stderr go (appended). */
  readonly logFile: string;
  /** Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir", dir]. */
  readonly nodeArgs?: readonly string[];
}

/** Every operator still running, so an exit of this process can kill them synchronously. */
const running = new Set<ChildProcess>();

/** SIGKILLs every operator this process started (for the `exit` hook). */
export function killAllOperators(): void {
  for (const child of running) child.kill("SIGKILL");
}

/** A running operator process. */
export class BenchOperator {
  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly logFile: string,
    private readonly exited: Promise<number | string>,
  ) {}

  /** Spawns the operator and resolves once /readyz answers 200 (its caches have synced). */
  static async start(options: BenchOperatorOptions): Promise<BenchOperator> {
    const port = await freePort();
    const log = createWriteStream(options.logFile, { flags: "a" });
    const child = spawn(
      process.execPath,
      [
        ...(options.nodeArgs ?? []),
        options.main,
        "--kubeconfig",
        options.kubeconfig,
        "--health-port",
        String(port),
        "--health-host",
        "127.0.0.1",
        "--namespace",
        OPERATOR_NAMESPACE,
        "--workers",
        String(options.workers),
        "--resync-period",
        options.resyncPeriod,
        "--log-level",
        "warn",
        "--log-format",
        "json",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    running.add(child);
    const exited = new Promise<number | string>((resolve) =>
      child.once("exit", (code, signal) => {
        running.delete(child);
        resolve(code ?? signal ?? -1);
      }),
    );
    const op = new BenchOperator(child, port, options.logFile, exited);
    await waitFor(
      async () => {
        if (!op.alive) throw new Error(`operator exited: ${op.logTail()}`);
        const res = await fetch(`http://127.0.0.1:${port}/readyz`);
        return res.status === 200;
      },
      { timeoutMs: 120_000, intervalMs: 100, message: "the operator's /readyz" },
    ).catch(async (err: unknown) => {
      await op.stop();
      throw err;
    });
    return op;
  }

  /** Whether the process still runs. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Its /metrics, parsed. */
  async metrics(): Promise<Sample[]> {
    const res = await fetch(`http://127.0.0.1:${this.port}/metrics`);
    if (res.status !== 200) throw new Error(`operator /metrics answered ${res.status}`);
    return parseMetrics(await res.text());
  }

  /** Peak resident set size so far (VmHWM from /proc), in MiB. */
  peakRssMiB(): number {
    const pid = this.child.pid;
    if (pid === undefined) return Number.NaN;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : Number.NaN;
  }

  /** The last lines of its log, for error messages. */
  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
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
      { timeoutMs: 300_000, intervalMs: 1000, message: "the operator's heap snapshot" },
    );
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code or signal. Idempotent. */
  async stop(graceMs = 15_000): Promise<number | string> {
    if (this.alive) {
      this.child.kill("SIGTERM");
      const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
      const code = await this.exited;
      clearTimeout(timer);
      return code;
    }
    return this.exited;
  }
}
