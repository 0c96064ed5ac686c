/**
 * What the caches hold of others' objects in a workspace's namespaces, as the posture evaluator's
 * input (baseline/posture.ts). The objects come from the API server, which validated them against
 * their kind's schema: only their presence and top-level shape are checked here.
 */
import type {
  ForeignNetworkPolicy,
  ForeignPeerAuthentication,
  ForeignRoleBinding,
  NamespaceInfo,
  SubjectInput,
} from "../baseline/posture.js";
import type { KubeObject } from "../runtime/client.js";

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** A NetworkPolicy as the evaluator reads it (undefined when it has no spec object). */
export function foreignNetworkPolicy(obj: KubeObject): ForeignNetworkPolicy | undefined {
  const spec = record(obj["spec"]);
  if (!spec) return undefined;
  return {
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name,
    spec: spec,
  };
}

/** A RoleBinding as the evaluator reads it. */
export function foreignRoleBinding(obj: KubeObject): ForeignRoleBinding | undefined {
  const roleRef = record(obj["roleRef"]);
  if (!roleRef || typeof roleRef["kind"] !== "string" || typeof roleRef["name"] !== "string")
    return undefined;
  const subjects = Array.isArray(obj["subjects"])
    ? (obj["subjects"] as unknown[]).filter(
        (s): s is SubjectInput =>
          record(s) !== undefined &&
          typeof (s as { kind?: unknown }).kind === "string" &&
          typeof (s as { name?: unknown }).name === "string",
      )
    : [];
  return {
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name,
    roleRef: { kind: roleRef["kind"], name: roleRef["name"] },
    subjects,
  };
}

/** An Istio PeerAuthentication as the evaluator reads it. */
export function foreignPeerAuthentication(obj: KubeObject): ForeignPeerAuthentication | undefined {
  const spec = record(obj["spec"]) ?? {};
  return {
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name,
    spec: spec,
  };
}

/** A namespace's name and labels. */
export function namespaceInfo(obj: KubeObject): NamespaceInfo {
  return { name: obj.metadata.name, labels: obj.metadata.labels ?? {} };
}
