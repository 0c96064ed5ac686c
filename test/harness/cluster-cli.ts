/**
 * `make cluster` / `make cluster-stop`: runs the local control plane in the foreground until
 * SIGTERM/SIGINT, with its kubeconfig at .cluster/kubeconfig and its pid at .cluster/pid.
 *   node dist/test/harness/cluster-cli.js run     start and stay in the foreground
 *   node dist/test/harness/cluster-cli.js stop    stop a running one
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "./control-plane-binaries.js";
import { LocalCluster } from "./local-cluster.js";
import { startClusterWithNode } from "./node/local-node.js";

// SWS_CLUSTER_DIR lets a test run its own instance without touching a developer's .cluster/.
const stateDir = process.env["SWS_CLUSTER_DIR"] ?? path.join(repoRoot(), ".cluster");
const pidFile = path.join(stateDir, "pid");
const kubeconfigPath = path.join(stateDir, "kubeconfig");
/** Written by `make run` (a 12 h ServiceAccount token): as stale as the kubeconfig once the cluster is gone. */
const operatorKubeconfigPath = path.join(stateDir, "operator.kubeconfig");

/** Removes what points at a cluster that is no longer there (a stale kubeconfig would still be picked up). */
function removeClusterFiles(): void {
  for (const file of [pidFile, path.join(stateDir, "ready"), kubeconfigPath, operatorKubeconfigPath])
    rmSync(file, { force: true });
}

function running(): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, "utf8"));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function run(): Promise<void> {
  const pid = running();
  if (pid !== undefined) throw new Error(`a cluster is already running (pid ${pid}); run make cluster-stop`);
  mkdirSync(stateDir, { recursive: true });
  rmSync(path.join(stateDir, "ready"), { force: true });
  const options = { dir: path.join(stateDir, "data"), kubeconfigPath };
  const log = (line: string): void => console.log(`[cluster] ${line}`);
  // SWS_NODE=1 (make cluster NODE=1): a real node too, so pods run (test/harness/node/).
  const withNode =
    process.env["SWS_NODE"] === "1" ? await startClusterWithNode({ cluster: options, log }) : undefined;
  const cluster = withNode?.cluster ?? (await LocalCluster.start({ ...options, log }));
  writeFileSync(pidFile, String(process.pid));
  writeFileSync(path.join(stateDir, "ready"), cluster.server);
  const shutdown = (): void => {
    void (withNode ?? cluster).stop().then(() => {
      rmSync(path.join(stateDir, "data"), { recursive: true, force: true });
      removeClusterFiles();
      process.exit(0);
    });
  };
  process.removeAllListeners("SIGTERM");
  process.removeAllListeners("SIGINT");
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  console.log(`[cluster] running; export KUBECONFIG=${kubeconfigPath}`);
}

async function stop(): Promise<void> {
  const pid = running();
  if (pid === undefined) {
    const stale = existsSync(kubeconfigPath);
    removeClusterFiles();
    console.log(`no local cluster is running${stale ? ` (removed the stale ${kubeconfigPath})` : ""}`);
    return;
  }
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && running() !== undefined; i++) await new Promise((r) => setTimeout(r, 100));
  console.log(`stopped the local cluster (pid ${pid})`);
}

const command = process.argv[2];
const action = command === "run" ? run : command === "stop" ? stop : undefined;
if (!action) {
  console.error("usage: cluster-cli.js run|stop");
  process.exit(2);
}
action().catch((err: unknown) => {
  console.error(`cluster: ${(err as Error).message}`);
  process.exit(1);
});
