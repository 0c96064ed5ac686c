/**
 * Mocha global fixtures for the real-node suites (test/.mocharc.node.json): one control plane
 * with a real node per run. The last suite (test/node/teardown.test.ts) stops it itself to check
 * for leftovers; the teardown here is then a no-op, and otherwise stops it (and the node's exit
 * hook cleans up on a crash or Ctrl-C).
 */
import { startClusterWithNode, type ClusterWithNode } from "./node/local-node.js";
import { setTestEnv } from "./test-env.js";

let running: ClusterWithNode | undefined;

/** The running cluster and node; throws outside the node suites. */
export function nodeEnv(): ClusterWithNode {
  if (!running) throw new Error("no real node: run the node tests through test/.mocharc.node.json");
  return running;
}

/** Starts the control plane and the node before any suite runs. */
export async function mochaGlobalSetup(): Promise<void> {
  const started = Date.now();
  running = await startClusterWithNode({ log: (line) => console.log(`  [node] ${line}`) });
  console.log(`  [node] cluster and node ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  setTestEnv({ kubeconfigPath: running.cluster.kubeconfigPath, cluster: running.cluster });
}

/** Stops the node and the control plane (idempotent). */
export async function mochaGlobalTeardown(): Promise<void> {
  setTestEnv(undefined);
  await running?.stop();
}
