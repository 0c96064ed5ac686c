/**
 * The raw-SSA floor: the same desired objects as N workspaces need, for N fresh sets of
 * namespaces, written by a plain server-side-apply client with many requests in flight
 * (namespaces first, then everything else). No reads, no diff, no status: the physical limit
 * the operator's converge time is compared with.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, type KubeObject } from "../../src/kube/client.js";
import { forEachLimited } from "./stats.js";
import { floorObjects, type FloorOwner, type Naming } from "./workload.js";

/** Identity of the floor client. */
export const FLOOR_FIELD_MANAGER = "sws-bench-floor";
const FLOOR_NAMESPACE = "sws-bench";
const FLOOR_SA = "sws-bench-floor";

/** Options for {@link runFloor}. */
export interface FloorOptions {
  readonly naming: Naming;
  /** The admin KubeConfig (sets up the owner and the identity). */
  readonly adminKc: KubeConfig;
  /** "sa": a ServiceAccount bound to cluster-admin, like the operator a non-exempt client. */
  readonly identity: "sa" | "admin";
  readonly concurrency: number;
  readonly progress: (line: string) => void;
}

/** What the floor run measured. */
export interface FloorResult {
  readonly seconds: number;
  readonly objects: number;
  readonly namespaces: number;
  /** CPU this (client) process used while applying, user + system. */
  readonly clientCpuSeconds: number;
}

/** A kubeconfig for a ServiceAccount bound to cluster-admin (created if missing). */
async function serviceAccountKubeConfig(admin: KubeClient, adminKc: KubeConfig): Promise<KubeConfig> {
  const docs: KubeObject[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: FLOOR_NAMESPACE } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: FLOOR_SA, namespace: FLOOR_NAMESPACE } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: FLOOR_SA },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
      subjects: [{ kind: "ServiceAccount", name: FLOOR_SA, namespace: FLOOR_NAMESPACE }],
    },
  ];
  for (const doc of docs) await admin.apply(doc);
  const token = await admin.requestToken(FLOOR_NAMESPACE, FLOOR_SA, 6 * 3600);
  const cluster = adminKc.getCurrentCluster();
  if (!cluster) throw new Error("admin kubeconfig has no cluster");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: FLOOR_SA, token }],
    contexts: [{ name: "floor", cluster: cluster.name, user: FLOOR_SA }],
    currentContext: "floor",
  });
  return kc;
}

/** A real cluster-scoped owner for the floor's namespaced objects (an empty ClusterRole). */
async function floorOwner(admin: KubeClient): Promise<FloorOwner> {
  const owner = await admin.apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name: "sws-bench-floor-owner" },
    rules: [],
  });
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid ?? "",
  };
}

/** Applies the floor's objects and times it (first request to last answer). */
export async function runFloor(options: FloorOptions): Promise<FloorResult> {
  const { naming, concurrency, progress } = options;
  const admin = new KubeClient(options.adminKc, { fieldManager: "sws-bench-admin" });
  let client: KubeClient | undefined;
  try {
    const owner = await floorOwner(admin);
    const kc =
      options.identity === "sa" ? await serviceAccountKubeConfig(admin, options.adminKc) : options.adminKc;
    const floor = new KubeClient(kc, { fieldManager: FLOOR_FIELD_MANAGER, maxSockets: concurrency });
    client = floor;
    const all = Array.from({ length: naming.workspaces }, (_, i) => floorObjects(naming, i, owner)).flat();
    const namespaces = all.filter((o) => o.kind === "Namespace");
    const rest = all.filter((o) => o.kind !== "Namespace");
    let done = 0;
    const tick = setInterval(() => progress(`floor: ${done}/${all.length} objects applied`), 2000);
    const started = performance.now();
    const cpu = process.cpuUsage();
    try {
      const applyOne = async (obj: KubeObject): Promise<void> => {
        await floor.apply(obj);
        done++;
      };
      await forEachLimited(namespaces, concurrency, applyOne);
      await forEachLimited(rest, concurrency, applyOne);
    } finally {
      clearInterval(tick);
    }
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      seconds,
      objects: all.length,
      namespaces: namespaces.length,
      clientCpuSeconds: (used.user + used.system) / 1e6,
    };
  } finally {
    admin.close();
    client?.close();
  }
}
