/**
 * `make demo`: a real local cluster, the CRD and the operator's least-privilege RBAC, the
 * operator as its own process under its ServiceAccount token, every example applied, a drift
 * shown being corrected, then it runs until Ctrl-C and stops everything.
 * `--exit` (or SWS_DEMO_EXIT=1) ends after the show, for scripted runs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { SecureWorkspace } from "../../src/api/types.js";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { resourceOfKind } from "../../src/api/resources.js";
import { installIstioCrds } from "../integration/support/istio.js";
import {
  adminClient,
  installOperatorPrerequisites,
  operatorKubeConfig,
} from "../integration/support/operator.js";
import { condition, examples, getObject, getWorkspace } from "../integration/support/workspaces.js";
import { waitFor } from "../support/wait.js";
import { repoRoot } from "./control-plane-binaries.js";
import { LocalCluster } from "./local-cluster.js";
import { setTestEnv } from "./test-env.js";

const say = (line: string): void => console.log(`\x1b[1m==>\x1b[0m ${line}`);

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ")).join("\n");
}

async function showWorkspaces(admin: TestKubeClient): Promise<void> {
  const list = await admin.list(resourceOfKind("SecureWorkspace"));
  const rows = [["NAME", "READY", "REASON", "NAMESPACES", "ENFORCEMENT", "DRIFT CORRECTIONS"]];
  for (const item of list.items as unknown as SecureWorkspace[]) {
    const ready = condition(item, "Ready");
    rows.push([
      item.metadata.name,
      ready?.status ?? "Unknown",
      ready?.reason ?? "",
      item.spec.namespaces.map((n) => n.name).join(","),
      item.spec.enforcement ?? "Enforce",
      String(item.status?.driftCorrections ?? 0),
    ]);
  }
  console.log(table(rows));
}

async function main(): Promise<void> {
  const exitAfterShow = process.argv.includes("--exit") || process.env["SWS_DEMO_EXIT"] === "1";
  const stateDir = path.join(repoRoot(), ".cluster");
  mkdirSync(stateDir, { recursive: true });
  say("starting a real local cluster (etcd, kube-apiserver, kube-controller-manager built from Go modules)");
  const cluster = await LocalCluster.start({
    kubeconfigPath: path.join(stateDir, "kubeconfig"),
    log: (l) => say(l),
  });
  let operator: ChildProcess | undefined;
  const shutdown = async (code: number): Promise<never> => {
    say("stopping the operator and the cluster");
    if (operator && operator.exitCode === null) {
      const exited = new Promise((r) => operator?.once("exit", r));
      operator.kill("SIGTERM");
      await exited;
    }
    await cluster.stop();
    // The kubeconfigs in .cluster/ name a cluster that is gone now.
    for (const file of ["kubeconfig", "operator.kubeconfig"])
      rmSync(path.join(stateDir, file), { force: true });
    process.exit(code);
  };
  // `make demo | tee demo.log` then Ctrl-C: tee dies with the same SIGINT, so every line the
  // shutdown prints meets a closed pipe (EPIPE). Ignore that and go on stopping the cluster (an
  // unhandled EPIPE would end the process before cluster.stop(); the exit hook of LocalCluster
  // still removes its temp directory then, but the operator would not get its SIGTERM).
  for (const stream of [process.stdout, process.stderr])
    stream.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE") throw err;
    });
  process.removeAllListeners("SIGINT");
  process.removeAllListeners("SIGTERM");
  process.once("SIGINT", () => void shutdown(0));
  process.once("SIGTERM", () => void shutdown(0));
  try {
    setTestEnv({ kubeconfigPath: cluster.kubeconfigPath, cluster });
    say(`export KUBECONFIG=${cluster.kubeconfigPath}   # kubectl works against it`);
    say("installing the SecureWorkspace CRD, the operator's namespace and least-privilege RBAC (config/)");
    await installOperatorPrerequisites();
    const { real } = await installIstioCrds();
    say(
      `installed Istio's security.istio.io CRDs (${real ? "Istio's own, from ../shared" : "the project's fixture"})`,
    );
    const operatorKc = path.join(stateDir, "operator.kubeconfig");
    writeFileSync(operatorKc, (await operatorKubeConfig()).exportConfig(), { mode: 0o600 });
    say("starting the operator as its own process, under its ServiceAccount token");
    operator = spawn(
      process.execPath,
      [
        path.join(repoRoot(), "dist", "src", "main.js"),
        "--kubeconfig",
        operatorKc,
        "--health-port",
        "0",
        "--log-format",
        "text",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const prefix = (chunk: Buffer): void => {
      for (const line of chunk.toString().split("\n").filter(Boolean))
        console.log(`   \x1b[2m[operator] ${line}\x1b[0m`);
    };
    operator.stdout?.on("data", prefix);
    operator.stderr?.on("data", prefix);

    const admin = adminClient();
    say("applying examples/");
    for (const { file, ws } of examples()) {
      await admin.apply(ws as unknown as KubeObject);
      console.log(`   secureworkspace.secureworkspace.io/${ws.metadata.name} applied (${file})`);
    }
    say("waiting until every workspace is Ready");
    for (const { ws } of examples())
      await waitFor(
        async () => {
          const live = await getWorkspace(admin, ws.metadata.name);
          return (
            live?.status?.observedGeneration === live?.metadata.generation &&
            condition(live, "Ready")?.status === "True"
          );
        },
        { timeoutMs: 120_000, message: `${ws.metadata.name} Ready` },
      );
    await showWorkspaces(admin);
    const team = await getWorkspace(admin, "example-team-quota");
    say("conditions of example-team-quota:");
    for (const c of team?.status?.conditions ?? [])
      console.log(`   ${c.type.padEnd(26)} ${c.status.padEnd(6)} ${c.reason.padEnd(20)} ${c.message}`);

    const ns = "team-quota-dev";
    const before = await getObject(admin, "NetworkPolicy", ns, "sws-default-deny");
    say(`deleting NetworkPolicy ${ns}/sws-default-deny (drift)`);
    const started = Date.now();
    await admin.delete(resourceOfKind("NetworkPolicy"), "sws-default-deny", ns);
    await waitFor(async () => {
      const now = await getObject(admin, "NetworkPolicy", ns, "sws-default-deny");
      return now !== undefined && now.metadata.uid !== before?.metadata.uid;
    });
    say(
      `restored by the operator after ${Date.now() - started} ms (uid ${before?.metadata.uid ?? "?"} -> new object)`,
    );
    await showWorkspaces(admin);
    admin.close();
    if (exitAfterShow) return void (await shutdown(0));
    say(
      "the operator keeps running: try kubectl against it (export KUBECONFIG above). Ctrl-C stops everything.",
    );
  } catch (err) {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    await shutdown(1);
  }
}

void main();
