/**
 * What the benchmark asks for: N SecureWorkspaces shaped like examples/team-quota.yaml (M namespaces
 * each, two RoleBindings, a ResourceQuota and a LimitRange: 8 objects per namespace with the
 * default NetworkPolicies), and the same desired objects for the raw-SSA floor under other names.
 */
import {
  API_VERSION,
  CREATED_BY_ANNOTATION,
  KIND,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  WORKSPACE_LABEL,
} from "../../src/api/constants.js";
import type { SecureWorkspace, SecureWorkspaceSpec } from "../../src/api/types.js";
import { desiredState } from "../../src/baseline/index.js";
import type { DesiredObject } from "../../src/baseline/objects.js";
import { withAppliedHash } from "../../src/controller/diff.js";
import type { KubeObject } from "../../src/runtime/client.js";

/**
 * Floor objects carry these instead of the operator's labels, so the operator's label-selected
 * informers never see them and its Namespace informer cannot route them to a workspace.
 * Same lengths as the originals, so the floor writes the same number of bytes.
 */
export const FLOOR_MANAGED_BY_VALUE = "bench-raw-ssa-floor-owner";
export const FLOOR_WORKSPACE_LABEL = "floor.bench.sws.io/workspace";

/** Names of one run's objects. */
export interface Naming {
  /** Prefix of workspace and namespace names, e.g. "bench" or "bench-1a2b" on a shared cluster. */
  readonly prefix: string;
  readonly workspaces: number;
  readonly namespacesPerWorkspace: number;
}

const pad = (i: number, total: number): string => String(i).padStart(String(total - 1).length, "0");

/** The i-th workspace's name. */
export function workspaceName(n: Naming, i: number, kind: "bench" | "floor" = "bench"): string {
  return `${kind === "bench" ? n.prefix : n.prefix.replace(/^bench/, "floor")}-${pad(i, n.workspaces)}`;
}

/** The namespaces of the i-th workspace. */
export function namespacesOf(n: Naming, i: number, kind: "bench" | "floor" = "bench"): string[] {
  return Array.from({ length: n.namespacesPerWorkspace }, (_, j) => `${workspaceName(n, i, kind)}-${j}`);
}

/** The spec of the i-th workspace (team-quota's shape). */
export function benchSpec(namespaces: readonly string[], team: string): SecureWorkspaceSpec {
  return {
    namespaces: namespaces.map((name) => ({ name, labels: { "bench.sws.io/team": team } })),
    rbac: {
      bindings: [
        { role: "edit", subjects: [{ kind: "Group", name: team }] },
        { role: "view", subjects: [{ kind: "Group", name: "auditors" }] },
      ],
    },
    resourceQuota: {
      hard: {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "limits.cpu": "8",
        "limits.memory": "16Gi",
        pods: "50",
      },
    },
    limitRange: {
      default: { cpu: "500m", memory: "512Mi" },
      defaultRequest: { cpu: "100m", memory: "128Mi" },
      max: { cpu: "2", memory: "2Gi" },
    },
  };
}

/**
 * The i-th SecureWorkspace, as the "user" applies it. The "floor" one (for the fair floor) names the
 * floor's namespaces instead: the same shape and the same number of bytes.
 */
export function benchWorkspace(n: Naming, i: number, kind: "bench" | "floor" = "bench"): KubeObject {
  const name = workspaceName(n, i, kind);
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name },
    spec: benchSpec(namespacesOf(n, i, kind), name),
  };
}

/** How many objects one workspace's desired state holds (namespaces included). */
export function objectsPerWorkspace(n: Naming): number {
  const ws = benchWorkspace(n, 0) as unknown as SecureWorkspace;
  return desiredState(ws).length;
}

function relabel(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels)) {
    if (k === MANAGED_BY_LABEL && v === MANAGED_BY_VALUE) out[k] = FLOOR_MANAGED_BY_VALUE;
    else if (k === WORKSPACE_LABEL) out[FLOOR_WORKSPACE_LABEL] = v;
    else out[k] = v;
  }
  return out;
}

/** The owner every floor object points to (a real cluster-scoped object, so GC keeps them). */
export interface FloorOwner {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
}

/**
 * The i-th floor workspace's objects exactly as the operator would apply them (applied-hash
 * annotation, created-by on namespaces), relabelled (see {@link FLOOR_MANAGED_BY_VALUE}) and
 * owned by `owner` instead of a SecureWorkspace.
 */
export function floorObjects(n: Naming, i: number, owner: FloorOwner): KubeObject[] {
  const name = workspaceName(n, i, "floor");
  const ws = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, uid: owner.uid },
    spec: benchSpec(namespacesOf(n, i, "floor"), name),
  } as unknown as SecureWorkspace;
  return desiredState(ws).map((raw): KubeObject => {
    const marked: DesiredObject =
      raw.kind === "Namespace"
        ? {
            ...raw,
            metadata: {
              ...raw.metadata,
              annotations: { ...(raw.metadata.annotations ?? {}), [CREATED_BY_ANNOTATION]: name },
            },
          }
        : raw;
    const obj = withAppliedHash(marked);
    return {
      ...obj,
      metadata: {
        ...obj.metadata,
        labels: relabel(obj.metadata.labels),
        ...(obj.metadata.ownerReferences
          ? {
              ownerReferences: obj.metadata.ownerReferences.map((ref) => ({
                ...ref,
                apiVersion: owner.apiVersion,
                kind: owner.kind,
                name: owner.name,
                uid: owner.uid,
              })),
            }
          : {}),
      },
    };
  });
}
