/**
 * A cluster as plain data for decide() tests: the snapshot the reader would take of a list of
 * objects, and the list after the API server took a decision's requests. No cache, no client.
 */
import { FINALIZER, WORKSPACE_LABEL } from "../../../../src/api/constants.js";
import type { SecureWorkspace } from "../../../../src/api/types.js";
import {
  observedKey,
  readWorkspace,
  type Decision,
  type Snapshot,
} from "../../../../src/controller/decide.js";
import type { KubeObject } from "../../../../src/runtime/client.js";

/** The time every snapshot is taken at. */
export const NOW = "2026-12-02T12:00:00Z";

/** What the caches hold: the workspace and a list of objects (any kind, anyone's). */
export interface Cluster {
  readonly workspace: SecureWorkspace;
  readonly objects: readonly KubeObject[];
  /** Other workspaces by name → uid. */
  readonly others?: ReadonlyMap<string, string>;
}

/** The snapshot the reader would take of `cluster` (every object is looked up by its key). */
export function snapshotOf(cluster: Cluster, meshInstalled = true): Snapshot {
  const ws = cluster.workspace;
  const name = ws.metadata.name;
  const reading = readWorkspace(name, ws);
  const listed = new Set(
    reading.state === "valid" ? reading.spec.namespaces.map((n) => n.name) : ([] as string[]),
  );
  const objects = new Map(
    cluster.objects.map((o) => [observedKey(o.kind, o.metadata.namespace, o.metadata.name), o] as const),
  );
  const namespaces = cluster.objects.filter((o) => o.kind === "Namespace");
  return {
    workspace: reading,
    now: NOW,
    ...(reading.state === "valid" && reading.spec.serviceMesh.provider === "istio" ? { meshInstalled } : {}),
    objects,
    workspaceUids: cluster.others ?? new Map(),
    managed: cluster.objects.filter(
      (o) => o.kind !== "Namespace" && o.metadata.labels?.[WORKSPACE_LABEL] === name,
    ),
    labelledNamespaces: namespaces.filter((o) => o.metadata.labels?.[WORKSPACE_LABEL] === name),
    neighbours: cluster.objects.filter(
      (o) =>
        ["NetworkPolicy", "RoleBinding", "PeerAuthentication"].includes(o.kind) &&
        listed.has(o.metadata.namespace ?? ""),
    ),
    clusterNamespaces: namespaces.map((o) => ({ name: o.metadata.name, labels: o.metadata.labels ?? {} })),
  };
}

let serial = 0;
const nextVersion = (): string => String(++serial);

/** The body as the server stores it: uid and resourceVersion set, a precondition dropped. */
export function store(body: KubeObject, existing: KubeObject | undefined, uid?: string): KubeObject {
  const merge = (a?: Record<string, string>, b?: Record<string, string>): Record<string, string> => ({
    ...(a ?? {}),
    ...(b ?? {}),
  });
  // A Namespace keeps others' labels and annotations (server-side apply owns only the operator's keys).
  const labels =
    body.kind === "Namespace" ? merge(existing?.metadata.labels, body.metadata.labels) : body.metadata.labels;
  const annotations =
    body.kind === "Namespace"
      ? merge(existing?.metadata.annotations, body.metadata.annotations)
      : body.metadata.annotations;
  return {
    ...body,
    metadata: {
      ...body.metadata,
      ...(labels ? { labels } : {}),
      ...(annotations ? { annotations } : {}),
      uid: uid ?? existing?.metadata.uid ?? `uid-${nextVersion()}`,
      resourceVersion: nextVersion(),
    },
  };
}

/** The cluster after the API server took every request of a decision. */
export function play(cluster: Cluster, d: Decision): Cluster {
  const objects = new Map(
    cluster.objects.map((o) => [observedKey(o.kind, o.metadata.namespace, o.metadata.name), o] as const),
  );
  const keyOf = (o: KubeObject): string => observedKey(o.kind, o.metadata.namespace, o.metadata.name);
  let ws = cluster.workspace;
  if ((d.mode === "enforce" || d.mode === "audit" || d.mode === "invalid") && d.finalizer)
    ws = { ...ws, metadata: { ...ws.metadata, finalizers: [FINALIZER] } };
  if (d.mode === "enforce") {
    for (const step of [...d.namespaces, ...d.apply]) {
      let uid: string | undefined;
      if (step.create) {
        const created = store(step.create, undefined);
        objects.set(keyOf(created), created);
        uid = created.metadata.uid;
      }
      if (step.planned.recreateUid) objects.delete(keyOf(step.body));
      const metadata = { ...step.body.metadata };
      delete metadata.resourceVersion; // a precondition, not content
      const body = { ...step.body, metadata };
      objects.set(keyOf(body), store(body, objects.get(keyOf(body)), uid));
    }
    for (const p of d.prune) objects.delete(observedKey(p.kind, p.namespace, p.name));
    for (const r of d.release) objects.set(keyOf(r.body), store(r.body, objects.get(keyOf(r.body))));
  }
  if ((d.mode === "enforce" || d.mode === "audit" || d.mode === "invalid") && d.status)
    ws = { ...ws, status: d.status };
  return { ...cluster, workspace: ws, objects: [...objects.values()] };
}
