/**
 * The effective-posture phase (issue 11 §2): one foreign allow-all NetworkPolicy in every owned
 * namespace, as a tenant's (or a pre-adoption) object would be. The operator must see each (its
 * caches keep others' objects of the posture kinds) and report every workspace
 * ForeignPolicyWidensAccess; the phase measures what holding and evaluating them costs in memory,
 * and the idle phase that follows runs with them in place (its zero-write check included).
 */
import type { KubeConfig } from "@kubernetes/client-node";
import { TestKubeClient } from "../support/test-client.js";
import { waitFor } from "../support/wait.js";
import type { WorkspaceTracker } from "./converge.js";
import { forEachLimited } from "./stats.js";
import { namespacesOf, type Naming } from "./workload.js";
import { RESOURCES } from "../../src/api/resources.js";

/** The foreign policy's name in every namespace. */
export const FOREIGN_POLICY = "bench-tenant-allow-all";

/** Creates the foreign policies and waits until no workspace is Ready any more (all reported). */
export async function addForeignPolicies(options: {
  readonly kc: KubeConfig;
  readonly naming: Naming;
  readonly concurrency: number;
  readonly tracker: WorkspaceTracker;
  readonly timeoutMs: number;
}): Promise<{ policies: number; seconds: number }> {
  const { naming } = options;
  const client = new TestKubeClient(options.kc, { resources: RESOURCES, fieldManager: "sws-bench-tenant" });
  const started = performance.now();
  try {
    const namespaces = Array.from({ length: naming.workspaces }, (_, i) => namespacesOf(naming, i)).flat();
    await forEachLimited(namespaces, options.concurrency, async (namespace) => {
      await client.apply({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: FOREIGN_POLICY, namespace },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{}], egress: [{}] },
      });
    });
    await waitFor(() => options.tracker.readyCount === 0, {
      timeoutMs: options.timeoutMs,
      intervalMs: 250,
      message: () => `every workspace reported (${options.tracker.readyCount} still Ready)`,
    });
    return { policies: namespaces.length, seconds: (performance.now() - started) / 1000 };
  } finally {
    client.close();
  }
}
