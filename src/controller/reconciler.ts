/**
 * One workspace, one pass: desired vs observed (from the caches) → plan → writes → status.
 * Level-triggered: it never looks at the event that woke it, only at the latest state.
 * A workspace in sync costs no write at all: the plan is empty and the status is unchanged.
 */
import {
  ADOPTED_FROM_ANNOTATION,
  API_VERSION,
  CREATED_BY_ANNOTATION,
  DEFAULT_PROTECTED_NAMESPACES,
  FINALIZER,
  KIND,
  OWNER_UID_ANNOTATION,
} from "../api/constants.js";
import { checkWorkspace } from "../api/check.js";
import { isProtectedNamespace } from "../api/protected.js";
import { applyDefaults, type ResolvedSpec } from "../api/defaults.js";
import type { Problem } from "../api/problems.js";
import type { Condition, SecureWorkspace, SecureWorkspaceStatus } from "../api/types.js";
import { desiredStateOf } from "../baseline/index.js";
import { ISTIO_SECURITY_API } from "../baseline/mesh.js";
import { posture, type Finding } from "../baseline/posture.js";
import { controlOf } from "../baseline/index.js";
import { objectRef, type DesiredObject } from "../baseline/objects.js";
import { isAbortError, type KubeClient, type KubeObject } from "../runtime/client.js";
import { errorMessage, isConflict, isNotFound, writeFailureReason } from "../runtime/errors.js";
import { resourceOfKind } from "../api/resources.js";
import type { EventRecorder } from "../observability/events.js";
import type { ClusterCache } from "./cache.js";
import {
  inSync,
  ownedBy,
  plan,
  withAppliedHash,
  type Plan,
  type PlannedApply,
  type PlannedPrune,
} from "./diff.js";
import {
  adoptionRecord,
  createdNamespace,
  decodeAdoptionRecord,
  encodeAdoptionRecord,
  holdingOf,
  ownsNamespace,
  type Holding,
} from "./holdings.js";
import {
  foreignNetworkPolicy,
  foreignPeerAuthentication,
  foreignRoleBinding,
  namespaceInfo,
} from "./foreign.js";
import type { MeshDetector } from "./mesh-detector.js";
import type { ReconcileResult } from "../runtime/queue.js";
import {
  computeStatus,
  foreignMessage,
  statusChanged,
  type NamespaceConflict,
  type ReconcileOutcome,
  type WriteFailure,
} from "./status.js";

/**
 * A pass whose writes were refused or had no effect. Status already says so; throwing asks the
 * queue for a retry with back-off, so the workspace recovers by itself once the cause is gone.
 */
export class WritesFailedError extends Error {
  constructor(
    readonly workspace: string,
    readonly failures: readonly WriteFailure[],
    options?: { cause?: unknown },
  ) {
    super(
      `reconcile ${workspace}: ${failures.length} writes failed: ${failures
        .slice(0, 5)
        .map((f) => `${f.namespace}/${f.object}: ${f.reason}: ${f.message}`)
        .join("; ")}`,
      options,
    );
    this.name = "WritesFailedError";
  }
}

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
  /**
   * Patterns of namespaces never created nor adopted (`*` matches any run), besides the system
   * namespaces and the operator's own. Default: DEFAULT_PROTECTED_NAMESPACES.
   */
  readonly protectedNamespaces?: readonly string[];
  /** Parallel writes within one reconcile (default 8). */
  readonly writeConcurrency?: number;
  readonly now?: () => Date;
  readonly onReport?: (report: ReconcileReport) => void;
}

/** Ready reasons that say a write failed (see WriteFailureReason), for the WriteFailed Event. */
const WRITE_FAILURE_REASONS = new Set([
  "Forbidden",
  "AdmissionRefused",
  "Invalid",
  "Conflict",
  "NotFound",
  "Unavailable",
  "WriteFailed",
  "WriteIneffective",
]);

/** How long to wait before looking again at an owned namespace that is being deleted. */
const TERMINATING_RECHECK_MS = 2_000;

/** How long to wait before looking for Istio again while it is missing. */
const MESH_RECHECK_MS = 30_000;

/** Whether an error is the cancellation of a request (never a failure to report). */
const isAbort = isAbortError;

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
  // Cancelled: say so (not "N writes failed"), so the caller stops rather than reports failures.
  const cancel = errors.find(isAbort);
  if (cancel instanceof Error) throw cancel;
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1)
    throw new AggregateError(
      errors,
      `${errors.length} writes failed: ${errors.map(errorMessage).join("; ")}`,
    );
}

function readyOf(status: SecureWorkspaceStatus | undefined): Condition | undefined {
  return status?.conditions?.find((c) => c.type === "Ready");
}

/**
 * The status of a workspace whose deletion failed: its last status with Ready False, reason
 * FinalizeFailed and `message`; undefined when Ready already says exactly that (nothing to write).
 */
export function finalizeFailedStatus(
  ws: SecureWorkspace,
  message: string,
  now: string,
): SecureWorkspaceStatus | undefined {
  const previous = readyOf(ws.status);
  if (previous?.reason === "FinalizeFailed" && previous.message === message) return undefined;
  const ready: Condition = {
    type: "Ready",
    status: "False",
    reason: "FinalizeFailed",
    message,
    lastTransitionTime: previous?.status === "False" ? previous.lastTransitionTime : now,
    observedGeneration: ws.metadata.generation ?? 0,
  };
  const others = (ws.status?.conditions ?? []).filter((c) => c.type !== "Ready");
  return { ...ws.status, conditions: [ready, ...others] };
}

/** The SecureWorkspace reconciler. */
export class Reconciler {
  private readonly now: () => Date;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? ((): Date => new Date());
  }

  /**
   * Reconciles one workspace by name. Throws to ask for a retry with back-off. Once `signal` aborts
   * (leadership lost, shutdown grace over) no further request is sent, requests in flight are
   * destroyed, and the returned promise rejects with an AbortError.
   */
  async reconcile(name: string, signal?: AbortSignal): Promise<ReconcileResult> {
    if (signal === undefined) return this.reconcileNow(name);
    const kube = this.deps.kube.withSignal(signal);
    return new Reconciler({ ...this.deps, kube, events: this.deps.events.through(kube) }).reconcileNow(name);
  }

  private async reconcileNow(name: string): Promise<ReconcileResult> {
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
    const uid = ws.metadata.uid ?? "";
    const audit = spec.enforcement === "Audit";
    let writes = writesSoFar;
    const holdings = spec.namespaces.map((n) =>
      holdingOf(n.name, this.namespace(n.name), {
        workspace: name,
        uid,
        audit,
        operatorNamespace: this.deps.operatorNamespace,
        isProtected: (ns) => this.isProtected(ns),
        workspaceUid: (w) => this.deps.cache.workspace(w)?.metadata.uid,
      }),
    );
    const conflicts = holdings.flatMap((h) => (h.kind === "conflict" ? [h.conflict] : []));
    // A namespace being deleted accepts no new objects: wait until it is gone, then re-create it.
    const terminating = holdings.filter((h) => h.kind === "terminating").map((h) => h.name);
    const byName = new Map(holdings.map((h) => [h.name, h]));
    const held = new Set(
      holdings.filter((h) => h.kind !== "conflict" && h.kind !== "terminating").map((h) => h.name),
    );
    const meshInstalled =
      spec.serviceMesh.provider === "istio" ? await this.deps.mesh.istioInstalled() : undefined;
    if (meshInstalled) await this.deps.cache.startMeshKinds();

    const desired = desiredStateOf({ name, uid }, spec)
      .filter((o) => held.has(o.metadata.namespace ?? o.metadata.name))
      .filter((o) => meshInstalled !== false || o.apiVersion !== ISTIO_SECURITY_API)
      .map((o) =>
        o.kind === "Namespace" ? this.withOwnership(name, uid, o, byName.get(o.metadata.name)) : o,
      );
    const previous = ws.status;
    const converged =
      previous?.observedGeneration === ws.metadata.generation &&
      Array.isArray(previous?.conditions) &&
      previous.conditions.some((c) => c?.type === "Ready" && c.status === "True" && c.reason === "Enforced");
    const managed = this.deps.cache.managedBy(name).filter((o) => this.deps.cache.watching(o.kind ?? ""));
    const thePlan = plan(desired, (k, ns, n) => this.deps.cache.get(k, ns, n), managed, converged, uid);
    const released = this.namespacesToRelease(name, uid, held);
    const base = {
      ...this.outcomeBase(ws),
      spec,
      conflicts,
      terminating,
      desired,
      foreign: thePlan.foreign,
      findings: this.postureOf(name, uid, spec, held, meshInstalled === true),
      ...(meshInstalled !== undefined ? { meshInstalled } : {}),
    };

    let outcome: ReconcileOutcome;
    let corrected: PlannedApply[] = [];
    let failures: WriteFailure[] = [];
    if (audit) {
      outcome = { ...base, pending: [...thePlan.apply, ...thePlan.prune.map((p) => this.pruneAsDrift(p))] };
    } else {
      const result = await this.write(thePlan, released, byName);
      writes += result.writes;
      failures = result.failures;
      corrected = result.applied.filter((a) => a.drift);
      outcome = { ...base, corrected, ...(failures.length > 0 ? { failures } : {}) };
    }
    const status = computeStatus(outcome);
    writes += await this.announce(ws, thePlan, conflicts, audit, status);
    writes += await this.writeStatus(ws, status);
    this.report({
      workspace: name,
      writes,
      corrected,
      pruned: audit ? 0 : thePlan.prune.length,
      applied: audit
        ? []
        : thePlan.apply.map(
            (a) => `${a.object.metadata.namespace ?? ""}/${objectRef(a.object)} (${a.reason})`,
          ),
      outcome: audit ? "audited" : "enforced",
    });
    if (failures.length > 0) throw new WritesFailedError(name, failures);
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

  /**
   * The effective posture: others' NetworkPolicies, RoleBindings and (with Istio) PeerAuthentications
   * in the held namespaces that widen what the spec declares. The namespace list is read only when a
   * foreign NetworkPolicy needs it (selectors are judged against every namespace).
   */
  private postureOf(
    name: string,
    uid: string,
    spec: ResolvedSpec,
    held: ReadonlySet<string>,
    mesh: boolean,
  ): Finding[] {
    const namespaces = [...held];
    const others = (kind: string): KubeObject[] =>
      namespaces.flatMap((ns) => this.deps.cache.inNamespace(kind, ns)).filter((o) => !ownedBy(o, uid));
    const networkPolicies = others("NetworkPolicy").flatMap((o) => foreignNetworkPolicy(o) ?? []);
    const roleBindings = others("RoleBinding").flatMap((o) => foreignRoleBinding(o) ?? []);
    const peerAuthentications = mesh
      ? others("PeerAuthentication").flatMap((o) => foreignPeerAuthentication(o) ?? [])
      : [];
    if (networkPolicies.length + roleBindings.length + peerAuthentications.length === 0) return [];
    return posture({
      workspace: name,
      namespaces,
      spec,
      clusterNamespaces:
        networkPolicies.length > 0 ? this.deps.cache.list("Namespace").map(namespaceInfo) : [],
      networkPolicies,
      roleBindings,
      peerAuthentications,
    });
  }

  private namespace(name: string): KubeObject | undefined {
    return this.deps.cache.get("Namespace", undefined, name);
  }

  private isProtected(name: string): boolean {
    const patterns = this.deps.protectedNamespaces ?? DEFAULT_PROTECTED_NAMESPACES;
    return isProtectedNamespace(name, patterns, this.deps.operatorNamespace);
  }

  /**
   * The ownership marks on a desired Namespace: the owner uid always; the created-by mark on a
   * namespace this workspace creates (and keeps it); on adoption, the record of what it
   * overwrites (kept as first recorded while the namespace stays owned).
   */
  private withOwnership(
    workspace: string,
    uid: string,
    obj: DesiredObject,
    holding: Holding | undefined,
  ): DesiredObject {
    const current = holding && "current" in holding ? holding.current : undefined;
    const own: Record<string, string> = { [OWNER_UID_ANNOTATION]: uid };
    const existing = current?.metadata.annotations ?? {};
    if (holding?.kind === "create" || existing[CREATED_BY_ANNOTATION] === workspace)
      own[CREATED_BY_ANNOTATION] = workspace;
    const recorded = existing[ADOPTED_FROM_ANNOTATION];
    if (holding?.kind === "owned" && recorded !== undefined) own[ADOPTED_FROM_ANNOTATION] = recorded;
    if (holding?.kind === "adopt" && current)
      own[ADOPTED_FROM_ANNOTATION] = encodeAdoptionRecord(adoptionRecord(current, obj.metadata));
    if (holding?.kind === "read") return obj;
    const annotations = { ...(obj.metadata.annotations ?? {}), ...own };
    return { ...obj, metadata: { ...obj.metadata, annotations } };
  }

  /**
   * What goes on the wire. Adoption of an existing namespace carries its observed
   * resourceVersion, so a change between the opt-in check and the write (the opt-in label
   * removed, another adoption) makes the write fail instead of adopting. Added here, after
   * planning, so the precondition never enters the content hash or the comparison.
   */
  private withAdoptionPrecondition(obj: DesiredObject, holding: Holding | undefined): KubeObject {
    if (obj.kind !== "Namespace" || holding?.kind !== "adopt") return obj as KubeObject;
    const rv = holding.current.metadata.resourceVersion;
    return rv ? { ...obj, metadata: { ...obj.metadata, resourceVersion: rv } } : (obj as KubeObject);
  }

  /** Namespaces this workspace owns that the spec no longer lists: give back, never delete. */
  private namespacesToRelease(name: string, uid: string, held: ReadonlySet<string>): KubeObject[] {
    return this.deps.cache
      .ownedNamespaces(name)
      .filter((ns) => ownsNamespace(ns, uid) && !held.has(ns.metadata.name));
  }

  /**
   * Creates a namespace that does not exist: a create (never an apply, which would take over a
   * namespace someone made meanwhile) carrying the ownership marks, so even a crash right after
   * leaves a namespace that says it is ours. The caller then applies the rest with the new uid
   * as precondition.
   */
  private async createNamespace(obj: DesiredObject): Promise<string | undefined> {
    const annotations = Object.fromEntries(
      Object.entries(obj.metadata.annotations ?? {}).filter(
        ([k]) => k === CREATED_BY_ANNOTATION || k === OWNER_UID_ANNOTATION,
      ),
    );
    const created = await this.deps.kube.create({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: obj.metadata.name, annotations },
    });
    this.deps.cache.recordWrite("Namespace", created);
    return created.metadata.uid;
  }

  private async write(
    p: Plan,
    released: readonly KubeObject[],
    holdings: ReadonlyMap<string, Holding>,
  ): Promise<{ writes: number; failures: WriteFailure[]; applied: PlannedApply[] }> {
    const concurrency = this.deps.writeConcurrency ?? 8;
    const failures: WriteFailure[] = [];
    const applied: PlannedApply[] = [];
    const failedNamespaces = new Set<string>();
    let writes = 0;
    const fail = (namespace: string, object: string, kind: string, verb: string, err: unknown): void => {
      if (isAbort(err)) throw err;
      failures.push({
        namespace,
        object,
        control: controlOf({ apiVersion: "", kind }),
        reason: writeFailureReason(err),
        message: `${verb}: ${errorMessage(err)}`,
      });
    };
    const applyOne = async (a: PlannedApply): Promise<void> => {
      const o = a.object;
      const ns = o.metadata.namespace ?? o.metadata.name;
      const ref = objectRef(o);
      try {
        let body = this.withAdoptionPrecondition(o, holdings.get(o.metadata.name));
        if (
          o.kind === "Namespace" &&
          holdings.get(o.metadata.name)?.kind === "create" &&
          a.reason === "Missing"
        ) {
          const createdUid = await this.createNamespace(o);
          writes++;
          if (createdUid) body = { ...body, metadata: { ...body.metadata, uid: createdUid } };
        }
        if (a.recreateUid) {
          // roleRef cannot change in place: delete this very object, then create it anew.
          await this.deps.kube.delete(resourceOfKind(o.kind), o.metadata.name, ns, { uid: a.recreateUid });
          writes++;
        }
        const result = await this.deps.kube.apply(body);
        this.deps.cache.recordWrite(o.kind, result);
        writes++;
        if (!inSync(o, result)) {
          failures.push({
            namespace: ns,
            object: ref,
            control: controlOf(o),
            reason: "WriteIneffective",
            message:
              "applied, but the object still differs from the baseline: another field manager keeps fields the operator does not set",
          });
          return;
        }
        applied.push(a);
      } catch (err) {
        if (o.kind === "Namespace") failedNamespaces.add(o.metadata.name);
        fail(ns, ref, o.kind, a.recreateUid ? "re-create" : "apply", err);
      }
    };
    // Namespaces first: the other objects live in them (and nothing goes into one not held).
    await forEachLimited(
      p.apply.filter((a) => a.object.kind === "Namespace"),
      concurrency,
      applyOne,
    );
    await forEachLimited(
      p.apply.filter(
        (a) => a.object.kind !== "Namespace" && !failedNamespaces.has(a.object.metadata.namespace ?? ""),
      ),
      concurrency,
      applyOne,
    );
    await forEachLimited(p.prune, concurrency, async (x) => {
      const seen = this.deps.cache.get(x.kind, x.namespace, x.name);
      try {
        if (
          await this.deps.kube.delete(
            resourceOfKind(x.kind),
            x.name,
            x.namespace,
            x.uid ? { uid: x.uid } : {},
          )
        )
          writes++;
        if (seen) this.deps.cache.recordWrite(x.kind, seen, true);
      } catch (err) {
        fail(x.namespace, `${x.kind}/${x.name}`, x.kind, "delete", err);
      }
    });
    await forEachLimited(released, concurrency, async (ns) => {
      try {
        await this.release(ns);
        writes++;
      } catch (err) {
        fail(ns.metadata.name, `Namespace/${ns.metadata.name}`, "Namespace", "release", err);
      }
    });
    return { writes, failures, applied };
  }

  /**
   * Gives a namespace back: server-side apply of what adoption found (the recorded labels and
   * annotations; nothing for a namespace the workspace created), which drops every other key the
   * operator owned. The created-by and owner marks of a created namespace stay (they came with
   * its create, not with an apply): a record of who made it.
   */
  private async release(ns: KubeObject): Promise<void> {
    const record = decodeAdoptionRecord(ns);
    const body: KubeObject = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: ns.metadata.name,
        ...(ns.metadata.uid ? { uid: ns.metadata.uid } : {}),
        ...(record && Object.keys(record.labels).length > 0 ? { labels: { ...record.labels } } : {}),
        ...(record && Object.keys(record.annotations).length > 0
          ? { annotations: { ...record.annotations } }
          : {}),
      },
    };
    this.deps.cache.recordWrite("Namespace", await this.deps.kube.apply(body));
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
    status: SecureWorkspaceStatus,
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
    const problem = this.problemEvent(ws, p, status);
    if (problem) emits.push(problem);
    await Promise.all(emits);
    return emits.length;
  }

  /**
   * A failed write or an object in the way: one Warning each time what status says changes (not
   * on every retry), carrying the same message as the Ready condition.
   */
  private problemEvent(
    ws: SecureWorkspace,
    p: Plan,
    status: SecureWorkspaceStatus,
  ): Promise<void> | undefined {
    const ready = status.conditions?.find((c) => c.type === "Ready");
    const before = Array.isArray(ws.status?.conditions)
      ? ws.status.conditions.find((c) => c?.type === "Ready")
      : undefined;
    if (ready?.status !== "False" || (ready.reason === before?.reason && ready.message === before?.message))
      return undefined;
    const subject = { name: ws.metadata.name, ...(ws.metadata.uid ? { uid: ws.metadata.uid } : {}) };
    if (ready.reason === "ForeignPolicyWidensAccess")
      return this.deps.events.emit(
        subject,
        "Warning",
        "ForeignPolicyWidensAccess",
        "Evaluate",
        ready.message,
      );
    if (ready.reason === "ForeignObjectConflict")
      return this.deps.events.emit(
        subject,
        "Warning",
        "ForeignObjectConflict",
        "Apply",
        p.foreign.map(foreignMessage).join("; "),
      );
    if (!WRITE_FAILURE_REASONS.has(ready.reason)) return undefined;
    return this.deps.events.emit(subject, "Warning", "WriteFailed", "Apply", ready.message);
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

  /**
   * Deletion: remove what the workspace made, keep (or, with Delete, remove created) namespaces, drop
   * the finalizer. A failure is retried with back-off and shown where a user looks for it: Ready
   * turns False with reason FinalizeFailed and the error, and a Warning Event (once per distinct error).
   */
  private async finalize(ws: SecureWorkspace): Promise<void> {
    try {
      await this.finalizeNow(ws);
    } catch (err) {
      if (isAbort(err)) throw err;
      const status = finalizeFailedStatus(ws, `deleting: ${errorMessage(err)}`, this.outcomeBase(ws).now);
      if (status !== undefined) {
        const subject = { name: ws.metadata.name, ...(ws.metadata.uid ? { uid: ws.metadata.uid } : {}) };
        await this.deps.events.emit(
          subject,
          "Warning",
          "FinalizeFailed",
          "Delete",
          readyOf(status)?.message ?? "",
        );
        await this.writeStatus(ws, status).catch((statusErr: unknown) => {
          if (isAbort(statusErr)) throw statusErr;
          // The workspace may be gone meanwhile; the error that matters is the one rethrown below.
        });
      }
      throw err;
    }
  }

  private async finalizeNow(ws: SecureWorkspace): Promise<void> {
    const name = ws.metadata.name;
    const uid = ws.metadata.uid ?? "";
    if (!(ws.metadata.finalizers ?? []).includes(FINALIZER)) return;
    let writes = 0;
    // Only what this workspace created (its uid in the ownerReference), never a forged label.
    const managed = this.deps.cache.managedBy(name).filter((o) => ownedBy(o, uid));
    await forEachLimited(managed, this.deps.writeConcurrency ?? 8, async (o) => {
      if (
        await this.deps.kube.delete(
          resourceOfKind(o.kind ?? ""),
          o.metadata?.name ?? "",
          o.metadata?.namespace,
          o.metadata?.uid ? { uid: o.metadata.uid } : {},
        )
      )
        writes++;
    });
    // The stored spec may no longer validate: read only the one field needed, defensively.
    const deleteCreated = (ws.spec as { deletionPolicy?: unknown } | undefined)?.deletionPolicy === "Delete";
    const owned = this.deps.cache.ownedNamespaces(name).filter((ns) => ownsNamespace(ns, uid));
    await forEachLimited(owned, this.deps.writeConcurrency ?? 8, async (ns) => {
      if (deleteCreated && createdNamespace(ns, name, uid)) {
        await this.deps.kube.delete(
          resourceOfKind("Namespace"),
          ns.metadata.name,
          undefined,
          ns.metadata.uid ? { uid: ns.metadata.uid } : {},
        );
      } else {
        await this.release(ns);
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
