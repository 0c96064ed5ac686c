/**
 * Mocha global fixtures for the integration suites: one real control plane per run,
 * torn down at the end (and by LocalCluster's exit hook on a crash or Ctrl-C).
 */
import { LocalCluster } from "./local-cluster.js";
import { setTestEnv, testEnv } from "./test-env.js";

/** The operator's ServiceAccount as the API server names it (test/integration/support/operator.ts). */
export const OPERATOR_USER = "system:serviceaccount:secure-workspace-system:secure-workspace-operator";

/** Starts the cluster (or adopts SWS_TEST_KUBECONFIG) before any suite runs. */
export async function mochaGlobalSetup(): Promise<void> {
  const existing = process.env["SWS_TEST_KUBECONFIG"];
  if (existing) {
    setTestEnv({ kubeconfigPath: existing });
    return;
  }
  const started = Date.now();
  const cluster = await LocalCluster.start({
    log: (line) => console.log(`  [cluster] ${line}`),
    // The operator's writes are audited: what the server received is the witness of "no write after".
    auditUsers: [OPERATOR_USER],
  });
  console.log(`  [cluster] started in ${((Date.now() - started) / 1000).toFixed(1)} s at ${cluster.server}`);
  setTestEnv({ kubeconfigPath: cluster.kubeconfigPath, cluster });
}

/** Stops the cluster the setup started. */
export async function mochaGlobalTeardown(): Promise<void> {
  const cluster = testEnv().cluster;
  setTestEnv(undefined);
  await cluster?.stop();
}
