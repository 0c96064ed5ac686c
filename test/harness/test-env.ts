/**
 * The cluster the integration tests talk to: started once by the mocha root hooks
 * (root-hooks.ts), or an existing one when SWS_TEST_KUBECONFIG names its kubeconfig
 * (e.g. `make cluster` for fast local iteration).
 */
import { KubeConfig } from "@kubernetes/client-node";
import type { LocalCluster } from "./local-cluster.js";

/** What a test needs to reach the cluster as admin. */
export interface TestEnv {
  readonly kubeconfigPath: string;
  /** Present when the harness started the cluster itself (fault tests need it). */
  readonly cluster?: LocalCluster;
}

let current: TestEnv | undefined;

/** Set by the root hooks. */
export function setTestEnv(env: TestEnv | undefined): void {
  current = env;
}

/** The running test environment; throws when the root hooks did not start one. */
export function testEnv(): TestEnv {
  if (!current)
    throw new Error("no test cluster: run integration tests through test/.mocharc.integration.json");
  return current;
}

/** A fresh admin KubeConfig for the test cluster. */
export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(testEnv().kubeconfigPath);
  return kc;
}
