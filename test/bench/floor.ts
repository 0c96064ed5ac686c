/**
 * The raw-SSA floor: the same desired objects as N workspaces need, for N fresh sets of
 * namespaces, written by a plain server-side-apply client with many requests in flight
 * (namespaces first, then everything else). No reads, no diff, no status: the physical limit
 * the operator's converge time is compared with.
 *
 * The fair floor adds, right after, the N SecureWorkspaces themselves (the user's own apply, which
 * no system can avoid; same CRD, same CEL rules), applied while no operator runs, so nothing adds a
 * finalizer or a status. They are deleted, and confirmed gone, before the operator starts.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { type KubeObject } from "../../src/runtime/client.js";
import { TestKubeClient } from "../support/test-client.js";
import { resourceOfKind, RESOURCES } from "../../src/api/resources.js";
import { sleep } from "../support/wait.js";
import { USER_FIELD_MANAGER } from "./converge.js";
import { forEachLimited } from "./stats.js";
import { benchWorkspace, floorObjects, type FloorOwner, type Naming } from "./workload.js";

const SWS = resourceOfKind("SecureWorkspace");

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
async function serviceAccountKubeConfig(admin: TestKubeClient, adminKc: KubeConfig): Promise<KubeConfig> {
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
async function floorOwner(admin: TestKubeClient): Promise<FloorOwner> {
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
  const admin = new TestKubeClient(options.adminKc, {
    resources: RESOURCES,
    fieldManager: "sws-bench-admin",
  });
  let client: TestKubeClient | undefined;
  try {
    const owner = await floorOwner(admin);
    const kc =
      options.identity === "sa" ? await serviceAccountKubeConfig(admin, options.adminKc) : options.adminKc;
    const floor = new TestKubeClient(kc, {
      resources: RESOURCES,
      fieldManager: FLOOR_FIELD_MANAGER,
      maxSockets: concurrency,
    });
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

/** Options for {@link applyFloorWorkspaces}. */
export interface FloorWorkspacesOptions {
  readonly naming: Naming;
  /** The admin KubeConfig: the identity the "user" applies SecureWorkspaces with in converge. */
  readonly adminKc: KubeConfig;
  /** Requests in flight (the floor's, not the user's: the floor is the fastest possible). */
  readonly concurrency: number;
  readonly progress: (line: string) => void;
}

/** What the fair floor's SecureWorkspace applies measured. */
export interface FloorWorkspacesResult {
  /** First request to last answer. */
  readonly seconds: number;
  readonly applied: number;
  /** CPU this (client) process used while applying, user + system. */
  readonly clientCpuSeconds: number;
  /** name -> uid of every applied workspace, for the deletion (uid precondition). */
  readonly uids: ReadonlyMap<string, string>;
}

/**
 * Why a fair-floor SecureWorkspace is not the user's apply alone (finalizers, a status, a deletion
 * under way), or undefined when it is untouched. With no operator running nothing may add these;
 * one that did would make the floor pay for more than the user's apply, or block the deletion.
 */
export function touchedBy(obj: KubeObject): string | undefined {
  const finalizers = obj.metadata["finalizers"];
  if (Array.isArray(finalizers) && finalizers.length > 0) return `finalizers ${JSON.stringify(finalizers)}`;
  if (obj["status"] !== undefined) return `a status ${JSON.stringify(obj["status"]).slice(0, 200)}`;
  if (obj.metadata["deletionTimestamp"] !== undefined)
    return `a deletionTimestamp ${JSON.stringify(obj.metadata["deletionTimestamp"])}`;
  return undefined;
}

/**
 * Deletes the named workspaces (uid precondition), then waits until a list shows none of them:
 * really gone, not just terminating. Throws, naming what is left and why, after `timeoutMs`.
 */
async function deleteAndConfirmGone(
  admin: TestKubeClient,
  uids: ReadonlyMap<string, string>,
  concurrency: number,
  timeoutMs: number,
): Promise<void> {
  await forEachLimited([...uids], concurrency, async ([name, uid]) => {
    await admin.delete(SWS, name, undefined, uid ? { uid } : {});
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = (await admin.list<KubeObject>(SWS)).items.filter((o) => uids.has(o.metadata.name));
    if (left.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(
        `fair floor: ${left.length} SecureWorkspaces still exist ${timeoutMs / 1000} s after their deletion, e.g. ` +
          left
            .slice(0, 3)
            .map((o) => `${o.metadata.name} (${touchedBy(o) ?? "untouched"})`)
            .join(", "),
      );
    await sleep(250);
  }
}

/**
 * The fair floor's second part: the N SecureWorkspaces as the user applies them in converge (same
 * shape and size, same identity and field manager, same CRD and CEL rules), named after the floor's
 * workspaces so their spec names the floor's namespaces. Call it right after {@link runFloor}; the
 * workspaces stay until {@link removeFloorWorkspaces}. Each apply's answer must be untouched (see
 * {@link touchedBy}). On failure, what was applied is deleted (best effort) before the error.
 */
export async function applyFloorWorkspaces(options: FloorWorkspacesOptions): Promise<FloorWorkspacesResult> {
  const { naming, concurrency, progress } = options;
  const user = new TestKubeClient(options.adminKc, {
    resources: RESOURCES,
    fieldManager: USER_FIELD_MANAGER,
    maxSockets: concurrency,
  });
  const workspaces = Array.from({ length: naming.workspaces }, (_, i) => benchWorkspace(naming, i, "floor"));
  const uids = new Map<string, string>();
  const tick = setInterval(
    () => progress(`fair floor: ${uids.size}/${workspaces.length} SecureWorkspaces applied`),
    2000,
  );
  const started = performance.now();
  const cpu = process.cpuUsage();
  try {
    await forEachLimited(workspaces, concurrency, async (ws) => {
      const applied = await user.apply(ws);
      uids.set(applied.metadata.name, applied.metadata.uid ?? "");
      const touched = touchedBy(applied);
      if (touched)
        throw new Error(
          `fair floor: SecureWorkspace ${applied.metadata.name} came back from the user's apply with ${touched}, ` +
            "while no operator runs: something else acts on SecureWorkspaces in this cluster",
        );
    });
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    return {
      seconds,
      applied: uids.size,
      clientCpuSeconds: (used.user + used.system) / 1e6,
      uids,
    };
  } catch (err) {
    const admin = new TestKubeClient(options.adminKc, {
      resources: RESOURCES,
      fieldManager: "sws-bench-admin",
    });
    await deleteAndConfirmGone(admin, uids, concurrency, 30_000).catch(() => undefined);
    admin.close();
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`fair floor: applying the SecureWorkspaces: ${why}`, { cause: err });
  } finally {
    clearInterval(tick);
    user.close();
  }
}

/** Options for {@link removeFloorWorkspaces}. */
export interface RemoveFloorWorkspacesOptions {
  readonly adminKc: KubeConfig;
  /** What {@link applyFloorWorkspaces} applied. */
  readonly applied: FloorWorkspacesResult;
  readonly concurrency: number;
  /** Give up waiting for them to be gone after this long (default 60 s). */
  readonly timeoutMs?: number;
}

/**
 * Before the operator starts: checks that every fair-floor workspace is still there and untouched
 * (no finalizer, no status: nothing reconciled it), deletes them, and waits until a list no longer
 * shows any (without finalizers a delete removes the object at once; the list confirms it). The
 * operator's informers then list a collection without them and never get an event about them.
 * Returns the seconds it took.
 */
export async function removeFloorWorkspaces(options: RemoveFloorWorkspacesOptions): Promise<number> {
  const { uids } = options.applied;
  const admin = new TestKubeClient(options.adminKc, {
    resources: RESOURCES,
    fieldManager: "sws-bench-admin",
  });
  const started = performance.now();
  try {
    const listed = new Map(
      (await admin.list<KubeObject>(SWS)).items
        .filter((o) => uids.has(o.metadata.name))
        .map((o) => [o.metadata.name, o]),
    );
    for (const [name, uid] of uids) {
      const obj = listed.get(name);
      if (!obj)
        throw new Error(`fair floor: SecureWorkspace ${name} disappeared before the bench deleted it`);
      if (obj.metadata.uid !== uid)
        throw new Error(
          `fair floor: SecureWorkspace ${name} was replaced (uid ${obj.metadata.uid ?? "?"}, applied ${uid})`,
        );
      const touched = touchedBy(obj);
      if (touched)
        throw new Error(
          `fair floor: SecureWorkspace ${name} has ${touched} before its deletion: something reconciled it`,
        );
    }
    await deleteAndConfirmGone(admin, uids, options.concurrency, options.timeoutMs ?? 60_000);
    return (performance.now() - started) / 1000;
  } finally {
    admin.close();
  }
}
