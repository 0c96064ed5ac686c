/**
 * A run that crashes: starts a control plane and a real node, runs one pod, prints
 * `READY <cluster dir>` and waits to be killed (test/node/teardown.test.ts kills its process group
 * with SIGKILL, so no exit hook runs: what a CI runner's kill or an OOM does).
 */
import { execFileSync } from "node:child_process";
import { startClusterWithNode } from "../../harness/node/local-node.js";

const env = await startClusterWithNode();
const kubectl = (...args: string[]): string =>
  execFileSync("kubectl", ["--kubeconfig", env.cluster.kubeconfigPath, ...args], { encoding: "utf8" });
kubectl("run", "crash-victim", "--image=sws.local/probe:test", "--image-pull-policy=Never", "--restart=Never",
  "--", "serve", "--tcp", "8080"); // prettier-ignore
kubectl("wait", "--for=condition=Ready", "pod/crash-victim", "--timeout=120s");
console.log(`READY ${env.cluster.dir}`);
setInterval(() => undefined, 60_000);
