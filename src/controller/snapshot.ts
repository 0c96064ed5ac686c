/**
 * The read step of a reconcile: everything one pass looks at, taken from the caches once, before
 * anything is decided, as plain data (see decide.ts, Snapshot). Nothing later in the pass reads
 * the caches again, so a decision is made against one consistent view and can be replayed.
 */
import { WORKSPACE_LABEL } from "../api/constants.js";
import type { KubeObject } from "../runtime/client.js";
import type { ClusterCache } from "./cache.js";
import { observedKey, readWorkspace, type Snapshot } from "./decide.js";
import { ownedBy } from "./diff.js";
import { foreignNetworkPolicy, namespaceInfo } from "./foreign.js";
import type { MeshDetector } from "./mesh-detector.js";

/** Kinds whose others' objects can widen a workspace's posture (read in its listed namespaces). */
const NEIGHBOUR_KINDS = ["NetworkPolicy", "RoleBinding"] as const;

/**
 * Reads the snapshot of workspace `name`. Asks discovery whether Istio is served (only when the
 * spec asks for Istio) and, if it is, starts the Istio informers and waits for their first list:
 * a plan against an unsynced cache would see every existing object as missing. `signal` ends
 * that wait.
 */
export async function readSnapshot(
  cache: ClusterCache,
  mesh: MeshDetector,
  name: string,
  now: string,
  signal?: AbortSignal,
): Promise<Snapshot> {
  const workspace = readWorkspace(name, cache.workspace(name));
  const empty: Snapshot = {
    workspace,
    now,
    objects: new Map(),
    workspaceUids: new Map(),
    managed: [],
    labelledNamespaces: [],
    neighbours: [],
    clusterNamespaces: [],
  };
  // Each object at its latest known state (the operator's own writes not yet echoed included).
  const latest = (o: { kind?: string; metadata?: { name?: string; namespace?: string } }): KubeObject[] => {
    const found = cache.get(o.kind ?? "", o.metadata?.namespace, o.metadata?.name ?? "");
    return found ? [found] : [];
  };
  if (workspace.state === "absent" || workspace.state === "invalid") return empty;
  if (workspace.state === "deleting")
    return {
      ...empty,
      managed: cache.managedBy(name).flatMap(latest),
      labelledNamespaces: cache.ownedNamespaces(name),
    };

  const { spec, desired, object } = workspace;
  let meshInstalled: boolean | undefined;
  if (spec.serviceMesh.provider === "istio") {
    meshInstalled = await mesh.istioInstalled();
    if (meshInstalled) await cache.startMeshKinds(signal);
  }
  const objects = new Map<string, KubeObject>();
  const read = (kind: string, namespace: string | undefined, objectName: string): void => {
    const key = observedKey(kind, namespace, objectName);
    if (objects.has(key)) return;
    const found = cache.get(kind, namespace, objectName);
    if (found) objects.set(key, found);
  };
  const listed = spec.namespaces.map((n) => n.name);
  for (const ns of listed) read("Namespace", undefined, ns);
  for (const o of desired) read(o.kind, o.metadata.namespace, o.metadata.name);

  const workspaceUids = new Map<string, string>();
  for (const ns of listed) {
    const other = objects.get(observedKey("Namespace", undefined, ns))?.metadata.labels?.[WORKSPACE_LABEL];
    if (other === undefined || other === name || workspaceUids.has(other)) continue;
    const uid = cache.workspace(other)?.metadata.uid;
    if (uid !== undefined) workspaceUids.set(other, uid);
  }

  const kinds: readonly string[] = meshInstalled
    ? [...NEIGHBOUR_KINDS, "PeerAuthentication"]
    : NEIGHBOUR_KINDS;
  const neighbours = kinds.flatMap((kind) => listed.flatMap((ns) => cache.inNamespace(kind, ns)));
  // Selectors of a foreign NetworkPolicy are judged against every namespace: the list is read
  // only when there is one.
  const uid = object.metadata.uid ?? "";
  const foreignPolicy = neighbours.some(
    (o) => o.kind === "NetworkPolicy" && !ownedBy(o, uid) && foreignNetworkPolicy(o) !== undefined,
  );
  return {
    ...empty,
    ...(meshInstalled !== undefined ? { meshInstalled } : {}),
    objects,
    workspaceUids,
    managed: cache
      .managedBy(name)
      .filter((o) => cache.watching(o.kind ?? ""))
      .flatMap(latest),
    labelledNamespaces: cache.ownedNamespaces(name),
    neighbours,
    clusterNamespaces: foreignPolicy ? cache.list("Namespace").map(namespaceInfo) : [],
  };
}
