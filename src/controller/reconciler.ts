/**
 * One workspace, one pass: desired vs observed (from the caches) → plan → writes → status.
 * Level-triggered: it never looks at the event that woke it, only at the latest state.
 * A workspace in sync costs no write at all: the plan is empty and the status is unchanged.
 */
import {
  API_VERSION,
  CREATED_BY_ANNOTATION,
  FINALIZER,
  KIND,
  SYSTEM_NAMESPACES,
  WORKSPACE_LABEL,
} from "../api/constants.js";
import { checkWorkspace } from "../api/check.js";
import { applyDefaults, type ResolvedSpec } from "../api/defaults.js";
import type { Problem } from "../api/problems.js";
import type { SecureWorkspace, SecureWorkspaceStatus } from "../api/types.js";
import { desiredStateOf } from "../baseline/index.js";
import { ISTIO_SECURITY_API } from "../baseline/mesh.js";
import { objectRef, type DesiredObject } from "../baseline/objects.js";
import type { KubeClient, KubeObject } from "../kube/client.js";
import { errorMessage, isConflict, isInvalid, isNotFound } from "../kube/errors.js";
import { resourceOfKind } from "../kube/resources.js";
import type { EventRecorder } from "../observability/events.js";
import type { ClusterCache } from "./cache.js";
import { plan, withAppliedHash, type Plan, type PlannedApply, type PlannedPrune } from "./diff.js";
import type { MeshDetector } from "./mesh-detector.js";
import type { ReconcileResult } from "./queue.js";
import { computeStatus, statusChanged, type NamespaceConflict, type ReconcileOutcome } from "./status.js";

/** What a pass did, for logs and metrics (the app layer reports it). */
export interface ReconcileReport {
  readonly workspace: string;
  readonly writes: number;
  readonly corrected: readonly PlannedApply[];
  readonly pruned: number;
  /** What was applied (`namespace/Kind/name (reason)`), for the log. */
  readonly applied?: readonly string[];
  readonly outcome: "deleted" | "invalid" | "enforced" | "audited" | "absent";
}

/** Collaborators of the reconciler. */
export interface ReconcilerDeps {
  readonly kube: KubeClient;
  readonly cache: ClusterCache;
  readonly mesh: MeshDetector;
  readonly events: EventRecorder;
  /** The operator's own namespace: never owned by a workspace. */
  readonly operatorNamespace: string;
  /** Parallel writes within one reconcile (default 8). */
  readonly writeConcurrency?: number;
  readonly now?: () => Date;
  readonly onReport?: (report: ReconcileReport) => void;
}

/** How long to wait before looking again at an owned namespace that is being deleted. */
const TERMINATING_RECHECK_MS = 2_000;

/** How long to wait before looking for Istio again while it is missing. */
const MESH_RECHECK_MS = 30_000;

/** Runs `fn` over items with at most `limit` in flight. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1)
    throw new AggregateError(
      errors,
      `${errors.length} writes failed: ${errors.map(errorMessage).join("; ")}`,
    );
}

/** The SecureWorkspace reconciler. */
export class Reconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? ((): Date => new Date());
  }

  /** Reconciles one workspace by name. Throws to ask for a retry with back-off. */
  async reconcile(name: string): Promise<ReconcileResult> {
    const ws = this.deps.cache.workspace(name);
    if (!ws) {
      this.report({ workspace: name, writes: 0, corrected: [], pruned: 0, outcome: "absent" });
      return {};
    }
    if (ws.metadata.deletionTimestamp) {
      await this.finalize(ws);
      return {};
    }
    let writes = 0;
    if (!(ws.metadata.finalizers ?? []).includes(FINALIZER)) {
      this.deps.cache.recordWrite(
        KIND,
        await this.deps.kube.apply(this.workspaceStub(ws, { finalizers: [FINALIZER] })),
      );
      writes++;
    }
    const problems = this.validate(ws);
    if (problems.length > 0) {
      writes += await this.writeStatus(ws, computeStatus({ ...this.outcomeBase(ws), invalid: problems }));
      this.report({ workspace: name, writes, corrected: [], pruned: 0, outcome: "invalid" });
      return {};
    }
    return this.enforce(ws, applyDefaults(ws.spec), writes);
  }

  private async enforce(
    ws: SecureWorkspace,
    spec: ResolvedSpec,
    writesSoFar: number,
  ): Promise<ReconcileResult> {
    const name = ws.metadata.name;
    let writes = writesSoFar;
    const conflicts = this.conflicts(name, spec);
    // A namespace being deleted accepts no new objects: wait until it is gone, then re-create it.
    const terminating = spec.namespaces
      .map((n) => n.name)
      .filter((n) => this.deps.cache.get("Namespace", undefined, n)?.metadata["deletionTimestamp"]);
    const held = new Set(
      spec.namespaces
        .map((n) => n.name)
        .filter((n) => !conflicts.some((c) => c.namespace === n) && !terminating.includes(n)),
    );
    const meshInstalled =
      spec.serviceMesh.provider === "istio" ? await this.deps.mesh.istioInstalled() : undefined;
    if (meshInstalled) await this.deps.cache.startMeshKinds();

    const desired = desiredStateOf({ name, uid: ws.metadata.uid ?? "" }, spec)
      .filter((o) => held.has(o.metadata.namespace ?? o.metadata.name))
      .filter((o) => meshInstalled !== false || o.apiVersion !== ISTIO_SECURITY_API)
      .map((o) => this.markCreated(name, o));
    const previous = ws.status;
    const converged =
      previous?.observedGeneration === ws.metadata.generation &&
      previous?.conditions?.some(
        (c) => c.type === "Ready" && c.status === "True" && c.reason === "Enforced",
      ) === true;
    const managed = this.deps.cache.managedBy(name).filter((o) => this.deps.cache.watching(o.kind ?? ""));
    const thePlan = plan(desired, (k, ns, n) => this.deps.cache.get(k, ns, n), managed, converged);
    const released = this.namespacesToRelease(name, held);
    const base = {
      ...this.outcomeBase(ws),
      spec,
      conflicts,
      terminating,
      desired,
      ...(meshInstalled !== undefined ? { meshInstalled } : {}),
    };

    let outcome: ReconcileOutcome;
    let corrected: PlannedApply[] = [];
    if (spec.enforcement === "Audit") {
      outcome = { ...base, pending: [...thePlan.apply, ...thePlan.prune.map((p) => this.pruneAsDrift(p))] };
    } else {
      const result = await this.write(ws, thePlan, released);
      writes += result.writes;
      if (result.invalid.length > 0) {
        writes += await this.writeStatus(
          ws,
          computeStatus({ ...this.outcomeBase(ws), invalid: result.invalid }),
        );
        this.report({ workspace: name, writes, corrected: [], pruned: 0, outcome: "invalid" });
        return {};
      }
      corrected = thePlan.apply.filter((a) => a.drift);
      outcome = { ...base, corrected };
    }
    writes += await this.announce(ws, thePlan, conflicts, spec.enforcement === "Audit");
    writes += await this.writeStatus(ws, computeStatus(outcome));
    this.report({
      workspace: name,
      writes,
      corrected,
      pruned: spec.enforcement === "Audit" ? 0 : thePlan.prune.length,
      applied:
        spec.enforcement === "Audit"
          ? []
          : thePlan.apply.map(
              (a) => `${a.object.metadata.namespace ?? ""}/${objectRef(a.object)} (${a.reason})`,
            ),
      outcome: spec.enforcement === "Audit" ? "audited" : "enforced",
    });
    if (terminating.length > 0) return { requeueAfterMs: TERMINATING_RECHECK_MS };
    return meshInstalled === false ? { requeueAfterMs: MESH_RECHECK_MS } : {};
  }

  /** Semantic validation; a spec too broken to read is a problem, not a crash. */
  private validate(ws: SecureWorkspace): Problem[] {
    try {
      if (!ws.spec || typeof ws.spec !== "object") return [{ path: "spec", message: "is required" }];
      return checkWorkspace(ws);
    } catch (err) {
      return [{ path: "spec", message: `cannot be read: ${errorMessage(err)}` }];
    }
  }

  private conflicts(name: string, spec: ResolvedSpec): NamespaceConflict[] {
    const system = new Set<string>([...SYSTEM_NAMESPACES, this.deps.operatorNamespace]);
    const out: NamespaceConflict[] = [];
    for (const { name: ns } of spec.namespaces) {
      if (system.has(ns)) {
        out.push({
          namespace: ns,
          reason: "SystemNamespace",
          message: `namespace ${ns} is a system namespace and is never managed`,
        });
        continue;
      }
      const owner = this.deps.cache.get("Namespace", undefined, ns)?.metadata.labels?.[WORKSPACE_LABEL];
      if (owner && owner !== name)
        out.push({
          namespace: ns,
          reason: "OwnedByAnotherWorkspace",
          message: `namespace ${ns} is owned by SecureWorkspace ${owner}`,
        });
    }
    return out;
  }

  /**
   * Namespaces keep a created-by mark only if this workspace created them: deletionPolicy
   * Delete removes those and never an adopted one.
   */
  private markCreated(workspace: string, obj: DesiredObject): DesiredObject {
    if (obj.kind !== "Namespace") return obj;
    const current = this.deps.cache.get("Namespace", undefined, obj.metadata.name);
    const createdByUs = !current || current.metadata.annotations?.[CREATED_BY_ANNOTATION] === workspace;
    if (!createdByUs) return obj;
    const annotations = { ...(obj.metadata.annotations ?? {}), [CREATED_BY_ANNOTATION]: workspace };
    return { ...obj, metadata: { ...obj.metadata, annotations } };
  }

  /**
   * What goes on the wire. Adoption of an existing namespace carries its observed
   * resourceVersion, so two workspaces racing for it cannot both win. Added here, after
   * planning, so the precondition never enters the content hash or the comparison.
   */
  private withAdoptionPrecondition(workspace: string, obj: DesiredObject): KubeObject {
    if (obj.kind !== "Namespace") return obj as KubeObject;
    const current = this.deps.cache.get("Namespace", undefined, obj.metadata.name);
    const rv = current?.metadata.resourceVersion;
    if (!current || !rv || current.metadata.labels?.[WORKSPACE_LABEL] === workspace) return obj as KubeObject;
    return { ...obj, metadata: { ...obj.metadata, resourceVersion: rv } };
  }

  /** Owned namespaces (by label) the spec no longer lists: give back, never delete. */
  private namespacesToRelease(name: string, held: ReadonlySet<string>): string[] {
    return this.deps.cache
      .ownedNamespaces(name)
      .filter((ns) => ns.metadata.labels?.[WORKSPACE_LABEL] === name && !held.has(ns.metadata.name))
      .map((ns) => ns.metadata.name);
  }

  private async write(
    ws: SecureWorkspace,
    p: Plan,
    released: readonly string[],
  ): Promise<{ writes: number; invalid: Problem[] }> {
    const concurrency = this.deps.writeConcurrency ?? 8;
    const invalid: Problem[] = [];
    let writes = 0;
    const applyOne = async (a: PlannedApply): Promise<void> => {
      try {
        const body = this.withAdoptionPrecondition(ws.metadata.name, a.object);
        this.deps.cache.recordWrite(a.object.kind, await this.deps.kube.apply(body));
        writes++;
      } catch (err) {
        if (!isInvalid(err)) throw err;
        invalid.push({
          path: `${a.object.metadata.namespace ?? ""}/${objectRef(a.object)}`,
          message: `refused by the API server: ${errorMessage(err)}`,
        });
      }
    };
    // Namespaces first: the other objects live in them.
    await forEachLimited(
      p.apply.filter((a) => a.object.kind === "Namespace"),
      concurrency,
      applyOne,
    );
    await forEachLimited(
      p.apply.filter((a) => a.object.kind !== "Namespace"),
      concurrency,
      applyOne,
    );
    await forEachLimited(p.prune, concurrency, async (x) => {
      const seen = this.deps.cache.get(x.kind, x.namespace, x.name);
      if (
        await this.deps.kube.delete(resourceOfKind(x.kind), x.name, x.namespace, x.uid ? { uid: x.uid } : {})
      )
        writes++;
      if (seen) this.deps.cache.recordWrite(x.kind, seen, true);
    });
    await forEachLimited(released, concurrency, async (ns) => {
      await this.release(ns, ws.metadata.name);
      writes++;
    });
    return { writes, invalid };
  }

  /** Applies a bare Namespace: server-side apply then drops every label/annotation the operator owned. */
  private async release(namespace: string, workspace: string): Promise<void> {
    const current = this.deps.cache.get("Namespace", undefined, namespace);
    if (current?.metadata.labels?.[WORKSPACE_LABEL] !== workspace) return;
    this.deps.cache.recordWrite(
      "Namespace",
      await this.deps.kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }),
    );
  }

  private pruneAsDrift(p: PlannedPrune): PlannedApply {
    const object = withAppliedHash({
      apiVersion: p.apiVersion,
      kind: p.kind,
      metadata: { name: p.name, namespace: p.namespace, labels: {} },
    });
    return { object, reason: "Differs", drift: true };
  }

  /** Events for what changed; none when nothing did. Returns the number of Events written. */
  private async announce(
    ws: SecureWorkspace,
    p: Plan,
    conflicts: readonly NamespaceConflict[],
    audit: boolean,
  ): Promise<number> {
    const subject = { name: ws.metadata.name, ...(ws.metadata.uid ? { uid: ws.metadata.uid } : {}) };
    const emits: Array<Promise<void>> = [];
    const e = this.deps.events;
    if (audit) {
      const before = ws.status?.drift?.length ?? 0;
      const now = p.apply.length + p.prune.length;
      if (now > 0 && now !== before)
        emits.push(
          e.emit(
            subject,
            "Warning",
            "DriftDetected",
            "Audit",
            `${now} objects differ from the baseline (audit mode: not corrected)`,
          ),
        );
    } else {
      const created = p.apply
        .filter((a) => !a.drift && a.reason === "Missing")
        .map((a) => `${a.object.metadata.namespace ?? ""}/${objectRef(a.object)}`);
      if (created.length > 0)
        emits.push(
          e.emit(
            subject,
            "Normal",
            "Created",
            "Apply",
            `created ${created.length}: ${created.slice(0, 20).join(", ")}`,
          ),
        );
      for (const d of p.apply.filter((a) => a.drift))
        emits.push(
          e.emit(
            subject,
            "Warning",
            "DriftCorrected",
            "Apply",
            `${d.reason === "Missing" ? "restored" : "reverted a change to"} ${objectRef(d.object)} in ${d.object.metadata.namespace ?? d.object.metadata.name}`,
          ),
        );
      if (p.prune.length > 0)
        emits.push(
          e.emit(
            subject,
            "Normal",
            "Pruned",
            "Delete",
            `deleted ${p.prune.length} no longer wanted: ${p.prune
              .slice(0, 20)
              .map((x) => `${x.namespace}/${x.kind}/${x.name}`)
              .join(", ")}`,
          ),
        );
    }
    const previousConflict = ws.status?.conditions?.find(
      (c) => c.type === "Stalled" && c.reason === "NamespaceConflict",
    )?.message;
    const conflictMessage = conflicts.map((c) => c.message).join("; ");
    if (conflicts.length > 0 && conflictMessage !== previousConflict)
      emits.push(e.emit(subject, "Warning", "NamespaceConflict", "Adopt", conflictMessage));
    await Promise.all(emits);
    return emits.length;
  }

  private outcomeBase(ws: SecureWorkspace): Pick<ReconcileOutcome, "generation" | "now" | "previous"> {
    return {
      generation: ws.metadata.generation ?? 0,
      now: this.now()
        .toISOString()
        .replace(/\.\d+Z$/, "Z"),
      previous: ws.status,
    };
  }

  private async writeStatus(ws: SecureWorkspace, status: SecureWorkspaceStatus): Promise<number> {
    if (!statusChanged(ws.status, status)) return 0;
    this.deps.cache.recordWrite(
      KIND,
      await this.deps.kube.applyStatus({ ...this.workspaceStub(ws), status }),
    );
    return 1;
  }

  private workspaceStub(ws: SecureWorkspace, extra: Record<string, unknown> = {}): KubeObject {
    return { apiVersion: API_VERSION, kind: KIND, metadata: { name: ws.metadata.name, ...extra } };
  }

  /** Deletion: remove what the workspace made, keep (or, with Delete, remove created) namespaces, drop the finalizer. */
  private async finalize(ws: SecureWorkspace): Promise<void> {
    const name = ws.metadata.name;
    if (!(ws.metadata.finalizers ?? []).includes(FINALIZER)) return;
    let writes = 0;
    const managed = this.deps.cache.managedBy(name);
    await forEachLimited(managed, this.deps.writeConcurrency ?? 8, async (o) => {
      if (
        await this.deps.kube.delete(
          resourceOfKind(o.kind ?? ""),
          o.metadata?.name ?? "",
          o.metadata?.namespace,
        )
      )
        writes++;
    });
    const deleteCreated = ws.spec?.deletionPolicy === "Delete";
    const owned = this.deps.cache
      .ownedNamespaces(name)
      .filter((ns) => ns.metadata.labels?.[WORKSPACE_LABEL] === name);
    await forEachLimited(owned, this.deps.writeConcurrency ?? 8, async (ns) => {
      if (deleteCreated && ns.metadata.annotations?.[CREATED_BY_ANNOTATION] === name) {
        await this.deps.kube.delete(
          resourceOfKind("Namespace"),
          ns.metadata.name,
          undefined,
          ns.metadata.uid ? { uid: ns.metadata.uid } : {},
        );
      } else {
        await this.release(ns.metadata.name, name);
      }
      writes++;
    });
    await this.removeFinalizer(ws);
    this.report({
      workspace: name,
      writes: writes + 1,
      corrected: [],
      pruned: managed.length,
      outcome: "deleted",
    });
  }

  /**
   * Our manager owns only the finalizer entry on the workspace: applying nothing removes it. The
   * uid makes the apply a precondition, never a create: if the workspace is already gone (a
   * second finalize from a stale cache) or was re-created, the server refuses and there is
   * nothing left to do. The write is recorded so the next run does not finalize again.
   */
  private async removeFinalizer(ws: SecureWorkspace): Promise<void> {
    const uid = ws.metadata.uid;
    let result: KubeObject;
    try {
      result = await this.deps.kube.apply(this.workspaceStub(ws, uid ? { uid } : {}));
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
    // With the last finalizer gone the server deletes the workspace and returns its final state.
    const finalizers = result.metadata["finalizers"];
    const gone =
      Boolean(result.metadata["deletionTimestamp"]) && !(Array.isArray(finalizers) && finalizers.length > 0);
    this.deps.cache.recordWrite(KIND, result, gone);
  }

  private report(r: ReconcileReport): void {
    this.deps.onReport?.(r);
  }
}
