/**
 * What the pure NetworkPolicy evaluator (src/baseline/reachability.ts) reads, listed from the API
 * server at the time of a check: every NetworkPolicy (the operator's and anyone else's), every
 * Namespace with its labels, and every pod with an IP (labels, pod IP, container ports). The objects
 * come from the API server; only the fields read here are checked.
 */
import { foreignNetworkPolicy, namespaceInfo } from "../../../src/controller/foreign.js";
import type { KubeObject } from "../../../src/runtime/client.js";
import type { TestKubeClient } from "../../support/test-client.js";
import { resourceOfKind } from "../../../src/api/resources.js";
import type {
  ClusterPolicies,
  ContainerPortInput,
  NetworkPolicyInput,
  PodEndpoint,
} from "../../../src/baseline/reachability.js";

/** The cluster as the evaluator sees it, and its pods by `namespace/name`. */
export interface ClusterModel extends ClusterPolicies {
  readonly pods: ReadonlyMap<string, PodEndpoint>;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function array(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function containerPorts(pod: KubeObject): ContainerPortInput[] {
  return array(record(pod["spec"])?.["containers"]).flatMap((c) =>
    array(record(c)?.["ports"]).flatMap((p): ContainerPortInput[] => {
      const port = record(p);
      const number = port?.["containerPort"];
      if (typeof number !== "number") return [];
      const name = port?.["name"];
      const protocol = port?.["protocol"];
      return [
        {
          containerPort: number,
          ...(typeof name === "string" ? { name } : {}),
          ...(typeof protocol === "string" ? { protocol } : {}),
        },
      ];
    }),
  );
}

/** A pod as an endpoint, or undefined while it has no pod IP (or runs in the host's network). */
function podEndpoint(pod: KubeObject): PodEndpoint | undefined {
  const ip = record(pod["status"])?.["podIP"];
  if (typeof ip !== "string" || ip === "" || record(pod["spec"])?.["hostNetwork"] === true) return undefined;
  return {
    kind: "pod",
    namespace: pod.metadata.namespace ?? "",
    labels: pod.metadata.labels ?? {},
    ip,
    ports: containerPorts(pod),
  };
}

/** Lists what the evaluator reads, now. */
export async function clusterModel(client: TestKubeClient): Promise<ClusterModel> {
  const [policies, namespaces, pods] = await Promise.all([
    client.list(resourceOfKind("NetworkPolicy")),
    client.list(resourceOfKind("Namespace")),
    client.list(resourceOfKind("Pod")),
  ]);
  const networkPolicies = policies.items.flatMap((p): NetworkPolicyInput[] => {
    const read = foreignNetworkPolicy(p);
    return read ? [read] : [];
  });
  const byName = new Map<string, PodEndpoint>();
  for (const pod of pods.items) {
    const endpoint = podEndpoint(pod);
    if (endpoint) byName.set(`${endpoint.namespace}/${pod.metadata.name}`, endpoint);
  }
  return { networkPolicies, namespaces: namespaces.items.map(namespaceInfo), pods: byName };
}

/**
 * What the evaluator read, in a canonical form (sorted): equal before and after a measurement
 * means the packets met the policies and namespace labels the evaluator judged.
 */
export function policyFingerprint(model: ClusterPolicies): string {
  const policies = [...model.networkPolicies]
    .map((p) => `${p.namespace}/${p.name} ${JSON.stringify(p.spec)}`)
    .sort();
  const namespaces = [...model.namespaces]
    .map((n) => `${n.name} ${JSON.stringify(Object.entries(n.labels).sort())}`)
    .sort();
  return [...policies, ...namespaces].join("\n");
}
