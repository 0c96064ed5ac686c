/**
 * The operator as a separate process (`node dist/src/main.js`), the way it runs in a Pod:
 * under its ServiceAccount token, with its own health/metrics port and JSON logs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot } from "../../harness/control-plane-binaries.js";
import { freePort } from "../../harness/local-cluster.js";
import { waitFor } from "../../support/wait.js";
import { OPERATOR_NAMESPACE, operatorKubeConfig } from "./operator.js";

/** One JSON log line of the operator. */
export type LogLine = Record<string, unknown> & { message?: string };

/** A running operator process. */
export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly logs: LogLine[];
  /** The leader-election identity it logged at start. */
  identity(): Promise<string>;
  /** GET on its health server: status and body. */
  http(pathname: string): Promise<{ status: number; body: string }>;
  /** Resolves with the exit code (or signal) once it has exited. */
  readonly exited: Promise<number | NodeJS.Signals>;
}

/** Starts `node dist/src/main.js` with the operator's token and extra flags. */
export async function startOperatorProcess(flags: string[] = []): Promise<OperatorProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), "sws-operator-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  writeFileSync(kubeconfig, (await operatorKubeConfig()).exportConfig(), { mode: 0o600 });
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot(), "dist", "src", "main.js"),
      "--kubeconfig",
      kubeconfig,
      "--health-port",
      String(port),
      "--health-host",
      "127.0.0.1",
      "--namespace",
      OPERATOR_NAMESPACE,
      "--log-level",
      "debug",
      ...flags,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const logs: LogLine[] = [];
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ message: line });
      }
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => logs.push({ message: chunk.toString(), level: "stderr" }));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    port,
    logs,
    exited,
    identity: async () =>
      waitFor(() => logs.find((l) => l.message === "started")?.["identity"] as string | undefined, {
        message: "the operator's started log line",
      }),
    http: async (pathname) => {
      const res = await fetch(`http://127.0.0.1:${port}${pathname}`);
      return { status: res.status, body: await res.text() };
    },
  };
}

/** SIGKILLs a process if it still runs, and waits for it. */
export async function killOperator(
  op: OperatorProcess,
  signal: NodeJS.Signals = "SIGKILL",
): Promise<number | NodeJS.Signals> {
  if (op.child.exitCode === null && op.child.signalCode === null) op.child.kill(signal);
  return op.exited;
}
